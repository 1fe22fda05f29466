"""Working calendar services, ethics protocols and the per-arm calendar preview."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from planner.preview import preview_study
from planner.services import calendar, ethics

DAY0 = dt.date(2025, 3, 3)  # a Monday: day 7 is Mon 10 Mar, day 13 Sun 16 Mar


@pytest.mark.django_db
def test_preview_shows_shift_and_rule_caused_by_holiday_and_weekend(draft_design, director):
    calendar.add_holiday(
        lab=draft_design.lab, day=dt.date(2025, 3, 13), name="Founders' day", created_by=director
    )
    arms = preview_study(
        study=draft_design, day0=DAY0, last_study_day=14, randomization_day=7, sees_allocation=True
    )
    il12 = next(arm for arm in arms if arm.name.endswith("— IL-12"))
    doses = [row.task for row in il12.rows if row.what.startswith("murine IL-12")]
    assert [t.study_day for t in doses] == [7, 10, 13]
    assert doses[0].status == "as_planned"
    assert doses[1].scheduled_date == dt.date(2025, 3, 14)
    assert "public holiday (Founders' day), rule 'later'" in doses[1].description
    assert doses[2].status == "shifted" and doses[2].scheduled_date == dt.date(2025, 3, 17)
    assert any(row.what == "Caliper measurement" for row in il12.rows)
    assert any(row.what.startswith("Satellite takedown") for row in il12.rows)


@pytest.mark.django_db
def test_blinded_preview_shows_codes_and_no_agents(draft_design):
    arms = preview_study(
        study=draft_design, day0=DAY0, last_study_day=14, randomization_day=7, sees_allocation=False
    )
    assert sorted(arm.name for arm in arms) == [arm.name for arm in arms]
    text = " ".join(row.what for arm in arms for row in arm.rows) + " ".join(a.name for a in arms)
    assert "IL-12" not in text and "cyclophosphamide" not in text and "Vehicle" not in text
    assert "Dose (blinded)" in text


@pytest.mark.django_db
def test_working_weekdays_and_closures_change_the_calendar(lab, director, technician):
    calendar.set_working_weekdays(
        lab=lab, weekdays=[0, 1, 2, 3, 4, 5], changed_by=director, reason="Saturday shift"
    )
    calendar.add_closure(
        lab=lab,
        first_day=dt.date(2025, 8, 4),
        last_day=dt.date(2025, 8, 8),
        reason_text="fumigation",
        created_by=director,
    )
    working = calendar.working_calendar_for(lab)
    assert working.is_working_day(dt.date(2025, 3, 8))  # a Saturday
    assert working.non_working_reason(dt.date(2025, 8, 5)) == "closure (fumigation)"
    with pytest.raises(ValidationError):
        calendar.set_working_weekdays(lab=lab, weekdays=[], changed_by=director, reason="r")
    with pytest.raises(PermissionDenied):
        calendar.add_holiday(lab=lab, day=dt.date(2025, 1, 1), name="x", created_by=technician)


@pytest.mark.django_db
def test_ethics_protocol_validation_and_roles(lab, director, scientist):
    with pytest.raises(PermissionDenied):
        ethics.create_ethics_protocol(
            lab=lab,
            number="E",
            title="t",
            approved_on=dt.date(2024, 1, 1),
            expires_on=dt.date(2025, 1, 1),
            created_by=scientist,
        )
    with pytest.raises(ValidationError) as caught:
        ethics.create_ethics_protocol(
            lab=lab,
            number="E",
            title="t",
            approved_on=dt.date(2024, 1, 1),
            expires_on=dt.date(2025, 1, 1),
            created_by=director,
            endpoint_limits={"max_weight_loss_percent": 150},
            approvals=[{"strain": "BALB/c", "severity": "awful", "approved_animals": 3}],
        )
    errors = caught.value.message_dict
    assert "max_weight_loss_percent" in errors
    assert "'awful' is not a severity category" in errors["approvals[0].severity"][0]
    protocol = ethics.create_ethics_protocol(
        lab=lab,
        number="E",
        title="t",
        approved_on=dt.date(2024, 1, 1),
        expires_on=dt.date(2025, 1, 1),
        created_by=director,
        approvals=[{"strain": "BALB/c", "severity": "moderate", "approved_animals": 30}],
    )
    assert protocol.endpoint_limits["max_volume_mm3"] == 2000
    updated = ethics.update_ethics_protocol(
        protocol=protocol,
        changed_by=director,
        expected_version=protocol.row_version,
        reason="renewed",
        expires_on=dt.date(2030, 1, 1),
        approvals=[{"strain": "BALB/c", "severity": "moderate", "approved_animals": 60}],
    )
    assert updated.expires_on == dt.date(2030, 1, 1)
    assert updated.approvals.get().approved_animals == 60
