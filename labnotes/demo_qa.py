"""The demo's QA layer: the run's capture flags raised into its deviation log (two of them
assessed by the study director), one QA inspection of dosing with a finding, the study
director's response and the reporting dates, and an audit-trail review — so the demo's final
report carries a deviation log and a QA statement.

Called in ``labnotes.demo._record_history`` after the capture areas and before the report.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.utils import timezone

from labnotes.models import Deviation, DeviationSource, QAInspection, StudyRun
from labnotes.services.deviations import assess_deviation, raise_deviations_from_flags
from labnotes.services.inspections import (
    FindingInput,
    close_inspection,
    mark_audit_trail_reviewed,
    record_inspection,
    report_inspection,
    respond_to_finding,
)

logger = logging.getLogger(__name__)


def record_demo_qa(run: StudyRun, users: dict[str, Any]) -> None:
    director, qa = users.get("director"), users.get("qa")
    if director is None or qa is None:
        logger.warning("demo: no study director or QA user; no QA records")
        return
    if QAInspection.objects.filter(study=run.study).exists():
        return
    raise_deviations_from_flags(run=run, raised_by=director)
    for deviation in Deviation.objects.filter(run=run, source=DeviationSource.DOSE).order_by(
        "number"
    )[:2]:
        assess_deviation(
            deviation=deviation,
            impact_assessment="Single dose outside the protocol; exposure of the arm is "
            "unaffected and the animal stays in the analysis.",
            corrective_action="Dosing list now printed the evening before.",
            assessed_by=director,
        )
    today = run.study.lab.local_date(timezone.now())
    inspected_on = today - dt.timedelta(days=6)
    inspection = record_inspection(
        study=run.study,
        run=run,
        inspected_on=inspected_on,
        phase="dosing",
        scope="Dosing records and formulation batches of study days 7 to 16.",
        inspector=qa,
        recorded_by=qa,
        findings=[
            FindingInput(
                "minor",
                "Two dose records lack the balance used to weigh the animal.",
            )
        ],
    )
    for finding in inspection.findings.all():
        respond_to_finding(
            finding=finding,
            response="Balance selection made mandatory on the dosing page; staff briefed.",
            responded_by=director,
        )
    report_inspection(
        inspection=inspection,
        reported_by=qa,
        to_director_on=inspected_on + dt.timedelta(days=1),
        to_management_on=inspected_on + dt.timedelta(days=2),
    )
    close_inspection(inspection=inspection, closed_by=qa)
    mark_audit_trail_reviewed(
        run=run,
        period_start=run.day0,
        period_end=today,
        conclusion="Every change carries a reason; no unexplained edits.",
        reviewer=qa,
    )
