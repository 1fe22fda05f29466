# ruff: noqa: S608 - the interpolated names are the measurement table's own columns.
"""Measurement INSERTs are checked once per statement (migration 0018): a multi-row INSERT or a
COPY into a locked run (VL423) or an archived study (VL410) is refused as a whole, by raw SQL
as the runtime role too; UPDATE and DELETE stay guarded row by row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from psycopg import errors

from labnotes.models import Animal, Measurement
from labnotes.models.locks import LOCKED_SQLSTATE
from labnotes.services import locks as lock_services
from planner.models import Study, StudyStatus
from tests.factories import LabFactory

ARCHIVED_SQLSTATE = "VL410"

pytestmark = pytest.mark.django_db(transaction=True)


def _run(lab: Any, code: str, design: Any = None) -> tuple[Any, Any, list[Animal]]:
    from labnotes.services.runs import start_study_run
    from tests.labnotes.builders import build_design
    from tests.labnotes.conftest import stage

    design = design or build_design(lab=lab)
    run = start_study_run(
        study=design.study,
        code=code,
        day0=timezone.localdate() - dt.timedelta(days=10),
        started_by=design.director,
    )
    return design, run, stage(design, run, count=3)


def _columns() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'labnotes_measurement' AND column_name <> 'id' "
            "ORDER BY ordinal_position"
        )
        return [name for (name,) in cursor.fetchall()]


def _copies(animal_ids: list[int], marker: str) -> tuple[str, list[tuple[Any, ...]]]:
    """The stored readings of ``animal_ids`` as new rows (a new client_id each): the column
    list and the rows, for a multi-row INSERT or a COPY."""
    columns = _columns()
    listed = ", ".join(
        f"'{marker}-' || id::text" if name == "client_id" else name for name in columns
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {listed} FROM labnotes_measurement WHERE animal_id = ANY(%s) ORDER BY id",
            [animal_ids],
        )
        rows = cursor.fetchall()
    assert len(rows) >= 2, "the test needs a multi-row statement"
    return ", ".join(columns), rows


def _insert_select(conn: psycopg.Connection[Any], animal_ids: list[int], marker: str) -> None:
    columns = _columns()
    listed = ", ".join(
        f"'{marker}-' || id::text" if name == "client_id" else name for name in columns
    )
    conn.execute(
        f"INSERT INTO labnotes_measurement ({', '.join(columns)}) "
        f"SELECT {listed} FROM labnotes_measurement WHERE animal_id = ANY(%s)",
        [animal_ids],
    )


def _copy(conn: psycopg.Connection[Any], animal_ids: list[int], marker: str) -> None:
    column_list, rows = _copies(animal_ids, marker)
    with conn.transaction(), conn.cursor() as cursor:
        with cursor.copy(f"COPY labnotes_measurement ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _written(marker: str) -> int:
    return Measurement.objects.filter(client_id__startswith=f"{marker}-").count()


def test_locked_run_refuses_multi_row_insert_and_copy_by_the_runtime_role(
    lab: Any, runtime_connection: psycopg.Connection[Any]
) -> None:
    design, locked_run, locked_animals = _run(lab, "RUN-L")
    _, _, open_animals = _run(LabFactory(), "RUN-O")
    lock_services.lock_run(run=locked_run, by=design.director, reason="final analysis")
    locked_ids = [a.pk for a in locked_animals]
    open_ids = [a.pk for a in open_animals]
    before = Measurement.objects.count()
    for attempt, marker, ids in [
        (_insert_select, "ins", locked_ids),
        (_copy, "copy", locked_ids),
        # One row of a locked run among rows of an open run: the whole statement is refused.
        (_insert_select, "mixed", [*open_ids, locked_ids[0]]),
        (_copy, "mixedcopy", [*open_ids, locked_ids[-1]]),
    ]:
        with pytest.raises(errors.DatabaseError) as caught:
            attempt(runtime_connection, ids, marker)
        assert caught.value.diag.sqlstate == LOCKED_SQLSTATE, marker
        message = str(caught.value)
        assert f"run {design.study.code} / RUN-L is locked since" in message, message
        assert "reason: final analysis" in message
        assert "INSERT on labnotes_measurement refused" in message
        assert _written(marker) == 0, marker
    assert Measurement.objects.count() == before
    # The open run takes the same statements, and each inserted row gets its audit event.
    stored = Measurement.objects.filter(animal_id__in=open_ids).count()
    _insert_select(runtime_connection, open_ids, "fine")
    _copy(runtime_connection, open_ids, "finecopy")  # copies the copies just made too
    assert _written("fine") == stored and _written("finecopy") == 2 * stored
    from django.apps import apps

    events = apps.get_model("labnotes", "MeasurementEvent").objects.filter(
        pgh_label="insert", client_id__startswith="fine"
    )
    assert events.count() == 3 * stored
    # UPDATE and DELETE of the locked run's readings stay refused row by row.
    for statement in (
        "UPDATE labnotes_measurement SET instrument = 'raw' WHERE animal_id = ANY(%s)",
        "DELETE FROM labnotes_measurement WHERE animal_id = ANY(%s)",
    ):
        with pytest.raises(errors.DatabaseError) as caught:
            runtime_connection.execute(statement, [locked_ids])
        assert caught.value.diag.sqlstate == LOCKED_SQLSTATE, statement
    assert Measurement.objects.filter(animal_id__in=locked_ids, instrument="raw").count() == 0


def test_archived_study_refuses_multi_row_insert_and_copy_by_the_runtime_role(
    lab: Any, runtime_connection: psycopg.Connection[Any]
) -> None:
    design, _, animals = _run(lab, "RUN-A")
    ids = [a.pk for a in animals]
    Study.objects.filter(pk=design.study.pk).update(status=StudyStatus.ARCHIVED)
    before = Measurement.objects.count()
    for attempt, marker in [(_insert_select, "ins"), (_copy, "copy")]:
        with pytest.raises(errors.DatabaseError) as caught:
            attempt(runtime_connection, ids, marker)
        assert caught.value.diag.sqlstate == ARCHIVED_SQLSTATE, marker
        message = str(caught.value)
        assert f"Study {design.study.code} is archived" in message, message
        assert "INSERT refused on labnotes_measurement" in message
        assert _written(marker) == 0
    with pytest.raises(errors.DatabaseError) as caught:
        runtime_connection.execute(
            "UPDATE labnotes_measurement SET instrument = 'raw' WHERE animal_id = ANY(%s)", [ids]
        )
    assert caught.value.diag.sqlstate == ARCHIVED_SQLSTATE
    assert Measurement.objects.count() == before


def test_measurement_guards_cover_every_write_and_fire_for_every_role() -> None:
    """The catalogue: INSERT by the statement triggers (with the inserted rows as a transition
    table), UPDATE and DELETE by the row triggers; all ENABLE ALWAYS."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname, t.tgenabled, (t.tgtype & 1) = 1 AS per_row, "
            "(t.tgtype & 4) <> 0 AS on_insert, (t.tgtype & 8) <> 0 AS on_delete, "
            "(t.tgtype & 16) <> 0 AS on_update, t.tgnewtable IS NOT NULL "
            "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relname = 'labnotes_measurement' AND (t.tgname LIKE 'vivolog_run_lock%%' "
            "OR t.tgname LIKE '%%refuse_archived' OR t.tgname LIKE 'pgtrigger_insert%%')"
        )
        found = {name: rest for name, *rest in cursor.fetchall()}
    assert found == {
        "vivolog_run_lock": ["A", True, False, True, True, False],
        "vivolog_run_lock_insert": ["A", False, True, False, False, True],
        "labnotes_measurement_refuse_archived": ["A", True, False, True, True, False],
        "labnotes_measurement_insert_refuse_archived": ["A", False, True, False, False, True],
        "pgtrigger_insert_insert_7ea91": ["A", False, True, False, False, True],
    }


def test_every_reading_gets_exactly_one_insert_event_on_every_insert_path(
    lab: Any, runtime_connection: psycopg.Connection[Any]
) -> None:
    """The statement-level audit insert: one event per row for an ORM save, a multi-row
    INSERT and a COPY, with the row's values; the trail verifies. (The audit context of a
    bulk ingest is checked in tests/labnotes/api/test_ingest_speed_paths.py.)"""
    from django.apps import apps

    from planner.security.audit_chain import verify_audit_trail

    _, _, animals = _run(lab, "RUN-E")  # stage(): one reading each, saved by the ORM
    _insert_select(runtime_connection, [a.pk for a in animals], "ins")
    _copy(runtime_connection, [a.pk for a in animals], "copy")
    event_model = apps.get_model("labnotes", "MeasurementEvent")
    readings = Measurement.objects.filter(animal__in=animals)
    assert readings.count() == 4 * len(animals)  # staged, inserted, copied twice over
    events = event_model.objects.filter(pgh_label="insert", pgh_obj_id__in=readings.values("id"))
    per_reading: dict[int, int] = {}
    for obj_id in events.values_list("pgh_obj_id", flat=True):
        per_reading[obj_id] = per_reading.get(obj_id, 0) + 1
    assert per_reading == {pk: 1 for pk in readings.values_list("id", flat=True)}
    for event in events.filter(client_id__startswith="copy-"):
        assert (event.length_mm, event.volume_mm3, event.taken_at) == (
            Measurement.objects.values_list("length_mm", "volume_mm3", "taken_at").get(
                pk=event.pgh_obj_id
            )
        )
    report = verify_audit_trail()
    assert [p for p in report.problems if "measurement" in p.lower()] == []
    assert report.ok, report.problems
