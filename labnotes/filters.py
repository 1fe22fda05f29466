"""FilterSets shared by the HTML lists and the API. Arms filter and order by *code* only."""

from __future__ import annotations

import django_filters

from labnotes.models import (
    Animal,
    AnimalStatus,
    Measurement,
    MeasurementKind,
    Task,
    TaskKind,
    TaskStatus,
)


class AnimalFilterSet(django_filters.FilterSet):  # type: ignore[misc]  # django-filter is untyped
    run = django_filters.NumberFilter(field_name="run_id")
    status = django_filters.ChoiceFilter(choices=AnimalStatus.choices)
    arm_code = django_filters.CharFilter(field_name="arm__code")
    cage = django_filters.CharFilter(field_name="cage_label")
    randomized = django_filters.BooleanFilter(field_name="arm", lookup_expr="isnull", exclude=True)
    ordering = django_filters.OrderingFilter(
        fields=(
            ("tag", "tag"),
            ("arm__code", "arm_code"),
            ("status", "status"),
            ("cage_label", "cage"),
        ),
    )

    class Meta:
        model = Animal
        fields = ["run", "status", "arm_code", "cage", "randomized"]


class MeasurementFilterSet(django_filters.FilterSet):  # type: ignore[misc]  # django-filter is untyped
    run = django_filters.NumberFilter(field_name="animal__run_id")
    animal = django_filters.NumberFilter(field_name="animal_id")
    tumour = django_filters.NumberFilter(field_name="tumour_id")
    kind = django_filters.ChoiceFilter(choices=MeasurementKind.choices)
    study_day = django_filters.NumberFilter()

    class Meta:
        model = Measurement
        fields = ["run", "animal", "tumour", "kind", "study_day"]


class TaskFilterSet(django_filters.FilterSet):  # type: ignore[misc]  # django-filter is untyped
    run = django_filters.NumberFilter(field_name="run_id")
    animal = django_filters.NumberFilter(field_name="animal_id")
    date = django_filters.DateFilter(field_name="task_date")
    date_from = django_filters.DateFilter(field_name="task_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="task_date", lookup_expr="lte")
    person = django_filters.NumberFilter(field_name="assignee_id")
    room = django_filters.CharFilter(field_name="cage_room")
    kind = django_filters.ChoiceFilter(choices=TaskKind.choices)
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices)

    class Meta:
        model = Task
        fields = [
            "run",
            "animal",
            "date",
            "date_from",
            "date_to",
            "person",
            "room",
            "kind",
            "status",
        ]
