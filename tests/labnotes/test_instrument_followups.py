"""Issue 11 follow-ups, through the test client: the grid's "instrument in use" (recorded on each
value; an unqualified instrument's value flagged with a stored ReadingFlag, or refused naming
the instrument and why, as the lab's rule says), and the lab admin's page for that rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from labnotes.models import (
    Instrument,
    InstrumentSettings,
    Measurement,
    PendingAxis,
    ReadingFlag,
)
from labnotes.services.instruments import (
    create_instrument,
    record_daily_check,
    retire_instrument,
    set_unqualified_policy,
)
from planner.models import IdempotencyRecord
from tests.factories import MembershipFactory, UserFactory
from tests.labnotes.api.device_support import animals_with_tumours
from tests.labnotes.test_grid_cells import cell, client_for, post
from tests.labnotes.test_grid_followups import CELL_QUERIES

pytestmark = pytest.mark.django_db

POLICY_URL = "/lab/instruments/rules/"


@pytest.fixture
def animals(design: Any, run: Any) -> list[Any]:
    return animals_with_tumours(design, run, 2)


@pytest.fixture
def admin(lab: Any) -> Any:
    user = UserFactory()  # type: ignore[no-untyped-call]
    MembershipFactory(user=user, lab=lab, role="lab_admin")  # type: ignore[no-untyped-call]
    return user


def _instrument(design: Any, kind: str, serial: str, *, overdue: bool, checked: bool) -> Instrument:
    today = design.lab.local_date(timezone.now())
    instrument = create_instrument(
        lab=design.lab,
        kind=kind,
        name=f"{kind.title()} {serial}",
        serial_number=serial,
        created_by=design.scientist,
        calibration_due_on=today - dt.timedelta(days=3)
        if overdue
        else today + dt.timedelta(days=90),
        check_expected=Decimal("20"),
        check_tolerance=Decimal("0.01"),
        check_unit="g" if kind == "balance" else "mm",
    )
    if checked:
        record_daily_check(
            instrument=instrument, observed_value=Decimal("20.004"), checked_by=design.technician
        )
    return instrument


def _use(client: Any, run: Any, **chosen: Instrument) -> None:
    data = {kind: str(instrument.pk) for kind, instrument in chosen.items()}
    response = client.post(reverse("grid_instrument", kwargs={"pk": run.pk}), data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("run_grid", kwargs={"pk": run.pk}))


def _refuse(lab: Any, admin: Any) -> None:
    set_unqualified_policy(
        lab=lab, policy="refuse", require_registered=False, changed_by=admin, reason="SOP-12"
    )


# -- the grid ----------------------------------------------------------------------------------


def test_grid_offers_the_labs_calipers_and_balances_in_service(
    design: Any, run: Any, animals: list[Any]
) -> None:
    caliper = _instrument(design, "caliper", "CAL-9", overdue=False, checked=True)
    balance = _instrument(design, "balance", "BAL-9", overdue=False, checked=True)
    old = _instrument(design, "balance", "BAL-OLD", overdue=False, checked=False)
    retire_instrument(
        instrument=old, retired_by=design.scientist, reason="broken", expected_version=1
    )
    client = client_for(design.technician)
    html = client.get(reverse("run_grid", kwargs={"pk": run.pk})).content.decode()
    assert '<label for="grid-caliper"' in html and '<label for="grid-balance"' in html
    assert f'value="{caliper.pk}"' in html and f'value="{balance.pk}"' in html
    assert "BAL-OLD" not in html
    _use(client, run, caliper=caliper, balance=balance)
    html = client.get(reverse("run_grid", kwargs={"pk": run.pk})).content.decode()
    assert f'<option value="{caliper.pk}" selected>' in html
    assert f'<option value="{balance.pk}" selected>' in html


def test_a_qualified_instrument_is_recorded_on_the_value_without_a_flag(
    design: Any, run: Any, animals: list[Any]
) -> None:
    balance = _instrument(design, "balance", "BAL-OK", overdue=False, checked=True)
    client = client_for(design.technician)
    _use(client, run, balance=balance)
    answer = post(client, run, cell(animals[0], "weight", "21.4", operator=design.technician))
    assert answer.status_code == 201, answer.content
    assert "instrument_flag" not in answer.json()
    saved = Measurement.objects.get()
    assert saved.instrument == "BAL-OK" and saved.weight_g == Decimal("21.40")
    assert not ReadingFlag.objects.exists()


def test_flag_policy_saves_the_value_with_a_stored_flag_shown_in_the_cell(
    design: Any, run: Any, animals: list[Any]
) -> None:
    caliper = _instrument(design, "caliper", "CAL-LATE", overdue=True, checked=True)
    balance = _instrument(design, "balance", "BAL-NOCHECK", overdue=False, checked=False)
    client = client_for(design.technician)
    _use(client, run, caliper=caliper, balance=balance)
    length = post(client, run, cell(animals[0], "length", "8", operator=design.technician))
    width = post(client, run, cell(animals[0], "width", "6", operator=design.technician))
    weight = post(client, run, cell(animals[1], "weight", "22.1", operator=design.technician))
    assert [length.status_code, width.status_code, weight.status_code] == [201, 201, 201]
    assert width.json()["instrument_flag"] == "Caliper CAL-LATE: calibration overdue."
    assert weight.json()["instrument_flag"] == ("Balance BAL-NOCHECK: no passed daily check today.")
    assert PendingAxis.objects.get(axis="length").instrument == "CAL-LATE"
    caliper_reading = Measurement.objects.get(kind="caliper")
    weight_reading = Measurement.objects.get(kind="weight")
    assert caliper_reading.instrument == "CAL-LATE" and weight_reading.instrument == "BAL-NOCHECK"
    flags = {flag.measurement_id: flag for flag in ReadingFlag.objects.all()}
    assert set(flags) == {caliper_reading.pk, weight_reading.pk}
    assert flags[caliper_reading.pk].issues == ["calibration_overdue"]
    assert flags[caliper_reading.pk].instrument == caliper
    assert flags[weight_reading.pk].issues == ["no_daily_check"]
    assert flags[weight_reading.pk].events.filter(pgh_label="insert").count() == 1  # type: ignore[attr-defined]
    # The page shows the flag in the cells after a reload, in words with an icon.
    html = client.get(reverse("run_grid", kwargs={"pk": run.pk})).content.decode()
    assert html.count("Flagged: Caliper CAL-LATE: calibration overdue.") == 2  # L and W
    assert html.count("Flagged: Balance BAL-NOCHECK: no passed daily check today.") == 1
    assert 'class="grid-entry__flag" data-grid-flag><span aria-hidden="true">' in html


def test_cells_with_instruments_in_use_keep_the_query_budget_but_a_flag_row(
    design: Any, run: Any, animals: list[Any], django_assert_max_num_queries: Any
) -> None:
    """Issue 6's budget of ten holds with instruments chosen (the grid reads them with their
    latest passed check and the lab's rule in one query); a reading from an unqualified
    instrument also stores its ReadingFlag, and its instrument was read: two more."""
    caliper = _instrument(design, "caliper", "CAL-LATE", overdue=True, checked=True)
    balance = _instrument(design, "balance", "BAL-OK", overdue=False, checked=True)
    client = client_for(design.technician)
    _use(client, run, caliper=caliper, balance=balance)
    assert client.get(reverse("run_grid", kwargs={"pk": run.pk})).status_code == 200
    answers = []
    for body, budget in (
        (cell(animals[0], "length", "8", operator=design.technician), CELL_QUERIES),
        (cell(animals[0], "width", "6", operator=design.technician), CELL_QUERIES + 2),
        (cell(animals[1], "weight", "22.1", operator=design.technician), CELL_QUERIES),
    ):
        with django_assert_max_num_queries(budget):
            answers.append(post(client, run, body))
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert answers[1].json()["instrument_flag"] == "Caliper CAL-LATE: calibration overdue."
    assert "instrument_flag" not in answers[2].json()
    readings = dict(Measurement.objects.values_list("kind", "instrument"))
    assert readings == {"caliper": "CAL-LATE", "weight": "BAL-OK"}
    assert ReadingFlag.objects.get().issues == ["calibration_overdue"]


def test_a_check_recorded_after_the_grid_read_the_instrument_still_counts(
    design: Any, run: Any, animals: list[Any], admin: Any
) -> None:
    """The annotated latest passed check is per request: a check passed later today is seen
    by the next cell, and under the refuse rule the balance's value then passes."""
    _refuse(design.lab, admin)
    balance = _instrument(design, "balance", "BAL-LATER", overdue=False, checked=False)
    client = client_for(design.technician)
    _use(client, run, balance=balance)
    refused = post(client, run, cell(animals[0], "weight", "21.0", operator=design.technician))
    assert refused.status_code == 400 and "no passed daily check today" in refused.json()["error"]
    record_daily_check(
        instrument=balance, observed_value=Decimal("20.004"), checked_by=design.technician
    )
    saved = post(client, run, cell(animals[0], "weight", "21.0", operator=design.technician))
    assert saved.status_code == 201, saved.content
    assert Measurement.objects.get().instrument == "BAL-LATER"


def test_refuse_policy_saves_nothing_and_names_the_instrument_and_why(
    design: Any, run: Any, animals: list[Any], admin: Any
) -> None:
    _refuse(design.lab, admin)
    caliper = _instrument(design, "caliper", "CAL-LATE", overdue=True, checked=False)
    balance = _instrument(design, "balance", "BAL-OK", overdue=False, checked=True)
    client = client_for(design.technician)
    _use(client, run, caliper=caliper, balance=balance)
    refused = post(client, run, cell(animals[0], "length", "8", operator=design.technician))
    assert refused.status_code == 400
    assert refused.json()["error"] == (
        "instrument: Readings from Caliper CAL-LATE are refused: calibration overdue; "
        "no passed daily check today. Nothing was saved."
    )
    assert not PendingAxis.objects.exists() and not Measurement.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    # The balance is qualified: its value passes under the same rule.
    weight = post(client, run, cell(animals[0], "weight", "21.0", operator=design.technician))
    assert weight.status_code == 201
    assert Measurement.objects.get().instrument == "BAL-OK"
    assert not ReadingFlag.objects.exists()
    # A code is not a reading of the instrument: NP passes.
    code = post(client, run, cell(animals[0], "length", "NP", operator=design.technician))
    assert code.status_code == 201
    assert Measurement.objects.get(kind="caliper").instrument == ""


def test_without_an_instrument_chosen_the_grid_saves_as_before(
    design: Any, run: Any, animals: list[Any], admin: Any
) -> None:
    _refuse(design.lab, admin)
    _instrument(design, "balance", "BAL-LATE", overdue=True, checked=False)
    client = client_for(design.technician)
    answer = post(client, run, cell(animals[0], "weight", "21.0", operator=design.technician))
    assert answer.status_code == 201
    assert Measurement.objects.get().instrument == ""


def test_an_instrument_of_another_lab_or_kind_cannot_be_chosen(
    design: Any, run: Any, animals: list[Any], other_lab: Any
) -> None:
    caliper = _instrument(design, "caliper", "CAL-1", overdue=True, checked=False)
    # Written directly: a fixture of the other lab, not a flow under test.
    foreign = Instrument.objects.create(
        lab=other_lab,
        kind="balance",
        name="Foreign balance",
        serial_number="BAL-X",
        calibration_due_on=timezone.localdate() - dt.timedelta(days=9),
        created_by=design.scientist,
    )
    client = client_for(design.technician)
    # A caliper offered as the balance, another lab's balance and an unknown id are ignored.
    for data in ({"balance": str(caliper.pk)}, {"balance": str(foreign.pk), "caliper": "999999"}):
        client.post(reverse("grid_instrument", kwargs={"pk": run.pk}), data)
        answer = post(client, run, cell(animals[0], "weight", "21.0", operator=design.technician))
        assert answer.status_code == 201 and "instrument_flag" not in answer.json()
    assert set(Measurement.objects.values_list("instrument", flat=True)) == {""}
    assert not ReadingFlag.objects.exists()


# -- the lab's rule: page --------------------------------------------------------------------


def test_rule_page_is_for_lab_admins_only(design: Any, admin: Any) -> None:
    page = client_for(admin).get(POLICY_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert ">Readings from an unqualified instrument" in html
    assert ">Reason for the change" in html and 'for="id_reason"' in html
    assert "The default is in force" in html
    for user in (design.technician, design.director, design.scientist):
        assert client_for(user).get(POLICY_URL).status_code == 403
        refused = client_for(user).post(
            POLICY_URL, {"unqualified_readings": "refuse", "reason": "x", "row_version": "0"}
        )
        assert refused.status_code == 403
    assert not InstrumentSettings.objects.exists()


def test_admin_sets_refuse_with_a_reason_and_the_change_is_audited(design: Any, admin: Any) -> None:
    client = client_for(admin)
    response = client.post(
        POLICY_URL,
        {"unqualified_readings": "refuse", "reason": "SOP-12 rev 3", "row_version": "0"},
    )
    assert response.status_code == 302
    saved = InstrumentSettings.objects.get(lab=design.lab)
    assert saved.unqualified_readings == "refuse" and saved.row_version == 1
    response = client.post(
        POLICY_URL,
        {"unqualified_readings": "flag", "reason": "audit finding 7", "row_version": "1"},
    )
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.unqualified_readings == "flag" and saved.row_version == 2
    events = list(saved.events.order_by("pgh_id"))  # type: ignore[attr-defined]
    assert [event.unqualified_readings for event in events] == ["refuse", "flag"]
    reasons = [
        (e.pgh_context if isinstance(e.pgh_context, dict) else e.pgh_context.metadata)["reason"]
        for e in events
    ]
    assert reasons == ["SOP-12 rev 3", "audit finding 7"]
    listing = client.get(reverse("instrument_list")).content.decode()
    assert "recorded and flagged" in listing and POLICY_URL in listing


def test_rule_without_a_reason_or_stale_is_refused_and_nothing_changes(
    design: Any, admin: Any
) -> None:
    client = client_for(admin)
    missing = client.post(POLICY_URL, {"unqualified_readings": "refuse", "row_version": "0"})
    assert missing.status_code == 400
    assert "reason" in missing.context["form"].errors
    assert not InstrumentSettings.objects.exists()
    assert (
        client.post(
            POLICY_URL, {"unqualified_readings": "refuse", "reason": "a", "row_version": "0"}
        ).status_code
        == 302
    )
    stale = client.post(
        POLICY_URL, {"unqualified_readings": "flag", "reason": "b", "row_version": "0"}
    )
    assert stale.status_code == 409
    assert "Someone changed the instrument rules" in stale.content.decode()
    assert InstrumentSettings.objects.get().unqualified_readings == "refuse"


# -- the demo ----------------------------------------------------------------------------------


def test_demo_flags_one_weight_of_today_from_the_past_due_balance(
    design: Any, run: Any, animals: list[Any], capsys: Any
) -> None:
    from labnotes.demo_instruments import PAST_DUE_SERIAL, record_demo_instruments
    from labnotes.services.measurements import record_measurement

    earlier = timezone.now() - dt.timedelta(days=2)
    for animal, grams in zip(animals, ("20.5", "21.5"), strict=True):
        record_measurement(
            animal=animal, weight_g=grams, taken_at=earlier, operator=design.technician
        )
    users = {"director": design.director, "tech_measure": design.technician}
    assert record_demo_instruments(run, users) is not None
    flag = ReadingFlag.objects.get()
    reading = flag.measurement
    assert flag.instrument.serial_number == PAST_DUE_SERIAL
    assert flag.issues == ["calibration_overdue", "no_daily_check"]
    assert reading.instrument == PAST_DUE_SERIAL and reading.animal == animals[0]
    assert reading.weight_g == Decimal("20.50")  # the animal's latest weight, no alert
    assert reading.study_day == (design.lab.local_date(timezone.now()) - run.day0).days
    html = client_for(design.technician).get(reverse("run_grid", kwargs={"pk": run.pk}))
    assert "Flagged: Balance 3 (spare, past due): calibration overdue;" in html.content.decode()
    assert record_demo_instruments(run, users) is None
    assert ReadingFlag.objects.count() == 1 and Measurement.objects.count() == 3
