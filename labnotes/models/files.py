"""Stored files: content-addressed (SHA-256), stored once per lab, never changed or deleted.

The bytes live under ``settings.MEDIA_ROOT`` at ``files/<aa>/<bb>/<sha256>`` (see
``labnotes.services.files``), not in PostgreSQL: scans and attachments run to megabytes, the
backup command already archives MEDIA_ROOT with checksums, and the design moves media to an
S3-compatible store when scaling out. The row is the record (who stored what, when, under which
name); the hash ties the row to the bytes, and every read checks it.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models

from planner.audit import audit_trail


@audit_trail()
class StoredFile(models.Model):
    """One file's bytes as stored by a lab: the same bytes stored again return this row.

    Unique per lab and hash rather than globally: a file row is reached through its lab, and a
    global row would tell a second lab that another lab holds the same file. On disk the bytes
    are still kept once (the path depends only on the hash).
    """

    lab = models.ForeignKey("planner.Lab", on_delete=models.PROTECT, related_name="stored_files")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    original_filename = models.CharField(max_length=255)
    stored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stored_files"
    )
    stored_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-stored_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["lab", "sha256"], name="stored_file_once_per_lab"),
            models.CheckConstraint(
                condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"),
                name="stored_file_sha256_is_hex",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="stored_file_immutable", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_filename} (sha256 {self.sha256[:12]}…)"

    @property
    def relative_path(self) -> str:
        """Where the bytes are, relative to MEDIA_ROOT (a function of the hash only)."""
        return f"files/{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}"
