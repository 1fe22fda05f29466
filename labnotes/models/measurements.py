"""Caliper and body-weight measurements: never deleted, voided with a reason."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.models import ProtocolVersion
from planner.models.base import VersionedModel


class MeasurementKind(models.TextChoices):
    CALIPER = "caliper", "Caliper (tumour)"
    WEIGHT = "weight", "Body weight"


class EntryMethod(models.TextChoices):
    FORM = "form", "Entry form"
    GRID = "grid", "Entry grid"
    API = "api", "API"
    INSTRUMENT = "instrument", "Instrument (USB caliper or balance)"
    IMPORT = "import", "File import"


@audit_trail()
class Measurement(VersionedModel):
    """One reading: caliper axes of a tumour (with the volume and the formula used) or a weight.

    ``animal`` is always set (for a caliper reading, the tumour's animal) so that an animal's
    readings are one query. ``study_day`` is the lab-local date of ``taken_at`` minus day 0.
    """

    kind = models.CharField(max_length=8, choices=MeasurementKind.choices)
    animal = models.ForeignKey(
        "labnotes.Animal", on_delete=models.PROTECT, related_name="measurements"
    )
    tumour = models.ForeignKey(
        "labnotes.Tumour",
        on_delete=models.PROTECT,
        related_name="measurements",
        null=True,
        blank=True,
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
    )
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["animal", "taken_at", "pk"]
        indexes = [
            models.Index(fields=["animal", "kind", "taken_at"], name="measurement_animal_kind")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    kind="caliper",
                    tumour__isnull=False,
                    length_mm__isnull=False,
                    width_mm__isnull=False,
                    volume_mm3__isnull=False,
                    weight_g__isnull=True,
                )
                | models.Q(
                    kind="weight",
                    tumour__isnull=True,
                    weight_g__isnull=False,
                    length_mm__isnull=True,
                    width_mm__isnull=True,
                    height_mm__isnull=True,
                    volume_mm3__isnull=True,
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
        ]

    def __str__(self) -> str:
        if self.kind == MeasurementKind.CALIPER:
            return (
                f"{self.length_mm} x {self.width_mm} mm ({self.volume_mm3} mm³) "
                f"on day {self.study_day}"
            )
        return f"{self.weight_g} g on day {self.study_day}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None
