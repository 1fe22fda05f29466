"""Caliper and body-weight measurements: never deleted, voided with a reason.

A reading is a number (caliper axes with their volume, or a weight) or a code: ``NP`` not
palpable (a tumour reading of volume 0, flagged), ``NM`` present but not measurable and ``ND``
not done (both with a reason, no value). A same-day second reading is a *repeat*
(``repeat_of``; the caliper protocol says whether the last or the mean counts); a *correction*
(``correction_of``) voids the reading it corrects, with the reason, and keeps it. The grid
sends length and width as separate cells: the first axis waits as a :class:`PendingAxis`
until the other arrives.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from planner.audit import audit_trail
from planner.models import Lab, ProtocolVersion
from planner.models.base import VersionedModel


class MeasurementKind(models.TextChoices):
    CALIPER = "caliper", "Caliper (tumour)"
    WEIGHT = "weight", "Body weight"


class MeasurementCode(models.TextChoices):
    """A reading that is not a number; blank for a measured value."""

    NONE = "", "Measured value"
    NOT_PALPABLE = "NP", "Not palpable (volume 0)"
    NOT_MEASURABLE = "NM", "Present but not measurable"
    NOT_DONE = "ND", "Not done"


class GridOrder(models.TextChoices):
    """What Enter moves to in the measurement grid."""

    ROW = "row", "Row by row (L, W, then the weight, then the next animal)"
    COLUMN = "column", "Column by column (all lengths, then all widths, then all weights)"


class RepeatPolicy(models.TextChoices):
    """Which of a day's readings of a tumour (or weights of an animal) counts in analyses."""

    LAST = "last", "The last reading of the day"
    MEAN = "mean", "The mean of the day's readings"


class EntryMethod(models.TextChoices):
    FORM = "form", "Entry form"
    GRID = "grid", "Entry grid"
    API = "api", "API"
    INSTRUMENT = "instrument", "Instrument (USB caliper or balance)"
    IMPORT = "import", "File import"
    TRANSCRIPTION = "transcribed", "Transcribed from a paper worksheet"


@audit_trail()
class Measurement(VersionedModel):
    """One reading: caliper axes of a tumour (with the volume and the formula used) or a weight.

    ``animal`` is always set (for a caliper reading, the tumour's animal) so that an animal's
    readings are one query. ``study_day`` is the lab-local date of ``taken_at`` minus day 0.
    """

    kind = models.CharField(max_length=8, choices=MeasurementKind.choices)
    # Indexed by measurement_animal_kind (animal first), not by an index of its own.
    animal = models.ForeignKey(
        "labnotes.Animal", on_delete=models.PROTECT, related_name="measurements", db_index=False
    )
    tumour = models.ForeignKey(
        "labnotes.Tumour",
        on_delete=models.PROTECT,
        related_name="measurements",
        null=True,
        blank=True,
        db_index=False,  # partial index in Meta
    )
    length_mm = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    width_mm = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    height_mm = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    volume_mm3 = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    formula = models.CharField(max_length=40, blank=True)
    formula_protocol_version = models.ForeignKey(
        ProtocolVersion,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,  # partial index in Meta
        help_text="The caliper protocol version whose formula computed the volume.",
    )
    weight_g = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="measurements"
    )
    instrument = models.CharField(max_length=100, blank=True)
    taken_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    study_day = models.IntegerField()
    entry_method = models.CharField(
        max_length=12, choices=EntryMethod.choices, default=EntryMethod.FORM
    )
    client_id = models.CharField(
        max_length=100,
        blank=True,
        help_text="The client's own id of the reading: "
        "a resend with the same id is not stored twice.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,  # partial index in Meta
    )
    void_reason = models.TextField(blank=True)
    reading_code = models.CharField(
        max_length=2,
        choices=MeasurementCode.choices,
        blank=True,
        default=MeasurementCode.NONE,
        db_default=MeasurementCode.NONE,
    )
    code_reason = models.CharField(
        max_length=300,
        blank=True,
        default="",
        db_default="",
        help_text="Why NM (not measurable) or ND (not done).",
    )
    # Database defaults too: rows written by code that predates these columns stay valid.
    axes_swapped = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Width was entered longer than length: stored swapped.",
    )
    is_late = models.BooleanField(
        default=False, db_default=False, help_text="Entered more than 24 h after it was taken."
    )
    repeat_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="repeats",
        null=True,
        blank=True,
        db_index=False,  # partial index in Meta
        help_text="The same-day reading this one repeats (both stay valid).",
    )
    correction_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="corrections",
        null=True,
        blank=True,
        db_index=False,  # the partial unique constraint measurement_corrected_once indexes it
        help_text="The reading this one corrects (voided with the reason, kept).",
    )
    transcription = models.ForeignKey(
        "labnotes.TranscriptionSheet",
        on_delete=models.PROTECT,
        related_name="measurements",
        null=True,
        blank=True,
        db_index=False,  # partial index in Meta
        help_text="The paper worksheet this reading was transcribed from: it counts only once "
        "that sheet is verified.",
    )

    class Meta:
        ordering = ["animal", "taken_at", "pk"]
        # Foreign keys that are mostly empty are indexed where set: a bulk ingest of 5,000
        # readings then writes 5 index entries per reading, not 11.
        indexes = [
            models.Index(fields=["animal", "kind", "taken_at"], name="measurement_animal_kind"),
            *(
                models.Index(
                    fields=[field], name=name, condition=models.Q(**{f"{field}__isnull": False})
                )
                for field, name in (
                    ("tumour", "measurement_tumour_set"),
                    ("formula_protocol_version", "measurement_formula_pv_set"),
                    ("voided_by", "measurement_voided_by_set"),
                    ("repeat_of", "measurement_repeat_of_set"),
                    ("transcription", "measurement_transcription_set"),
                )
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind="caliper",
                        tumour__isnull=False,
                        weight_g__isnull=True,
                        reading_code="",
                        length_mm__isnull=False,
                        width_mm__isnull=False,
                        volume_mm3__isnull=False,
                    )
                    | models.Q(
                        kind="caliper",
                        tumour__isnull=False,
                        weight_g__isnull=True,
                        reading_code="NP",
                        length_mm__isnull=True,
                        width_mm__isnull=True,
                        height_mm__isnull=True,
                        volume_mm3=0,
                    )
                    | (
                        models.Q(
                            kind="caliper",
                            tumour__isnull=False,
                            weight_g__isnull=True,
                            reading_code__in=["NM", "ND"],
                            length_mm__isnull=True,
                            width_mm__isnull=True,
                            height_mm__isnull=True,
                            volume_mm3__isnull=True,
                        )
                        & ~models.Q(code_reason="")
                    )
                    | models.Q(
                        kind="weight",
                        tumour__isnull=True,
                        length_mm__isnull=True,
                        width_mm__isnull=True,
                        height_mm__isnull=True,
                        volume_mm3__isnull=True,
                        reading_code="",
                        weight_g__isnull=False,
                    )
                    | (
                        models.Q(
                            kind="weight",
                            tumour__isnull=True,
                            length_mm__isnull=True,
                            width_mm__isnull=True,
                            height_mm__isnull=True,
                            volume_mm3__isnull=True,
                            reading_code="ND",
                            weight_g__isnull=True,
                        )
                        & ~models.Q(code_reason="")
                    )
                ),
                name="measurement_kind_fields",
            ),
            models.CheckConstraint(
                condition=(models.Q(length_mm__isnull=True) | models.Q(length_mm__gte=0))
                & (models.Q(width_mm__isnull=True) | models.Q(width_mm__gte=0))
                & (models.Q(height_mm__isnull=True) | models.Q(height_mm__gte=0))
                & (models.Q(volume_mm3__isnull=True) | models.Q(volume_mm3__gte=0))
                & (models.Q(weight_g__isnull=True) | models.Q(weight_g__gt=0)),
                name="measurement_values_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(length_mm__isnull=True)
                | models.Q(length_mm__gte=models.F("width_mm")),
                name="measurement_length_is_longer_axis",
            ),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True)
                | (models.Q(voided_by__isnull=False) & ~models.Q(void_reason="")),
                name="measurement_void_has_who_and_why",
            ),
            models.UniqueConstraint(
                fields=["animal", "client_id"],
                condition=~models.Q(client_id=""),
                name="measurement_client_id_unique",
            ),
            models.UniqueConstraint(
                fields=["correction_of"],
                condition=models.Q(correction_of__isnull=False),
                name="measurement_corrected_once",
            ),
            models.CheckConstraint(
                condition=models.Q(repeat_of__isnull=True) | models.Q(correction_of__isnull=True),
                name="measurement_repeat_or_correction",
            ),
        ]

    def __str__(self) -> str:
        if self.reading_code:
            reason = f": {self.code_reason}" if self.code_reason else ""
            return f"{self.reading_code}{reason} on day {self.study_day}"
        if self.kind == MeasurementKind.CALIPER:
            return (
                f"{self.length_mm} x {self.width_mm} mm ({self.volume_mm3} mm³) "
                f"on day {self.study_day}"
            )
        return f"{self.weight_g} g on day {self.study_day}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    @property
    def is_code(self) -> bool:
        return bool(self.reading_code)


class PendingAxisStatus(models.TextChoices):
    OPEN = "open", "Waiting for the other axis"
    COMBINED = "combined", "Combined into a reading"
    REPLACED = "replaced", "Replaced (repeat, correction or code)"


@audit_trail()
class PendingAxis(models.Model):
    """One caliper axis sent alone (the grid saves each cell on its own), held until the other
    axis of the same tumour and study day arrives and the two become a :class:`Measurement`.

    Kept afterwards (``measurement`` says where it went) so that every cell the grid saved —
    each with its own ``client_id`` — stays traceable and a resend of either half replays.
    """

    animal = models.ForeignKey(
        "labnotes.Animal", on_delete=models.PROTECT, related_name="pending_axes"
    )
    tumour = models.ForeignKey(
        "labnotes.Tumour", on_delete=models.PROTECT, related_name="pending_axes"
    )
    axis = models.CharField(max_length=6, choices=[(a, a) for a in ("length", "width", "height")])
    value_mm = models.DecimalField(max_digits=6, decimal_places=2)
    study_day = models.IntegerField()
    taken_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    instrument = models.CharField(max_length=100, blank=True)
    entry_method = models.CharField(
        max_length=12, choices=EntryMethod.choices, default=EntryMethod.GRID
    )
    client_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=8, choices=PendingAxisStatus.choices, default=PendingAxisStatus.OPEN
    )
    status_reason = models.CharField(max_length=300, blank=True)
    measurement = models.ForeignKey(
        Measurement,
        on_delete=models.PROTECT,
        related_name="axis_halves",
        null=True,
        blank=True,
        help_text="The reading this axis became part of.",
    )

    class Meta:
        ordering = ["tumour", "taken_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tumour", "study_day", "axis"],
                condition=models.Q(status="open"),
                name="pending_axis_one_open_per_axis",
            ),
            models.UniqueConstraint(
                fields=["animal", "client_id"],
                condition=~models.Q(client_id=""),
                name="pending_axis_client_id_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(value_mm__gt=0), name="pending_axis_value_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="combined") | models.Q(measurement__isnull=False),
                name="pending_axis_combined_has_measurement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.axis} {self.value_mm} mm of {self.tumour} on day {self.study_day}"


@audit_trail()
class CaptureSettings(VersionedModel):
    """A lab's grid settings: scanned-tag recognition, entry order, repeats, plausible ranges.

    Absent: the defaults (no tags recognised, row order, the last repeat counts, ranges of
    ``labnotes.capture.parsing.EntryConfig``). A caliper protocol that states ``grid_order``
    or ``repeat_policy`` overrides the lab's choice for its studies.
    """

    lab = models.OneToOneField(Lab, on_delete=models.CASCADE, related_name="capture_settings")
    tag_prefix = models.CharField(
        max_length=10, blank=True, help_text="What the scanner sends before a tag, e.g. '#'."
    )
    tag_suffix = models.CharField(max_length=10, blank=True)
    tag_pattern = models.CharField(
        max_length=200,
        blank=True,
        help_text="A regular expression the whole tag must match (group 1 is the tag); the "
        "syntax common to Python and JavaScript.",
    )
    grid_order = models.CharField(max_length=6, choices=GridOrder.choices, default=GridOrder.ROW)
    repeat_policy = models.CharField(
        max_length=4, choices=RepeatPolicy.choices, default=RepeatPolicy.LAST
    )
    trend_max_fold_per_day = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.50"),
        help_text="A volume further off the tumour's recent log-linear trend than this factor "
        "per day since the last reading is flagged.",
    )
    axis_min_mm = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    axis_max_mm = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("40"))
    weight_min_g = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("5"))
    weight_max_g = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("60"))

    class Meta:
        verbose_name_plural = "capture settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(axis_min_mm__gt=0, axis_max_mm__gte=models.F("axis_min_mm")),
                name="capture_settings_axis_range",
            ),
            models.CheckConstraint(
                condition=models.Q(weight_min_g__gt=0, weight_max_g__gte=models.F("weight_min_g")),
                name="capture_settings_weight_range",
            ),
            models.CheckConstraint(
                condition=models.Q(trend_max_fold_per_day__gt=1),
                name="capture_settings_trend_factor_above_one",
            ),
        ]

    def __str__(self) -> str:
        return f"capture settings of {self.lab}"

    def clean(self) -> None:
        if self.tag_pattern:
            try:
                re.compile(self.tag_pattern)
            except re.error as error:
                raise ValidationError({"tag_pattern": f"Not a valid pattern: {error}."}) from None
