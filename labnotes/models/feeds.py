"""Per-person calendar feed tokens: the secret in an iCal subscription URL, stored hashed."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models


def hash_feed_token(token: str) -> str:
    """SHA-256 hex of the token: the database never holds a usable feed URL."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class CalendarFeedToken(models.Model):
    """The current feed token of one person. Calendar apps cannot log in, so the URL carries a
    random secret; only its hash is kept, and making a new one replaces (revokes) the old."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed_token"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"calendar feed of {self.user}"
