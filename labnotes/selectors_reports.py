"""Reads of report jobs and their files, scoped to what the user may see.

Every report shows results per arm (the blinded variant by code), so reports are visible only
to members who may see the study's allocation (DESIGN invariant 4): a blinded member does not
learn that per-arm results exist, nor how many animals an arm had.
"""

from __future__ import annotations

from django.db.models import QuerySet

from labnotes.models import Report, ReportArtifact, StudyRun
from labnotes.selectors import studies_with_allocation_visible
from planner.selectors import UserLike


def list_reports_for_user(user: UserLike) -> QuerySet[Report]:
    return Report.objects.filter(
        run__study__in=studies_with_allocation_visible(user)
    ).select_related("run__study__lab", "requested_by", "lab")


def list_run_reports_for_user(user: UserLike, run: StudyRun) -> QuerySet[Report]:
    return list_reports_for_user(user).filter(run=run).prefetch_related("artifacts")


def list_report_artifacts_for_user(user: UserLike) -> QuerySet[ReportArtifact]:
    return ReportArtifact.objects.filter(report__in=list_reports_for_user(user)).select_related(
        "report", "stored_file"
    )
