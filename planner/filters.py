"""FilterSets shared by the HTML lists and the API."""

from __future__ import annotations

import django_filters

from planner.domain.protocol_parameters import KIND_CHOICES
from planner.models import (
    Amendment,
    AmendmentStatus,
    EthicsProtocol,
    ProtocolTemplate,
    Study,
    StudyStatus,
)


class StudyFilterSet(django_filters.FilterSet):  # type: ignore[misc]  # django-filter is untyped
    status = django_filters.ChoiceFilter(choices=StudyStatus.choices)
    q = django_filters.CharFilter(method="search", label="Search code or title")

    class Meta:
        model = Study
        fields = ["status", "q"]

    def search(self, queryset, name, value):  # type: ignore[no-untyped-def]
        from django.db.models import Q

        return queryset.filter(Q(code__icontains=value) | Q(title__icontains=value))


class ProtocolTemplateFilterSet(django_filters.FilterSet):  # type: ignore[misc]  # django-filter is untyped
    kind = django_filters.ChoiceFilter(choices=KIND_CHOICES)
    retired = django_filters.BooleanFilter(
        field_name="retired_at", lookup_expr="isnull", exclude=True, label="Retired"
    )
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search name")

    class Meta:
        model = ProtocolTemplate
        fields = ["kind", "retired", "q"]


class EthicsProtocolFilterSet(django_filters.FilterSet):  # type: ignore[misc]  # django-filter is untyped
    q = django_filters.CharFilter(method="search", label="Search number or title")

    class Meta:
        model = EthicsProtocol
        fields = ["q"]

    def search(self, queryset, name, value):  # type: ignore[no-untyped-def]
        from django.db.models import Q

        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value))


class AmendmentFilterSet(django_filters.FilterSet):  # type: ignore[misc]  # django-filter is untyped
    status = django_filters.ChoiceFilter(choices=AmendmentStatus.choices)
    study = django_filters.NumberFilter(field_name="study_id")

    class Meta:
        model = Amendment
        fields = ["status", "study"]
