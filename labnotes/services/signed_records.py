"""The signatures a run's report prints: on the study design, the run's randomization batches,
its verified paper sheets and its reports built on the same data (issue 10)."""

from __future__ import annotations

from django.db.models import Q

from labnotes.models import RandomizationBatch, Report, StudyRun, TranscriptionSheet
from planner.models import Study
from planner.services.signatures import SignatureView, signatures_for


def run_signatures(run: StudyRun, study: Study, report_data_hash: str) -> list[SignatureView]:
    """Every signature on the records a report of ``run`` on data ``report_data_hash`` rests
    on, each checked against its record now; ordered by signing time."""
    records: list[object] = [study]
    records += list(
        RandomizationBatch.objects.filter(run=run, status__in=["applied", "voided"]).order_by("pk")
    )
    records += list(TranscriptionSheet.objects.filter(run=run, status="verified").order_by("pk"))
    records += list(
        Report.objects.filter(run=run)
        .filter(Q(data_hash=report_data_hash) | Q(built_data_hash=report_data_hash))
        .order_by("pk")
    )
    views = [view for record in records for view in signatures_for(record)]  # type: ignore[arg-type]
    views.sort(key=lambda view: (view.signed_at, view.signature.pk))
    return views
