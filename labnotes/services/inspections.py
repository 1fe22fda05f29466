"""QA inspections (findings, the study director's responses, reporting dates, closure) and
audit-trail reviews marked done by QA. Every write is audited; the QA statement of the final
report is built from these rows (:func:`qa_statement_lines`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from labnotes.models import (
    AuditTrailReview,
    FindingSeverity,
    InspectionFinding,
    InspectionPhase,
    InspectionStatus,
    QAInspection,
    StudyRun,
)
from labnotes.services.archive import count_audit_events, ensure_study_writable, run_querysets
from labnotes.services.common import StaleWrite
from planner.audit import audited_change
from planner.models import Membership, Role, Study
from planner.services.permissions import require_role

INSPECTORS = (Role.QA,)
RESPONDERS = (Role.STUDY_DIRECTOR,)


@dataclass(frozen=True)
class FindingInput:
    severity: str
    text: str


def _today(study: Study) -> dt.date:
    return study.lab.local_date(timezone.now())


def _check_date(name: str, value: dt.date, study: Study) -> None:
    if value > _today(study):
        raise ValidationError({name: f"{value:%Y-%m-%d} lies in the future."})


def _clean_finding(number: int, finding: FindingInput) -> FindingInput:
    text = (finding.text or "").strip()
    if not text:
        raise ValidationError({"findings": f"Finding {number}: say what was found."})
    if finding.severity not in FindingSeverity.values:
        raise ValidationError(
            {"findings": f"Finding {number}: '{finding.severity}' is not a severity."}
        )
    return FindingInput(finding.severity, text)


def record_inspection(
    *,
    study: Study,
    inspected_on: dt.date,
    phase: str,
    inspector: User,
    recorded_by: User,
    scope: str = "",
    run: StudyRun | None = None,
    findings: Sequence[FindingInput] = (),
) -> QAInspection:
    """Record a QA inspection of ``study`` (optionally of one of its runs) with its findings.

    Recorded by QA; the inspector must hold the QA role in the study's lab. An inspection with
    no findings can be closed at once; findings await the study director's responses.
    """
    lab = study.lab
    require_role(recorded_by, lab, INSPECTORS, action="record QA inspections")
    if not Membership.objects.filter(user=inspector, lab=lab, role=Role.QA).exists():
        raise ValidationError({"inspector": f"{inspector.get_username()} is not QA in {lab.name}."})
    ensure_study_writable(study)
    if run is not None and run.study_id != study.pk:
        raise ValidationError({"run": f"Run {run.code} is not a run of study {study.code}."})
    if phase not in InspectionPhase.values:
        raise ValidationError({"phase": f"'{phase}' is not a study phase."})
    _check_date("inspected_on", inspected_on, study)
    cleaned = [_clean_finding(number, item) for number, item in enumerate(findings, start=1)]
    with transaction.atomic(), audited_change(reason=None, required=False):
        inspection = QAInspection(
            study=study,
            run=run,
            inspected_on=inspected_on,
            phase=phase,
            scope=(scope or "").strip(),
            inspector=inspector,
            recorded_by=recorded_by,
        )
        inspection.full_clean()
        inspection.save()
        InspectionFinding.objects.bulk_create(
            [
                InspectionFinding(
                    inspection=inspection, number=number, severity=item.severity, text=item.text
                )
                for number, item in enumerate(cleaned, start=1)
            ]
        )
    return inspection


def _locked_inspection(inspection: QAInspection, expected_version: int | None) -> QAInspection:
    current = (
        QAInspection.objects.select_for_update(of=("self",))
        .select_related("study__lab")
        .get(pk=inspection.pk)
    )
    if expected_version is not None and current.row_version != expected_version:
        raise StaleWrite(current)
    if current.status == InspectionStatus.CLOSED:
        raise ValidationError(
            f"The inspection of {current.inspected_on:%Y-%m-%d} is closed: it cannot change."
        )
    return current


def add_finding(
    *, inspection: QAInspection, severity: str, text: str, added_by: User
) -> InspectionFinding:
    """Add a finding to an open inspection (QA)."""
    require_role(added_by, inspection.study.lab, INSPECTORS, action="add inspection findings")
    ensure_study_writable(inspection.study)
    with transaction.atomic(), audited_change(reason=None, required=False):
        current = _locked_inspection(inspection, None)
        number = int(current.findings.aggregate(top=Max("number"))["top"] or 0) + 1
        item = _clean_finding(number, FindingInput(severity, text))
        finding = InspectionFinding.objects.create(
            inspection=current, number=number, severity=item.severity, text=item.text
        )
        QAInspection.objects.filter(pk=current.pk).update(
            status=InspectionStatus.OPEN, row_version=F("row_version") + 1
        )
    return finding


def respond_to_finding(
    *,
    finding: InspectionFinding,
    response: str,
    responded_by: User,
    expected_version: int | None = None,
    reason: str | None = None,
) -> InspectionFinding:
    """The study director's response to a finding. Changing a response needs a reason; once
    every finding has one the inspection waits for QA to close it."""
    study = finding.inspection.study
    require_role(responded_by, study.lab, RESPONDERS, action="respond to QA findings")
    ensure_study_writable(study)
    text = (response or "").strip()
    if not text:
        raise ValidationError({"response": f"Finding {finding.number}: write the response."})
    with transaction.atomic():
        inspection = _locked_inspection(finding.inspection, None)
        current = InspectionFinding.objects.select_for_update().get(pk=finding.pk)
        if expected_version is not None and current.row_version != expected_version:
            raise StaleWrite(current)
        with audited_change(reason=reason, required=bool(current.response)):
            InspectionFinding.objects.filter(pk=current.pk).update(
                response=text,
                responded_by=responded_by,
                responded_at=timezone.now(),
                row_version=F("row_version") + 1,
            )
            if not inspection.findings.filter(response="").exists():
                QAInspection.objects.filter(pk=inspection.pk).update(
                    status=InspectionStatus.RESPONDED, row_version=F("row_version") + 1
                )
        current.refresh_from_db()
    return current


def report_inspection(
    *,
    inspection: QAInspection,
    reported_by: User,
    to_director_on: dt.date | None = None,
    to_management_on: dt.date | None = None,
    expected_version: int | None = None,
    reason: str | None = None,
) -> QAInspection:
    """Record when QA reported the inspection to the study director and to management (the
    dates the QA statement lists). Changing a date already recorded needs a reason."""
    study = inspection.study
    require_role(reported_by, study.lab, INSPECTORS, action="record QA reporting dates")
    ensure_study_writable(study)
    if to_director_on is None and to_management_on is None:
        raise ValidationError("Give the date reported to the study director or to management.")
    for name, value in (
        ("to_director_on", to_director_on),
        ("to_management_on", to_management_on),
    ):
        if value is None:
            continue
        _check_date(name, value, study)
        if value < inspection.inspected_on:
            raise ValidationError(
                {
                    name: f"{value:%Y-%m-%d} is before the inspection "
                    f"({inspection.inspected_on:%Y-%m-%d})."
                }
            )
    with transaction.atomic():
        current = _locked_inspection(inspection, expected_version)
        changing = (
            to_director_on is not None
            and current.reported_to_director_on not in (None, to_director_on)
        ) or (
            to_management_on is not None
            and current.reported_to_management_on not in (None, to_management_on)
        )
        with audited_change(reason=reason, required=changing):
            QAInspection.objects.filter(pk=current.pk).update(
                reported_to_director_on=to_director_on or current.reported_to_director_on,
                reported_to_management_on=to_management_on or current.reported_to_management_on,
                row_version=F("row_version") + 1,
            )
        current.refresh_from_db()
    return current


def close_inspection(
    *, inspection: QAInspection, closed_by: User, expected_version: int | None = None
) -> QAInspection:
    """QA closes an inspection once every finding has a response and both reporting dates are
    recorded."""
    study = inspection.study
    require_role(closed_by, study.lab, INSPECTORS, action="close QA inspections")
    ensure_study_writable(study)
    with transaction.atomic():
        current = _locked_inspection(inspection, expected_version)
        waiting = list(current.findings.filter(response="").values_list("number", flat=True))
        if waiting:
            raise ValidationError(
                f"Finding(s) {', '.join(str(n) for n in waiting)} have no response from the "
                "study director yet."
            )
        if current.reported_to_director_on is None or current.reported_to_management_on is None:
            raise ValidationError(
                "Record the dates reported to the study director and to management first."
            )
        with audited_change(reason="inspection closed", required=False):
            QAInspection.objects.filter(pk=current.pk).update(
                status=InspectionStatus.CLOSED,
                closed_by=closed_by,
                closed_at=timezone.now(),
                row_version=F("row_version") + 1,
            )
        current.refresh_from_db()
    return current


def mark_audit_trail_reviewed(
    *,
    run: StudyRun,
    period_start: dt.date,
    period_end: dt.date,
    conclusion: str,
    reviewer: User,
    reviewed_on: dt.date | None = None,
) -> AuditTrailReview:
    """QA marks the audit trail of ``run`` reviewed for a period (lab-local dates, both
    included); the number of audit events in that period is counted and kept with it."""
    study = run.study
    require_role(reviewer, study.lab, INSPECTORS, action="mark audit trails reviewed")
    ensure_study_writable(study)
    today = _today(study)
    day = reviewed_on or today
    text = (conclusion or "").strip()
    if not text:
        raise ValidationError({"conclusion": "State what the review found."})
    if period_end < period_start:
        raise ValidationError(
            {"period_end": f"The period ends ({period_end}) before it starts ({period_start})."}
        )
    if day > today:
        raise ValidationError({"reviewed_on": f"{day:%Y-%m-%d} lies in the future."})
    if period_end > day:
        raise ValidationError(
            {"period_end": f"The period ends ({period_end}) after the review ({day})."}
        )
    events = count_audit_events(
        run_querysets(run), start=period_start, end=period_end, zone=study.lab.zone
    )
    with transaction.atomic(), audited_change(reason=None, required=False):
        review = AuditTrailReview(
            run=run,
            period_start=period_start,
            period_end=period_end,
            reviewer=reviewer,
            reviewed_on=day,
            events_reviewed=events,
            conclusion=text,
        )
        review.full_clean()
        review.save()
    return review


def qa_statement_lines(run: StudyRun) -> list[str]:
    """The QA statement of a report on ``run``: one sentence per inspection of its study (study
    level, or of this run) with the dates reported, and one per audit-trail review."""
    lines = []
    inspections = (
        QAInspection.objects.filter(study=run.study)
        .filter(Q(run__isnull=True) | Q(run=run))
        .select_related("inspector")
        .prefetch_related("findings")
        .order_by("inspected_on", "pk")
    )
    for inspection in inspections:
        findings = list(inspection.findings.all())
        director = (
            f"{inspection.reported_to_director_on:%Y-%m-%d}"
            if inspection.reported_to_director_on
            else "not yet reported"
        )
        management = (
            f"{inspection.reported_to_management_on:%Y-%m-%d}"
            if inspection.reported_to_management_on
            else "not yet reported"
        )
        lines.append(
            f"{inspection.inspected_on:%Y-%m-%d}: {inspection.get_phase_display()} inspected by "
            f"{inspection.inspector.get_full_name() or inspection.inspector.get_username()}; "
            f"{len(findings)} finding{'s' if len(findings) != 1 else ''}; reported to the study "
            f"director {director}, to management {management}; "
            f"{inspection.get_status_display().split(':')[0].lower()}."
        )
    for review in AuditTrailReview.objects.filter(run=run).select_related("reviewer"):
        lines.append(
            f"{review.reviewed_on:%Y-%m-%d}: audit trail of {review.period_start:%Y-%m-%d} to "
            f"{review.period_end:%Y-%m-%d} reviewed by "
            f"{review.reviewer.get_full_name() or review.reviewer.get_username()} "
            f"({review.events_reviewed} events): {review.conclusion}"
        )
    return lines
