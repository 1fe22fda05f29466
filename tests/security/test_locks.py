"""Run data locks: the database refuses writes to a locked run on every path; unlocking
takes the study director and QA, each with a reason; the report lists changes after a lock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from psycopg import errors

from labnotes.models import Animal, AnimalStatus, Measurement, RunLock
from labnotes.models.locks import LOCKED_SQLSTATE
from labnotes.services import locks as lock_services
from labnotes.services.animals import exclude_animal
from planner.models import SecurityEvent, SecurityEventKind
from tests.factories import TEST_PASSWORD
from tests.labnotes.api.conftest import client_for


def _setup(lab: Any) -> tuple[Any, Any, list[Animal]]:
    from labnotes.services.runs import start_study_run
    from tests.labnotes.builders import build_design
    from tests.labnotes.conftest import stage

    design = build_design(lab=lab)
    run = start_study_run(
        study=design.study,
        code="RUN-1",
        day0=timezone.localdate() - dt.timedelta(days=10),
        started_by=design.director,
    )
    animals = stage(design, run, count=3)
    return design, run, animals


@pytest.fixture
def locked(lab: Any) -> tuple[Any, Any, list[Animal], RunLock]:
    design, run, animals = _setup(lab)
    lock = lock_services.lock_run(run=run, by=design.director, reason="before unblinding")
    return design, run, animals, lock


def _refused_message(error: BaseException) -> str:
    message = lock_services.locked_run_message(error)
    assert message is not None, f"not a lock refusal: {error!r}"
    return message


@pytest.mark.django_db
def test_lock_refuses_orm_save_and_queryset_update_with_a_readable_message(locked: Any) -> None:
    design, run, animals, lock = locked
    animal = animals[0]
    before = Measurement.objects.count()
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        Animal.objects.filter(run=run).update(rfid="bulk change")
    message = _refused_message(caught.value)
    assert message.startswith(f"run {run.study.code} / RUN-1 is locked since ")
    assert f"by {lock.locked_by_name}" in message
    assert "(reason: before unblinding)" in message
    assert "UPDATE on labnotes_animal refused" in message
    with pytest.raises(DatabaseError), transaction.atomic():
        Measurement.objects.create(
            animal=animal,
            kind="weight",
            weight_g="20.0",
            taken_at=timezone.now(),
            study_day=10,
            operator=design.technician,
            recorded_by=design.technician,
        )
    with pytest.raises(DatabaseError), transaction.atomic():
        exclude_animal(animal=animal, reason="test", excluded_by=design.director)
    assert Measurement.objects.count() == before
    assert not Animal.objects.filter(run=run, rfid="bulk change").exists()
    assert Animal.objects.get(pk=animal.pk).status == AnimalStatus.ON_STUDY


@pytest.mark.django_db
def test_lock_refuses_the_page_and_the_api_with_423(locked: Any) -> None:
    design, run, animals, _lock = locked
    browser = Client()
    assert browser.login(username=design.director.get_username(), password=TEST_PASSWORD)
    page = browser.post(reverse("animal_exclude", args=[animals[0].pk]), {"reason": "ulcerated"})
    assert page.status_code == 423
    assert "is locked since" in page.content.decode()
    assert Animal.objects.get(pk=animals[0].pk).status == AnimalStatus.ON_STUDY
    count = Animal.objects.filter(run=run).count()
    api = client_for(design.technician).post(
        reverse("animal-bulk-register"), {"run": run.pk, "rows": [{"tag": "0999"}]}, format="json"
    )
    assert api.status_code == 423
    assert api["Content-Type"] == "application/problem+json"
    assert "is locked since" in api.json()["detail"]
    assert Animal.objects.filter(run=run).count() == count


@pytest.mark.django_db
def test_lock_refuses_the_admin_save_path(locked: Any, django_user_model: Any) -> None:
    _design, _run, animals, _lock = locked
    superuser = django_user_model.objects.create_superuser("root", "r@example.org", "x")
    request = RequestFactory().post("/admin/")
    request.user = superuser
    model_admin = admin.ModelAdmin(Animal, admin.site)
    animal = Animal.objects.get(pk=animals[0].pk)
    animal.rfid = "edited in the admin"
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        model_admin.save_model(request, animal, form=None, change=True)
    assert "is locked since" in _refused_message(caught.value)
    assert Animal.objects.get(pk=animal.pk).rfid != "edited in the admin"
    # The project's own admin shows run data read-only: no change form for animals at all.
    browser = Client()
    browser.force_login(superuser)
    response = browser.get(f"/admin/labnotes/animal/{animal.pk}/change/")
    assert response.status_code in (302, 403, 404)


@pytest.mark.django_db(transaction=True)
def test_lock_refuses_raw_sql_as_the_runtime_role(
    lab: Any, runtime_connection: psycopg.Connection[Any]
) -> None:
    design, run, animals = _setup(lab)
    lock_services.lock_run(run=run, by=design.director, reason="final analysis")
    for statement, params in [
        ("UPDATE labnotes_animal SET rfid = 'raw' WHERE run_id = %s", [run.pk]),
        ("DELETE FROM labnotes_measurement WHERE animal_id = %s", [animals[0].pk]),
        ("UPDATE labnotes_studyrun SET day0 = day0 + 1 WHERE id = %s", [run.pk]),
        ("UPDATE labnotes_runlock SET released_at = now() WHERE run_id = %s", [run.pk]),
        ("DELETE FROM labnotes_runlock WHERE run_id = %s", [run.pk]),
    ]:
        with pytest.raises((errors.DatabaseError,)) as caught:
            runtime_connection.execute(statement, params)
        assert caught.value.diag.sqlstate in (LOCKED_SQLSTATE, "P0001", "23514"), statement
    assert not Animal.objects.filter(rfid="raw").exists()
    assert Measurement.objects.filter(animal=animals[0]).count() == 1
    assert RunLock.objects.get(run=run).released_at is None


@pytest.mark.django_db
def test_unlock_needs_the_study_director_and_qa_each_with_a_reason(
    locked: Any, qa_user: Any
) -> None:
    design, run, animals, lock = locked
    with pytest.raises(PermissionDenied):
        lock_services.release_run_lock(lock=lock, by=design.scientist, reason="please")
    with pytest.raises(ValidationError) as no_reason:
        lock_services.release_run_lock(lock=lock, by=design.director, reason="  ")
    assert "reason" in no_reason.value.message_dict
    step = lock_services.release_run_lock(lock=lock, by=design.director, reason="typo in day 3")
    assert step.released_at is None and step.director_release_reason == "typo in day 3"
    with pytest.raises(ValidationError):
        lock_services.release_run_lock(lock=lock, by=design.director, reason="again")
    with pytest.raises(DatabaseError), transaction.atomic():
        Animal.objects.filter(pk=animals[0].pk).update(rfid="still locked")
    released = lock_services.release_run_lock(lock=lock, by=qa_user, reason="agreed with SD")
    assert released.released_at is not None
    assert lock_services.active_lock(run) is None
    Animal.objects.filter(pk=animals[0].pk).update(rfid="after unlock")
    kinds = list(
        SecurityEvent.objects.filter(
            kind__in=[
                SecurityEventKind.RUN_LOCKED,
                SecurityEventKind.RUN_UNLOCK_STEP,
                SecurityEventKind.RUN_UNLOCKED,
            ]
        )
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["run_locked", "run_unlock_step", "run_unlocked"]
    changes = lock_services.changes_after_lock(run)
    assert [(c.table, c.object_id, c.action) for c in changes] == [
        ("animal", str(animals[0].pk), "update")
    ]


@pytest.mark.django_db
def test_only_a_study_director_locks_and_not_twice(lab: Any, qa_user: Any) -> None:
    design, run, _animals = _setup(lab)
    with pytest.raises(PermissionDenied):
        lock_services.lock_run(run=run, by=qa_user, reason="x")
    with pytest.raises(ValidationError):
        lock_services.lock_run(run=run, by=design.director, reason="")
    assert RunLock.objects.count() == 0
    lock_services.lock_run(run=run, by=design.director, reason="final")
    with pytest.raises(ValidationError):
        lock_services.lock_run(run=run, by=design.director, reason="again")
    assert RunLock.objects.count() == 1
    assert RunLock.objects.get().events.count() == 1  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_lock_page_locks_and_shows_the_state(lab: Any) -> None:
    design, run, _animals = _setup(lab)
    browser = Client()
    assert browser.login(username=design.director.get_username(), password=TEST_PASSWORD)
    url = reverse("run_lock", args=[run.pk])
    assert browser.get(url).status_code == 200
    refused = browser.post(url, {"reason": ""})
    assert refused.status_code == 400 and RunLock.objects.count() == 0
    assert browser.post(url, {"reason": "before unblinding"}).status_code == 302
    page = browser.get(url).content.decode()
    assert "Locked since" in page and "before unblinding" in page


@pytest.mark.django_db
def test_elisa_plate_and_its_wells_are_refused_on_a_locked_run(lab: Any) -> None:
    from labnotes.models import ElisaPlate, PlateWell
    from tests.labnotes.elisa_support import elisa_setup, laid_out_plate

    setup = elisa_setup(lab)
    plate = laid_out_plate(setup)
    lock_services.lock_run(
        run=setup.small.run, by=setup.small.design.director, reason="final analysis"
    )
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        PlateWell.objects.filter(plate=plate).update(dilution=3)
    assert "UPDATE on labnotes_platewell refused" in _refused_message(caught.value)
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        ElisaPlate.objects.filter(pk=plate.pk).update(name="renamed")
    assert "UPDATE on labnotes_elisaplate refused" in _refused_message(caught.value)
    assert set(PlateWell.objects.filter(plate=plate).values_list("dilution", flat=True)) != {3}
    assert ElisaPlate.objects.get(pk=plate.pk).name == plate.name


@pytest.mark.django_db
def test_flow_tables_carry_the_run_lock_trigger_enabled_always() -> None:
    """Flow panels, imports, acquisitions and population values are run data too (checked in
    the catalogue: the trigger exists on each and fires for every role, ENABLE ALWAYS)."""
    from django.db import connection

    tables = [
        "labnotes_flowpanel",
        "labnotes_flowimport",
        "labnotes_flowacquisition",
        "labnotes_flowpopulationvalue",
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'vivolog_run_lock' AND c.relname = ANY(%s)",
            [tables],
        )
        found = dict(cursor.fetchall())
    assert found == {table: "A" for table in tables}
