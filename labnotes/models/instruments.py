"""Instruments and their credentials: the register (calibration due dates, daily checks), the
device tokens instruments and scripts post with, and the batches they posted.

A *device token* belongs to one run or one study and a set of actions; only a SHA-256 of its
secret is stored (shown once at creation). It authenticates only on the device endpoints
(``/api/v1/device/…``): it never reads arm labels, signs or changes existing records.
"""

from __future__ import annotations

import datetime as dt

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from planner.audit import audit_trail
from planner.models import Lab, Study
from planner.models.base import VersionedModel


class InstrumentKind(models.TextChoices):
    BALANCE = "balance", "Balance"
    CALIPER = "caliper", "Caliper"
    PLATE_READER = "plate_reader", "Plate reader"
    CYTOMETER = "cytometer", "Flow cytometer"


class UnqualifiedReadingPolicy(models.TextChoices):
    """What happens to a reading from an instrument past its calibration due date or without
    a passed daily check today."""

    FLAG = "flag", "Record it, flagged"
    REFUSE = "refuse", "Refuse it"


class InstrumentIssue(models.TextChoices):
    CALIBRATION_OVERDUE = "calibration_overdue", "Calibration overdue"
    NO_DAILY_CHECK = "no_daily_check", "No passed daily check today"
    RETIRED = "retired", "Instrument retired"


@audit_trail()
class Instrument(VersionedModel):
    """A balance, caliper, plate reader or cytometer of a lab. ``serial_number`` is what
    devices send as ``instrument`` (unique in the lab)."""

    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="instruments")
    kind = models.CharField(max_length=12, choices=InstrumentKind.choices)
    name = models.CharField(max_length=100, help_text="e.g. 'Caliper 2, room R101'.")
    manufacturer = models.CharField(max_length=100, blank=True)
    model_name = models.CharField(max_length=100, blank=True)
    serial_number = models.CharField(max_length=60)
    location = models.CharField(max_length=100, blank=True)
    calibration_due_on = models.DateField(
        null=True, blank=True, help_text="Readings after this date are flagged (or refused)."
    )
    last_calibrated_on = models.DateField(null=True, blank=True)
    daily_check_required = models.BooleanField(
        default=True, help_text="Readings need a passed check on the same lab-local day."
    )
    check_expected = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="The check standard's value, e.g. a 20 g check weight or a 10 mm gauge block.",
    )
    check_tolerance = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    check_unit = models.CharField(max_length=10, blank=True, help_text="e.g. g, mm, OD.")
    retired_at = models.DateTimeField(null=True, blank=True)
    retire_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["lab", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["lab", "serial_number"], name="instrument_serial_unique_in_lab"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=[choice.value for choice in InstrumentKind]),
                name="instrument_kind_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(serial_number=""), name="instrument_serial_not_blank"
            ),
            models.CheckConstraint(
                condition=models.Q(check_tolerance__isnull=True) | models.Q(check_tolerance__gte=0),
                name="instrument_check_tolerance_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(retired_at__isnull=True) | ~models.Q(retire_reason=""),
                name="instrument_retired_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()}, SN {self.serial_number})"

    def calibration_overdue_on(self, day: dt.date) -> bool:
        return self.calibration_due_on is not None and day > self.calibration_due_on


@audit_trail()
class InstrumentCheck(models.Model):
    """A daily check: the standard's expected value, what the instrument read, the tolerance,
    and whether it passed (|observed - expected| ≤ tolerance). Never edited."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="checks")
    checked_on = models.DateField(help_text="The lab-local date of the check.")
    checked_at = models.DateTimeField()
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    expected_value = models.DecimalField(max_digits=10, decimal_places=4)
    observed_value = models.DecimalField(max_digits=10, decimal_places=4)
    tolerance = models.DecimalField(max_digits=10, decimal_places=4)
    unit = models.CharField(max_length=10)
    passed = models.BooleanField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["instrument", "-checked_at", "-pk"]
        indexes = [models.Index(fields=["instrument", "checked_on"], name="instrumentcheck_day")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tolerance__gte=0), name="instrument_check_tolerance_valid"
            ),
        ]

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"check of {self.instrument.name} on {self.checked_on}: {self.observed_value} "
            f"{self.unit} for {self.expected_value} ± {self.tolerance} ({verdict})"
        )


@audit_trail()
class InstrumentSettings(VersionedModel):
    """A lab's rule for readings from unqualified instruments (absent: flag them)."""

    lab = models.OneToOneField(Lab, on_delete=models.CASCADE, related_name="instrument_settings")
    unqualified_readings = models.CharField(
        max_length=6,
        choices=UnqualifiedReadingPolicy.choices,
        default=UnqualifiedReadingPolicy.FLAG,
    )
    require_registered_instrument = models.BooleanField(
        default=False,
        help_text="Refuse device readings that name no registered instrument.",
    )

    class Meta:
        verbose_name_plural = "instrument settings"

    def __str__(self) -> str:
        return f"instrument settings of {self.lab}"


class DeviceAction(models.TextChoices):
    POST_MEASUREMENTS = "post_measurements", "Post caliper measurements"
    POST_WEIGHTS = "post_weights", "Post body weights"
    UPLOAD_PLATE_READER = "upload_plate_reader", "Upload plate-reader files"
    UPLOAD_FLOW = "upload_flow", "Upload flow cytometry results"
    READ_TASKS = "read_tasks", "Read the task list"


# ``last_used_at`` changes on every minute of use: not audited at all (the ingest batches
# record each use). Left out of the event table too, so ``verify_audit``, which compares a row
# with its latest event column by column, does not see a stamp that no event could hold.
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=["last_used_at"])),
    pghistory.DeleteEvent(),
    exclude=["last_used_at"],
)
class DeviceToken(models.Model):
    """An instrument's or script's credential: one run (or every run of one study), a set of
    actions, an expiry. ``Authorization: Token vd_<prefix>_<secret>``."""

    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="device_tokens")
    name = models.CharField(max_length=100, help_text="e.g. 'Balance 1 bridge, room R101'.")
    run = models.ForeignKey(
        "labnotes.StudyRun",
        on_delete=models.PROTECT,
        related_name="device_tokens",
        null=True,
        blank=True,
    )
    study = models.ForeignKey(
        Study, on_delete=models.PROTECT, related_name="device_tokens", null=True, blank=True
    )
    actions = ArrayField(
        models.CharField(max_length=24, choices=DeviceAction.choices),
        help_text="What the token may do.",
    )
    instrument = models.ForeignKey(
        Instrument,
        on_delete=models.PROTECT,
        related_name="device_tokens",
        null=True,
        blank=True,
        help_text="The default instrument of readings that name none.",
    )
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="device_tokens"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    revoke_reason = models.TextField(blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Requests per minute; empty: VIVOLOG_DEVICE_RATE_PER_MINUTE.",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(run__isnull=False, study__isnull=True)
                | models.Q(run__isnull=True, study__isnull=False),
                name="device_token_one_run_or_one_study",
            ),
            models.CheckConstraint(
                condition=~models.Q(actions=[]), name="device_token_has_actions"
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True)
                | (models.Q(revoked_by__isnull=False) & ~models.Q(revoke_reason="")),
                name="device_token_revocation_has_who_and_why",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class DeviceTokenWindow(models.Model):
    """Requests of a token in one minute: the per-token rate limit, shared by every web process.

    Telemetry, not lab data: not audited, old windows may be deleted.
    """

    token = models.ForeignKey(DeviceToken, on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token", "window_start"], name="device_token_window_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.requests} requests of token {self.token_id} from {self.window_start}"


# The request body is kept verbatim (the raw strings as sent), not copied into the event table.
@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["body"]
)
class IngestBatch(models.Model):
    """One accepted ingest request: who sent it, into which run, what it wrote."""

    run = models.ForeignKey(
        "labnotes.StudyRun", on_delete=models.PROTECT, related_name="ingest_batches"
    )
    token = models.ForeignKey(
        DeviceToken, on_delete=models.PROTECT, related_name="batches", null=True, blank=True
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    content_type = models.CharField(max_length=100)
    body_sha256 = models.CharField(max_length=64)
    body = models.BinaryField()
    row_count = models.PositiveIntegerField()
    written_count = models.PositiveIntegerField()
    replayed_count = models.PositiveIntegerField(
        default=0, help_text="Rows whose client_id was stored before (an instrument resend)."
    )
    flagged_count = models.PositiveIntegerField(default=0)
    measurement_ids = ArrayField(models.BigIntegerField(), default=list)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"ingest of {self.row_count} rows into {self.run_id} at {self.received_at}"


@audit_trail()
class ReadingFlag(models.Model):
    """Why a stored reading came from an unqualified instrument (kept with the reading)."""

    measurement = models.OneToOneField(
        "labnotes.Measurement", on_delete=models.PROTECT, related_name="instrument_flag"
    )
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="reading_flags"
    )
    issues = ArrayField(models.CharField(max_length=24, choices=InstrumentIssue.choices))
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{', '.join(self.issues)} on reading {self.measurement_id}"
