"""ELISA plates: the plate map (wells and their roles), the reading imported from an instrument
export, the curve fit and the concentrations it gives, and the scientist's accept/reject.

A plate belongs to one run and follows one released ELISA protocol version (analyte, curve
model, acceptance limits). Its life: ``draft`` (the layout is edited) → ``read`` (an export is
imported: ODs on the wells, the fit and the results computed; the layout is then fixed) →
``accepted`` or ``rejected`` by a scientist with a reason. Only accepted plates feed reports.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.models import Lab, ProtocolVersion
from planner.models.base import VersionedModel


class PlateStatus(models.TextChoices):
    DRAFT = "draft", "Layout in progress"
    READ = "read", "Read, awaiting review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class WellRole(models.TextChoices):
    STANDARD = "standard", "Standard"
    BLANK = "blank", "Blank"
    SAMPLE = "sample", "Sample"
    EMPTY = "empty", "Empty"


class WellFlag(models.TextChoices):
    """Why a well's OD did not enter the fit or its group's mean as read."""

    NONE = "", "—"
    INSTRUMENT = "instrument_flag", "Instrument flag (not a number)"
    NOT_READ = "not_read", "Not in the export"


class ResultFlag(models.TextChoices):
    OK = "ok", "In range"
    BELOW_LLOQ = "below_lloq", "Below LLOQ"
    ABOVE_ULOQ = "above_uloq", "Above ULOQ"
    NOT_QUANTIFIABLE = "not_quantifiable", "Not quantifiable (no range)"
    NO_READING = "no_reading", "No numeric reading"


@audit_trail()
class PlateLayoutTemplate(models.Model):
    """A reusable plate map of a lab: standards with concentrations, blanks and sample slots.

    ``wells`` is a list of ``{"well", "role", "concentration_pg_per_ml", "dilution",
    "replicate_group"}``; sample wells keep their slot (replicate group) and dilution but no
    sample, since each plate holds different samples.
    """

    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="plate_layout_templates")
    name = models.CharField(max_length=120)
    wells = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["lab", "name"]
        constraints = [
            models.UniqueConstraint(fields=["lab", "name"], name="plate_layout_name_unique_in_lab")
        ]

    def __str__(self) -> str:
        return self.name


@audit_trail()
class ElisaPlate(VersionedModel):
    """One ELISA plate of a run (see the module docstring for its life)."""

    run = models.ForeignKey("labnotes.StudyRun", on_delete=models.PROTECT, related_name="plates")
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="elisa_plates"
    )
    name = models.CharField(max_length=80)
    analyte = models.CharField(max_length=80)
    status = models.CharField(max_length=10, choices=PlateStatus.choices, default=PlateStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reading_file = models.ForeignKey(
        "labnotes.StoredFile",
        on_delete=models.PROTECT,
        related_name="elisa_plates",
        null=True,
        blank=True,
    )
    reading_format = models.CharField(max_length=40, blank=True)
    reading_grid = models.CharField(
        max_length=200, blank=True, help_text="The export's plate and read label used."
    )
    reading_metadata = models.JSONField(default=dict, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    read_at = models.DateTimeField(null=True, blank=True)
    fit = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "name"], name="elisa_plate_name_unique_in_run"),
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in PlateStatus]),
                name="elisa_plate_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["accepted", "rejected"])
                | (
                    models.Q(decided_by__isnull=False, decided_at__isnull=False)
                    & ~models.Q(decision_reason="")
                ),
                name="elisa_plate_decision_has_who_and_why",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(reading_file__isnull=False),
                name="elisa_plate_read_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analyte} plate {self.name}"


@audit_trail()
class PlateWell(models.Model):
    """One well of a plate map, with its OD once read (or the instrument's flag, kept as text)."""

    plate = models.ForeignKey(ElisaPlate, on_delete=models.PROTECT, related_name="wells")
    well = models.CharField(max_length=3)
    role = models.CharField(max_length=10, choices=WellRole.choices)
    concentration_pg_per_ml = models.FloatField(null=True, blank=True)
    sample = models.ForeignKey(
        "labnotes.Sample",
        on_delete=models.PROTECT,
        related_name="plate_wells",
        null=True,
        blank=True,
    )
    dilution = models.FloatField(default=1.0)
    replicate_group = models.CharField(max_length=80, blank=True)
    od = models.FloatField(null=True, blank=True)
    od_flag = models.CharField(max_length=40, blank=True)
    flag = models.CharField(max_length=20, choices=WellFlag.choices, blank=True, default="")

    class Meta:
        ordering = ["plate", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plate", "well"], name="plate_well_once"),
            models.CheckConstraint(
                condition=models.Q(well__regex=r"^[A-H](1[0-2]|[1-9])$"),
                name="plate_well_position_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=[choice.value for choice in WellRole]),
                name="plate_well_role_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="standard")
                | models.Q(concentration_pg_per_ml__isnull=False, concentration_pg_per_ml__gte=0),
                name="plate_well_standard_has_concentration",
            ),
            models.CheckConstraint(
                condition=models.Q(dilution__gte=1), name="plate_well_dilution_at_least_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.well} ({self.role})"


@audit_trail()
class ElisaResult(models.Model):
    """The concentration of one sample at one dilution on one plate (its replicate wells)."""

    plate = models.ForeignKey(ElisaPlate, on_delete=models.PROTECT, related_name="results")
    sample = models.ForeignKey(
        "labnotes.Sample", on_delete=models.PROTECT, related_name="elisa_results"
    )
    replicate_group = models.CharField(max_length=80)
    dilution = models.FloatField()
    n_wells = models.PositiveSmallIntegerField()
    mean_od = models.FloatField(null=True, blank=True)
    cv_percent = models.FloatField(null=True, blank=True)
    cv_exceeds_limit = models.BooleanField(default=False)
    concentration_in_well_pg_per_ml = models.FloatField(null=True, blank=True)
    concentration_pg_per_ml = models.FloatField(null=True, blank=True)
    flag = models.CharField(max_length=20, choices=ResultFlag.choices)

    class Meta:
        ordering = ["plate", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["plate", "replicate_group"], name="elisa_result_group_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sample} ×{self.dilution:g}: {self.concentration_pg_per_ml}"
