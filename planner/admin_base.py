"""Admin base classes: lab data is read-only here (writes go through services with reasons)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from planner.scoping import scoped_queryset


class ScopedAdminMixin:
    """Staff who are not superusers see only their own labs' rows."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset: QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        scoped = scoped_queryset(queryset.model, request.user)
        return (
            queryset.filter(pk__in=scoped.values("pk")) if scoped is not None else queryset.none()
        )


class ReadOnlyLabDataAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Lab data: visible to staff, never written through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ConfigurationAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Configuration rows: editable by staff, never deleted (history stays readable)."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
