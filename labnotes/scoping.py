"""labnotes' entries in the planner's scoping registry (history pages, admin, tenancy tests)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from labnotes import selectors
from labnotes.models import (
    Animal,
    BackgroundJob,
    Cage,
    CageAssignment,
    Implantation,
    Measurement,
    RandomizationBatch,
    StudyRun,
    Task,
    Tumour,
    Unblinding,
)
from planner.scoping import register_scope
from planner.selectors import list_labs_for_user


def list_jobs_for_user(user: Any) -> QuerySet[BackgroundJob]:
    return BackgroundJob.objects.filter(lab__in=list_labs_for_user(user)).select_related(
        "requested_by", "lab"
    )


def register_labnotes_scopes() -> None:
    register_scope(BackgroundJob, list_jobs_for_user)
    register_scope(StudyRun, selectors.list_runs_for_user)
    register_scope(Animal, selectors.list_animals_for_user)
    register_scope(Cage, selectors.list_cages_for_user)
    register_scope(CageAssignment, selectors.list_cage_assignments_for_user)
    register_scope(Tumour, selectors.list_tumours_for_user)
    register_scope(
        Implantation,
        lambda user: Implantation.objects.filter(tumour__in=selectors.list_tumours_for_user(user)),
    )
    register_scope(Measurement, selectors.list_measurements_for_user)
    # Batches hold the allocation: only those who may see it reach them (history included).
    register_scope(RandomizationBatch, selectors.list_batches_for_user)
    register_scope(Task, selectors.list_tasks_for_user)
    register_scope(Unblinding, selectors.list_unblindings_for_user)
