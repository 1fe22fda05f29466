"""labnotes' entries in the planner's scoping registry."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from labnotes.models import BackgroundJob
from planner.scoping import register_scope
from planner.selectors import list_labs_for_user


def list_jobs_for_user(user: Any) -> QuerySet[BackgroundJob]:
    return BackgroundJob.objects.filter(lab__in=list_labs_for_user(user)).select_related(
        "requested_by", "lab"
    )


def register_labnotes_scopes() -> None:
    register_scope(BackgroundJob, list_jobs_for_user)
