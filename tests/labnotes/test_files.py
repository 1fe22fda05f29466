"""Stored files: by SHA-256, once per lab, immutable in the database, read back checked."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import ProgrammingError, transaction
from django.test import Client
from django.urls import reverse

from labnotes.models import StoredFile
from labnotes.services.files import StoredFileCorrupted, read_file, store_file
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

SCAN = b"%PDF-1.4\n% a small scan\n" + bytes(range(256))


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def test_store_file_keeps_bytes_under_their_sha256(
    lab: Any, technician: Any, media_root: Path
) -> None:
    stored = store_file(
        content=SCAN,
        filename="sheet.pdf",
        content_type="application/pdf",
        stored_by=technician,
        lab=lab,
    )
    digest = hashlib.sha256(SCAN).hexdigest()
    assert stored.sha256 == digest
    assert stored.size_bytes == len(SCAN)
    assert (media_root / "files" / digest[:2] / digest[2:4] / digest).read_bytes() == SCAN
    assert read_file(stored) == SCAN


def test_same_bytes_stored_twice_return_the_same_row(
    lab: Any, technician: Any, scientist: Any
) -> None:
    first = store_file(
        content=SCAN,
        filename="a.pdf",
        content_type="application/pdf",
        stored_by=technician,
        lab=lab,
    )
    second = store_file(
        content=SCAN, filename="b.pdf", content_type="image/png", stored_by=scientist, lab=lab
    )
    assert second.pk == first.pk
    assert second.original_filename == "a.pdf"
    assert StoredFile.objects.count() == 1


def test_same_bytes_in_another_lab_get_their_own_row(
    lab: Any, technician: Any, other_lab: Any, outsider: Any
) -> None:
    mine = store_file(
        content=SCAN,
        filename="a.pdf",
        content_type="application/pdf",
        stored_by=technician,
        lab=lab,
    )
    theirs = store_file(
        content=SCAN,
        filename="x.pdf",
        content_type="application/pdf",
        stored_by=outsider,
        lab=other_lab,
    )
    assert theirs.pk != mine.pk
    assert theirs.sha256 == mine.sha256


def test_store_file_refuses_file_over_the_limit_with_sizes_named(
    lab: Any, technician: Any, settings: Any
) -> None:
    settings.VIVOLOG_MAX_FILE_BYTES = 1024
    with pytest.raises(ValidationError) as error:
        store_file(
            content=b"x" * 2048,
            filename="big.pdf",
            content_type="application/pdf",
            stored_by=technician,
            lab=lab,
        )
    assert "2 kB" in str(error.value) and "1 kB" in str(error.value)
    assert StoredFile.objects.count() == 0


def test_store_file_refuses_empty_file_and_viewer(lab: Any, technician: Any) -> None:
    with pytest.raises(ValidationError):
        store_file(content=b"", filename="e", content_type="x/y", stored_by=technician, lab=lab)
    from tests.factories import MembershipFactory, UserFactory

    viewer: Any = UserFactory()  # type: ignore[no-untyped-call]
    MembershipFactory(user=viewer, lab=lab, role="viewer")  # type: ignore[no-untyped-call]
    with pytest.raises(PermissionDenied):
        store_file(content=SCAN, filename="s.pdf", content_type="x/y", stored_by=viewer, lab=lab)


def test_database_refuses_update_and_delete_of_a_stored_file(lab: Any, technician: Any) -> None:
    stored = store_file(
        content=SCAN,
        filename="a.pdf",
        content_type="application/pdf",
        stored_by=technician,
        lab=lab,
    )
    with pytest.raises(ProgrammingError), transaction.atomic():
        StoredFile.objects.filter(pk=stored.pk).update(original_filename="changed.pdf")
    with pytest.raises(ProgrammingError), transaction.atomic():
        StoredFile.objects.filter(pk=stored.pk).delete()
    stored.refresh_from_db()
    assert stored.original_filename == "a.pdf"


def test_read_file_detects_changed_bytes(lab: Any, technician: Any, media_root: Path) -> None:
    stored = store_file(
        content=SCAN,
        filename="a.pdf",
        content_type="application/pdf",
        stored_by=technician,
        lab=lab,
    )
    path = media_root / stored.relative_path
    path.chmod(0o644)
    path.write_bytes(SCAN + b"tampered")
    with pytest.raises(StoredFileCorrupted):
        read_file(stored)


def test_download_answers_lab_members_and_404_for_other_labs(
    lab: Any, technician: Any, outsider: Any
) -> None:
    stored = store_file(
        content=SCAN,
        filename="sheet.pdf",
        content_type="application/pdf",
        stored_by=technician,
        lab=lab,
    )
    client = Client()
    assert client.login(username=technician.username, password=TEST_PASSWORD)
    response = client.get(reverse("file_download", kwargs={"pk": stored.pk}))
    assert response.status_code == 200
    assert response.content == SCAN
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="sheet.pdf"' in response["Content-Disposition"]
    other = Client()
    assert other.login(username=outsider.username, password=TEST_PASSWORD)
    assert other.get(reverse("file_download", kwargs={"pk": stored.pk})).status_code == 404


def test_html_file_is_downloaded_never_shown_inline(lab: Any, technician: Any) -> None:
    stored = store_file(
        content=b"<script>alert(1)</script>",
        filename="x.html",
        content_type="text/html",
        stored_by=technician,
        lab=lab,
    )
    client = Client()
    assert client.login(username=technician.username, password=TEST_PASSWORD)
    response = client.get(reverse("file_download", kwargs={"pk": stored.pk}))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_api_stores_file_once_and_reports_sha256(lab: Any, technician: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(technician)
    url = reverse("stored_file-list")
    first = client.post(
        url, {"file": SimpleUploadedFile("s.pdf", SCAN, "application/pdf")}, format="multipart"
    )
    again = client.post(
        url, {"file": SimpleUploadedFile("t.pdf", SCAN, "application/pdf")}, format="multipart"
    )
    assert first.status_code == 201, first.content
    assert first.json()["sha256"] == hashlib.sha256(SCAN).hexdigest()
    assert again.json()["id"] == first.json()["id"]
    download = client.get(reverse("stored_file-download", kwargs={"pk": first.json()["id"]}))
    assert download.status_code == 200
    assert download.content == SCAN
