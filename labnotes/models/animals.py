"""Animals with their cage history, tumours and implantation records."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.models import Arm, Lab, ProtocolVersion
from planner.models.base import VersionedModel


class AnimalSex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"


class AnimalStatus(models.TextChoices):
    ON_STUDY = "on_study", "On study"
    ENDPOINT_REACHED = "endpoint_reached", "Endpoint reached"
    FOUND_DEAD = "found_dead", "Found dead"
    EXCLUDED = "excluded", "Excluded"
    TAKEN_DOWN = "taken_down", "Taken down (satellite, as planned)"
    TRANSFERRED = "transferred", "Transferred to a re-challenge run"


class TumourRole(models.TextChoices):
    INJECTED = "injected", "Injected"
    CONTRALATERAL = "contralateral", "Contralateral"
    RECHALLENGE = "rechallenge", "Re-challenge"


@audit_trail()
class Cage(VersionedModel):
    """A cage of a lab, used by one run (``run``) or shared by the lab (``run`` empty)."""

    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="cages")
    run = models.ForeignKey(
        "labnotes.StudyRun", on_delete=models.PROTECT, related_name="cages", null=True, blank=True
    )
    label = models.CharField(max_length=40)
    capacity = models.PositiveSmallIntegerField(default=5)
    room = models.CharField(max_length=60, blank=True)
    rack = models.CharField(max_length=40, blank=True)
    position = models.CharField(
        max_length=20, blank=True, help_text="Position in the rack, e.g. B3."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["room", "rack", "position", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["lab", "run", "label"], name="cage_label_unique", nulls_distinct=False
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1, capacity__lte=20), name="cage_capacity_range"
            ),
        ]

    def __str__(self) -> str:
        return f"cage {self.label}"


@audit_trail()
class Animal(VersionedModel):
    """A mouse on a run. ``tag`` is a string: leading zeros are part of it.

    ``arm`` stays empty until a randomization batch is applied; ``treatment_start_date`` is
    then that batch's date (its randomization day, R+0). ``origin`` links the same mouse in the
    parent run when it was enrolled in a re-challenge run, so its whole history stays reachable.
    """

    run = models.ForeignKey("labnotes.StudyRun", on_delete=models.PROTECT, related_name="animals")
    tag = models.CharField(max_length=40)
    rfid = models.CharField(max_length=40, blank=True)
    sex = models.CharField(max_length=6, choices=AnimalSex.choices)
    date_of_birth = models.DateField(null=True, blank=True)
    arrival_weight_g = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    received_on = models.DateField()
    arm = models.ForeignKey(
        Arm, on_delete=models.PROTECT, related_name="animals", null=True, blank=True
    )
    randomization_batch = models.ForeignKey(
        "labnotes.RandomizationBatch",
        on_delete=models.PROTECT,
        related_name="animals",
        null=True,
        blank=True,
    )
    treatment_start_date = models.DateField(null=True, blank=True)
    is_satellite = models.BooleanField(default=False)
    status = models.CharField(
        max_length=20, choices=AnimalStatus.choices, default=AnimalStatus.ON_STUDY
    )
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    origin = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        related_name="rechallenge",
        null=True,
        blank=True,
        help_text="The same mouse in the parent run (re-challenge).",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="registered_animals"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "tag"]
        constraints = [
            models.UniqueConstraint(fields=["run", "tag"], name="animal_tag_unique_in_run"),
            models.UniqueConstraint(
                fields=["run", "rfid"],
                condition=~models.Q(rfid=""),
                name="animal_rfid_unique_in_run",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in AnimalStatus]),
                name="animal_status_valid",
            ),
            models.CheckConstraint(condition=~models.Q(tag=""), name="animal_tag_not_blank"),
            models.CheckConstraint(
                condition=models.Q(status="on_study") | ~models.Q(status_reason=""),
                name="animal_status_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(arm__isnull=True, treatment_start_date__isnull=True)
                | models.Q(arm__isnull=False, treatment_start_date__isnull=False),
                name="animal_arm_and_treatment_start_together",
            ),
            models.CheckConstraint(
                condition=models.Q(arrival_weight_g__isnull=True)
                | models.Q(arrival_weight_g__gt=0),
                name="animal_arrival_weight_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"animal {self.tag}"


@audit_trail()
class CageAssignment(models.Model):
    """An animal's stay in a cage from ``from_date`` to ``to_date`` (open while empty)."""

    animal = models.ForeignKey(Animal, on_delete=models.PROTECT, related_name="cage_assignments")
    cage = models.ForeignKey(Cage, on_delete=models.PROTECT, related_name="assignments")
    from_date = models.DateField()
    to_date = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["animal", "from_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["animal"],
                condition=models.Q(to_date__isnull=True),
                name="cage_assignment_one_open_per_animal",
            ),
            models.CheckConstraint(
                condition=models.Q(to_date__isnull=True)
                | models.Q(to_date__gte=models.F("from_date")),
                name="cage_assignment_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.animal} in {self.cage} from {self.from_date}"


@audit_trail()
class Tumour(models.Model):
    """A tumour of an animal: caliper measurements belong here."""

    animal = models.ForeignKey(Animal, on_delete=models.PROTECT, related_name="tumours")
    site = models.CharField(
        max_length=60, help_text="e.g. right flank, left flank, mammary fat pad"
    )
    role = models.CharField(max_length=14, choices=TumourRole.choices, default=TumourRole.INJECTED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["animal", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["animal", "site"], name="tumour_site_unique_per_animal"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=[choice.value for choice in TumourRole]),
                name="tumour_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} tumour, {self.site}"


@audit_trail()
class Implantation(models.Model):
    """How a tumour was implanted: cells, viability, passage, operator and deviations."""

    tumour = models.OneToOneField(Tumour, on_delete=models.PROTECT, related_name="implantation")
    implanted_on = models.DateField()
    cells = models.PositiveBigIntegerField(help_text="Cells injected at this site.")
    viability_percent = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    passage = models.PositiveSmallIntegerField(null=True, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="implantations"
    )
    protocol_version = models.ForeignKey(
        ProtocolVersion,
        on_delete=models.PROTECT,
        related_name="implantations",
        null=True,
        blank=True,
    )
    deviations = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(viability_percent__isnull=True)
                | models.Q(viability_percent__gte=0, viability_percent__lte=100),
                name="implantation_viability_range",
            ),
            models.CheckConstraint(
                condition=models.Q(cells__gt=0), name="implantation_cells_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"implantation of {self.tumour} on {self.implanted_on}"
