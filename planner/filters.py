"""FilterSets shared by the HTML lists and the API."""

from __future__ import annotations

import django_filters

from planner.models import Study, StudyStatus


class StudyFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=StudyStatus.choices)
    q = django_filters.CharFilter(method="search", label="Search code or title")

    class Meta:
        model = Study
        fields = ["status", "q"]

    def search(self, queryset, name, value):  # type: ignore[no-untyped-def]
        from django.db.models import Q

        return queryset.filter(Q(code__icontains=value) | Q(title__icontains=value))
