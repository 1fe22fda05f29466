"""Issue 6 follow-ups of the measurement grid: one cell in at most ten queries (with the
middleware's checks still refusing a deactivated user or a removed membership), the "previous"
value never taken from a code or a voided reading, the Today page's links into the grid, and
times in the lab's zone.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from labnotes.models import (
    EndpointEpisode,
    Measurement,
    PendingAxis,
    Task,
    TaskKind,
)
from labnotes.selectors import latest_readings
from labnotes.services.animals import record_implantation, register_animals
from labnotes.services.endpoint_status import _reading_for, welfare_limits
from labnotes.services.measurements import record_measurement, void_measurement
from planner.models import IdempotencyRecord, Membership, Role
from planner.security.middleware import SECOND_FACTOR_CLEAR, SESSION_LAST_SEEN
from tests.labnotes.builders import tag_rows
from tests.labnotes.test_grid_cells import cell, client_for, post
from tests.labnotes.test_run_pages import randomized

pytestmark = pytest.mark.django_db

#: Issue 6: "saving one cell in at most 10 queries".
CELL_QUERIES = 10


@pytest.fixture
def animals(design: Any, run: Any) -> list[Any]:
    registered = register_animals(run=run, rows=tag_rows(3), registered_by=design.technician)
    for animal in registered:
        record_implantation(
            animal=animal,
            site="right flank",
            implanted_on=run.day0,
            cells=500_000,
            operator=design.technician,
        )
    return registered


def _warm(client: Client, run: Any) -> None:
    """The session's first request writes it (last seen, the second-factor check)."""
    assert client.get(reverse("run_grid", kwargs={"pk": run.pk})).status_code == 200


# -- 1. one cell: queries, and the checks that must not be cached away -------------------------


def test_each_cell_saves_in_at_most_ten_queries_when_the_session_is_warm(
    design: Any, run: Any, animals: list[Any], django_assert_max_num_queries: Any
) -> None:
    client = client_for(design.technician)
    _warm(client, run)
    bodies = [
        cell(animals[0], "length", "9.5", operator=design.technician),
        cell(animals[0], "width", "7,25", operator=design.technician),
        cell(animals[0], "weight", "+ 21.37 g", operator=design.technician),
    ]
    answers = []
    for body in bodies:
        with django_assert_max_num_queries(CELL_QUERIES):
            answers.append(post(client, run, body))
    first, second, weight = answers
    assert [first.status_code, second.status_code, weight.status_code] == [201, 201, 201]
    assert second.json()["volume_mm3"] == "249.67"  # 9.5 × 7.25² / 2 = 249.671875
    caliper, grams = Measurement.objects.order_by("kind")
    assert (caliper.length_mm, caliper.width_mm) == (Decimal("9.50"), Decimal("7.25"))
    assert grams.weight_g == Decimal("21.37")
    assert Measurement.objects.count() == 2 and IdempotencyRecord.objects.count() == 3


def test_a_deactivated_user_is_refused_on_the_next_cell(
    design: Any, run: Any, animals: list[Any]
) -> None:
    client = client_for(design.technician)
    _warm(client, run)
    assert post(client, run, cell(animals[0], "weight", "21.5", operator=design.technician))
    # However it happens (here: SQL, no service to end the sessions).
    User.objects.filter(pk=design.technician.pk).update(is_active=False)
    refused = post(client, run, cell(animals[1], "weight", "22.5", operator=design.technician))
    assert refused.status_code in (302, 401, 403)
    assert list(Measurement.objects.values_list("animal_id", flat=True)) == [animals[0].pk]


def test_a_removed_membership_is_refused_on_the_next_cell(
    design: Any, run: Any, animals: list[Any]
) -> None:
    client = client_for(design.technician)
    _warm(client, run)
    assert post(client, run, cell(animals[0], "weight", "21.5", operator=design.technician))
    Membership.objects.filter(user=design.technician, lab=design.lab).delete()
    refused = post(client, run, cell(animals[1], "weight", "22.5", operator=design.technician))
    assert refused.status_code == 404
    assert Measurement.objects.filter(animal=animals[1]).count() == 0
    assert Measurement.objects.count() == 1


def test_a_raised_role_asks_for_the_second_factor_once_the_session_moves_on(
    design: Any, run: Any, settings: Any
) -> None:
    settings.VIVOLOG_OTP_REQUIRED_ROLES = ("study_director", "qa", "lab_admin")
    client = client_for(design.technician)
    _warm(client, run)
    session = client.session
    assert session[SECOND_FACTOR_CLEAR] == [design.technician.pk, session[SESSION_LAST_SEEN]]
    Membership.objects.filter(user=design.technician, lab=design.lab).update(
        role=Role.STUDY_DIRECTOR
    )
    session[SESSION_LAST_SEEN] = time.time() - 61  # the next request moves it on
    session.save()
    page = client.get(reverse("run_grid", kwargs={"pk": run.pk}))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("otp_enrol"))
    assert SECOND_FACTOR_CLEAR not in client.session


def test_the_second_factor_clearance_belongs_to_one_user(
    design: Any, run: Any, settings: Any
) -> None:
    """A clearance stored for another user id (a reused session) is not taken over."""
    settings.VIVOLOG_OTP_REQUIRED_ROLES = ("study_director", "qa", "lab_admin")
    client = client_for(design.director)
    session = client.session
    session[SECOND_FACTOR_CLEAR] = [design.director.pk + 10_000, session.get(SESSION_LAST_SEEN)]
    session.save()
    page = client.get(reverse("run_grid", kwargs={"pk": run.pk}))
    assert page.status_code == 302  # the study director must verify a second factor first


# -- endpoint checks from the history in memory equal the database's ----------------------------


def test_endpoint_values_from_the_loaded_history_equal_the_database_reads(
    design: Any, run: Any, animals: list[Any]
) -> None:
    animal = animals[0]
    tumour = animal.tumours.first()
    when = timezone.now() - dt.timedelta(days=3)
    common = {"operator": design.technician}
    baseline = record_measurement(animal=animal, weight_g="24.0", taken_at=when, **common)
    record_measurement(tumour=tumour, length_mm="10", width_mm="8", taken_at=when, **common)
    wrong = record_measurement(
        tumour=tumour, length_mm="30", width_mm="20", taken_at=when + dt.timedelta(days=1), **common
    )
    void_measurement(measurement=wrong, voided_by=design.technician, reason="wrong animal")
    record_measurement(
        tumour=tumour,
        code="NM",
        code_reason="ulcerated",
        taken_at=when + dt.timedelta(days=2),
        **common,
    )
    latest = record_measurement(animal=animal, weight_g="18.0", taken_at=timezone.now(), **common)
    limits = welfare_limits(run.study)
    history = list(Measurement.objects.filter(animal=animal).order_by("taken_at", "pk"))
    from_memory = _reading_for(latest, limits, history)
    from_database = _reading_for(latest, limits)
    assert from_memory == from_database
    # (24 - 18) / 24 = 25 % lost from the baseline weight, by hand.
    assert from_memory.weight_loss_percent == pytest.approx(25.0)
    assert baseline.weight_g == Decimal("24.00")


def test_a_weight_loss_at_the_limit_from_the_grid_waits_for_a_repeat(
    design: Any, run: Any, animals: list[Any]
) -> None:
    animal = animals[0]
    record_measurement(
        animal=animal,
        weight_g="25.0",
        taken_at=timezone.now() - dt.timedelta(days=5),
        operator=design.technician,
    )
    client = client_for(design.technician)
    answer = post(client, run, cell(animal, "weight", "19.5", operator=design.technician)).json()
    assert answer["needs_repeat"] is True  # 22 % lost: at the 20 % limit
    episode = EndpointEpisode.objects.get(animal=animal)
    assert episode.status == "awaiting_repeat" and episode.alerted_at is None
    below = post(client, run, cell(animal, "weight", "21.5", operator=design.technician))
    assert below.status_code == 201
    episode.refresh_from_db()
    assert episode.status == "dismissed"


# -- 2. the previous value is the latest real one --------------------------------------------------


def test_previous_value_skips_nm_nd_codes_and_voided_readings(
    design: Any, run: Any, animals: list[Any]
) -> None:
    animal = animals[0]
    tumour = animal.tumours.first()
    common = {"operator": design.technician}
    day = timezone.now() - dt.timedelta(days=4)
    record_measurement(tumour=tumour, length_mm="10", width_mm="6", taken_at=day, **common)
    record_measurement(animal=animal, weight_g="22.4", taken_at=day, **common)
    later = day + dt.timedelta(days=1)
    voided = record_measurement(
        tumour=tumour, length_mm="14", width_mm="9", taken_at=later, **common
    )
    void_measurement(measurement=voided, voided_by=design.technician, reason="wrong animal")
    latest = day + dt.timedelta(days=2)
    record_measurement(tumour=tumour, code="NM", code_reason="ulcerated", taken_at=latest, **common)
    record_measurement(
        animal=animal, code="ND", code_reason="balance broken", taken_at=latest, **common
    )
    first = Measurement.objects.filter(animal=animal).order_by("taken_at").first()
    assert first is not None
    study_day = first.study_day

    page = client_for(design.technician).get(reverse("run_grid", kwargs={"pk": run.pk}))
    row = next(a for a in page.context["animals"] if a.animal_id == animal.pk)
    assert row.rows[0].previous == f"180 mm³ (day {study_day})"  # 10 × 6² / 2
    assert row.previous_weight == f"22.4 g (day {study_day})"
    assert "NM" not in row.rows[0].previous and "ND" not in row.previous_weight

    found = latest_readings([animal])[animal.pk]
    assert found["volume_mm3"] == Decimal("180.00") and found["weight_g"] == Decimal("22.40")


def test_previous_value_shows_np_as_not_palpable(design: Any, run: Any, animals: list[Any]) -> None:
    animal = animals[0]
    day = timezone.now() - dt.timedelta(days=2)
    reading = record_measurement(
        tumour=animal.tumours.first(), code="NP", taken_at=day, operator=design.technician
    )
    page = client_for(design.technician).get(reverse("run_grid", kwargs={"pk": run.pk}))
    row = next(a for a in page.context["animals"] if a.animal_id == animal.pk)
    assert row.rows[0].previous == f"NP (day {reading.study_day})"


# -- 3. Today: measure and weigh tasks open the grid -----------------------------------------------


def test_today_links_measure_and_weigh_tasks_to_the_grid_of_their_day_and_animal(
    design: Any, run: Any
) -> None:
    randomized(design, run)
    task = Task.objects.filter(run=run, kind=TaskKind.MEASURE).order_by("scheduled_date").first()
    assert task is not None
    page = client_for(design.technician).get(reverse("today") + f"?day={task.date.isoformat()}")
    rows = {r["task"].pk: r for r in page.context["due"]}
    grid = reverse("run_grid", kwargs={"pk": run.pk})
    expected = f"{grid}?day={task.date.isoformat()}#animal-{task.animal_id}"
    assert rows[task.pk]["grid_url"] == expected
    assert f'href="{expected}"' in page.content.decode()
    others = [r for r in rows.values() if r["task"].kind not in (TaskKind.MEASURE, TaskKind.WEIGH)]
    assert all(r["grid_url"] == "" for r in others)
    # The link lands on the animal's rows.
    landing = client_for(design.technician).get(f"{grid}?day={task.date.isoformat()}")
    assert f'id="animal-{task.animal_id}"' in landing.content.decode()


def test_grid_cell_writes_nothing_pending_for_a_refused_value(
    design: Any, run: Any, animals: list[Any]
) -> None:
    """Sanity of the fast path: a refused value leaves no half and no reading."""
    client = client_for(design.technician)
    refused = post(client, run, cell(animals[0], "length", "159", operator=design.technician))
    assert refused.status_code == 400
    assert PendingAxis.objects.count() == 0 and Measurement.objects.count() == 0


# -- 3. the demo completes the tasks whose readings exist ----------------------------------------


def test_complete_measured_tasks_marks_done_only_tasks_with_readings(design: Any, run: Any) -> None:
    from labnotes.demo_measurements import complete_measured_tasks
    from labnotes.models import TaskStatus

    randomized(design, run)
    today = design.lab.local_date(timezone.now())
    measure = Task.objects.filter(run=run, kind=TaskKind.MEASURE).order_by("pk")
    measured = measure[0]
    unmeasured = measure.exclude(animal=measured.animal)[0]
    # Test setup: both tasks due today, and the two animals' staging readings voided.
    Task.objects.filter(pk__in=[measured.pk, unmeasured.pk]).update(
        scheduled_date=today, window_days=0
    )
    for reading in Measurement.objects.filter(animal__in=[measured.animal, unmeasured.animal]):
        void_measurement(measurement=reading, voided_by=design.technician, reason="test setup")
    record_measurement(
        tumour=measured.animal.tumours.first(),
        length_mm="8",
        width_mm="6",
        taken_at=timezone.now(),
        operator=design.technician,
    )
    weighed = Task.objects.filter(
        run=run, kind=TaskKind.WEIGH, animal=measured.animal, scheduled_date=today
    ).first()
    completed = complete_measured_tasks(run, design.technician)
    assert completed == Task.objects.filter(run=run, status=TaskStatus.DONE).count() >= 1
    measured.refresh_from_db()
    unmeasured.refresh_from_db()
    assert measured.status == TaskStatus.DONE and measured.completed_by == design.technician
    assert unmeasured.status == TaskStatus.DUE
    if weighed is not None:  # its weight was voided: the weigh task stays due
        weighed.refresh_from_db()
        assert weighed.status == TaskStatus.DUE
    assert complete_measured_tasks(run, design.technician) == 0  # run again: nothing more
    page = client_for(design.technician).get(reverse("today") + f"?day={today.isoformat()}")
    assert measured.pk not in [r["task"].pk for r in page.context["overdue"]]
    assert measured.pk in [r["task"].pk for r in page.context["done"]]


# -- 5. the transcription demo: entered the same day, no made-up far values ---------------------


def test_a_sheet_typed_in_the_same_day_is_not_late_and_one_typed_days_later_is(
    design: Any, run: Any, animals: list[Any], settings: Any, tmp_path: Any
) -> None:
    from labnotes.services.transcription import SheetEntry, create_transcription_sheet

    settings.MEDIA_ROOT = tmp_path / "media"
    day = design.lab.local_date(timezone.now()) - dt.timedelta(days=5)
    written = dt.datetime.combine(day, dt.time(8, 50), tzinfo=design.lab.zone)

    def sheet(animal: Any, at: dt.time, entered_at: dt.datetime | None) -> Any:
        return create_transcription_sheet(
            run=run,
            sheet_date=day,
            sheet_time=at,
            entries=[SheetEntry(animal=animal, weight_g=Decimal("21.40"))],
            transcribed_by=design.technician,
            entered_at=entered_at,
        )

    same_day = sheet(animals[0], dt.time(8, 50), written + dt.timedelta(hours=5))
    days_later = sheet(animals[1], dt.time(8, 55), None)
    assert list(
        Measurement.objects.filter(transcription=same_day).values_list("is_late", flat=True)
    ) == [False]
    assert list(
        Measurement.objects.filter(transcription=days_later).values_list("is_late", flat=True)
    ) == [True]


def test_demo_sheet_values_are_not_extrapolated_far_from_real_readings() -> None:
    from labnotes.demo_transcription import MAX_EXTRAPOLATION_DAYS, _volume_at

    class Rows:
        """The part of a queryset ``_volume_at`` uses."""

        def __init__(self, rows: list[tuple[dt.datetime, float]]) -> None:
            self.rows = rows

        def filter(self, **_: Any) -> Rows:
            return self

        def values_list(self, *_: Any) -> list[tuple[dt.datetime, float]]:
            return self.rows

    t0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    readings = Rows([(t0, 100.0), (t0 + dt.timedelta(days=2), 144.0)])
    # Between two readings: log-linear, ln V = ln 100 + ½ (ln 144 - ln 100) → 120 by hand.
    assert _volume_at(readings, t0 + dt.timedelta(days=1)) == pytest.approx(120.0)
    near = t0 + dt.timedelta(days=2 + MAX_EXTRAPOLATION_DAYS - 0.5)
    assert _volume_at(readings, near) == pytest.approx(144.0 * 2.718281828459045 ** (0.2 * 2.5))
    # A satellite taken down on day 10 has no reading near day 23: left off the sheet.
    assert _volume_at(readings, t0 + dt.timedelta(days=13)) is None


# -- 4. times in the lab's zone ------------------------------------------------------------------


def test_transcription_pages_show_times_in_the_lab_zone(
    design: Any, run: Any, animals: list[Any], settings: Any, tmp_path: Any
) -> None:
    from labnotes.services.transcription import SheetEntry, create_transcription_sheet

    settings.MEDIA_ROOT = tmp_path / "media"
    design.lab.time_zone = "Asia/Tokyo"  # UTC+9 all year: local and UTC never print alike
    design.lab.save(update_fields=["time_zone"])
    day = design.lab.local_date(timezone.now()) - dt.timedelta(days=1)
    sheet = create_transcription_sheet(
        run=run,
        sheet_date=day,
        sheet_time=dt.time(9, 0),
        entries=[SheetEntry(animal=animals[0], weight_g=Decimal("21.40"))],
        transcribed_by=design.technician,
    )
    local = sheet.transcribed_at.astimezone(design.lab.zone).strftime("%Y-%m-%d %H:%M")
    utc = sheet.transcribed_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    client = client_for(design.technician)
    detail = client.get(reverse("transcription_detail", kwargs={"pk": sheet.pk})).content.decode()
    listing = client.get(reverse("transcription_list", kwargs={"pk": run.pk})).content.decode()
    assert local in detail and utc not in detail
    assert sheet.transcribed_by.get_username() in listing
