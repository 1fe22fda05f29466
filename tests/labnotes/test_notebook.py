"""Notebook entries: sanitized Markdown, attachments stored once and replaced by versions,
versions with reasons, full-text search (stemming, ranking, the GIN index), tenancy and
blinding of free text, the API."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InternalError, ProgrammingError, connection, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from labnotes.models import (
    NotebookAttachment,
    NotebookEntry,
    NotebookEntryVersion,
    StoredFile,
)
from labnotes.selectors_samples import list_entries_for_user, search_entries
from labnotes.services.common import StaleWrite
from labnotes.services.notebook import (
    Upload,
    add_attachment,
    create_entry,
    edit_entry,
    render_markdown,
    replace_attachment,
    void_entry,
)
from tests.labnotes.builders import SENTINEL_AGENT
from tests.labnotes.samples_support import SmallRun, small_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def small(lab: Any) -> SmallRun:
    return small_run(lab)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


# -- Markdown ----------------------------------------------------------------------------------


def test_markdown_keeps_structure_and_removes_scripts_and_javascript_links() -> None:
    html = render_markdown(
        "# Day 9\n\n**Ulcer** on 0042, see [SOP](https://example.org/sop).\n\n"
        "| tag | mm |\n|---|---|\n| 0042 | 2 |\n\n"
        "<script>alert('x')</script>\n\n"
        '[click](javascript:alert(1)) and <a href="JaVaScRiPt:alert(2)">raw</a>\n\n'
        '<img src="x" onerror="alert(3)"> <p onclick="alert(4)">p</p>\n\n'
        "[data](data:text/html;base64,PHNjcmlwdD4=)"
    )
    assert "<h1>Day 9</h1>" in html
    assert "<strong>Ulcer</strong>" in html
    assert '<a href="https://example.org/sop" rel="noopener noreferrer nofollow">SOP</a>' in html
    assert "<td>0042</td>" in html
    lowered = html.lower()
    for forbidden in (
        "<script",
        "alert('x')",
        "javascript:",
        "onerror",
        "onclick",
        "<img",
        "data:",
    ):
        assert forbidden not in lowered, forbidden
    assert ">click</a>" in html and ">raw</a>" in html  # the text stays, the target goes


# -- writing, versions, voiding --------------------------------------------------------------


def test_entry_is_version_one_and_an_edit_needs_a_reason_and_makes_version_two(
    small: SmallRun,
) -> None:
    author = small.design.technician
    entry = create_entry(
        lab=small.design.lab,
        author=author,
        title="Day 9 observations",
        body="Animal 0001 lively.",
        animals=[small.animals[0]],
    )
    assert entry.version == 1
    with pytest.raises(ValidationError, match="reason"):
        edit_entry(entry=entry, edited_by=author, reason="", body="Animal 0001 quiet.")
    with pytest.raises(PermissionDenied):
        edit_entry(entry=entry, edited_by=small.design.scientist, reason="typo", body="x")
    edited = edit_entry(
        entry=entry,
        edited_by=author,
        reason="wrong animal named",
        expected_version=entry.row_version,
        body="Animal 0002 lively.",
        animals=[small.animals[1]],
    )
    assert edited.version == 2 and edited.body == "Animal 0002 lively."
    versions = list(NotebookEntryVersion.objects.filter(entry=entry).order_by("number"))
    assert [(v.number, v.body, v.reason) for v in versions] == [
        (1, "Animal 0001 lively.", ""),
        (2, "Animal 0002 lively.", "wrong animal named"),
    ]
    assert [link.animal_id for link in edited.links.all()] == [small.animals[1].pk]
    with pytest.raises(StaleWrite):
        edit_entry(
            entry=entry,
            edited_by=author,
            reason="again",
            expected_version=entry.row_version,
            title="x",
        )
    # Versions are immutable in the database, whatever writes.
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        NotebookEntryVersion.objects.filter(entry=entry, number=1).update(body="rewritten")
    voided = void_entry(entry=edited, voided_by=small.design.scientist, reason="duplicate")
    assert voided.is_voided
    assert list_entries_for_user(author, include_voided=False).count() == 0


def test_future_date_blank_title_and_viewer_refused(small: SmallRun) -> None:
    lab = small.design.lab
    with pytest.raises(ValidationError, match="future"):
        create_entry(
            lab=lab,
            author=small.design.technician,
            title="t",
            entry_date=lab.local_date(dt.datetime.now(dt.UTC)) + dt.timedelta(days=1),
        )
    with pytest.raises(ValidationError, match="title"):
        create_entry(lab=lab, author=small.design.technician, title="  ")
    with pytest.raises(PermissionDenied):
        create_entry(lab=lab, author=small.design.viewer, title="viewer note")
    assert not NotebookEntry.objects.exists()


# -- attachments ---------------------------------------------------------------------------


def test_same_attachment_is_stored_once(small: SmallRun, _media: Path) -> None:
    lab, author = small.design.lab, small.design.technician
    content = b"plate map\nA1,std1\n"
    upload = Upload("plate.csv", "text/csv", content)
    first = create_entry(lab=lab, author=author, title="ELISA plate 1", attachments=[upload])
    second = create_entry(lab=lab, author=author, title="ELISA plate 1, repeat")
    again = add_attachment(entry=first, added_by=author, upload=upload)
    other = add_attachment(
        entry=second, added_by=author, upload=Upload("copy.csv", "text/csv", content)
    )
    digest = hashlib.sha256(content).hexdigest()
    assert StoredFile.objects.filter(sha256=digest).count() == 1
    assert NotebookAttachment.objects.filter(entry=first).count() == 1
    assert again.pk == first.attachments.get().pk
    assert other.stored_file_id == again.stored_file_id
    on_disk = [path for path in _media.rglob("*") if path.is_file()]
    assert [path.name for path in on_disk] == [digest]


def test_replacing_an_attachment_makes_a_new_version_and_keeps_the_old(
    small: SmallRun,
) -> None:
    author = small.design.technician
    entry = create_entry(
        lab=small.design.lab,
        author=author,
        title="Scan",
        attachments=[Upload("sheet.pdf", "application/pdf", b"%PDF-1 v1")],
    )
    original = entry.attachments.get()
    with pytest.raises(ValidationError, match="reason"):
        replace_attachment(
            attachment=original,
            added_by=author,
            upload=Upload("sheet.pdf", "application/pdf", b"%PDF-1 v2"),
            reason="",
        )
    newer = replace_attachment(
        attachment=original,
        added_by=author,
        upload=Upload("sheet.pdf", "application/pdf", b"%PDF-1 v2"),
        reason="first scan was cut off",
    )
    assert (newer.version, newer.replaces_id) == (2, original.pk)
    with pytest.raises(ValidationError, match="replaced already"):
        replace_attachment(
            attachment=original,
            added_by=author,
            upload=Upload("sheet.pdf", "application/pdf", b"%PDF-1 v3"),
            reason="again",
        )
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        NotebookAttachment.objects.filter(pk=original.pk).update(filename="other.pdf")
    assert StoredFile.objects.count() == 2


# -- search ------------------------------------------------------------------------------------


def test_search_finds_stemmed_words_and_ranks_title_hits_first(small: SmallRun) -> None:
    lab, author = small.design.lab, small.design.technician
    body_hit = create_entry(
        lab=lab,
        author=author,
        title="Cage change",
        body="Cages changed; one tumour was measured again because the caliper slipped.",
    )
    title_hit = create_entry(
        lab=lab,
        author=author,
        title="Tumours measured with the new caliper",
        body="Calibration checked before measuring.",
    )
    create_entry(lab=lab, author=author, title="Spleen weights", body="Balance 2 used.")
    found = list(search_entries(author, "measuring"))
    assert found == [title_hit, body_hit]
    assert found[0].rank > found[1].rank  # type: ignore[attr-defined]
    assert list(search_entries(author, "tumour")) == [title_hit, body_hit]
    assert list(search_entries(author, '"new caliper"')) == [title_hit]
    assert list(search_entries(author, "caliper -calibration")) == [body_hit]


def test_search_uses_the_gin_index(small: SmallRun) -> None:
    for number in range(30):
        create_entry(
            lab=small.design.lab,
            author=small.design.technician,
            title=f"Entry {number}",
            body="routine check",
        )
    queryset = search_entries(small.design.technician, "routine")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "notebook_entry_search" in plan


def test_another_labs_entry_is_never_found(small: SmallRun, other_lab: Any) -> None:
    mine = create_entry(
        lab=small.design.lab, author=small.design.technician, title="Necropsy findings"
    )
    theirs = small_run(other_lab)
    create_entry(
        lab=theirs.design.lab,
        author=theirs.design.technician,
        title="Necropsy findings SECRET",
        body="necropsy",
    )
    assert list(search_entries(small.design.scientist, "necropsy")) == [mine]
    (found,) = search_entries(theirs.design.scientist, "SECRET necropsy")
    assert found.lab == other_lab
    assert mine not in list_entries_for_user(theirs.design.scientist)
    with pytest.raises(ValidationError, match="of its lab"):
        create_entry(
            lab=small.design.lab,
            author=small.design.technician,
            title="cross-lab link",
            animals=[theirs.animals[0]],
        )


def test_entry_naming_an_agent_is_hidden_from_blinded_readers_but_not_its_author(
    small: SmallRun,
) -> None:
    design = small.design
    item = design.arms[1].regimen_items.get()
    item.agent = SENTINEL_AGENT
    item.save()
    revealing = create_entry(
        lab=design.lab,
        author=design.scientist,
        title="Swelling after dosing",
        body=f"Animal {small.animals[0].tag} swollen at the site after {SENTINEL_AGENT}.",
        runs=[small.run],
    )
    plain = create_entry(
        lab=design.lab, author=design.scientist, title="Swelling after dosing", body="site swollen"
    )
    assert revealing.restrictions.get().detected is True
    assert set(search_entries(design.scientist, "swelling")) == {revealing, plain}
    assert list(search_entries(design.technician, "swelling")) == [plain]
    assert revealing not in list_entries_for_user(design.doser)
    tech_note = create_entry(
        lab=design.lab,
        author=design.technician,
        title="Vehicle aliquots thawed",
        body="For tomorrow.",
    )
    assert tech_note.restrictions.exists()  # "Vehicle" is an arm label: restricted, on purpose
    assert tech_note in list_entries_for_user(design.technician)
    assert tech_note not in list_entries_for_user(design.doser)
    declared = create_entry(
        lab=design.lab,
        author=design.scientist,
        title="Group sizes",
        body="See the allocation table.",
        runs=[small.run],
        reveals_allocation=True,
    )
    assert declared.restrictions.get().detected is False
    assert declared not in list_entries_for_user(design.technician)
    with pytest.raises(ValidationError, match="Link the run"):
        create_entry(lab=design.lab, author=design.scientist, title="x", reveals_allocation=True)


# -- API ---------------------------------------------------------------------------------------


def test_api_creates_searches_and_edits_with_if_match(small: SmallRun) -> None:
    client = APIClient()
    client.force_authenticate(small.design.technician)
    created = client.post(
        reverse("notebook_entry-list"),
        {
            "title": "Measured tumours",
            "body": "All **fine**. <script>x()</script>",
            "runs": [small.run.pk],
            "animals": [small.animals[0].pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["version"] == 1
    assert "<strong>fine</strong>" in data["body_html"] and "<script" not in data["body_html"]
    url = reverse("notebook_entry-detail", args=[data["id"]])
    found = client.get(reverse("notebook_entry-list"), {"q": "measuring"}).json()
    assert [row["id"] for row in found["results"]] == [data["id"]]
    etag = client.get(url).headers["ETag"]
    edited = client.patch(
        url, {"body": "All fine.", "reason": "removed markup"}, format="json", HTTP_IF_MATCH=etag
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["version"] == 2
    stale = client.patch(url, {"body": "y", "reason": "z"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
