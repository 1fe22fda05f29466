"""Shared model pieces."""

from __future__ import annotations

from django.db import models


class VersionedModel(models.Model):
    """A row whose every change bumps ``row_version``: the ETag and the pages' hidden version.

    Services update with ``filter(pk=..., row_version=expected)`` so that the second of two
    concurrent writers is refused instead of silently overwriting the first.
    """

    row_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True
