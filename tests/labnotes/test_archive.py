"""Archiving a completed study: the package read back (records, audit trail, attachments,
randomizations, checksums, index) and the study read-only on every write path tried."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from labnotes.models import (
    Animal,
    ArchiveStatus,
    BackgroundJob,
    Deviation,
    Measurement,
    NotebookAttachment,
    StudyArchive,
)
from labnotes.models.jobs import JobStatus
from labnotes.services.archive import request_archive
from labnotes.services.deviations import record_deviation
from labnotes.services.files import read_file, store_file
from labnotes.services.measurements import record_measurement
from labnotes.services.notebook import create_entry
from labnotes.tasks import build_study_archive
from planner.models import Study, StudyStatus
from tests.factories import LabFactory
from tests.labnotes.samples_support import SmallRun, small_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def small(lab: Any) -> SmallRun:
    return small_run(lab)


def _complete(study: Study) -> None:
    Study.objects.filter(pk=study.pk).update(status=StudyStatus.COMPLETED)
    study.refresh_from_db()


def _archive(small: SmallRun, django_capture_on_commit_callbacks: Any) -> StudyArchive:
    _complete(small.design.study)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        archive = request_archive(
            study=small.design.study,
            requested_by=small.design.director,
            reason="Study completed, report signed.",
        )
    assert len(callbacks) == 1  # the build is enqueued once, after commit
    assert build_study_archive(archive.pk) == "succeeded"
    assert build_study_archive(archive.pk) == "skipped"  # a second delivery is a no-op
    archive.refresh_from_db()
    return archive


def test_archive_refused_when_study_not_completed_or_not_a_director(small: SmallRun) -> None:
    with pytest.raises(ValidationError, match="Only a completed study"):
        request_archive(study=small.design.study, requested_by=small.design.director, reason="x")
    _complete(small.design.study)
    with pytest.raises(PermissionDenied):
        request_archive(study=small.design.study, requested_by=small.design.scientist, reason="x")
    with pytest.raises(ValidationError) as error:
        request_archive(study=small.design.study, requested_by=small.design.director, reason=" ")
    assert "reason" in error.value.message_dict
    assert not StudyArchive.objects.exists()
    assert not BackgroundJob.objects.filter(kind="study_archive").exists()
    small.design.study.refresh_from_db()
    assert small.design.study.status == StudyStatus.COMPLETED


def test_package_holds_records_audit_files_and_checksums(
    small: SmallRun, django_capture_on_commit_callbacks: Any
) -> None:
    stored = store_file(
        content=b"raw caliper sheet\n",
        filename="sheet day 7.txt",
        content_type="text/plain",
        stored_by=small.design.technician,
        lab=small.design.lab,
    )
    entry = create_entry(
        lab=small.design.lab,
        author=small.design.technician,
        title="Day 7 sheet",
        runs=[small.run],
    )
    NotebookAttachment.objects.create(
        entry=entry, stored_file=stored, filename="sheet.txt", added_by=small.design.technician
    )
    record_deviation(
        run=small.run,
        category="housing",
        description="Water bottle empty.",
        occurred_on=timezone.localdate(),
        animals=small.animals[:1],
        detected_by=small.design.technician,
        recorded_by=small.design.technician,
    )
    # Another study's rows never reach this package.
    other = small_run(LabFactory())

    archive = _archive(small, django_capture_on_commit_callbacks)
    assert archive.status == ArchiveStatus.SUCCEEDED
    job = BackgroundJob.objects.get(pk=archive.job_id)
    assert job.status == JobStatus.SUCCEEDED
    assert archive.package is not None
    content = read_file(archive.package)
    assert hashlib.sha256(content).hexdigest() == archive.package.sha256 == job.result["sha256"]

    package = zipfile.ZipFile(io.BytesIO(content))
    names = set(package.namelist())
    sums = {
        line.split("  ", 1)[1]: line.split("  ", 1)[0]
        for line in package.read("SHA256SUMS").decode().splitlines()
    }
    assert set(sums) == names - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256(package.read(name)).hexdigest() == digest, name
    assert archive.file_count == len(names)

    animals = list(
        csv.DictReader(io.StringIO(package.read("records/labnotes_animal.csv").decode()))
    )
    assert sorted(row["tag"] for row in animals) == sorted(a.tag for a in small.animals)
    assert {int(row["run_id"]) for row in animals} == {small.run.pk}
    readings = json.loads(package.read("records/labnotes_measurement.json"))
    assert len(readings) == Measurement.objects.filter(animal__run=small.run).count()
    deviations = json.loads(package.read("records/labnotes_deviation.json"))
    assert [row["description"] for row in deviations] == ["Water bottle empty."]
    studies = json.loads(package.read("records/planner_study.json"))
    assert [row["code"] for row in studies] == [small.design.study.code]
    assert "records/auth_user.csv" not in names
    assert not any(other.design.study.code in name for name in names)
    other_tags = {a.tag for a in other.animals} - {a.tag for a in small.animals}
    assert not other_tags  # same tags by construction: compare ids instead
    assert other.run.pk not in {int(row["run_id"]) for row in animals}

    randomizations = [name for name in names if name.startswith("randomizations/")]
    assert len(randomizations) == 1
    batch = json.loads(package.read(randomizations[0]))
    assert batch["seed"] == 5
    attachments = [name for name in names if name.startswith("files/")]
    assert attachments == [f"files/{stored.sha256[:16]}-sheet_day_7.txt"]
    assert package.read(attachments[0]) == b"raw caliper sheet\n"

    audit = json.loads(package.read("audit_trail.json"))
    inserted = {
        (row["record_type"], row["record_id"]) for row in audit if row["action"] == "insert"
    }
    assert ("labnotes.StudyRun", str(small.run.pk)) in inserted
    assert all(("labnotes.Animal", str(a.pk)) in inserted for a in small.animals)
    study_updates = [
        row for row in audit if row["record_type"] == "planner.Study" and row["action"] == "update"
    ]
    assert study_updates[-1]["reason"] == "Study completed, report signed."
    index = package.read("index.html").decode()
    assert small.design.study.code in index
    assert "sha256sum -c SHA256SUMS" in index
    manifest = json.loads(package.read("manifest.json"))
    assert manifest["record_counts"]["labnotes.Animal"] == len(small.animals)


def test_archived_study_refuses_writes(
    small: SmallRun, django_capture_on_commit_callbacks: Any
) -> None:
    _archive(small, django_capture_on_commit_callbacks)
    small.design.study.refresh_from_db()
    assert small.design.study.status == StudyStatus.ARCHIVED
    animal = small.animals[0]
    tumour = animal.tumours.first()
    readings = Measurement.objects.count()
    with pytest.raises(DatabaseError, match="is archived: its records are read-only"):
        with transaction.atomic():
            record_measurement(
                tumour=tumour,
                length_mm="9",
                width_mm="8",
                operator=small.design.technician,
                taken_at=timezone.now() - dt.timedelta(minutes=5),
                recorded_by=small.design.technician,
                reason="repeat reading",
            )
    assert Measurement.objects.count() == readings
    with pytest.raises(ValidationError, match="is archived"):
        record_deviation(
            run=small.run,
            category="housing",
            description="late",
            occurred_on=timezone.localdate(),
            detected_by=small.design.technician,
            recorded_by=small.design.technician,
        )
    assert not Deviation.objects.exists()
    # Bulk update and raw SQL are refused by the database too.
    with pytest.raises(DatabaseError, match="archived"):
        with transaction.atomic():
            Animal.objects.filter(pk=animal.pk).update(status_reason="edited")
    with pytest.raises(DatabaseError, match="archived"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM labnotes_measurement WHERE animal_id = %s", [animal.pk])
    animal.refresh_from_db()
    assert animal.status_reason != "edited"
    assert Measurement.objects.count() == readings
    with pytest.raises(ValidationError, match="already archived"):
        request_archive(study=small.design.study, requested_by=small.design.director, reason="x")


def test_api_write_to_an_archived_study_answers_a_readable_refusal(
    small: SmallRun, django_capture_on_commit_callbacks: Any
) -> None:
    from django.urls import reverse
    from rest_framework.test import APIClient

    _archive(small, django_capture_on_commit_callbacks)
    tumour = small.animals[0].tumours.first()
    assert tumour is not None
    readings = Measurement.objects.count()
    client = APIClient()
    client.force_authenticate(small.design.technician)
    response = client.post(
        reverse("measurement-list"),
        {
            "tumour": tumour.pk,
            "length_mm": "10",
            "width_mm": "8",
            "taken_at": (timezone.now() - dt.timedelta(minutes=5)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 423, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Study archived"
    assert f"Study {small.design.study.code} is archived" in body["detail"]
    assert Measurement.objects.count() == readings
