"""The QA layer over a run's records: the deviation log, QA inspections with their findings and
the study director's responses, audit-trail reviews, and study archives.

A deviation is either entered by hand or raised from a capture flag (a dose deviation, a late or
corrected reading, an endpoint overrun, a sample outside its window); ``source_key`` names the
flagging row so that raising the flags again never adds a second entry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.models.base import VersionedModel


class DeviationSource(models.TextChoices):
    MANUAL = "manual", "Reported by hand"
    DOSE = "dose", "Dose deviation (dosing record)"
    LATE_MEASUREMENT = "late_measurement", "Reading entered more than 24 h late"
    CORRECTED_MEASUREMENT = "corrected_measurement", "Reading corrected after entry"
    ENDPOINT_OVERRUN = "endpoint_overrun", "Humane endpoint passed by more than 24 h"
    SAMPLE_WINDOW = "sample_window", "Sample taken outside its timing window"


class DeviationCategory(models.TextChoices):
    DOSING = "dosing", "Dosing"
    MEASUREMENT = "measurement", "Measurement"
    WELFARE = "welfare", "Welfare / humane endpoint"
    SAMPLING = "sampling", "Sampling"
    HOUSING = "housing", "Housing / environment"
    PROCEDURE = "procedure", "Other procedure"
    DOCUMENTATION = "documentation", "Documentation"


class DeviationStatus(models.TextChoices):
    OPEN = "open", "Open: awaiting the study director's assessment"
    ASSESSED = "assessed", "Assessed: corrective action pending"
    CLOSED = "closed", "Closed"


@audit_trail()
class Deviation(VersionedModel):
    """One departure from the protocol or SOPs in a run: what, when, which animals, who found
    it, the study director's impact assessment and the corrective action."""

    run = models.ForeignKey(
        "labnotes.StudyRun", on_delete=models.PROTECT, related_name="deviation_log"
    )
    number = models.PositiveIntegerField(help_text="Numbered per run: DEV-001, DEV-002 …")
    source = models.CharField(
        max_length=24, choices=DeviationSource.choices, default=DeviationSource.MANUAL
    )
    source_key = models.CharField(
        max_length=80,
        blank=True,
        help_text="The capture flag this entry was raised from, e.g. dose_deviation:42.",
    )
    dose_deviation = models.ForeignKey(
        "labnotes.DoseDeviation",
        on_delete=models.PROTECT,
        related_name="log_entries",
        null=True,
        blank=True,
    )
    measurement = models.ForeignKey(
        "labnotes.Measurement",
        on_delete=models.PROTECT,
        related_name="deviations",
        null=True,
        blank=True,
    )
    endpoint_episode = models.ForeignKey(
        "labnotes.EndpointEpisode",
        on_delete=models.PROTECT,
        related_name="deviations",
        null=True,
        blank=True,
    )
    sample = models.ForeignKey(
        "labnotes.Sample",
        on_delete=models.PROTECT,
        related_name="deviations",
        null=True,
        blank=True,
    )
    category = models.CharField(max_length=16, choices=DeviationCategory.choices)
    description = models.TextField(help_text="What happened.")
    occurred_on = models.DateField(help_text="When it happened (lab-local date).")
    study_day = models.IntegerField()
    detected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="detected_deviations"
    )
    detected_at = models.DateTimeField()
    impact_assessment = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assessed_deviations",
        null=True,
        blank=True,
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    corrective_action = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=DeviationStatus.choices, default=DeviationStatus.OPEN
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="deviation_number_unique"),
            models.UniqueConstraint(
                fields=["run", "source_key"],
                condition=~models.Q(source_key=""),
                name="deviation_raised_once_per_flag",
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=[choice.value for choice in DeviationSource]),
                name="deviation_source_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(category__in=[choice.value for choice in DeviationCategory]),
                name="deviation_category_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in DeviationStatus]),
                name="deviation_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open")
                | (models.Q(assessed_by__isnull=False) & ~models.Q(impact_assessment="")),
                name="deviation_assessed_has_assessment",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="closed")
                | (models.Q(closed_at__isnull=False) & ~models.Q(corrective_action="")),
                name="deviation_closed_has_action",
            ),
            models.CheckConstraint(
                condition=models.Q(source="manual", source_key="")
                | (~models.Q(source="manual") & ~models.Q(source_key="")),
                name="deviation_flag_has_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.description[:60]}"

    @property
    def code(self) -> str:
        return f"DEV-{self.number:03d}"


@audit_trail()
class DeviationAnimal(models.Model):
    """An animal a deviation concerns (a deviation may concern none, one or many)."""

    deviation = models.ForeignKey(Deviation, on_delete=models.PROTECT, related_name="animal_links")
    animal = models.ForeignKey(
        "labnotes.Animal", on_delete=models.PROTECT, related_name="deviation_links"
    )

    class Meta:
        ordering = ["deviation", "animal"]
        constraints = [
            models.UniqueConstraint(fields=["deviation", "animal"], name="deviation_animal_once"),
        ]

    def __str__(self) -> str:
        return f"{self.deviation_id} → {self.animal_id}"


class InspectionPhase(models.TextChoices):
    PROTOCOL = "protocol", "Study plan / protocol"
    ANIMAL_RECEIPT = "animal_receipt", "Animal receipt and acclimatisation"
    IMPLANTATION = "implantation", "Tumour implantation"
    RANDOMIZATION = "randomization", "Randomization"
    DOSING = "dosing", "Dosing"
    MEASUREMENTS = "measurements", "In-life measurements"
    NECROPSY = "necropsy", "Necropsy and sampling"
    ASSAYS = "assays", "Assays"
    DATA = "data", "Raw data and records"
    FINAL_REPORT = "final_report", "Final report"
    FACILITY = "facility", "Facility / process"


class InspectionStatus(models.TextChoices):
    OPEN = "open", "Open: findings await responses"
    RESPONDED = "responded", "Responded: awaiting QA closure"
    CLOSED = "closed", "Closed"


class FindingSeverity(models.TextChoices):
    OBSERVATION = "observation", "Observation"
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"


@audit_trail()
class QAInspection(VersionedModel):
    """One QA inspection of a study (optionally one of its runs): when, which phase, who
    inspected, and when the findings were reported to the study director and to management —
    the dates the QA statement of the final report lists."""

    study = models.ForeignKey(
        "planner.Study", on_delete=models.PROTECT, related_name="qa_inspections"
    )
    run = models.ForeignKey(
        "labnotes.StudyRun",
        on_delete=models.PROTECT,
        related_name="qa_inspections",
        null=True,
        blank=True,
    )
    inspected_on = models.DateField()
    phase = models.CharField(max_length=16, choices=InspectionPhase.choices)
    scope = models.TextField(blank=True, help_text="What was inspected.")
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="qa_inspections"
    )
    reported_to_director_on = models.DateField(null=True, blank=True)
    reported_to_management_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=InspectionStatus.choices, default=InspectionStatus.OPEN
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "inspected_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(phase__in=[choice.value for choice in InspectionPhase]),
                name="qa_inspection_phase_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in InspectionStatus]),
                name="qa_inspection_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(reported_to_director_on__isnull=True)
                | models.Q(reported_to_director_on__gte=models.F("inspected_on")),
                name="qa_inspection_reported_after_inspection",
            ),
            models.CheckConstraint(
                condition=models.Q(reported_to_management_on__isnull=True)
                | models.Q(reported_to_management_on__gte=models.F("inspected_on")),
                name="qa_inspection_management_after_inspection",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="closed") | models.Q(closed_at__isnull=False),
                name="qa_inspection_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"QA inspection {self.inspected_on:%Y-%m-%d}: {self.get_phase_display()}"


@audit_trail()
class InspectionFinding(VersionedModel):
    """One finding of an inspection and the study director's response to it."""

    inspection = models.ForeignKey(QAInspection, on_delete=models.PROTECT, related_name="findings")
    number = models.PositiveSmallIntegerField()
    severity = models.CharField(max_length=12, choices=FindingSeverity.choices)
    text = models.TextField()
    response = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["inspection", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "number"], name="inspection_finding_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=[choice.value for choice in FindingSeverity]),
                name="inspection_finding_severity_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(response="", responded_at__isnull=True)
                | (~models.Q(response="") & models.Q(responded_at__isnull=False)),
                name="inspection_finding_response_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Finding {self.number} ({self.get_severity_display()})"


@audit_trail()
class AuditTrailReview(models.Model):
    """QA's record that the audit trail of a run was reviewed for a period (EU Annex 11 §9)."""

    run = models.ForeignKey(
        "labnotes.StudyRun", on_delete=models.PROTECT, related_name="audit_trail_reviews"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="audit_trail_reviews"
    )
    reviewed_on = models.DateField()
    events_reviewed = models.PositiveIntegerField(
        help_text="Audit events of the run's records in the period, counted when marked."
    )
    conclusion = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "-period_end", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="audit_review_period_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(reviewed_on__gte=models.F("period_end")),
                name="audit_review_after_period",
            ),
        ]

    def __str__(self) -> str:
        return f"Audit trail review {self.period_start} – {self.period_end}"


class ArchiveStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Building"
    SUCCEEDED = "succeeded", "Ready"
    FAILED = "failed", "Failed"


@audit_trail()
class StudyArchive(models.Model):
    """The archive package of a study: a ZIP of its records, audit trail, files and checksums,
    built by a background job once the study is archived (and so read-only)."""

    study = models.ForeignKey("planner.Study", on_delete=models.PROTECT, related_name="archives")
    job = models.OneToOneField(
        "labnotes.BackgroundJob", on_delete=models.PROTECT, related_name="study_archive"
    )
    status = models.CharField(
        max_length=10, choices=ArchiveStatus.choices, default=ArchiveStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="study_archives"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField()
    package = models.ForeignKey(
        "labnotes.StoredFile",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    file_count = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["study", "-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in ArchiveStatus]),
                name="study_archive_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="succeeded") | models.Q(package__isnull=False),
                name="study_archive_ready_has_package",
            ),
        ]

    def __str__(self) -> str:
        return f"Archive of {self.study_id} ({self.status})"
