"""Samples (serum, tumour, spleen …) with barcode and storage place, and necropsy records."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.models import Lab, ProtocolVersion, StudyProcedure
from planner.models.base import VersionedModel


class SampleTissue(models.TextChoices):
    SERUM = "serum", "Serum"
    PLASMA = "plasma", "Plasma"
    WHOLE_BLOOD = "whole_blood", "Whole blood"
    TUMOUR = "tumour", "Tumour"
    SPLEEN = "spleen", "Spleen"
    LYMPH_NODE = "lymph_node", "Lymph node"
    LUNG = "lung", "Lung"
    LIVER = "liver", "Liver"
    KIDNEY = "kidney", "Kidney"
    BONE_MARROW = "bone_marrow", "Bone marrow"
    OTHER = "other", "Other (see detail)"


#: Tissues that belong to a tumour rather than to the animal as a whole.
TUMOUR_TISSUES = (SampleTissue.TUMOUR,)


@audit_trail()
class Sample(VersionedModel):
    """One tube (or cassette) of material from one animal.

    ``barcode`` is unique in the lab: scanned from a pre-labelled tube, or generated
    (``VS-000001`` …) and printed on a label. Timing: ``collected_at`` (when it was taken) and,
    for samples timed against a dose ("2 h after dose 3 of IL-12"), the reference ``dose`` (a
    regimen item's dose on a day, as given), its actual time (``dose_given_at``, copied when the
    sample is recorded), the nominal offset and the window; ``outside_window`` says whether the
    actual offset missed the window.
    """

    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="samples")
    animal = models.ForeignKey("labnotes.Animal", on_delete=models.PROTECT, related_name="samples")
    tumour = models.ForeignKey(
        "labnotes.Tumour", on_delete=models.PROTECT, related_name="samples", null=True, blank=True
    )
    tissue = models.CharField(max_length=20, choices=SampleTissue.choices)
    tissue_detail = models.CharField(
        max_length=120, blank=True, help_text="e.g. inguinal lymph node, left lobe."
    )
    procedure = models.ForeignKey(
        StudyProcedure,
        on_delete=models.PROTECT,
        related_name="samples",
        null=True,
        blank=True,
        help_text="The design's sample-collection procedure this sample follows.",
    )
    task = models.ForeignKey(
        "labnotes.Task",
        on_delete=models.PROTECT,
        related_name="samples",
        null=True,
        blank=True,
        help_text="The planned collection task this sample fulfils.",
    )
    necropsy = models.ForeignKey(
        "labnotes.Necropsy",
        on_delete=models.PROTECT,
        related_name="samples",
        null=True,
        blank=True,
        help_text="Taken at this necropsy.",
    )
    collected_at = models.DateTimeField()
    study_day = models.IntegerField()
    dose = models.ForeignKey(
        "labnotes.DoseRecord",
        on_delete=models.PROTECT,
        related_name="timed_samples",
        null=True,
        blank=True,
        help_text="The dose given that this sample is timed against (e.g. dose 3 of IL-12).",
    )
    dose_given_at = models.DateTimeField(null=True, blank=True)
    nominal_hours_after_dose = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    window_minutes = models.PositiveIntegerField(null=True, blank=True)
    actual_minutes_after_dose = models.DecimalField(
        max_digits=9, decimal_places=1, null=True, blank=True
    )
    outside_window = models.BooleanField(default=False)
    volume_ul = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    mass_mg = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    barcode = models.CharField(max_length=64)
    barcode_generated = models.BooleanField(default=False)
    freezer = models.CharField(max_length=60, blank=True)
    rack = models.CharField(max_length=40, blank=True)
    box = models.CharField(max_length=40, blank=True)
    position = models.CharField(
        max_length=20, blank=True, help_text="Position in the box, e.g. A3."
    )
    notes = models.TextField(blank=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="collected_samples"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
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
        ordering = ["animal", "collected_at", "pk"]
        indexes = [models.Index(fields=["animal", "collected_at"], name="sample_animal_time")]
        constraints = [
            models.UniqueConstraint(fields=["lab", "barcode"], name="sample_barcode_unique_in_lab"),
            models.CheckConstraint(
                condition=models.Q(barcode__regex=r"^[A-Za-z0-9._\-/]{1,64}$"),
                name="sample_barcode_printable",
            ),
            models.CheckConstraint(
                condition=models.Q(tissue__in=[choice.value for choice in SampleTissue]),
                name="sample_tissue_valid",
            ),
            models.CheckConstraint(
                condition=(models.Q(volume_ul__isnull=True) | models.Q(volume_ul__gt=0))
                & (models.Q(mass_mg__isnull=True) | models.Q(mass_mg__gt=0)),
                name="sample_amounts_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    dose__isnull=True,
                    nominal_hours_after_dose__isnull=True,
                    dose_given_at__isnull=True,
                    actual_minutes_after_dose__isnull=True,
                    window_minutes__isnull=True,
                    outside_window=False,
                )
                | models.Q(
                    dose__isnull=False,
                    nominal_hours_after_dose__isnull=False,
                    dose_given_at__isnull=False,
                    actual_minutes_after_dose__isnull=False,
                    window_minutes__isnull=False,
                ),
                name="sample_dose_timing_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True)
                | (models.Q(voided_by__isnull=False) & ~models.Q(void_reason="")),
                name="sample_void_has_who_and_why",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_tissue_display()} sample {self.barcode}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    @property
    def storage_location(self) -> str:
        parts = [
            f"{name} {value}"
            for name, value in (
                ("freezer", self.freezer),
                ("rack", self.rack),
                ("box", self.box),
                ("position", self.position),
            )
            if value
        ]
        return ", ".join(parts)


class GrossFinding(models.TextChoices):
    NONE = "nad", "No abnormality detected"
    TUMOUR_ULCERATION = "tumour_ulceration", "Tumour ulcerated"
    TUMOUR_NECROSIS = "tumour_necrosis", "Tumour necrotic centre"
    TUMOUR_INVASION = "tumour_invasion", "Tumour invading body wall"
    LUNG_NODULES = "lung_nodules", "Lung nodules"
    LIVER_NODULES = "liver_nodules", "Liver nodules"
    PERITONEAL_NODULES = "peritoneal_nodules", "Peritoneal nodules"
    LYMPHADENOPATHY = "lymphadenopathy", "Enlarged lymph nodes"
    SPLENOMEGALY = "splenomegaly", "Enlarged spleen"
    HEPATOMEGALY = "hepatomegaly", "Enlarged liver"
    ASCITES = "ascites", "Ascites"
    PLEURAL_EFFUSION = "pleural_effusion", "Pleural effusion"
    HAEMORRHAGE = "haemorrhage", "Haemorrhage"
    PALE_ORGANS = "pale_organs", "Pale organs (anaemia)"
    EMACIATION = "emaciation", "Emaciation / loss of body fat"
    AUTOLYSIS = "autolysis", "Autolysis (found dead)"
    OTHER = "other", "Other (described in the text)"


@audit_trail()
class Necropsy(VersionedModel):
    """The necropsy of one animal (at most one that is not voided).

    Weights: ``terminal_body_weight_g`` in g; ``tumour_weights`` ``[{"tumour": id,
    "weight_mg": n}]``, ``organ_weights`` ``[{"organ": name, "weight_mg": n}]`` and
    ``metastasis_counts`` ``[{"organ": name, "count": n}]`` as validated lists (one record, one
    version: an edit after the fact changes the whole record with a reason, and the audit trail
    keeps the old lists). ``gross_findings`` are codes of :class:`GrossFinding`.
    """

    animal = models.ForeignKey(
        "labnotes.Animal", on_delete=models.PROTECT, related_name="necropsies"
    )
    performed_at = models.DateTimeField()
    study_day = models.IntegerField()
    protocol_version = models.ForeignKey(
        ProtocolVersion,
        on_delete=models.PROTECT,
        related_name="necropsies",
        null=True,
        blank=True,
    )
    terminal_body_weight_g = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    tumour_weights = models.JSONField(default=list, blank=True)
    organ_weights = models.JSONField(default=list, blank=True)
    metastasis_counts = models.JSONField(default=list, blank=True)
    gross_findings = models.JSONField(default=list, blank=True)
    gross_notes = models.TextField(blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="necropsies"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
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
        ordering = ["animal", "performed_at", "pk"]
        verbose_name_plural = "necropsies"
        constraints = [
            models.UniqueConstraint(
                fields=["animal"],
                condition=models.Q(voided_at__isnull=True),
                name="necropsy_one_per_animal",
            ),
            models.CheckConstraint(
                condition=models.Q(terminal_body_weight_g__isnull=True)
                | models.Q(terminal_body_weight_g__gt=0),
                name="necropsy_body_weight_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True)
                | (models.Q(voided_by__isnull=False) & ~models.Q(void_reason="")),
                name="necropsy_void_has_who_and_why",
            ),
        ]

    def __str__(self) -> str:
        return f"necropsy of {self.animal} on day {self.study_day}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None
