"""Study designs: the plan a run is executed against — arms, regimens, schedules, analysis plan."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.domain.protocol_parameters import DoseBasis, DosingRoute
from planner.domain.working_calendar import SHIFT_RULE_CHOICES
from planner.models.base import VersionedModel
from planner.models.ethics import EthicsProtocol
from planner.models.protocols import ProtocolVersion
from planner.models.tenancy import Lab


class StudyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    ARCHIVED = "archived", "Archived"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    MIXED = "mixed", "Both sexes"


@audit_trail()
class Study(VersionedModel):
    """A study design. Fixed once approved: it then changes only by numbered amendments."""

    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="studies")
    code = models.CharField(
        max_length=40, help_text="Short unique code within the lab, e.g. CT26-IL12-01."
    )
    title = models.CharField(max_length=300)
    objective = models.TextField(blank=True)
    hypothesis = models.TextField(blank=True)
    primary_outcome = models.CharField(max_length=300, blank=True)
    species = models.CharField(max_length=60, default="Mus musculus")
    strain = models.CharField(max_length=100, blank=True, help_text="e.g. BALB/c")
    substrain = models.CharField(max_length=100, blank=True, help_text="e.g. BALB/cAnNCrl")
    vendor = models.CharField(max_length=100, blank=True)
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.FEMALE)
    age_weeks_min = models.PositiveSmallIntegerField(null=True, blank=True)
    age_weeks_max = models.PositiveSmallIntegerField(null=True, blank=True)
    cell_line = models.CharField(max_length=100, blank=True, help_text="e.g. CT26.WT")
    cell_line_rrid = models.CharField(
        max_length=20, blank=True, help_text="Cellosaurus RRID, CVCL_ followed by 4 characters."
    )
    ethics_protocol = models.ForeignKey(
        EthicsProtocol, on_delete=models.PROTECT, related_name="studies", null=True, blank=True
    )
    humane_endpoints = models.JSONField(
        default=dict, blank=True, help_text="Humane endpoint limits (humane_endpoints parameters)."
    )
    survival_definition = models.JSONField(default=dict, blank=True)
    analysis_plan = models.JSONField(default=dict, blank=True)
    blinded = models.BooleanField(
        default=True, help_text="Blinded members see arm codes only, never labels or agents."
    )
    status = models.CharField(max_length=20, choices=StudyStatus.choices, default=StudyStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_studies"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    ethics_amendment_reference = models.CharField(
        max_length=100,
        blank=True,
        help_text="The ethics committee's amendment number that allows endpoint limits looser "
        "than the approved protocol's.",
    )

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "studies"
        constraints = [
            models.UniqueConstraint(fields=["lab", "code"], name="study_code_unique_in_lab"),
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in StudyStatus]),
                name="study_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(age_weeks_min__isnull=True)
                | models.Q(age_weeks_max__isnull=True)
                | models.Q(age_weeks_max__gte=models.F("age_weeks_min")),
                name="study_age_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


@audit_trail()
class StudyMember(models.Model):
    """A user's access to one study: whether they may see the allocation, and dose."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="study_memberships"
    )
    unblinded = models.BooleanField(default=False)
    can_dose = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "user"], name="study_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.study.code}"


class ProcedureRole(models.TextChoices):
    IMPLANTATION = "implantation", "Implantation"
    RANDOMIZATION = "randomization", "Randomization"
    CALIPER_MEASUREMENT = "caliper_measurement", "Caliper measurement"
    BODY_WEIGHT = "body_weight", "Body weight"
    CLINICAL_OBSERVATION = "clinical_observation", "Clinical observation"
    HUMANE_ENDPOINTS = "humane_endpoints", "Humane endpoints"
    SAMPLE_COLLECTION = "sample_collection", "Sample collection"
    NECROPSY = "necropsy", "Necropsy"
    ELISA = "elisa", "ELISA"
    FLOW_PANEL = "flow_panel", "Flow cytometry panel"


@audit_trail()
class StudyProcedure(models.Model):
    """A protocol version the design uses for all arms, with its schedule where it has one.

    Measurements, weights and observations are scheduled here (e.g. ``Mon/Wed/Fri from day 7``);
    dosing is per arm (``RegimenItem``).
    """

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="procedures")
    role = models.CharField(max_length=30, choices=ProcedureRole.choices)
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="study_procedures"
    )
    schedule = models.CharField(max_length=200, blank=True)
    window_days = models.PositiveSmallIntegerField(default=0)
    non_working_day_rule = models.CharField(
        max_length=10, choices=SHIFT_RULE_CHOICES, default="earlier"
    )

    class Meta:
        ordering = ["study", "role", "pk"]
        constraints = [
            # One protocol per role, except sampling: a design may collect serum, tumour and
            # spleen by separate procedures (each its own protocol version).
            models.UniqueConstraint(
                fields=["study", "role"],
                condition=~models.Q(role="sample_collection"),
                name="study_procedure_one_per_role",
            ),
            models.UniqueConstraint(
                fields=["study", "protocol_version"],
                condition=models.Q(role="sample_collection"),
                name="study_sample_collection_once_per_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.protocol_version}"


@audit_trail()
class Arm(VersionedModel):
    """A treatment group. Blinded members see only ``code``."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="arms")
    label = models.CharField(max_length=100, help_text="e.g. IL-12 + cyclophosphamide")
    code = models.CharField(max_length=10, help_text="Blinded code shown to blinded members.")
    order = models.PositiveSmallIntegerField(default=0)
    planned_n = models.PositiveSmallIntegerField()
    is_control = models.BooleanField(default=False)

    class Meta:
        ordering = ["study", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["study", "label"], name="arm_label_unique_in_study"),
            models.UniqueConstraint(fields=["study", "code"], name="arm_code_unique_in_study"),
            models.CheckConstraint(
                condition=models.Q(planned_n__gte=1), name="arm_planned_n_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study.code} / {self.label}"


@audit_trail()
class SatelliteCohort(models.Model):
    """Animals of an arm taken down early for samples; excluded from efficacy analyses."""

    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, related_name="satellites")
    n = models.PositiveSmallIntegerField()
    takedown_study_day = models.IntegerField(null=True, blank=True)
    purpose = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"satellite of {self.arm}: {self.n} animals"


@audit_trail()
class RegimenItem(VersionedModel):
    """One agent of an arm's regimen: dose, route, schedule and window."""

    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, related_name="regimen_items")
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="regimen_items"
    )
    agent = models.CharField(max_length=200)
    is_vehicle = models.BooleanField(
        default=False, help_text="A matching vehicle injection, given so blinding holds."
    )
    dose = models.DecimalField(max_digits=12, decimal_places=4)
    dose_basis = models.CharField(max_length=30, choices=[(b.value, b.value) for b in DoseBasis])
    route = models.CharField(max_length=4, choices=[(r.value, r.value) for r in DosingRoute])
    schedule = models.CharField(
        max_length=200, help_text="e.g. 'Q3D×4 from day 7', 'Mon/Wed/Fri', '7,10,13'."
    )
    window_days = models.PositiveSmallIntegerField(default=0)
    non_working_day_rule = models.CharField(
        max_length=10, choices=SHIFT_RULE_CHOICES, default="earlier"
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["arm", "order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(dose__gte=0), name="regimen_dose_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} {self.dose} ({self.dose_basis}) {self.route} {self.schedule}"


class AmendmentStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class AmendmentScope(models.TextChoices):
    RUNS = "runs", "Runs"
    ARMS = "arms", "Arms"
    ANIMALS = "animals", "Animals"


@audit_trail()
class Amendment(models.Model):
    """A numbered, dated, scoped change to an approved design."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="amendments")
    number = models.PositiveSmallIntegerField()
    reason = models.TextField()
    effective_date = models.DateField()
    scope = models.CharField(max_length=10, choices=AmendmentScope.choices)
    ethics_amendment_reference = models.CharField(max_length=100, blank=True)
    changes = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=AmendmentStatus.choices, default=AmendmentStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="amendment_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.study.code} amendment {self.number}"
