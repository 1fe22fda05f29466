# ruff: noqa: RUF001, RUF002, RUF003  (report text is typeset: −, ×, – and γ are intended)
"""The report input: everything a study report shows, as plain frozen dataclasses.

The renderer never touches the database. A Celery task (issue 8) reads a run, its animals and
measurements, and builds one :class:`ReportInput`; everything in this package is a pure function
of that value, so the same input always gives the same numbers and the same artifacts, and tests
can build a realistic study without PostgreSQL.

Conventions:

* **Arm names are display names.** In the blinded variant the caller passes arm *codes* as the
  names; nothing here ever needs the real labels, and regimen texts (which name the treatment)
  are not printed in a blinded report.
* **Days** in growth, body-weight and survival rows and in ``Animal.exit_day`` count from each
  animal's treatment start (day 0 = its randomization day), the format the analysis command
  reads. ``Animal.randomization_study_day`` is the study day (days since the run's day 0) on which
  the animal was randomized, which is how staggered enrolment shows.
* ``None`` means "not recorded": a missing volume is a missed measurement, a missing ARRIVE text
  is an item the report marks as missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Literal

ReportKind = Literal["interim", "final"]
TGIDefinition = Literal["volume", "delta", "rtv"]
DropoutPolicy = Literal["drop", "locf"]
SynergyModel = Literal["tgi", "lmm", "auc"]
# The TGI reference model the report leads with (all three are always tabulated).
SynergyReference = Literal["bliss", "hsa", "ra"]
TumourRole = Literal["injected", "contralateral"]
AssayKind = Literal["elisa", "flow"]
# "scheduled": a same-day sample (satellite or scheduled collection), comparable across arms;
# "endpoint": taken when the animal left the study, weeks apart between arms, listed separately.
AssayTiming = Literal["scheduled", "endpoint"]

TGI_DEFINITIONS: dict[str, str] = {
    "volume": "TGI = 100 − T/C %, with T/C = 100 · mean(T_day) / mean(C_day)",
    "delta": "ΔTGI = 100 · (1 − mean(T_day − T_0) / mean(C_day − C_0)) (NCI; above 100 % "
    "means regression)",
    "rtv": "TGI(RTV) = 100 · (1 − mean(T_day / T_0) / mean(C_day / C_0))",
}


class ReportInputError(ValueError):
    """The report input contradicts itself; the message names the field and the problem."""


@dataclass(frozen=True)
class Arm:
    """One arm as the report names it (a code in the blinded variant).

    ``regimen`` is the schedule notation of the design (e.g. ``10 mg/kg i.p. Q3D×4``); it is not
    printed in a blinded report because it names the treatment.
    """

    name: str
    is_control: bool
    planned_n: int
    regimen: str = ""


@dataclass(frozen=True)
class Animal:
    """One randomized animal and how it left the study.

    ``status`` is free text from the run (``on study``, ``endpoint``, ``found dead``,
    ``censored``); ``exit_day`` counts from the animal's treatment start (None while on study).
    """

    animal_id: str
    arm: str
    randomization_study_day: int
    status: str
    endpoint_cause: str | None = None
    exit_day: float | None = None
    #: The run (cohort) code in a report pooling several runs of a study; "" in a run report.
    run: str = ""


@dataclass(frozen=True)
class GrowthRow:
    """One caliper measurement: volume in mm³ (None = not measured that day)."""

    animal: str
    group: str
    day: float
    volume_mm3: float | None
    tumour: TumourRole = "injected"


@dataclass(frozen=True)
class BodyWeightRow:
    animal: str
    group: str
    day: float
    weight_g: float


@dataclass(frozen=True)
class SurvivalRow:
    """Time to endpoint or death (event 1) or censoring (event 0), in days since treatment start."""

    animal: str
    group: str
    time_days: float
    event: int
    cause: str = ""


@dataclass(frozen=True)
class AssayRow:
    """One ELISA or flow cytometry result of one animal (e.g. IFN-γ pg/mL, CD8+ % of CD45+)."""

    assay: AssayKind
    analyte: str
    animal: str
    group: str
    value: float
    unit: str
    study_day: int | None = None
    timing: AssayTiming = "scheduled"
    tissue: str = ""
    sample: str = ""


@dataclass(frozen=True)
class CountWithReason:
    reason: str
    count: int


@dataclass(frozen=True)
class DosingArm:
    """Dosing compliance of one arm: dose records (given or missed), deviations by kind, holds
    and reductions decided for its animals (satellites included: they are dosed too)."""

    arm: str
    animals: int
    given: int
    missed: int
    deviations: tuple[CountWithReason, ...] = ()
    holds: int = 0
    reductions: int = 0
    skips: int = 0


@dataclass(frozen=True)
class WelfareArm:
    """Welfare of one arm: endpoint records by cause, found dead, and the hours from the first
    reading at a humane endpoint to the euthanasia (or death) of each closed episode."""

    arm: str
    endpoints_by_cause: tuple[CountWithReason, ...] = ()
    found_dead: int = 0
    hours_to_euthanasia: tuple[float, ...] = ()
    over_24_hours: int = 0


@dataclass(frozen=True)
class NecropsyRow:
    """One necropsy: study day, terminal body weight (g) and the summed tumour weight (mg)."""

    animal: str
    group: str
    study_day: int
    terminal_body_weight_g: float | None
    tumour_weight_mg: float | None
    tumours_weighed: int = 0


@dataclass(frozen=True)
class AnimalFlow:
    """CONSORT-style animal flow of the run (ARRIVE item 3c/6)."""

    received: int
    implanted: int
    enrolled: int
    randomized: int
    excluded: tuple[CountWithReason, ...] = ()
    satellite: int = 0
    endpoint_by_cause: tuple[CountWithReason, ...] = ()
    analysed: int = 0


@dataclass(frozen=True)
class BalanceRow:
    """One arm of a randomization batch's running balance table (covariate mean ± SD)."""

    arm: str
    n: int
    covariate: str
    mean: float | None
    sd: float | None


@dataclass(frozen=True)
class RandomizationBatchInfo:
    """One applied randomization batch: when (study day), how (method, seed), how many, and the
    balance of the covariates across arms after it (``largest_smd`` per covariate)."""

    number: int
    study_day: int
    method: str
    seed: int
    animals: int
    balance: tuple[BalanceRow, ...] = ()
    largest_smd: tuple[tuple[str, float | None], ...] = ()


@dataclass(frozen=True)
class ArriveItem:
    """One ARRIVE 2.0 Essential 10 item; ``text`` None when the structured data lack it."""

    number: str
    item: str
    text: str | None


@dataclass(frozen=True)
class LogEntry:
    """A deviation, correction, amendment or unblinding: when, what, why, by whom."""

    date: dt.date
    text: str
    reason: str = ""
    by: str = ""


@dataclass(frozen=True)
class Signature:
    """A signature line (role, printed name); the date is filled when signed.

    An electronic signature also carries its ``meaning`` (authored, reviewed, approved, QA
    inspected), the exact server time it was given (``signed_at``, aware), what was signed
    (``record``) and ``status`` ("valid" or "invalid — record changed after signing").
    """

    role: str
    name: str = ""
    signed_at: dt.datetime | dt.date | None = None
    meaning: str = ""
    record: str = ""
    status: str = ""


@dataclass(frozen=True)
class SynergyArms:
    """The four arms of a 2 × 2 combination design, by display name."""

    control: str
    drug_a: str
    drug_b: str
    combination: str


@dataclass(frozen=True)
class AnalysisOptions:
    """The analysis choices; a final report uses the design's analysis plan.

    ``analysis_day`` None means the engine's default (the last day with ≥ 80 % of the control
    animals measured). Bootstrap CIs are seeded: the same options give the same intervals.
    """

    analysis_day: float | None = None
    tgi_definition: TGIDefinition = "volume"
    dropout: DropoutPolicy = "drop"
    synergy_model: SynergyModel = "tgi"
    synergy_reference: SynergyReference = "bliss"
    synergy_arms: SynergyArms | None = None
    bootstrap_resamples: int = 2000
    seed: int = 0
    growth_delay_fold: float = 2.0


def differences_from_plan(plan: AnalysisOptions, options: AnalysisOptions) -> tuple[str, ...]:
    """One sentence per option that differs from the pre-specified analysis plan.

    Any difference makes a report exploratory (issue 8); the sentences are what its watermark
    page lists, so they name the option, the planned value and the value used.
    """
    differences: list[str] = []
    for item in fields(AnalysisOptions):
        planned = getattr(plan, item.name)
        used = getattr(options, item.name)
        if planned != used:
            label = item.name.replace("_", " ")
            differences.append(f"{label}: plan {_describe(planned)}, used {_describe(used)}")
    return tuple(differences)


def _describe(value: object) -> str:
    if value is None:
        return "default"
    if isinstance(value, SynergyArms):
        return f"{value.control} / {value.drug_a} / {value.drug_b} / {value.combination}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class ReportInput:
    """Everything one study-run report shows (see the module docstring for conventions)."""

    study_code: str
    study_title: str
    run_code: str
    day0: dt.date
    kind: ReportKind
    generated_by: str
    generated_at: dt.datetime
    data_hash: str
    arms: tuple[Arm, ...]
    animals: tuple[Animal, ...]
    options: AnalysisOptions
    objective: str = ""
    hypothesis: str = ""
    exploratory: bool = False
    plan_differences: tuple[str, ...] = ()
    blinded: bool = False
    software_versions: tuple[tuple[str, str], ...] = ()
    growth: tuple[GrowthRow, ...] = ()
    body_weight: tuple[BodyWeightRow, ...] = ()
    survival: tuple[SurvivalRow, ...] = ()
    survival_definition: str = ""
    assays: tuple[AssayRow, ...] = ()
    flow: AnimalFlow | None = None
    batches: tuple[RandomizationBatchInfo, ...] = ()
    arrive: tuple[ArriveItem, ...] = ()
    deviations: tuple[LogEntry, ...] = ()
    corrections: tuple[LogEntry, ...] = ()
    amendments: tuple[LogEntry, ...] = ()
    unblindings: tuple[LogEntry, ...] = ()
    dosing: tuple[DosingArm, ...] = ()
    welfare: tuple[WelfareArm, ...] = ()
    necropsy: tuple[NecropsyRow, ...] = ()
    signatures: tuple[Signature, ...] = field(
        default_factory=lambda: (Signature("Study director"), Signature("Quality assurance"))
    )
    changes_after_lock: tuple[LogEntry, ...] = ()
    qa_statement: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [arm.name for arm in self.arms]
        if not names:
            raise ReportInputError("arms: a report needs at least one arm")
        if len(set(names)) != len(names):
            raise ReportInputError("arms: two arms have the same name")
        if sum(arm.is_control for arm in self.arms) > 1:
            raise ReportInputError("arms: more than one arm is marked as the control")
        if self.plan_differences and not self.exploratory:
            raise ReportInputError(
                "exploratory: a report whose options differ from the analysis plan is exploratory"
            )
        known = set(names)
        for label, groups in (
            ("animals", {a.arm for a in self.animals}),
            ("growth", {r.group for r in self.growth}),
            ("body_weight", {r.group for r in self.body_weight}),
            ("survival", {r.group for r in self.survival}),
            ("assays", {r.group for r in self.assays}),
            ("dosing", {r.arm for r in self.dosing}),
            ("welfare", {r.arm for r in self.welfare}),
            ("necropsy", {r.group for r in self.necropsy}),
            ("batches", {row.arm for b in self.batches for row in b.balance}),
        ):
            unknown = sorted(groups - known)
            if unknown:
                raise ReportInputError(f"{label}: arm(s) {', '.join(unknown)} are not in arms")
        for row in self.survival:
            if row.event not in (0, 1):
                raise ReportInputError(f"survival: event of {row.animal} must be 0 or 1")
        synergy = self.options.synergy_arms
        if synergy is not None:
            roles = (synergy.control, synergy.drug_a, synergy.drug_b, synergy.combination)
            missing = [name for name in roles if name not in known]
            if missing:
                raise ReportInputError(
                    f"options.synergy_arms: {', '.join(missing)} are not arms of the report"
                )

    @property
    def pooled_runs(self) -> tuple[str, ...]:
        """The run codes of a report pooling several runs (in first-seen order), else ()."""
        runs = tuple(dict.fromkeys(a.run for a in self.animals if a.run))
        return runs if len(runs) > 1 else ()

    @property
    def control(self) -> str | None:
        """The control arm's name, or None when the design has none."""
        return next((arm.name for arm in self.arms if arm.is_control), None)

    @property
    def arm_names(self) -> tuple[str, ...]:
        return tuple(arm.name for arm in self.arms)


__all__ = [
    "TGI_DEFINITIONS",
    "AnalysisOptions",
    "Animal",
    "AnimalFlow",
    "Arm",
    "ArriveItem",
    "AssayRow",
    "AssayTiming",
    "BalanceRow",
    "BodyWeightRow",
    "CountWithReason",
    "DosingArm",
    "GrowthRow",
    "LogEntry",
    "NecropsyRow",
    "RandomizationBatchInfo",
    "ReportInput",
    "ReportInputError",
    "Signature",
    "SurvivalRow",
    "SynergyArms",
    "SynergyModel",
    "SynergyReference",
    "WelfareArm",
    "differences_from_plan",
]
