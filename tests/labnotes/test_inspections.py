"""QA inspections (findings, responses, reporting dates, closure), audit-trail reviews and the
QA statement built from them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pghistory.models
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from labnotes.models import AuditTrailReview, InspectionFinding, InspectionStatus, QAInspection
from labnotes.services.inspections import (
    FindingInput,
    add_finding,
    close_inspection,
    mark_audit_trail_reviewed,
    qa_statement_lines,
    record_inspection,
    report_inspection,
    respond_to_finding,
)
from tests.factories import MembershipFactory, UserFactory
from tests.labnotes.samples_support import SmallRun, small_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def small(lab: Any) -> SmallRun:
    return small_run(lab)


@pytest.fixture
def qa(small: SmallRun) -> Any:
    user = UserFactory(first_name="Quinn", last_name="Auditor")
    MembershipFactory(user=user, lab=small.design.lab, role="qa")
    return user


def _inspection(small: SmallRun, qa: Any, findings: int = 2) -> QAInspection:
    return record_inspection(
        study=small.design.study,
        run=small.run,
        inspected_on=timezone.localdate() - dt.timedelta(days=2),
        phase="dosing",
        scope="Dosing records of days 7-10",
        inspector=qa,
        recorded_by=qa,
        findings=[
            FindingInput("minor", f"Finding text {number}") for number in range(1, findings + 1)
        ],
    )


def test_inspection_recorded_with_numbered_findings(small: SmallRun, qa: Any) -> None:
    inspection = _inspection(small, qa)
    assert inspection.status == InspectionStatus.OPEN
    assert list(inspection.findings.values_list("number", "severity")) == [
        (1, "minor"),
        (2, "minor"),
    ]
    finding = add_finding(inspection=inspection, severity="major", text="Scale not checked.",
                          added_by=qa)  # fmt: skip
    assert finding.number == 3


def test_inspection_refused_when_not_qa_or_bad_finding(small: SmallRun, qa: Any) -> None:
    with pytest.raises(PermissionDenied):
        record_inspection(
            study=small.design.study,
            inspected_on=timezone.localdate(),
            phase="dosing",
            inspector=qa,
            recorded_by=small.design.director,
        )
    with pytest.raises(ValidationError) as error:
        record_inspection(
            study=small.design.study,
            inspected_on=timezone.localdate(),
            phase="dosing",
            inspector=small.design.director,
            recorded_by=qa,
        )
    assert "inspector" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        record_inspection(
            study=small.design.study,
            inspected_on=timezone.localdate(),
            phase="dosing",
            inspector=qa,
            recorded_by=qa,
            findings=[FindingInput("minor", "ok"), FindingInput("grave", "bad severity")],
        )
    assert "Finding 2" in error.value.message_dict["findings"][0]
    with pytest.raises(ValidationError) as error:
        record_inspection(
            study=small.design.study,
            inspected_on=timezone.localdate() + dt.timedelta(days=3),
            phase="dosing",
            inspector=qa,
            recorded_by=qa,
        )
    assert "inspected_on" in error.value.message_dict
    assert not QAInspection.objects.exists()
    assert not InspectionFinding.objects.exists()


def test_inspection_closed_after_responses_and_reporting_dates(small: SmallRun, qa: Any) -> None:
    inspection = _inspection(small, qa)
    first, second = inspection.findings.order_by("number")
    with pytest.raises(PermissionDenied):
        respond_to_finding(finding=first, response="Done.", responded_by=qa)
    respond_to_finding(finding=first, response="Retrained the team.",
                       responded_by=small.design.director)  # fmt: skip
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.OPEN
    with pytest.raises(ValidationError, match="Finding\\(s\\) 2"):
        close_inspection(inspection=inspection, closed_by=qa)
    respond_to_finding(finding=second, response="SOP updated.", responded_by=small.design.director)
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.RESPONDED
    with pytest.raises(ValidationError, match="dates reported"):
        close_inspection(inspection=inspection, closed_by=qa)
    with pytest.raises(ValidationError) as error:
        report_inspection(
            inspection=inspection,
            reported_by=qa,
            to_director_on=inspection.inspected_on - dt.timedelta(days=1),
        )
    assert "to_director_on" in error.value.message_dict
    today = timezone.localdate()
    report_inspection(
        inspection=inspection,
        reported_by=qa,
        to_director_on=today - dt.timedelta(days=1),
        to_management_on=today,
    )
    # Changing a reported date needs a reason.
    with pytest.raises(ValidationError) as error:
        report_inspection(inspection=inspection, reported_by=qa, to_director_on=today)
    assert "reason" in error.value.message_dict
    closed = close_inspection(inspection=inspection, closed_by=qa)
    assert closed.status == InspectionStatus.CLOSED
    with pytest.raises(ValidationError, match="closed"):
        add_finding(inspection=closed, severity="minor", text="late", added_by=qa)
    # A changed response after closing is refused too; the responses' history is audited.
    events = pghistory.models.Events.objects.tracks(first).order_by("pgh_created_at")
    assert [event.pgh_label for event in events] == ["insert", "update"]
    assert events.last().pgh_diff["response"] == ["", "Retrained the team."]

    lines = qa_statement_lines(small.run)
    assert len(lines) == 1
    expected = (
        f"{inspection.inspected_on:%Y-%m-%d}: Dosing inspected by Quinn Auditor; 2 findings; "
        f"reported to the study director {today - dt.timedelta(days=1):%Y-%m-%d}, to management "
        f"{today:%Y-%m-%d}; closed."
    )
    assert lines[0] == expected


def test_changed_response_needs_a_reason(small: SmallRun, qa: Any) -> None:
    finding = _inspection(small, qa, findings=1).findings.get()
    finding = respond_to_finding(finding=finding, response="A", responded_by=small.design.director)
    with pytest.raises(ValidationError) as error:
        respond_to_finding(finding=finding, response="B", responded_by=small.design.director)
    assert "reason" in error.value.message_dict
    changed = respond_to_finding(
        finding=finding, response="B", responded_by=small.design.director, reason="clarified"
    )
    assert changed.response == "B"
    last = pghistory.models.Events.objects.tracks(finding).order_by("pgh_created_at").last()
    assert last.pgh_context["reason"] == "clarified"


def test_audit_trail_review_counts_events_of_the_period(small: SmallRun, qa: Any) -> None:
    today = timezone.localdate()
    review = mark_audit_trail_reviewed(
        run=small.run,
        period_start=today - dt.timedelta(days=30),
        period_end=today,
        conclusion="No unexplained changes.",
        reviewer=qa,
    )
    # Every row the small run wrote (run, animals, tumours, implantations, readings, cages,
    # randomization, tasks …) was inserted today: at least one event per animal.
    assert review.events_reviewed >= len(small.animals) * 3
    empty = mark_audit_trail_reviewed(
        run=small.run,
        period_start=today - dt.timedelta(days=90),
        period_end=today - dt.timedelta(days=60),
        conclusion="Nothing recorded in this period.",
        reviewer=qa,
    )
    assert empty.events_reviewed == 0
    events = pghistory.models.Events.objects.tracks(review)
    assert [event.pgh_label for event in events] == ["insert"]
    with pytest.raises(PermissionDenied):
        mark_audit_trail_reviewed(
            run=small.run,
            period_start=today,
            period_end=today,
            conclusion="x",
            reviewer=small.design.director,
        )
    with pytest.raises(ValidationError) as error:
        mark_audit_trail_reviewed(
            run=small.run,
            period_start=today,
            period_end=today - dt.timedelta(days=1),
            conclusion="x",
            reviewer=qa,
        )
    assert "period_end" in error.value.message_dict
    assert AuditTrailReview.objects.count() == 2
    lines = qa_statement_lines(small.run)
    assert any("audit trail of" in line and "No unexplained changes." in line for line in lines)


def test_final_report_input_carries_qa_statement_and_deviation_log(
    small: SmallRun, qa: Any
) -> None:
    from labnotes.models import DoseDeviation
    from labnotes.services.deviations import raise_deviations_from_flags, record_deviation
    from labnotes.services.report_input import _deviation_log, _qa_statement
    from tests.labnotes.samples_support import give_dose

    _inspection(small, qa, findings=1)
    dose = give_dose(small, small.animals[0], given_at=timezone.now() - dt.timedelta(days=1))
    DoseDeviation.objects.create(dose=dose, kind="wrong_route", detail="given SC, regimen IP")
    raise_deviations_from_flags(run=small.run, raised_by=small.design.director)
    record_deviation(
        run=small.run,
        category="housing",
        description="Water bottle empty.",
        occurred_on=timezone.localdate(),
        detected_by=small.design.technician,
        recorded_by=small.design.technician,
    )
    statement = _qa_statement(small.run)
    assert len(statement) == 1 and "Dosing inspected by Quinn Auditor; 1 finding;" in statement[0]
    unblinded = _deviation_log(small.run, blinded=False)
    assert [entry.text.split(" ")[0] for entry in unblinded] == ["DEV-001", "DEV-002"]
    assert "given SC" in unblinded[0].text
    blinded = _deviation_log(small.run, blinded=True)
    assert [entry.text.split(" ")[0] for entry in blinded] == ["DEV-002"]
