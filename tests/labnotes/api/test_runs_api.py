"""The labnotes API through APIClient: runs, bulk registration, readings, randomization, tasks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from labnotes.models import Animal, Measurement, RandomizationBatch, Task
from tests.labnotes.api.conftest import client_for
from tests.labnotes.conftest import stage

pytestmark = pytest.mark.django_db


def test_start_run_through_api_refuses_technician_and_accepts_director(design):
    body = {"study": design.study.pk, "code": "RUN-9", "day0": "2025-03-03"}
    assert (
        client_for(design.technician)
        .post(reverse("study_run-list"), body, format="json")
        .status_code
        == 403
    )
    response = client_for(design.director).post(reverse("study_run-list"), body, format="json")
    assert response.status_code == 201 and response.json()["code"] == "RUN-9"
    assert response["ETag"].endswith('-v1"')


def test_bulk_register_preview_names_every_bad_row_and_saving_writes_nothing(design, run):
    client = client_for(design.technician)
    rows = [{"tag": "0001"}, {"tag": "0001"}, {"tag": "0003", "arrival_weight_g": "-2"}]
    preview = client.post(
        reverse("animal-bulk-register"),
        {"run": run.pk, "rows": rows, "preview": True},
        format="json",
    )
    assert preview.status_code == 200
    assert [(e["row"], e["field"]) for e in preview.json()["errors"]] == [
        (2, "tag"),
        (3, "arrival_weight_g"),
    ]
    saved = client.post(
        reverse("animal-bulk-register"), {"run": run.pk, "rows": rows}, format="json"
    )
    assert saved.status_code == 400
    assert saved["Content-Type"] == "application/problem+json"
    assert "row 2, tag" in saved.json()["detail"]
    assert Animal.objects.count() == 0


def test_bulk_register_accepts_pasted_tags_and_csv_file(design, run):
    client = client_for(design.technician)
    pasted = client.post(
        reverse("animal-bulk-register"), {"run": run.pk, "text": "0001\n0002"}, format="json"
    )
    assert pasted.status_code == 201
    assert [a["tag"] for a in pasted.json()] == ["0001", "0002"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("mice.csv", b"tag,sex\n0003,f\n0004,f\n", content_type="text/csv")
    response = client.post(
        reverse("animal-bulk-register"), {"run": run.pk, "file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert sorted(Animal.objects.values_list("tag", flat=True)) == ["0001", "0002", "0003", "0004"]


def test_measurement_post_replays_when_idempotency_key_is_resent(design, run):
    [animal] = stage(design, run, 1)
    tumour = animal.tumours.get()
    client = client_for(design.technician)
    body = {
        "tumour": tumour.pk,
        "length_mm": "7.10",
        "width_mm": "5.20",
        "taken_at": timezone.now().isoformat(),
        "reason": "second caliper",
    }
    first = client.post(
        reverse("measurement-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    again = client.post(
        reverse("measurement-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == 201, first.content
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert first.json()["volume_mm3"] == "95.99"
    assert Measurement.objects.filter(tumour=tumour).count() == 2
    future = dict(body, taken_at=(timezone.now() + dt.timedelta(days=1)).isoformat())
    refused = client.post(reverse("measurement-list"), future, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "taken_at"


def test_randomization_preview_apply_void_through_api(design, run):
    stage(design, run, 8)
    client = client_for(design.scientist)
    preview = client.post(
        reverse("randomization_batch-preview"),
        {"run": run.pk, "seed": 42, "candidates": 100},
        format="json",
    )
    assert preview.status_code == 201, preview.content
    batch = preview.json()
    assert batch["status"] == "previewed" and len(batch["allocation"]) == 8
    assert [row["n"] for row in batch["balance"]["arms"]] == [2, 2, 2, 2]
    applied = client.post(reverse("randomization_batch-apply", kwargs={"pk": batch["id"]}))
    assert applied.status_code == 200 and applied.json()["status"] == "applied"
    assert Animal.objects.filter(arm__isnull=False).count() == 8
    again = client.post(reverse("randomization_batch-apply", kwargs={"pk": batch["id"]}))
    assert again.status_code == 400
    voided = client.post(
        reverse("randomization_batch-void", kwargs={"pk": batch["id"]}),
        {"reason": "staging volumes of the wrong run"},
        format="json",
    )
    assert voided.status_code == 200 and voided.json()["status"] == "voided"
    assert RandomizationBatch.objects.get().void_reason == "staging volumes of the wrong run"


def test_tasks_filter_by_date_room_and_person(design, randomized_run):
    client = client_for(design.doser)
    tomorrow = design.lab.local_date(timezone.now()) + dt.timedelta(days=1)
    due = client.get(
        reverse("task-list"), {"date": tomorrow.isoformat(), "kind": "dose", "room": "R101"}
    ).json()
    dose_dates = set(Task.objects.filter(kind="dose").values_list("scheduled_date", flat=True))
    expected = 40 if tomorrow in dose_dates else 0
    assert due["count"] == expected
    assert client.get(reverse("task-list"), {"room": "nowhere"}).json()["count"] == 0
    task = Task.objects.filter(kind="measure").first()
    Task.objects.filter(pk=task.pk).update(assignee=design.technician)
    mine = client.get(reverse("task-list"), {"person": design.technician.pk}).json()
    assert [t["id"] for t in mine["results"]] == [task.pk]


def test_complete_task_marks_done_and_reexpansion_keeps_it(design, randomized_run):
    task = Task.objects.filter(kind="measure").order_by("scheduled_date").first()
    client = client_for(design.technician)
    done = client.post(reverse("task-complete", kwargs={"pk": task.pk}))
    assert done.status_code == 200 and done.json()["status"] == "done"
    before = Task.objects.count()
    expanded = client_for(design.scientist).post(
        reverse("study_run-expand-tasks", kwargs={"pk": randomized_run.pk}), {}, format="json"
    )
    assert expanded.status_code == 200
    assert Task.objects.count() == before
    assert Task.objects.get(pk=task.pk).status == "done"


def test_cage_split_through_api_keeps_history(design, randomized_run):
    from labnotes.models import Cage

    cage = Cage.objects.get(label="C01")
    mates = list(
        Animal.objects.filter(cage_assignments__cage=cage, cage_assignments__to_date__isnull=True)[
            :2
        ]
    )
    response = client_for(design.technician).post(
        reverse("cage-split", kwargs={"pk": cage.pk}),
        {"animals": [a.pk for a in mates], "new_label": "C01b", "reason": "fighting"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert sorted(response.json()["occupants"]) == sorted(a.tag for a in mates)
    assert mates[0].cage_assignments.count() == 2


def test_rechallenge_through_api_links_cured_animals_and_refuses_foreign_ones(design, run):
    from labnotes.models import StudyRun
    from labnotes.services.animals import register_animals
    from labnotes.services.runs import start_study_run
    from tests.labnotes.builders import tag_rows

    cured = register_animals(run=run, rows=tag_rows(3), registered_by=design.technician)
    other_run = start_study_run(
        study=design.study, code="RUN-2", day0=run.day0, started_by=design.director
    )
    stranger = register_animals(
        run=other_run, rows=tag_rows(1, start=500), registered_by=design.technician
    )[0]
    url = reverse("study_run-rechallenge", kwargs={"pk": run.pk})
    client = client_for(design.director)
    refused = client.post(
        url,
        {"code": "RC-9", "day0": run.day0.isoformat(), "animals": [cured[0].pk, stranger.pk]},
        format="json",
    )
    assert refused.status_code == 400
    assert str(stranger.pk) in refused.content.decode()
    assert not StudyRun.objects.filter(code="RC-9").exists()
    response = client.post(
        url,
        {"code": "RC-9", "day0": run.day0.isoformat(), "animals": [a.pk for a in cured[:2]]},
        format="json",
    )
    assert response.status_code == 201, response.content
    child = StudyRun.objects.get(code="RC-9")
    assert response.json()["id"] == child.pk and child.parent_run == run
    assert sorted(Animal.objects.filter(run=child).values_list("origin_id", flat=True)) == sorted(
        a.pk for a in cured[:2]
    )
