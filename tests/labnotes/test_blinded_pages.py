"""Blinded-leak test over the run pages, prints and the feed: a blinded technician finds none of
the sentinels (arm label, agent, dose) anywhere; an unblinded director finds them (so this test
can fail); and a technician's pages do not differ in shape between arms."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from labnotes.models import Animal, Task, TaskKind
from tests.labnotes.builders import SENTINELS
from tests.labnotes.test_run_pages import client_for, randomized
from tests.support.requirements import require_executable

pytestmark = pytest.mark.django_db


def _text(response: Any, tmp_path: Any) -> str:
    if response.get("Content-Type", "").startswith("application/pdf"):
        path = tmp_path / "page.pdf"
        path.write_bytes(response.content)
        executable = require_executable("pdftotext", "apt-get install poppler-utils")
        return subprocess.run(
            [executable, str(path), "-"], check=True, capture_output=True, text=True
        ).stdout
    return response.content.decode("utf-8", errors="replace")


def _urls(design: Any, run: Any) -> list[str]:
    """Every labnotes page, print and export of the run pages a technician may open."""
    dose_task = Task.objects.filter(run=run, kind=TaskKind.DOSE).order_by("scheduled_date").first()
    days = sorted(
        {t.date.isoformat() for t in Task.objects.filter(run=run).order_by("scheduled_date")[:400]}
    )[:6]
    urls = [
        reverse("run_list"),
        reverse("study_runs", kwargs={"pk": design.study.pk}),
        reverse("run_detail", kwargs={"pk": run.pk}),
        reverse("animal_register", kwargs={"pk": run.pk}),
        reverse("run_cages", kwargs={"pk": run.pk}),
        reverse("run_staging", kwargs={"pk": run.pk}),
        reverse("run_cage_cards", kwargs={"pk": run.pk}),
        reverse("run_cage_cards", kwargs={"pk": run.pk}) + "?size=thermal_label",
        reverse("run_animal_labels", kwargs={"pk": run.pk}),
        reverse("calendar_feed_settings"),
        reverse("today"),
    ]
    for day in [dose_task.date.isoformat(), *days]:
        urls += [
            reverse("today") + f"?day={day}",
            reverse("run_worksheet", kwargs={"pk": run.pk}) + f"?day={day}",
            reverse("run_worksheet_pdf", kwargs={"pk": run.pk}) + f"?day={day}",
        ]
    for cage in run.cages.all():
        urls += [
            reverse("cage_detail", kwargs={"pk": cage.pk}),
            reverse("cage_card", kwargs={"pk": cage.pk}),
        ]
    for animal in Animal.objects.filter(run=run)[:8]:
        urls.append(reverse("animal_detail", kwargs={"pk": animal.pk}))
    return urls


def _unblind_urls(run: Any) -> list[str]:
    return [
        reverse("animal_unblind", kwargs={"pk": animal.pk})
        for animal in Animal.objects.filter(run=run)[:8]
    ]


def _walk(client: Client, urls: list[str], tmp_path: Any) -> dict[str, str]:
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        pages[url] = _text(response, tmp_path)
    return pages


def test_blinded_technician_finds_no_sentinel_on_any_page_print_or_feed(
    design: Any, run: Any, tmp_path: Any
) -> None:
    randomized(design, run)
    urls = _urls(design, run)
    client = client_for(design.technician)
    pages = _walk(client, urls, tmp_path)
    feed_url = client.post(reverse("calendar_feed_settings")).context["feed_url"]
    pages["feed"] = Client().get(feed_url).content.decode()
    # the randomization pages refuse them, and the refusal names nothing
    # (and the emergency unblinding is the vet's or the study director's, not theirs)
    for url in (reverse("run_randomize", kwargs={"pk": run.pk}), *_unblind_urls(run)):
        refused = client.get(url)
        assert refused.status_code == 403
        pages[url] = refused.content.decode()
    batch = run.randomization_batches.first()
    assert client.get(reverse("batch_detail", kwargs={"pk": batch.pk})).status_code == 404
    leaks = [(url, s) for url, text in pages.items() for s in SENTINELS if s in text]
    assert not leaks, leaks
    # no dose tasks and no per-arm counts anywhere for them
    assert not any(re.search(r"\bDose\b", text) for text in pages.values())
    assert not any("arms-caption" in text for text in pages.values())
    assert len(pages) > 40


def test_unblinded_director_finds_the_sentinels_so_the_walk_can_fail(
    design: Any, run: Any, tmp_path: Any
) -> None:
    randomized(design, run)
    pages = _walk(client_for(design.director), _urls(design, run) + _unblind_urls(run), tmp_path)
    everything = "\n".join(pages.values())
    for sentinel in SENTINELS:
        assert sentinel in everything, sentinel


def test_technician_pages_have_the_same_shape_for_animals_of_different_arms(
    design: Any, run: Any
) -> None:
    randomized(design, run)
    client = client_for(design.technician)
    control = Animal.objects.filter(run=run, arm__code="G1").first()
    sentinel = Animal.objects.filter(run=run, arm__code="G4").first()

    def normalised(animal: Animal) -> str:
        text = client.get(reverse("animal_detail", kwargs={"pk": animal.pk})).content.decode()
        cage = animal.cage_assignments.get(to_date__isnull=True).cage
        for value, placeholder in (
            (f"/animals/{animal.pk}/", "/animals/N/"),
            (f"Animal {animal.tag}", "Animal TAG"),
            (f">{animal.tag}<", ">TAG<"),
            (animal.tag, "TAG"),
            (f"<dd>{animal.arm.code}</dd>", "<dd>CODE</dd>"),
            (cage.label, "CAGE"),
        ):
            text = text.replace(value, placeholder)
        text = re.sub(r'name="csrf-token" content="[^"]+"', "", text)
        # The records list shows each animal's own readings: same rows and kinds, own values.
        text = re.sub(
            r'id="records-title".*?</table>',
            lambda found: re.sub(r"\d+", "0", found.group(0)),
            text,
            flags=re.DOTALL,
        )
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)

    assert normalised(control) == normalised(sentinel)
    # and the Today list of a measuring day has the same columns for every row
    day = (
        Task.objects.filter(run=run, kind=TaskKind.MEASURE).order_by("scheduled_date").first().date
    )
    response = client.get(reverse("today") + f"?day={day.isoformat()}")
    kinds = {row["task"].kind for row in response.context["due"] + response.context["overdue"]}
    assert TaskKind.DOSE not in kinds
    assert response.context["due"], "the walk must see tasks"
