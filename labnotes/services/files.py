"""Storing and reading files by their SHA-256: scans of worksheets, imported tables, attachments.

The bytes go to ``MEDIA_ROOT/files/<aa>/<bb>/<sha256>`` first (written to a temporary name in
the same directory, flushed, then renamed, so a reader never sees half a file), the row second.
If the transaction that stores the row rolls back, the bytes stay on disk unreferenced: harmless,
since the path is a function of the content and the next store of the same bytes reuses it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from labnotes.models import StoredFile
from labnotes.services.common import RECORDERS
from planner.audit import audited_change
from planner.models import Lab, Role
from planner.services.permissions import require_role

#: Who may store a file: everyone who records, plus QA (inspection attachments).
FILE_WRITERS = (*RECORDERS, Role.QA)


class StoredFileCorrupted(Exception):
    """The bytes on disk no longer hash to the row's SHA-256 (or are gone)."""


def max_file_bytes() -> int:
    """The largest file accepted: ``VIVOLOG_MAX_FILE_BYTES``, else the request size limit."""
    limit = getattr(settings, "VIVOLOG_MAX_FILE_BYTES", None)
    return int(limit if limit is not None else settings.VIVOLOG_MAX_REQUEST_BYTES)


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} kB"
    return f"{size} bytes"


def _absolute_path(sha256: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "files" / sha256[:2] / sha256[2:4] / sha256


def _write_bytes(sha256: str, content: bytes) -> None:
    path = _absolute_path(sha256)
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o444)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _clean_filename(filename: str) -> str:
    name = Path((filename or "").replace("\\", "/")).name.strip()
    name = "".join(character for character in name if character.isprintable())
    return name[:255] or "unnamed"


def store_file(
    *, content: bytes, filename: str, content_type: str, stored_by: User, lab: Lab
) -> StoredFile:
    """Store ``content`` for ``lab`` once: the same bytes stored again return the same row
    (with the first upload's name and type; a file's record never changes).

    Refused: an empty file, and one larger than :func:`max_file_bytes` (the message names both
    sizes). Requires a recording role (or QA) in ``lab``.
    """
    require_role(stored_by, lab, FILE_WRITERS, action="store files")
    size = len(content)
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    limit = max_file_bytes()
    if size > limit:
        raise ValidationError(
            {
                "file": f"The file is {_human_size(size)}; files of at most "
                f"{_human_size(limit)} can be stored."
            }
        )
    sha256 = hashlib.sha256(content).hexdigest()
    existing = StoredFile.objects.filter(lab=lab, sha256=sha256).first()
    if existing is not None:
        _write_bytes(sha256, content)  # restores the bytes if they went missing from disk
        return existing
    _write_bytes(sha256, content)
    row = StoredFile(
        lab=lab,
        sha256=sha256,
        size_bytes=size,
        content_type=(content_type or "application/octet-stream").strip()[:100],
        original_filename=_clean_filename(filename),
        stored_by=stored_by,
    )
    row.full_clean(exclude=["lab", "stored_by"])
    with transaction.atomic(), audited_change(reason=None, required=False):
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            # Another request stored the same bytes between our look-up and our insert.
            return StoredFile.objects.get(lab=lab, sha256=sha256)
    return row


def read_file(stored: StoredFile) -> bytes:
    """The file's bytes, checked against its SHA-256 (raises :class:`StoredFileCorrupted`)."""
    path = _absolute_path(stored.sha256)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise StoredFileCorrupted(f"The bytes of {stored} are missing from storage.") from None
    if hashlib.sha256(content).hexdigest() != stored.sha256:
        raise StoredFileCorrupted(f"The bytes of {stored} no longer match their SHA-256.")
    return content
