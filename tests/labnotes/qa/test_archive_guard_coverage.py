"""Archived studies are read-only everywhere (issue 10).

The coverage test walks the Django model graph and PostgreSQL's ``pg_trigger``: every table whose
rows belong to a study or a run carries the archive guard, so a table added later without it
fails here. The behaviour tests archive a study and then try to change its report, notebook
entry, ELISA result, flow value and stored files through the ORM and through raw SQL.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import pghistory.models
import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, models, transaction

from labnotes.models import (
    ArchiveStatus,
    ElisaPlate,
    ElisaResult,
    FlowAcquisition,
    FlowPopulationValue,
    NotebookAttachment,
    NotebookEntry,
    Report,
    StoredFile,
    StudyArchive,
    StudyRun,
)
from labnotes.services import elisa as elisa_services
from labnotes.services.archive import request_archive
from labnotes.services.files import store_file
from labnotes.services.notebook import create_entry
from labnotes.tasks import build_study_archive
from planner.models import Study, StudyStatus
from planner.services.signatures import SIGNABLE
from tests.labnotes.builders import released_version
from tests.labnotes.elisa_support import ELISA_PARAMETERS
from tests.labnotes.flow_support import FlowRun, flow_run

pytestmark = pytest.mark.django_db

GUARD_FUNCTION_PREFIX = "labnotes_refuse_archived_study"

#: Tables reached from Study/StudyRun that deliberately carry no archive guard, and why.
ALLOWED_UNGUARDED = {
    # the archive record itself: the package job writes it after the study became archived
    "labnotes.StudyArchive": "archive machinery",
    # access control, not a record: people who leave the lab must still lose access
    "planner.StudyMember": "access control",
    # a device token's per-minute request counters (no study data; readings are guarded)
    "labnotes.DeviceTokenWindow": "rate limiter bookkeeping",
}

#: Tables that belong to a study without a forward foreign key to it: a notebook entry through
#: its links, a signature through its generic relation to the signed record.
REACHED_OTHERWISE = {
    "labnotes.NotebookEntry",
    "labnotes.NotebookEntryVersion",
    "labnotes.NotebookAttachment",
    "planner.Signature",
}


def _is_event_model(model: type[models.Model]) -> bool:
    return issubclass(model, pghistory.models.Event) or model._meta.app_label == "pghistory"


def _leads_to_study(model: type[models.Model]) -> bool:
    """Whether a chain of forward foreign keys leads from ``model`` to Study or StudyRun."""
    seen: set[type[models.Model]] = set()
    queue: deque[type[models.Model]] = deque([model])
    while queue:
        current = queue.popleft()
        if current in (Study, StudyRun):
            return True
        if current in seen:
            continue
        seen.add(current)
        for field in current._meta.concrete_fields:
            target = getattr(field, "related_model", None)
            if field.is_relation and target is not None and target not in seen:
                queue.append(target)
    return False


def _study_tables() -> dict[str, str]:
    """db table → model label of every concrete model holding a study's or a run's data."""
    found: dict[str, str] = {}
    for model in apps.get_models():
        meta = model._meta
        if meta.abstract or meta.proxy or not meta.managed or _is_event_model(model):
            continue
        if meta.label in ALLOWED_UNGUARDED:
            continue
        if _leads_to_study(model) or meta.label in REACHED_OTHERWISE:
            found[meta.db_table] = meta.label
    return found


def _guarded_operations() -> dict[str, int]:
    """db table → OR of the tgtype bits (INSERT 4, DELETE 8, UPDATE 16) of its ALWAYS-enabled
    triggers running an archive guard function (``labnotes_refuse_archived_study*``: the row
    triggers, or the statement-level AFTER INSERT variant of migration 0018 on readings)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, bit_or(t.tgtype::int)
              FROM pg_trigger t
              JOIN pg_class c ON c.oid = t.tgrelid
              JOIN pg_proc p ON p.oid = t.tgfoid
             WHERE NOT t.tgisinternal AND t.tgenabled = 'A'
               AND p.proname LIKE %s
             GROUP BY c.relname
            """,
            [f"{GUARD_FUNCTION_PREFIX}%"],
        )
        return {table: bits for table, bits in cursor.fetchall()}


def test_every_table_of_a_study_or_run_has_the_archive_guard() -> None:
    tables = _study_tables()
    # The walk finds what it must (so an empty walk cannot pass).
    expected = (
        "labnotes.Measurement",
        "labnotes.Report",
        "labnotes.ElisaResult",
        "labnotes.FlowPopulationValue",
        "planner.RegimenItem",
        "labnotes.RunLock",
    )
    for label in expected:
        assert apps.get_model(label)._meta.db_table in tables, label
    guarded = _guarded_operations()
    missing = {
        table: label
        for table, label in sorted(tables.items())
        if guarded.get(table, 0) & (4 | 8 | 16) != (4 | 8 | 16)
    }
    assert not missing, f"tables of a study without the archive guard (ALWAYS): {missing}"
    for label in ALLOWED_UNGUARDED:  # the allow-list names real models
        assert apps.get_model(label) is not None


def test_the_signature_guard_knows_every_signable_record_type() -> None:
    from importlib import import_module

    migration = import_module("labnotes.migrations.0017_archive_readonly")
    known = {f"{app}.{model}" for app, model in migration.SIGNED_RECORDS}
    assert set(SIGNABLE) <= known


# -- behaviour --------------------------------------------------------------------------------


@pytest.fixture
def flow(lab: Any) -> FlowRun:
    return flow_run(lab)


def _archive(study: Study, director: Any, callbacks_fixture: Any) -> StudyArchive:
    Study.objects.filter(pk=study.pk).update(status=StudyStatus.COMPLETED)
    study.refresh_from_db()
    with callbacks_fixture(execute=False):
        archive = request_archive(study=study, requested_by=director, reason="Study completed.")
    assert build_study_archive(archive.pk) == "succeeded"
    archive.refresh_from_db()
    return archive


def _refused(action: Any) -> None:
    with pytest.raises(DatabaseError, match="is archived: its records are read-only"):
        with transaction.atomic():
            action()


def _sql(statement: str, params: list[Any]) -> Any:
    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)

    return run


def test_archived_study_refuses_report_notebook_assay_and_file_writes(
    flow: FlowRun, django_capture_on_commit_callbacks: Any
) -> None:
    small = flow.small
    director, technician = small.design.director, small.design.technician
    lab = small.design.lab
    sample = next(iter(flow.samples.values()))
    version = released_version(lab, director, "elisa", "IFN-gamma ELISA", ELISA_PARAMETERS)
    plate = elisa_services.create_plate(
        run=small.run, protocol_version=version, name="P1", created_by=technician
    )
    acquisition = FlowAcquisition.objects.create(
        panel=flow.panel, sample=sample, source_name="A1.fcs", created_by=technician
    )
    report = Report.objects.create(
        lab=lab,
        run=small.run,
        kind="final",
        options_key="0" * 64,
        data_hash="sha256:" + "0" * 64,
        requested_by=director,
    )
    entry = create_entry(lab=lab, author=technician, title="Day 10 harvest", runs=[small.run])
    stored = store_file(
        content=b"plate photo\n",
        filename="photo.txt",
        content_type="text/plain",
        stored_by=technician,
        lab=lab,
    )

    # A report still queued would be refused its own writes later: archiving waits for it.
    Study.objects.filter(pk=small.design.study.pk).update(status=StudyStatus.COMPLETED)
    with pytest.raises(ValidationError, match="still being built"):
        request_archive(study=small.design.study, requested_by=director, reason="done")
    assert not StudyArchive.objects.exists()
    Report.objects.filter(pk=report.pk).update(status="succeeded")

    archive = _archive(small.design.study, director, django_capture_on_commit_callbacks)
    assert archive.status == ArchiveStatus.SUCCEEDED  # the archive's own writes went through
    assert archive.package is not None
    counts = {
        model: model.objects.count()
        for model in (Report, NotebookEntry, NotebookAttachment, ElisaResult, FlowPopulationValue)
    }

    # A report: ORM update and raw SQL.
    _refused(lambda: Report.objects.filter(pk=report.pk).update(message="edited"))
    _refused(_sql("UPDATE labnotes_report SET message = 'x' WHERE id = %s", [report.pk]))
    _refused(lambda: Report.objects.filter(pk=report.pk).delete())
    # A notebook entry: edit, attach a stored file, raw delete.
    _refused(lambda: NotebookEntry.objects.filter(pk=entry.pk).update(title="rewritten"))
    _refused(
        lambda: NotebookAttachment.objects.create(
            entry=entry, stored_file=stored, filename="photo.txt", added_by=technician
        )
    )
    _refused(_sql("DELETE FROM labnotes_notebookentry WHERE id = %s", [entry.pk]))
    # An ELISA result (the guard runs before any other check) and the plate.
    _refused(
        lambda: ElisaResult.objects.create(
            plate=plate, sample=sample, replicate_group="S1", dilution=2, n_wells=2
        )
    )
    _refused(
        _sql(
            "INSERT INTO labnotes_elisaresult (plate_id, sample_id, replicate_group, dilution, "
            "n_wells, cv_exceeds_limit, flag) VALUES (%s, %s, 'S1', 2, 2, false, '')",
            [plate.pk, sample.pk],
        )
    )
    _refused(lambda: ElisaPlate.objects.filter(pk=plate.pk).update(name="P2"))
    # A flow population value.
    _refused(
        _sql(
            "INSERT INTO labnotes_flowpopulationvalue (acquisition_id, flow_import_id, population,"
            " source_path, statistic, value) VALUES (%s, NULL, 'Live', 'Live', 'count', 1)",
            [acquisition.pk],
        )
    )
    _refused(lambda: FlowAcquisition.objects.filter(pk=acquisition.pk).update(cytometer="X"))
    # The study's design itself.
    _refused(lambda: Study.objects.filter(pk=small.design.study.pk).update(title="new title"))
    # Stored files never change anyway (their own trigger); archived ones stay readable.
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            StoredFile.objects.filter(pk=stored.pk).update(original_filename="other.txt")

    # Nothing was written; reading still works.
    for model, count in counts.items():
        assert model.objects.count() == count, model
    report.refresh_from_db()
    entry.refresh_from_db()
    assert report.message == "" and entry.title == "Day 10 harvest"
    assert list(ElisaPlate.objects.filter(run=small.run).values_list("name", flat=True)) == ["P1"]


def test_the_guard_leaves_other_studies_alone(
    flow: FlowRun, django_capture_on_commit_callbacks: Any, other_lab: Any
) -> None:
    other = flow_run(other_lab)
    _archive(
        flow.small.design.study, flow.small.design.director, django_capture_on_commit_callbacks
    )
    entry = create_entry(
        lab=other_lab, author=other.technician, title="Other study", runs=[other.small.run]
    )
    NotebookEntry.objects.filter(pk=entry.pk).update(title="Other study, edited")
    Study.objects.filter(pk=other.small.design.study.pk).update(title="Still writable")
    assert NotebookEntry.objects.get(pk=entry.pk).title == "Other study, edited"
