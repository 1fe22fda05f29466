"""Reads of report jobs and their files, scoped to what the user may see.

Every report shows results per arm (the blinded variant by code), so reports are visible only
to members who may see the study's allocation (DESIGN invariant 4): a blinded member does not
learn that per-arm results exist, nor how many animals an arm had.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from labnotes.models import Report, ReportArtifact, StudyRun
from labnotes.selectors import studies_with_allocation_visible
from planner.models import Study
from planner.selectors import UserLike


def list_reports_for_user(user: UserLike) -> QuerySet[Report]:
    """Run reports and pooled study reports of the studies whose allocation the user sees."""
    visible = studies_with_allocation_visible(user)
    return Report.objects.filter(Q(run__study__in=visible) | Q(study__in=visible)).select_related(
        "run__study__lab", "study__lab", "requested_by", "lab"
    )


def list_study_reports_for_user(user: UserLike, study: Study) -> QuerySet[Report]:
    """The reports pooling runs of ``study`` (run reports are on each run's tab)."""
    return list_reports_for_user(user).filter(study=study).prefetch_related("artifacts")


def list_run_reports_for_user(user: UserLike, run: StudyRun) -> QuerySet[Report]:
    return list_reports_for_user(user).filter(run=run).prefetch_related("artifacts")


def list_report_artifacts_for_user(user: UserLike) -> QuerySet[ReportArtifact]:
    return ReportArtifact.objects.filter(report__in=list_reports_for_user(user)).select_related(
        "report", "stored_file"
    )
