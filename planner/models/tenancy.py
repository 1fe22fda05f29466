"""Labs (tenants), memberships with roles, and personal API tokens."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from planner.audit import audit_trail


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"'{value}' is not an IANA time zone such as Europe/London."
        ) from None


def _default_working_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


@audit_trail()
class Lab(models.Model):
    """A tenant: everything a user sees is scoped to the labs they are a member of."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Study days, the Today page and calendars use this zone's local dates.",
    )
    working_weekdays = models.JSONField(
        default=_default_working_weekdays,
        help_text="Working weekdays, Monday = 0 … Sunday = 6 (holidays and closures apart).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The lab-local calendar date of an aware instant."""
        if instant.tzinfo is None:
            raise ValueError("instant must be timezone-aware")
        return instant.astimezone(self.zone).date()

    def study_day(self, day0: dt.date, instant: dt.datetime) -> int:
        """Whole days from a run's day 0 to the lab-local date of ``instant`` (day 0 is 0)."""
        return (self.local_date(instant) - day0).days


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    TECHNICIAN = "technician", "Technician"
    SCIENTIST = "scientist", "Scientist"
    STUDY_DIRECTOR = "study_director", "Study director"
    QA = "qa", "Quality assurance"
    LAB_ADMIN = "lab_admin", "Lab admin"
    # Reads the planner (no design edits); labnotes grants its own rights, e.g. emergency
    # unblinding of one animal.
    VETERINARIAN = "veterinarian", "Veterinarian"


@audit_trail()
class Membership(models.Model):
    """A user's role in a lab. One role per user and lab."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "lab"], name="membership_one_role_per_lab"),
            models.CheckConstraint(
                condition=models.Q(role__in=[choice.value for choice in Role]),
                name="membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} in {self.lab}"


@audit_trail()
class PersonalToken(models.Model):
    """An API token for a person (scripts run as that person). Only a hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="personal_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
