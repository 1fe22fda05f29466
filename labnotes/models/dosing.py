"""Dosing: formulation batches, doses given (or missed) with their deviations, and the dosing
protocol's permitted modifications (hold, resume, reduce, skip) applied per animal."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.models import RegimenItem, Study
from planner.models.base import VersionedModel


@audit_trail()
class FormulationBatch(VersionedModel):
    """A prepared formulation of one agent: lot, concentration, vehicle, who prepared it, expiry.

    A batch serves every regimen item of its study that gives ``agent`` (``regimen_item`` set:
    that item only, e.g. one coded vial per arm). ``coded_label`` is what is written on the vial
    in a double-blind study: blinded dosers then see this code, never the agent. A batch is
    never deleted; it is voided with a reason. An expired batch is refused for dosing.
    """

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="formulation_batches")
    agent = models.CharField(max_length=200)
    regimen_item = models.ForeignKey(
        RegimenItem,
        on_delete=models.PROTECT,
        related_name="formulation_batches",
        null=True,
        blank=True,
        help_text="Only for this regimen item (empty: every item giving the agent).",
    )
    lot = models.CharField(max_length=60)
    concentration_mg_per_ml = models.DecimalField(max_digits=12, decimal_places=4)
    vehicle = models.CharField(max_length=200)
    coded_label = models.CharField(
        max_length=40, blank=True, help_text="Code on the vial for double-blind dosing."
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="prepared_batches"
    )
    prepared_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    notes = models.TextField(blank=True)
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
        ordering = ["study", "agent", "expires_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["study", "lot"], name="formulation_lot_unique"),
            models.UniqueConstraint(
                fields=["study", "coded_label"],
                condition=~models.Q(coded_label=""),
                name="formulation_code_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(concentration_mg_per_ml__gte=0),
                name="formulation_concentration_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("prepared_at")),
                name="formulation_expires_after_preparation",
            ),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True)
                | (models.Q(voided_by__isnull=False) & ~models.Q(void_reason="")),
                name="formulation_void_has_who_and_why",
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.lot}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class DoseOutcome(models.TextChoices):
    GIVEN = "given", "Given"
    MISSED = "missed", "Missed"


class DeviationKind(models.TextChoices):
    MISSED = "missed", "Missed"
    LATE = "late", "Late (after the permitted window)"
    EARLY = "early", "Early (before the permitted window)"
    AMOUNT_OFF = "amount_off", "More than 10 % off the computed amount"
    WRONG_ROUTE = "wrong_route", "Wrong route"


@audit_trail()
class DoseRecord(VersionedModel):
    """One dose task's outcome: given (batch, route, volume, amount, time, operator) or missed.

    The planned amount and volume are what the protocol asked for at that time (the regimen's
    dose, reduced when a permitted reduction applies, × the weight or tumour count used, over the
    batch's concentration); the actual ones are what was given. Anything not per protocol is a
    :class:`DoseDeviation` of this record. Never deleted: voided with a reason.
    """

    run = models.ForeignKey("labnotes.StudyRun", on_delete=models.PROTECT, related_name="doses")
    animal = models.ForeignKey("labnotes.Animal", on_delete=models.PROTECT, related_name="doses")
    task = models.ForeignKey(
        "labnotes.Task", on_delete=models.PROTECT, related_name="doses", null=True, blank=True
    )
    regimen_item = models.ForeignKey(RegimenItem, on_delete=models.PROTECT, related_name="doses")
    occurrence = models.PositiveSmallIntegerField()
    scheduled_for = models.DateField(help_text="The task's date.")
    outcome = models.CharField(max_length=8, choices=DoseOutcome.choices)
    batch = models.ForeignKey(
        FormulationBatch, on_delete=models.PROTECT, related_name="doses", null=True, blank=True
    )
    route = models.CharField(max_length=4, blank=True)
    dose_basis = models.CharField(max_length=30)
    dose = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        help_text="The dose asked for (mg/kg, or µg for fixed bases), after any reduction.",
    )
    reduced_to_percent = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    modification = models.ForeignKey(
        "labnotes.DoseModification",
        on_delete=models.PROTECT,
        related_name="doses",
        null=True,
        blank=True,
    )
    weight_g = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The weight the amount was computed from (own or arm mean).",
    )
    weight_taken_at = models.DateTimeField(null=True, blank=True)
    tumour_count = models.PositiveSmallIntegerField(null=True, blank=True)
    planned_amount_mg = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    planned_volume_ul = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True)
    amount_mg = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    volume_ul = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True)
    given_at = models.DateTimeField(null=True, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="doses_given",
        null=True,
        blank=True,
    )
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
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
        ordering = ["animal", "scheduled_for", "regimen_item", "pk"]
        indexes = [models.Index(fields=["run", "scheduled_for"], name="dose_run_day")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=[choice.value for choice in DoseOutcome]),
                name="dose_outcome_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="missed")
                | models.Q(
                    batch__isnull=False,
                    given_at__isnull=False,
                    operator__isnull=False,
                    volume_ul__isnull=False,
                )
                & ~models.Q(route=""),
                name="dose_given_is_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(volume_ul__isnull=True) | models.Q(volume_ul__gte=0),
                name="dose_volume_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True)
                | (models.Q(voided_by__isnull=False) & ~models.Q(void_reason="")),
                name="dose_void_has_who_and_why",
            ),
            models.UniqueConstraint(
                fields=["task"],
                condition=models.Q(voided_at__isnull=True, task__isnull=False),
                name="dose_one_per_task",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} dose {self.occurrence} of {self.animal}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


@audit_trail()
class DoseDeviation(models.Model):
    """One way a dose departed from the protocol (a dose may have several)."""

    dose = models.ForeignKey(DoseRecord, on_delete=models.PROTECT, related_name="deviations")
    kind = models.CharField(max_length=12, choices=DeviationKind.choices)
    detail = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dose", "kind"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[choice.value for choice in DeviationKind]),
                name="dose_deviation_kind_valid",
            ),
            models.UniqueConstraint(fields=["dose", "kind"], name="dose_deviation_once_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.detail}"


class ModificationKind(models.TextChoices):
    HOLD = "hold", "Hold"
    RESUME = "resume", "Resume"
    REDUCE = "reduce", "Reduce"
    SKIP = "skip", "Skip one dose"


@audit_trail()
class DoseModification(VersionedModel):
    """A modification the dosing protocol permits, applied to one animal and regimen item from
    ``effective_from`` on, with the weight that triggered it: reported as per protocol.

    ``hold`` stops the item's doses until a ``resume``; ``reduce`` sets the dose to
    ``reduced_to_percent`` of the regimen's; ``skip`` leaves out one occurrence.
    """

    run = models.ForeignKey(
        "labnotes.StudyRun", on_delete=models.PROTECT, related_name="dose_modifications"
    )
    animal = models.ForeignKey(
        "labnotes.Animal", on_delete=models.PROTECT, related_name="dose_modifications"
    )
    regimen_item = models.ForeignKey(
        RegimenItem, on_delete=models.PROTECT, related_name="dose_modifications"
    )
    kind = models.CharField(max_length=8, choices=ModificationKind.choices)
    effective_from = models.DateField()
    occurrence = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The occurrence a skip leaves out."
    )
    reduced_to_percent = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    trigger_measurement = models.ForeignKey(
        "labnotes.Measurement",
        on_delete=models.PROTECT,
        related_name="dose_modifications",
        null=True,
        blank=True,
    )
    trigger_weight_g = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    baseline_weight_g = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    weight_loss_percent = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    rule = models.CharField(max_length=300, help_text="The protocol rule that permits it.")
    reason = models.TextField()
    tasks_changed = models.PositiveIntegerField(default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dose_modifications"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["animal", "effective_from", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[choice.value for choice in ModificationKind]),
                name="dose_modification_kind_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="skip") | models.Q(occurrence__isnull=False),
                name="dose_modification_skip_names_occurrence",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="reduce")
                | models.Q(reduced_to_percent__gt=0, reduced_to_percent__lt=100),
                name="dose_modification_reduce_has_percent",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="dose_modification_reason_required"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.animal} from {self.effective_from}"
