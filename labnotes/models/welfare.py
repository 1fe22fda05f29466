"""Welfare records: clinical observations (score sheet, ulceration per tumour), the extra checks
escalation rules create, endpoint episodes (a limit reached until the animal leaves) and
endpoint records (the survival data). Never deleted: voided with a reason."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.domain.study_plan import EndpointCause as DomainEndpointCause
from planner.models import ProtocolVersion
from planner.models.base import VersionedModel
from planner.models.ethics import Severity


class EndpointLevel(models.TextChoices):
    OK = "ok", "OK"
    APPROACHING = "approaching", "Approaching a limit"
    REACHED = "reached", "Endpoint reached"


class EndpointCause(models.TextChoices):
    """The design's endpoint causes (``planner.domain.study_plan.EndpointCause``) with labels."""

    TUMOUR_VOLUME = DomainEndpointCause.TUMOUR_VOLUME.value, "Tumour volume limit"
    TUMOUR_DIAMETER = DomainEndpointCause.TUMOUR_DIAMETER.value, "Tumour diameter limit"
    WEIGHT_LOSS = DomainEndpointCause.WEIGHT_LOSS.value, "Weight loss limit"
    CLINICAL_SCORE = DomainEndpointCause.CLINICAL_SCORE.value, "Clinical score limit"
    ULCERATION = DomainEndpointCause.ULCERATION.value, "Ulceration"
    MORIBUND = DomainEndpointCause.MORIBUND.value, "Moribund"
    FOUND_DEAD = DomainEndpointCause.FOUND_DEAD.value, "Found dead"
    TREATMENT_TOXICITY = DomainEndpointCause.TREATMENT_TOXICITY.value, "Treatment toxicity"
    ACCIDENT = DomainEndpointCause.ACCIDENT.value, "Accident"
    SCHEDULED_SACRIFICE = DomainEndpointCause.SCHEDULED_SACRIFICE.value, "Scheduled sacrifice"
    MISSING = DomainEndpointCause.MISSING.value, "Missing"


class SurvivalOutcome(models.TextChoices):
    EVENT = "event", "Event"
    CENSORED = "censored", "Censored"


@audit_trail()
class Observation(VersionedModel):
    """One clinical observation of an animal: the score sheet's items and free-text notes.

    ``scores`` maps each item of the score sheet (as the protocol spells it) to its score;
    ulceration is scored per tumour (:class:`UlcerationScore`). ``total_score`` is the sum of
    the items. ``endpoint_level`` is what the observation meant for the humane endpoints.
    """

    animal = models.ForeignKey(
        "labnotes.Animal", on_delete=models.PROTECT, related_name="observations"
    )
    observed_at = models.DateTimeField()
    study_day = models.IntegerField()
    scores = models.JSONField(default=dict, blank=True)
    total_score = models.PositiveSmallIntegerField(default=0)
    notes = models.TextField(blank=True)
    protocol_version = models.ForeignKey(
        ProtocolVersion,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The clinical observation protocol version whose score sheet was used.",
    )
    endpoint_level = models.CharField(
        max_length=12, choices=EndpointLevel.choices, default=EndpointLevel.OK
    )
    observer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="observations"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    client_id = models.CharField(
        max_length=100,
        blank=True,
        help_text="The client's own id: a resend with the same id is not stored twice.",
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
        ordering = ["animal", "observed_at", "pk"]
        indexes = [models.Index(fields=["animal", "observed_at"], name="observation_animal_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True)
                | (models.Q(voided_by__isnull=False) & ~models.Q(void_reason="")),
                name="observation_void_has_who_and_why",
            ),
            models.CheckConstraint(
                condition=models.Q(endpoint_level__in=[choice.value for choice in EndpointLevel]),
                name="observation_endpoint_level_valid",
            ),
            models.UniqueConstraint(
                fields=["animal", "client_id"],
                condition=~models.Q(client_id=""),
                name="observation_client_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"observation of {self.animal} on day {self.study_day}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


@audit_trail()
class UlcerationScore(models.Model):
    """Ulceration of one tumour at one observation: 0 none, 1 scab, 2 open, 3 bleeding or
    infected (the fixed scale of the score sheet), with the ulcer's diameter when recorded."""

    observation = models.ForeignKey(
        Observation, on_delete=models.PROTECT, related_name="ulcerations"
    )
    tumour = models.ForeignKey(
        "labnotes.Tumour", on_delete=models.PROTECT, related_name="ulcerations"
    )
    score = models.PositiveSmallIntegerField()
    diameter_mm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)

    class Meta:
        ordering = ["observation", "tumour"]
        constraints = [
            models.UniqueConstraint(
                fields=["observation", "tumour"], name="ulceration_once_per_tumour"
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=3), name="ulceration_score_range"
            ),
            models.CheckConstraint(
                condition=models.Q(diameter_mm__isnull=True) | models.Q(diameter_mm__gte=0),
                name="ulceration_diameter_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"ulceration {self.score} of {self.tumour}"


class WelfareCheckKind(models.TextChoices):
    DAILY_CHECK = "daily_check", "Daily welfare check"
    VETERINARY_REVIEW = "veterinary_review", "Veterinary review"


class WelfareCheckStatus(models.TextChoices):
    DUE = "due", "Due"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


@audit_trail()
class WelfareCheck(VersionedModel):
    """An extra check an escalation rule of the score sheet asked for, on one calendar day.

    Unlike the schedule's tasks these ignore the working calendar: an animal under daily checks
    is checked on Saturdays, Sundays and holidays too. An observation of the animal on that day
    completes the check; a later observation below the rule's score cancels the rest.
    """

    animal = models.ForeignKey(
        "labnotes.Animal", on_delete=models.PROTECT, related_name="welfare_checks"
    )
    kind = models.CharField(max_length=20, choices=WelfareCheckKind.choices)
    due_date = models.DateField()
    rule = models.CharField(max_length=200, help_text="The escalation rule that asked for it.")
    triggered_by = models.ForeignKey(
        Observation, on_delete=models.PROTECT, related_name="checks_triggered"
    )
    status = models.CharField(
        max_length=10, choices=WelfareCheckStatus.choices, default=WelfareCheckStatus.DUE
    )
    done_by_observation = models.ForeignKey(
        Observation,
        on_delete=models.PROTECT,
        related_name="checks_done",
        null=True,
        blank=True,
    )
    status_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "animal", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["animal", "kind", "due_date"],
                condition=~models.Q(status="cancelled"),
                name="welfare_check_once_per_day",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in WelfareCheckStatus]),
                name="welfare_check_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="done") | models.Q(done_by_observation__isnull=False),
                name="welfare_check_done_by_observation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.animal} on {self.due_date}"


class EpisodeStatus(models.TextChoices):
    AWAITING_REPEAT = "awaiting_repeat", "Awaiting the repeat reading"
    OPEN = "open", "Open: endpoint reached"
    CLOSED = "closed", "Closed by an endpoint record"
    DISMISSED = "dismissed", "Dismissed: the repeat did not confirm it"


OPEN_EPISODE_STATUSES = (EpisodeStatus.AWAITING_REPEAT, EpisodeStatus.OPEN)


@audit_trail()
class EndpointEpisode(VersionedModel):
    """An animal at a humane endpoint, from the first reading (or observation) that reached it
    until the endpoint record that closes it.

    A crossing reading typed into the measurement grid first waits for its immediate repeat
    (``awaiting_repeat``): the repeat confirms it (``open``, alerts sent) or dismisses it.
    ``first_reached_at`` is the time of the first reading that reached the limit; the hours
    from it to the euthanasia are kept when the episode closes, flagged above 24 h.
    """

    animal = models.ForeignKey(
        "labnotes.Animal", on_delete=models.PROTECT, related_name="endpoint_episodes"
    )
    status = models.CharField(max_length=16, choices=EpisodeStatus.choices)
    cause = models.CharField(
        max_length=30,
        choices=EndpointCause.choices,
        help_text="The limit reached first, as an endpoint cause of the survival definition.",
    )
    findings = models.JSONField(
        default=list, blank=True, help_text="What reached or approached which limit."
    )
    first_reached_at = models.DateTimeField()
    first_measurement = models.ForeignKey(
        "labnotes.Measurement",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    first_observation = models.ForeignKey(
        Observation, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    confirmed_by = models.ForeignKey(
        "labnotes.Measurement",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The repeat reading that confirmed a grid crossing.",
    )
    dismissed_by = models.ForeignKey(
        "labnotes.Measurement",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The repeat reading below the limit that dismissed a grid crossing.",
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    endpoint_record = models.ForeignKey(
        "labnotes.EndpointRecord",
        on_delete=models.PROTECT,
        related_name="episodes",
        null=True,
        blank=True,
    )
    hours_to_endpoint = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Hours from the first reading at the limit to the euthanasia (or death).",
    )
    over_24_hours = models.BooleanField(default=False)
    status_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-first_reached_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["animal"],
                condition=models.Q(status__in=["awaiting_repeat", "open"]),
                name="endpoint_episode_one_open_per_animal",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in EpisodeStatus]),
                name="endpoint_episode_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="closed")
                | models.Q(closed_at__isnull=False, endpoint_record__isnull=False),
                name="endpoint_episode_closed_by_record",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_cause_display()} endpoint of {self.animal} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_EPISODE_STATUSES


@audit_trail()
class EndpointRecord(VersionedModel):
    """How and when an animal left the study: the survival data.

    ``cause`` comes from the design's survival definition, which maps it to an event or a
    censoring (``outcome`` keeps the mapping in force when it was recorded). A found-dead
    animal has ``last_seen_alive_at``; caliper readings after that time are voided by the
    service. ``actual_severity`` is the EU 2010/63 actual severity of the procedures.
    """

    animal = models.ForeignKey(
        "labnotes.Animal", on_delete=models.PROTECT, related_name="endpoint_records"
    )
    cause = models.CharField(max_length=30, choices=EndpointCause.choices)
    outcome = models.CharField(max_length=10, choices=SurvivalOutcome.choices)
    occurred_at = models.DateTimeField()
    study_day = models.IntegerField()
    last_seen_alive_at = models.DateTimeField(null=True, blank=True)
    actual_severity = models.CharField(max_length=20, choices=Severity.choices, blank=True)
    notes = models.TextField(blank=True)
    excluded_readings = models.PositiveIntegerField(
        default=0, help_text="Caliper readings voided for lying after the last time seen alive."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="endpoint_records"
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
        ordering = ["animal", "occurred_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["animal"],
                condition=models.Q(voided_at__isnull=True),
                name="endpoint_record_one_per_animal",
            ),
            models.CheckConstraint(
                condition=~models.Q(cause="found_dead")
                | models.Q(last_seen_alive_at__isnull=False),
                name="endpoint_found_dead_has_last_seen_alive",
            ),
            models.CheckConstraint(
                condition=models.Q(last_seen_alive_at__isnull=True)
                | models.Q(last_seen_alive_at__lte=models.F("occurred_at")),
                name="endpoint_last_seen_alive_before_death",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=["event", "censored"]),
                name="endpoint_outcome_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True)
                | (models.Q(voided_by__isnull=False) & ~models.Q(void_reason="")),
                name="endpoint_void_has_who_and_why",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_cause_display()} of {self.animal} on day {self.study_day}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None
