# ruff: noqa: RUF001  (report text is typeset: ×, Δ and – are intended)
"""From the database to a :class:`labnotes.reports.ReportInput`: the facts of a run, hashed.

Two steps, so that the data hash does not depend on how a report shows the data:

1. :func:`snapshot_run` reads the run's facts once — arms and regimens, animals and how they
   left, randomization batches, the *counted* caliper and weight readings
   (:func:`labnotes.selectors_measurements.counted_measurements`: voided readings and readings
   of unverified transcription sheets left out), survival rows
   (:func:`labnotes.selectors_survival.survival_rows`), amendments and voided readings (the
   corrections). :func:`data_hash` is the SHA-256 of its canonical JSON: any change to the data
   a report counts changes the hash, which is how a report knows it is stale.
2. :func:`build_report_input` turns a snapshot into a ``ReportInput`` for one kind, variant
   (arm labels or codes only) and set of options.

Days in the growth, weight and survival rows count from each animal's treatment start (its
randomization day), the convention of the analysis command. Satellite animals are not analysed
for efficacy. Sections whose source does not exist yet are simply absent: see
:data:`NOT_YET_FED`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import platform
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from django.conf import settings

from labnotes.models import (
    Animal,
    AnimalStatus,
    BatchStatus,
    Measurement,
    MeasurementKind,
    RandomizationBatch,
    StudyRun,
    TumourRole,
)
from labnotes.reports import model as rm
from planner.domain.study_plan import (
    AnalysisDayRule,
    ArmSummary,
    DropoutPolicy,
    SynergyModel,
    TgiDefinition,
    default_analysis_plan,
    has_factorial_combination,
)
from planner.models import Amendment, AmendmentStatus, Study

#: Report sections the data model can show but no source in the database feeds yet.
NOT_YET_FED: tuple[str, ...] = ("clinical scores over time",)

TGIChoice = Literal["delta", "volume", "rtv"]
DropoutChoice = Literal["drop", "locf"]
SynergyChoice = Literal["bliss", "hsa", "ra", "lmm", "auc", "none"]

TGI_LABELS: dict[str, str] = {
    "delta": "ΔTGI on the change in volume from baseline",
    "volume": "TGI on the volume at the analysis day (100 − T/C %)",
    "rtv": "TGI on the relative tumour volume",
}
DROPOUT_LABELS: dict[str, str] = {
    "drop": "animals leave the means when they leave the study",
    "locf": "last observation carried forward (sensitivity analysis)",
}
SYNERGY_LABELS: dict[str, str] = {
    "bliss": "Bliss independence",
    "hsa": "highest single agent",
    "ra": "response additivity on TGI",
    "lmm": "mixed model of log volume over time (SynergyLMM)",
    "auc": "area under the growth curves (invivoSyn combination index)",
    "none": "no synergy analysis",
}
#: The engine's synergy model (and the TGI reference model that leads) of each choice.
_SYNERGY_ENGINE: dict[str, tuple[rm.SynergyModel, rm.SynergyReference]] = {
    "bliss": ("tgi", "bliss"),
    "hsa": ("tgi", "hsa"),
    "ra": ("tgi", "ra"),
    "lmm": ("lmm", "bliss"),
    "auc": ("auc", "bliss"),
    "none": ("tgi", "bliss"),
}
_PLAN_TGI = {TgiDefinition.DELTA_VOLUME.value: "delta", TgiDefinition.FINAL_VOLUME.value: "volume"}
# The mixed model is reported in every report; for the means it drops animals like "exclude".
_PLAN_DROPOUT = {
    DropoutPolicy.EXCLUDE_AFTER_DROPOUT.value: "drop",
    DropoutPolicy.LAST_OBSERVATION_CARRIED_FORWARD.value: "locf",
    DropoutPolicy.MIXED_MODEL.value: "drop",
}
_STATUS_TEXT: dict[str, str] = {
    AnimalStatus.ON_STUDY: "on study",
    AnimalStatus.ENDPOINT_REACHED: "endpoint",
    AnimalStatus.FOUND_DEAD: "found dead",
    AnimalStatus.EXCLUDED: "excluded",
    AnimalStatus.TAKEN_DOWN: "taken down",
    AnimalStatus.TRANSFERRED: "transferred",
}


class ReportDataError(ValueError):
    """The run's data cannot make a report; the message says what is missing."""


@dataclass(frozen=True)
class ReportOptions:
    """What a person may choose for a report, in the report engine's terms.

    ``analysis_day``: days since treatment start, or None for the analysis plan's rule.
    """

    analysis_day: int | None = None
    tgi_definition: TGIChoice = "delta"
    dropout: DropoutChoice = "drop"
    synergy_model: SynergyChoice = "bliss"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> str:
        """SHA-256 of the canonical JSON: the same options give the same key."""
        text = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReportOptions:
        return cls(
            analysis_day=data.get("analysis_day"),
            tgi_definition=data.get("tgi_definition", "delta"),
            dropout=data.get("dropout", "drop"),
            synergy_model=data.get("synergy_model", "bliss"),
        )


# --------------------------------------------------------------------------------------------
# The snapshot


@dataclass(frozen=True)
class ArmFact:
    pk: int
    label: str
    code: str
    is_control: bool
    planned_n: int
    regimen: str
    agents: tuple[str, ...]


@dataclass(frozen=True)
class AnimalFact:
    pk: int
    tag: str
    arm_pk: int | None
    treatment_start: str | None
    randomization_study_day: int | None
    status: str
    status_reason: str
    status_date: str | None
    is_satellite: bool
    implanted: bool


@dataclass(frozen=True)
class SurvivalFact:
    animal_pk: int
    days: int
    event: bool
    cause: str
    excluded: bool


@dataclass(frozen=True)
class BatchFact:
    number: int
    randomized_on: str
    method: str
    seed: int
    animals: int
    balance: dict[str, Any]


@dataclass(frozen=True)
class LogFact:
    date: str
    text: str
    reason: str
    by: str


@dataclass(frozen=True)
class RunSnapshot:
    """Everything a report of a run reads, independent of variant and options (hashed)."""

    run_pk: int
    run_code: str
    day0: str
    arms: tuple[ArmFact, ...]
    animals: tuple[AnimalFact, ...]
    #: (animal pk, tumour role, study day, volume mm³ as text): per animal, role and day the sum
    #: over its tumours of that role of each tumour's last counted reading that day.
    caliper: tuple[tuple[int, str, int, str], ...]
    #: (animal pk, study day, weight g as text): the last counted weighing of the day.
    weights: tuple[tuple[int, int, str], ...]
    survival: tuple[SurvivalFact, ...]
    survival_origin: str
    batches: tuple[BatchFact, ...]
    amendments: tuple[LogFact, ...]
    corrections: tuple[LogFact, ...]
    sources: tuple[str, ...] = field(default=())
    #: (assay, analyte, animal pk, value as text, unit, study day or None, timing, tissue,
    #: sample) of every ELISA and flow result of the run's randomized animals.
    assays: tuple[tuple[str, str, int, str, str, int | None, str, str, str], ...] = ()
    #: (animal pk, outcome, deviation kinds) of every dose record not voided.
    doses: tuple[tuple[int, str, tuple[str, ...]], ...] = ()
    #: (animal pk, kind) of every dose modification (hold, resume, reduce, skip).
    modifications: tuple[tuple[int, str], ...] = ()
    #: (animal pk, cause, outcome) of every endpoint record not voided.
    endpoints: tuple[tuple[int, str, str], ...] = ()
    #: (animal pk, hours from the first reading at the limit to euthanasia as text, over 24 h)
    #: of every closed endpoint episode.
    episodes: tuple[tuple[int, str, bool], ...] = ()
    #: (animal pk, study day, terminal body weight g as text or "", summed tumour weight mg as
    #: text or "", tumours weighed) of every necropsy not voided.
    necropsies: tuple[tuple[int, int, str, str, int], ...] = ()


#: How the balance table's covariates read in a report.
COVARIATE_LABELS = {"volume_mm3": "tumour volume (mm³)", "weight_g": "body weight (g)"}


def _dose_unit(basis: str) -> str:
    """``mg_per_kg`` → ``mg/kg``: units in field names are for code, not for readers."""
    return basis.replace("_per_", "/").replace("_", " ")


def _regimen_text(arm: Any) -> str:
    items = [
        f"{item.agent} {item.dose.normalize():f} {_dose_unit(item.dose_basis)} {item.route} "
        f"{item.schedule}"
        for item in arm.regimen_items.all()
    ]
    return "; ".join(items)


def _counted(queryset: Any) -> Any:
    try:
        from labnotes.selectors_measurements import counted_measurements
    except ImportError:  # before the transcription work: voided readings are all that is out
        return queryset.filter(voided_at__isnull=True)
    return counted_measurements(queryset)


def _survival_facts(run: StudyRun) -> tuple[tuple[SurvivalFact, ...], str, str]:
    """Survival rows from the endpoint records (``selectors_survival``), else from statuses."""
    try:
        from labnotes.selectors_survival import survival_rows
    except ImportError:  # before the endpoint records existed
        return _survival_from_statuses(run)
    rows = survival_rows(run)
    origin = rows[0].time_origin if rows else "first_treatment"
    facts = tuple(
        SurvivalFact(row.animal_id, row.days, row.event, row.cause, row.excluded)
        for row in rows
        if not row.is_satellite
    )
    return facts, origin, "endpoint records"


def _survival_from_statuses(run: StudyRun) -> tuple[tuple[SurvivalFact, ...], str, str]:
    """Endpoint or found-dead status date as the event, from treatment start."""
    lab = run.study.lab
    today = lab.local_date(dt.datetime.now(dt.UTC))
    facts_list: list[SurvivalFact] = []
    for animal in Animal.objects.filter(run=run, arm__isnull=False, is_satellite=False):
        assert animal.treatment_start_date is not None
        ended = animal.status in (AnimalStatus.ENDPOINT_REACHED, AnimalStatus.FOUND_DEAD)
        end = lab.local_date(animal.status_changed_at) if animal.status_changed_at else today
        facts_list.append(
            SurvivalFact(
                animal.pk,
                (end - animal.treatment_start_date).days,
                ended,
                animal.status_reason if ended else "",
                animal.status == AnimalStatus.EXCLUDED,
            )
        )
    return tuple(facts_list), "randomization", "animal statuses"


def snapshot_run(run: StudyRun) -> RunSnapshot:
    """Read the facts of ``run`` a report counts (a fixed number of queries)."""
    study = run.study
    lab = study.lab
    arms = tuple(
        ArmFact(
            arm.pk,
            arm.label,
            arm.code,
            arm.is_control,
            arm.planned_n,
            _regimen_text(arm),
            tuple(sorted({item.agent for item in arm.regimen_items.all() if not item.is_vehicle})),
        )
        for arm in study.arms.prefetch_related("regimen_items").order_by("order", "pk")
    )
    animals_qs = (
        Animal.objects.filter(run=run)
        .order_by("tag")
        .prefetch_related("tumours__implantation")
        .select_related("randomization_batch")
    )
    animals: list[AnimalFact] = []
    for animal in animals_qs:
        start = animal.treatment_start_date
        animals.append(
            AnimalFact(
                pk=animal.pk,
                tag=animal.tag,
                arm_pk=animal.arm_id,
                treatment_start=start.isoformat() if start else None,
                randomization_study_day=(start - run.day0).days if start else None,
                status=animal.status,
                status_reason=animal.status_reason,
                status_date=(
                    lab.local_date(animal.status_changed_at).isoformat()
                    if animal.status_changed_at
                    else None
                ),
                is_satellite=animal.is_satellite,
                implanted=any(hasattr(tumour, "implantation") for tumour in animal.tumours.all()),
            )
        )
    readings = _counted(Measurement.objects.filter(animal__run=run)).order_by(
        "animal_id", "study_day", "taken_at", "pk"
    )
    last_volume: dict[tuple[int, int, int], tuple[str, Any]] = {}
    last_weight: dict[tuple[int, int], Any] = {}
    for animal_id, kind, tumour_id, role, study_day, volume, weight in readings.values_list(
        "animal_id", "kind", "tumour_id", "tumour__role", "study_day", "volume_mm3", "weight_g"
    ):
        if kind == MeasurementKind.CALIPER:
            last_volume[(animal_id, tumour_id, study_day)] = (role, volume)
        else:
            last_weight[(animal_id, study_day)] = weight
    summed: dict[tuple[int, str, int], Any] = defaultdict(int)
    for (animal_id, _tumour, study_day), (role, volume) in last_volume.items():
        summed[(animal_id, role, study_day)] += volume
    caliper = tuple(
        sorted((a, role, day, f"{volume:f}") for (a, role, day), volume in summed.items())
    )
    weights = tuple(sorted((a, day, f"{w:f}") for (a, day), w in last_weight.items()))
    survival, origin, survival_source = _survival_facts(run)
    batches = tuple(
        BatchFact(
            b.number,
            b.randomized_on.isoformat(),
            b.get_method_display(),
            b.seed,
            len(b.allocation) if isinstance(b.allocation, (list, dict)) else 0,
            b.balance if isinstance(b.balance, dict) else {},
        )
        for b in RandomizationBatch.objects.filter(run=run, status=BatchStatus.APPLIED).order_by(
            "number"
        )
    )
    amendments = tuple(
        LogFact(
            a.effective_date.isoformat(),
            f"Amendment {a.number} ({a.get_scope_display().lower()})",
            a.reason,
            a.decided_by.get_username() if a.decided_by else "",
        )
        for a in Amendment.objects.filter(study=study, status=AmendmentStatus.APPROVED)
        .select_related("decided_by")
        .order_by("number")
    )
    corrections = tuple(
        LogFact(
            lab.local_date(m.voided_at).isoformat() if m.voided_at else "",
            f"{m.animal.tag}: {m.get_kind_display().lower()} of study day {m.study_day} voided",
            m.void_reason,
            m.voided_by.get_username() if m.voided_by else "",
        )
        for m in Measurement.objects.filter(animal__run=run, voided_at__isnull=False)
        .select_related("animal", "voided_by")
        .order_by("voided_at", "pk")
    )
    return RunSnapshot(
        run_pk=run.pk,
        run_code=run.code,
        day0=run.day0.isoformat(),
        arms=arms,
        animals=tuple(animals),
        caliper=caliper,
        weights=weights,
        survival=survival,
        survival_origin=origin,
        batches=batches,
        amendments=amendments,
        corrections=corrections,
        sources=("counted readings", survival_source),
        assays=_assay_facts(run, animals),
        **_welfare_and_dosing_facts(run),
    )


#: Snapshot fields added after reports existed: left out of the hash while empty, so a run
#: without such data keeps the hash its earlier reports were built from.
_HASHED_WHEN_PRESENT = ("assays", "doses", "modifications", "endpoints", "episodes", "necropsies")


def _welfare_and_dosing_facts(run: StudyRun) -> dict[str, tuple[Any, ...]]:
    """Dose records, modifications, endpoint records, closed episodes and necropsies of the
    run (a fixed number of queries), in a canonical order for the hash."""
    from labnotes.models import (
        DoseModification,
        DoseRecord,
        EndpointEpisode,
        EndpointRecord,
        EpisodeStatus,
        Necropsy,
    )

    doses = tuple(
        sorted(
            (
                dose.animal_id,
                dose.outcome,
                tuple(sorted(d.kind for d in dose.deviations.all())),
            )
            for dose in DoseRecord.objects.filter(run=run, voided_at__isnull=True)
            .prefetch_related("deviations")
            .order_by("pk")
        )
    )
    modifications = tuple(
        sorted(DoseModification.objects.filter(run=run).values_list("animal_id", "kind"))
    )
    endpoints = tuple(
        sorted(
            EndpointRecord.objects.filter(animal__run=run, voided_at__isnull=True).values_list(
                "animal_id", "cause", "outcome"
            )
        )
    )
    episodes = tuple(
        sorted(
            (animal_id, f"{hours:f}", bool(over))
            for animal_id, hours, over in EndpointEpisode.objects.filter(
                animal__run=run, status=EpisodeStatus.CLOSED, hours_to_endpoint__isnull=False
            ).values_list("animal_id", "hours_to_endpoint", "over_24_hours")
        )
    )
    necropsies = []
    for necropsy in Necropsy.objects.filter(animal__run=run, voided_at__isnull=True):
        weights = [row.get("weight_mg") for row in necropsy.tumour_weights or []]
        weighed = [w for w in weights if w is not None]
        necropsies.append(
            (
                necropsy.animal_id,
                necropsy.study_day,
                f"{necropsy.terminal_body_weight_g:f}"
                if necropsy.terminal_body_weight_g is not None
                else "",
                repr(float(sum(float(w) for w in weighed))) if weighed else "",
                len(weighed),
            )
        )
    return {
        "doses": doses,
        "modifications": modifications,
        "endpoints": endpoints,
        "episodes": episodes,
        "necropsies": tuple(sorted(necropsies)),
    }


def _assay_facts(
    run: StudyRun, animals: list[AnimalFact]
) -> tuple[tuple[str, str, int, str, str, int | None, str, str, str], ...]:
    """ELISA and flow results (selectors of the assay apps) keyed by animal pk.

    The selectors name animals by tag; the arm comes from the animal here, never from the
    row, so a blinded report cannot learn a label from an assay row. Rows of animals not
    randomized into an arm are not reported per arm and are left out.
    """
    from labnotes.selectors_elisa import elisa_report_rows
    from labnotes.selectors_flow import flow_report_rows

    by_tag = {a.tag: a for a in animals if a.arm_pk is not None}
    facts = []
    for row in [*elisa_report_rows(run), *flow_report_rows(run)]:
        animal = by_tag.get(row.animal)
        if animal is None:
            continue
        facts.append(
            (
                row.assay,
                row.analyte,
                animal.pk,
                repr(float(row.value)),
                row.unit,
                row.study_day,
                row.timing,
                row.tissue,
                row.sample,
            )
        )
    return tuple(sorted(facts, key=lambda f: (f[0], f[1], f[7], f[6], f[5] or -1, f[2], f[8])))


def data_hash(snapshot: RunSnapshot) -> str:
    """``sha256:<hex>`` of the snapshot's canonical JSON (the report's data hash)."""
    facts = asdict(snapshot)
    for name in _HASHED_WHEN_PRESENT:
        if not facts.get(name):
            facts.pop(name, None)
    text = json.dumps(facts, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def current_data_hash(run: StudyRun) -> str:
    return data_hash(snapshot_run(run))


# --------------------------------------------------------------------------------------------
# The analysis plan and the options


def _arm_summaries(snapshot: RunSnapshot) -> list[ArmSummary]:
    return [ArmSummary(a.label, a.is_control, frozenset(a.agents)) for a in snapshot.arms]


def approved_plan(study: Study, snapshot: RunSnapshot) -> dict[str, Any]:
    """The design's analysis plan (defaults filled for an older design without one)."""
    plan = dict(default_analysis_plan(_arm_summaries(snapshot)))
    plan.update(study.analysis_plan or {})
    return plan


def plan_options(study: Study, snapshot: RunSnapshot) -> ReportOptions:
    """The options that follow the approved analysis plan (the options of a final report)."""
    plan = approved_plan(study, snapshot)
    synergy = str(plan.get("synergy_model") or SynergyModel.NONE.value)
    return ReportOptions(
        analysis_day=None,
        tgi_definition=_PLAN_TGI.get(str(plan.get("tgi_definition")), "delta"),  # type: ignore[arg-type]
        dropout=_PLAN_DROPOUT.get(str(plan.get("dropout_policy")), "drop"),  # type: ignore[arg-type]
        synergy_model=synergy if synergy in SYNERGY_LABELS else "none",  # type: ignore[arg-type]
    )


def synergy_arms(snapshot: RunSnapshot) -> tuple[ArmFact, ArmFact, ArmFact, ArmFact] | None:
    """Control, drug A, drug B and A + B when the design is a 2 × 2 combination, else None."""
    if not has_factorial_combination(_arm_summaries(snapshot)):
        return None
    control = next((a for a in snapshot.arms if a.is_control), None)
    singles = {a.agents[0]: a for a in snapshot.arms if len(a.agents) == 1}
    for combination in snapshot.arms:
        if len(combination.agents) == 2 and all(x in singles for x in combination.agents):
            first, second = (singles[x] for x in combination.agents)
            if control is not None:
                return control, first, second, combination
    return None


def _plan_day_text(plan: dict[str, Any]) -> str:
    if plan.get("analysis_day_rule") == AnalysisDayRule.FIXED_DAY.value:
        return f"study day {plan.get('analysis_day')}"
    return "the last day on which every control animal was measured"


def resolve_analysis_day(
    study: Study, snapshot: RunSnapshot, options: ReportOptions
) -> tuple[int | None, str]:
    """The analysis day (days since treatment start) and how it was chosen.

    An explicit ``options.analysis_day`` is used as given. Otherwise the plan's rule: a fixed
    *study* day becomes days since the first randomization batch's day (the latest measured
    day on or before it); "last day all control animals alive" is the last day on which every
    analysed control animal has a counted reading. None when no growth data exist yet.
    """
    days = _growth_days(snapshot)
    if options.analysis_day is not None:
        return options.analysis_day, f"day {options.analysis_day} (chosen)"
    if not days:
        return None, "no tumour measurements yet"
    plan = approved_plan(study, snapshot)
    if plan.get("analysis_day_rule") == AnalysisDayRule.FIXED_DAY.value and plan.get(
        "analysis_day"
    ):
        first = min(
            (a.randomization_study_day for a in snapshot.animals if a.randomization_study_day),
            default=0,
        )
        target = int(plan["analysis_day"]) - first
        earlier = [d for d in sorted({d for _, d in days}) if d <= target]
        day = earlier[-1] if earlier else min(d for _, d in days)
        return day, f"day {day} since treatment start (plan: {_plan_day_text(plan)})"
    control = next((a.pk for a in snapshot.arms if a.is_control), None)
    analysed = _analysed_animals(snapshot)
    controls = {a.pk for a in analysed if a.arm_pk == control}
    measured: dict[int, set[int]] = defaultdict(set)
    for animal_pk, day in days:
        measured[day].add(animal_pk)
    complete = [d for d in sorted(measured) if controls and controls <= measured[d]]
    if not complete:
        return None, "the engine's default (no day with every control animal measured)"
    return complete[-1], f"day {complete[-1]} since treatment start (plan: {_plan_day_text(plan)})"


def plan_differences(
    study: Study, snapshot: RunSnapshot, options: ReportOptions
) -> tuple[str, ...]:
    """One sentence per option that differs from the approved analysis plan."""
    plan = plan_options(study, snapshot)
    differences: list[str] = []
    if options.analysis_day is not None:
        planned_day, _ = resolve_analysis_day(study, snapshot, plan)
        if planned_day != options.analysis_day:
            differences.append(
                f"analysis day: plan {_plan_day_text(approved_plan(study, snapshot))}"
                + (f" (day {planned_day} since treatment start)" if planned_day is not None else "")
                + f", used day {options.analysis_day} since treatment start"
            )
    if options.tgi_definition != plan.tgi_definition:
        differences.append(
            f"TGI definition: plan {TGI_LABELS[plan.tgi_definition]}, "
            f"used {TGI_LABELS[options.tgi_definition]}"
        )
    if options.dropout != plan.dropout:
        differences.append(
            f"dropout policy: plan {DROPOUT_LABELS[plan.dropout]}, "
            f"used {DROPOUT_LABELS[options.dropout]}"
        )
    if options.synergy_model != plan.synergy_model:
        differences.append(
            f"synergy model: plan {SYNERGY_LABELS[plan.synergy_model]}, "
            f"used {SYNERGY_LABELS[options.synergy_model]}"
        )
    return tuple(differences)


# --------------------------------------------------------------------------------------------
# Building the ReportInput


def _analysed_animals(snapshot: RunSnapshot) -> list[AnimalFact]:
    """Randomized, non-satellite animals not excluded: the efficacy population."""
    return [
        a
        for a in snapshot.animals
        if a.arm_pk is not None and not a.is_satellite and a.status != AnimalStatus.EXCLUDED
    ]


def _treatment_offset(animal: AnimalFact, day0: dt.date) -> int:
    assert animal.treatment_start is not None
    return (dt.date.fromisoformat(animal.treatment_start) - day0).days


def _growth_days(snapshot: RunSnapshot) -> list[tuple[int, int]]:
    """(animal pk, days since treatment start) of every injected-tumour reading analysed."""
    day0 = dt.date.fromisoformat(snapshot.day0)
    offsets = {a.pk: _treatment_offset(a, day0) for a in _analysed_animals(snapshot)}
    return [
        (animal, day - offsets[animal])
        for animal, role, day, _ in snapshot.caliper
        if role == TumourRole.INJECTED and animal in offsets and day >= offsets[animal]
    ]


def software_versions() -> tuple[tuple[str, str], ...]:
    """Vivolog and the libraries whose versions can change a report's numbers or layout."""
    versions = [("vivolog", settings.VIVOLOG_VERSION), ("python", platform.python_version())]
    for package in ("numpy", "scipy", "statsmodels", "pandas", "weasyprint", "openpyxl"):
        try:
            versions.append((package, importlib.metadata.version(package)))
        except importlib.metadata.PackageNotFoundError:
            continue
    versions.append(("numpy runtime", np.__version__))
    return tuple(versions)


def _arrive_items(
    study: Study, snapshot: RunSnapshot, analysed: list[AnimalFact]
) -> tuple[rm.ArriveItem, ...]:
    from labnotes.reports.synthetic import ARRIVE_ESSENTIAL_10

    control = next((a for a in snapshot.arms if a.is_control), None)
    planned = ", ".join(str(a.planned_n) for a in snapshot.arms)
    methods = sorted({b.method for b in snapshot.batches})
    exclusions = sum(1 for a in snapshot.animals if a.status == AnimalStatus.EXCLUDED)
    animal_text = ", ".join(
        part
        for part in (
            study.species,
            study.strain,
            study.substrain,
            study.get_sex_display().lower(),
            f"{study.age_weeks_min}–{study.age_weeks_max} weeks"
            if study.age_weeks_min and study.age_weeks_max
            else "",
            f"from {study.vendor}" if study.vendor else "",
            f"tumour model {study.cell_line}" if study.cell_line else "",
            study.cell_line_rrid,
        )
        if part
    )
    texts: dict[str, str | None] = {
        "1": (
            f"{len(snapshot.arms)} arms"
            + (" with a control arm" if control else "")
            + "; the experimental unit is the animal."
        ),
        "2": None,  # the justification of the sample size is not structured data
        "3": (
            f"Randomized animals that left the study are described in the animal flow; "
            f"{exclusions} animal(s) excluded, each with its reason. Satellites are not "
            "analysed for efficacy."
        ),
        "4": (
            f"{len(snapshot.batches)} batch(es) by {', '.join(methods)} with recorded seeds."
            if snapshot.batches
            else None
        ),
        "5": (
            "Technicians recording measurements saw arm codes only (blinded design)."
            if study.blinded
            else None
        ),
        "6": study.primary_outcome or None,
        "7": "Pre-specified analysis plan; methods section lists the formulas and software.",
        "8": animal_text or None,
        "9": f"Arms and regimens in schedule notation; planned n per arm {planned}.",
        "10": f"{len(analysed)} animals analysed; per-arm results in the sections below.",
    }
    return tuple(
        rm.ArriveItem(number, item, texts.get(number)) for number, item in ARRIVE_ESSENTIAL_10
    )


def _dosing_welfare_necropsy(
    snapshot: RunSnapshot, names: dict[int, str], randomized: dict[int, AnimalFact]
) -> tuple[tuple[rm.DosingArm, ...], tuple[rm.WelfareArm, ...], tuple[rm.NecropsyRow, ...]]:
    """Per-arm dosing compliance and welfare, and the necropsy rows, of randomized animals
    (satellites included). Arms without any record of a kind are absent from that kind."""
    from labnotes.models import DeviationKind, DoseOutcome, EndpointCause, ModificationKind

    arm_of = {pk: a.arm_pk for pk, a in randomized.items()}
    order = [a.pk for a in snapshot.arms]
    dosing: list[rm.DosingArm] = []
    welfare: list[rm.WelfareArm] = []
    deviation_text = dict(DeviationKind.choices)
    cause_text = dict(EndpointCause.choices)
    for arm_pk in order:
        doses = [d for d in snapshot.doses if arm_of.get(d[0]) == arm_pk]
        modifications = [m for m in snapshot.modifications if arm_of.get(m[0]) == arm_pk]
        if doses or modifications:
            deviations: dict[str, int] = defaultdict(int)
            for _, _, kinds in doses:
                for kind in kinds:
                    deviations[deviation_text.get(kind, kind)] += 1
            dosing.append(
                rm.DosingArm(
                    arm=names[arm_pk],
                    animals=len({d[0] for d in doses}),
                    given=sum(1 for d in doses if d[1] == DoseOutcome.GIVEN),
                    missed=sum(1 for d in doses if d[1] == DoseOutcome.MISSED),
                    deviations=tuple(
                        rm.CountWithReason(k, n) for k, n in sorted(deviations.items())
                    ),
                    holds=sum(1 for m in modifications if m[1] == ModificationKind.HOLD),
                    reductions=sum(1 for m in modifications if m[1] == ModificationKind.REDUCE),
                    skips=sum(1 for m in modifications if m[1] == ModificationKind.SKIP),
                )
            )
        endpoints = [e for e in snapshot.endpoints if arm_of.get(e[0]) == arm_pk]
        episodes = [e for e in snapshot.episodes if arm_of.get(e[0]) == arm_pk]
        if endpoints or episodes:
            causes: dict[str, int] = defaultdict(int)
            for _, cause, _ in endpoints:
                causes[cause_text.get(cause, cause)] += 1
            welfare.append(
                rm.WelfareArm(
                    arm=names[arm_pk],
                    endpoints_by_cause=tuple(
                        rm.CountWithReason(c, n) for c, n in sorted(causes.items())
                    ),
                    found_dead=sum(1 for e in endpoints if e[1] == EndpointCause.FOUND_DEAD),
                    hours_to_euthanasia=tuple(sorted(float(e[1]) for e in episodes)),
                    over_24_hours=sum(1 for e in episodes if e[2]),
                )
            )
    rank = {pk: k for k, pk in enumerate(order)}
    necropsy = tuple(
        rm.NecropsyRow(
            animal=randomized[animal].tag,
            group=names[randomized[animal].arm_pk],  # type: ignore[index]
            study_day=day,
            terminal_body_weight_g=float(weight) if weight else None,
            tumour_weight_mg=float(tumour) if tumour else None,
            tumours_weighed=weighed,
        )
        for animal, day, weight, tumour, weighed in sorted(
            (n for n in snapshot.necropsies if n[0] in randomized),
            key=lambda n: (rank[randomized[n[0]].arm_pk], randomized[n[0]].tag),  # type: ignore[index]
        )
    )
    return tuple(dosing), tuple(welfare), necropsy


def build_report_input(
    *,
    run: StudyRun,
    snapshot: RunSnapshot,
    kind: str,
    blinded: bool,
    options: ReportOptions,
    generated_by: str,
    generated_at: dt.datetime,
    bootstrap_resamples: int = 2000,
    keep_survival_without_events: bool = False,
) -> rm.ReportInput:
    """The ``ReportInput`` of one report of ``run`` from its ``snapshot``.

    The blinded variant names arms by code and carries no regimen; every other name in it
    (animal tags, causes) is what a blinded member may see anyway. Raises ReportDataError when
    no animal has been randomized yet (there is nothing per arm to report).
    """
    study = run.study
    day0 = dt.date.fromisoformat(snapshot.day0)
    names = {a.pk: (a.code if blinded else a.label) for a in snapshot.arms}
    code_to_name = {a.code: names[a.pk] for a in snapshot.arms}
    analysed = _analysed_animals(snapshot)
    if not analysed:
        raise ReportDataError(
            f"Run {run.code} has no randomized animals yet: a report needs at least one arm "
            "with animals. Randomize the run first."
        )
    by_pk = {a.pk: a for a in analysed}
    offsets = {a.pk: _treatment_offset(a, day0) for a in analysed}
    survival_by_pk = {s.animal_pk: s for s in snapshot.survival}
    arms = tuple(
        rm.Arm(names[a.pk], a.is_control, a.planned_n, "" if blinded else a.regimen)
        for a in snapshot.arms
    )
    animals: list[rm.Animal] = []
    for a in analysed:
        assert a.arm_pk is not None and a.randomization_study_day is not None
        record = survival_by_pk.get(a.pk)
        left = a.status not in (AnimalStatus.ON_STUDY,)
        cause = (record.cause or None) if record else (a.status_reason or None if left else None)
        exit_day: float | None = None
        if left and a.status_date is not None:
            exit_day = float((dt.date.fromisoformat(a.status_date) - day0).days - offsets[a.pk])
        animals.append(
            rm.Animal(
                a.tag,
                names[a.arm_pk],
                a.randomization_study_day,
                _STATUS_TEXT.get(a.status, a.status),
                cause.replace("_", " ") if cause else None,
                exit_day,
            )
        )
    growth = tuple(
        rm.GrowthRow(
            by_pk[animal].tag,
            names[by_pk[animal].arm_pk],  # type: ignore[index]
            float(day - offsets[animal]),
            float(volume),
            "injected" if role == TumourRole.INJECTED else "contralateral",
        )
        for animal, role, day, volume in snapshot.caliper
        if animal in by_pk
        and role in (TumourRole.INJECTED, TumourRole.CONTRALATERAL)
        and day >= offsets[animal]
    )
    body_weight = tuple(
        rm.BodyWeightRow(
            by_pk[animal].tag,
            names[by_pk[animal].arm_pk],  # type: ignore[index]
            float(day - offsets[animal]),
            float(weight),
        )
        for animal, day, weight in snapshot.weights
        if animal in by_pk and day >= offsets[animal]
    )
    arm_rank = {a.pk: k for k, a in enumerate(snapshot.arms)}
    survival_facts = sorted(
        (s for s in snapshot.survival if s.animal_pk in by_pk and not s.excluded),
        key=lambda s: (arm_rank[by_pk[s.animal_pk].arm_pk], by_pk[s.animal_pk].tag),  # type: ignore[index]
    )
    survival = tuple(
        rm.SurvivalRow(
            by_pk[s.animal_pk].tag,
            names[by_pk[s.animal_pk].arm_pk],  # type: ignore[index]
            float(max(s.days, 0)),
            1 if s.event else 0,
            s.cause.replace("_", " ") if s.cause else ("" if s.event else "censored"),
        )
        for s in survival_facts
    )
    all_randomized = {a.pk: a for a in snapshot.animals if a.arm_pk is not None}
    assays = tuple(
        rm.AssayRow(
            assay,  # type: ignore[arg-type]
            analyte,
            all_randomized[animal].tag,
            names[all_randomized[animal].arm_pk],  # type: ignore[index]
            float(value),
            unit,
            study_day,
            timing,  # type: ignore[arg-type]
            tissue,
            sample,
        )
        for assay, analyte, animal, value, unit, study_day, timing, tissue, sample in (
            snapshot.assays
        )
        if animal in all_randomized
    )
    dosing, welfare, necropsy = _dosing_welfare_necropsy(snapshot, names, all_randomized)
    # Survival needs at least one event to compare arms; before any, the section is absent.
    if not any(row.event for row in survival) and not keep_survival_without_events:
        survival = ()
    analysis_day, _ = resolve_analysis_day(study, snapshot, options)
    quad = synergy_arms(snapshot) if options.synergy_model != "none" else None
    engine_options = rm.AnalysisOptions(
        analysis_day=float(analysis_day) if analysis_day is not None else None,
        tgi_definition=options.tgi_definition,
        dropout=options.dropout,
        synergy_model=_SYNERGY_ENGINE[options.synergy_model][0],
        synergy_reference=_SYNERGY_ENGINE[options.synergy_model][1],
        synergy_arms=rm.SynergyArms(*(names[a.pk] for a in quad)) if quad else None,
        bootstrap_resamples=bootstrap_resamples,
    )
    differences = plan_differences(study, snapshot, options)
    excluded_reasons: dict[str, int] = defaultdict(int)
    for a in snapshot.animals:
        if a.status == AnimalStatus.EXCLUDED:
            when = "after" if a.arm_pk is not None else "before"
            excluded_reasons[f"{a.status_reason or 'no reason given'} ({when} randomization)"] += 1
    endpoint_causes: dict[str, int] = defaultdict(int)
    for row in survival or tuple(
        rm.SurvivalRow("", "", 0, 1, s.cause) for s in snapshot.survival if s.event
    ):
        if row.event:
            endpoint_causes[row.cause] += 1
    flow = rm.AnimalFlow(
        received=len(snapshot.animals),
        implanted=sum(1 for a in snapshot.animals if a.implanted),
        enrolled=sum(1 for a in snapshot.animals if a.arm_pk is not None),
        randomized=sum(1 for a in snapshot.animals if a.arm_pk is not None and not a.is_satellite),
        excluded=tuple(rm.CountWithReason(r, n) for r, n in sorted(excluded_reasons.items())),
        satellite=sum(1 for a in snapshot.animals if a.is_satellite),
        endpoint_by_cause=tuple(
            rm.CountWithReason(c, n) for c, n in sorted(endpoint_causes.items())
        ),
        analysed=len(analysed),
    )
    batches = tuple(
        rm.RandomizationBatchInfo(
            number=b.number,
            study_day=(dt.date.fromisoformat(b.randomized_on) - day0).days,
            method=b.method,
            seed=b.seed,
            animals=b.animals,
            balance=tuple(
                rm.BalanceRow(
                    code_to_name.get(str(row.get("arm_code")), str(row.get("arm_code"))),
                    int(row.get("n") or 0),
                    COVARIATE_LABELS.get(covariate, covariate.replace("_", " ")),
                    row.get(f"{covariate}_mean"),
                    row.get(f"{covariate}_sd"),
                )
                for row in b.balance.get("arms", [])
                for covariate in sorted(
                    key[: -len("_mean")] for key in row if key.endswith("_mean")
                )
                if str(row.get("arm_code")) in code_to_name
            ),
            largest_smd=tuple(
                (COVARIATE_LABELS.get(name, name), value)
                for name, value in sorted((b.balance.get("largest_smd") or {}).items())
            ),
        )
        for b in snapshot.batches
    )
    origin_text = {
        "first_treatment": "each animal's first treatment",
        "randomization": "each animal's randomization (treatment start)",
        "implantation": "implantation (the run's day 0)",
    }.get(snapshot.survival_origin, snapshot.survival_origin)
    return rm.ReportInput(
        study_code=study.code,
        study_title=study.title,
        run_code=run.code,
        day0=day0,
        kind="final" if kind == "final" else "interim",
        generated_by=generated_by,
        generated_at=generated_at,
        data_hash=data_hash(snapshot),
        arms=arms,
        animals=tuple(animals),
        options=engine_options,
        objective=study.objective,
        hypothesis=study.hypothesis,
        exploratory=bool(differences),
        plan_differences=differences,
        blinded=blinded,
        software_versions=software_versions(),
        growth=growth,
        body_weight=body_weight,
        survival=survival,
        assays=assays,
        dosing=dosing,
        welfare=welfare,
        necropsy=necropsy,
        survival_definition=(
            f"time from {origin_text} to a humane endpoint or death counted as an event by the "
            "design's survival definition; other animals are censored at their endpoint or at "
            "the last time they were seen"
        ),
        flow=flow,
        batches=batches,
        arrive=_arrive_items(study, snapshot, analysed),
        amendments=tuple(
            rm.LogEntry(dt.date.fromisoformat(e.date), e.text, e.reason, e.by)
            for e in snapshot.amendments
        ),
        corrections=tuple(
            rm.LogEntry(dt.date.fromisoformat(e.date), e.text, e.reason, e.by)
            for e in snapshot.corrections
            if e.date
        ),
        signatures=_signature_lines(run, study, data_hash(snapshot)),
        changes_after_lock=_changes_after_lock(run),
        deviations=_deviation_log(run, blinded),
        unblindings=_unblinding_log(run),
        qa_statement=_qa_statement(run),
    )


def _signature_lines(
    run: StudyRun, study: Study, report_data_hash: str
) -> tuple[rm.Signature, ...]:
    """The electronic signatures of the design, the run's randomizations and verified sheets,
    and of its reports on the same data (issue 10); the blank paper lines without any."""
    from labnotes.services.signed_records import run_signatures

    lines = tuple(
        rm.Signature(
            role=view.role,
            name=view.signer_name,
            signed_at=view.signed_at,
            meaning=view.meaning,
            record=view.signature.record_label,
            status="" if view.valid else view.status,
        )
        for view in run_signatures(run, study, report_data_hash)
    )
    if lines:
        return lines
    return (
        rm.Signature(
            "Study director", study.approved_by.get_username() if study.approved_by else ""
        ),
        rm.Signature("Quality assurance"),
    )


def _changes_after_lock(run: StudyRun) -> tuple[rm.LogEntry, ...]:
    from labnotes.services.locks import changes_after_lock

    return tuple(
        rm.LogEntry(
            change.at.date(),
            f"{change.action} of {change.table} #{change.object_id} at {change.at:%H:%M:%S} UTC",
            change.reason,
            change.who,
        )
        for change in changes_after_lock(run)
    )


def _deviation_log(run: StudyRun, blinded: bool) -> tuple[rm.LogEntry, ...]:
    """The run's deviation log (issue 10); a blinded report leaves out the entries raised from
    dose deviations, whose text can reveal the allocation."""
    from labnotes.models import Deviation, DeviationSource

    rows = Deviation.objects.filter(run=run).select_related("assessed_by", "detected_by")
    if blinded:
        rows = rows.exclude(source=DeviationSource.DOSE)
    return tuple(
        rm.LogEntry(
            d.occurred_on,
            f"{d.code} ({d.get_category_display()}): {d.description} "
            f"[{d.get_status_display().split(':')[0]}]",
            " ".join(
                part
                for part in (
                    f"Impact: {d.impact_assessment}" if d.impact_assessment else "",
                    f"Action: {d.corrective_action}" if d.corrective_action else "",
                )
                if part
            ),
            (d.assessed_by or d.detected_by).get_username(),
        )
        for d in rows.order_by("number")
    )


def _unblinding_log(run: StudyRun) -> tuple[rm.LogEntry, ...]:
    """The study's unblinding (study director) and the emergency unblindings of this run's
    animals (veterinarian): who, when, why. Never the arm: the record holds none."""
    from django.db.models import Q

    from labnotes.models import Unblinding, UnblindingScope

    rows = (
        Unblinding.objects.filter(study=run.study)
        .filter(Q(scope=UnblindingScope.STUDY) | Q(animal__run=run))
        .select_related("animal", "performed_by")
        .order_by("performed_at", "pk")
    )
    lab = run.study.lab
    return tuple(
        rm.LogEntry(
            lab.local_date(u.performed_at),
            (
                f"Emergency unblinding of animal {u.animal.tag}"
                if u.animal is not None
                else "Study unblinded by the study director"
                + (" (password re-entered)" if u.password_confirmed else "")
            ),
            u.reason,
            u.performed_by.get_username(),
        )
        for u in rows
    )


def _qa_statement(run: StudyRun) -> tuple[str, ...]:
    from labnotes.services.inspections import qa_statement_lines

    return tuple(qa_statement_lines(run))


# --------------------------------------------------------------------------------------------
# Reports pooling several runs of a study


def pooled_data_hash(snapshots: list[RunSnapshot]) -> str:
    """``sha256:<hex>`` over the runs' data hashes in run order: any run's change changes it."""
    text = json.dumps(
        [[s.run_pk, data_hash(s)] for s in sorted(snapshots, key=lambda s: s.run_pk)],
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def pooled_options_key(options: ReportOptions, run_pks: list[int]) -> str:
    """The options key of a pooled report: the options and the (sorted) runs it pools."""
    text = json.dumps(
        {"options": options.as_json(), "runs": sorted(run_pks)},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _pooled_name(run_code: str, animal: str) -> str:
    # Tags restart in every run: the run code keeps pooled animals apart.
    return f"{run_code}/{animal}"


def _merge_counts(groups: list[tuple[rm.CountWithReason, ...]]) -> tuple[rm.CountWithReason, ...]:
    counts: dict[str, int] = defaultdict(int)
    for group in groups:
        for item in group:
            counts[item.reason] += item.count
    return tuple(rm.CountWithReason(reason, n) for reason, n in sorted(counts.items()))


def build_pooled_report_input(
    *,
    study: Study,
    runs: list[StudyRun],
    snapshots: list[RunSnapshot],
    kind: str,
    blinded: bool,
    options: ReportOptions,
    generated_by: str,
    generated_at: dt.datetime,
    bootstrap_resamples: int = 2000,
) -> rm.ReportInput:
    """One ``ReportInput`` pooling ``runs`` of ``study`` (same design, same arms).

    Each run's input is built as for a run report, then pooled: animals are named
    ``<run code>/<tag>`` and carry their run (the stratum of the log-rank test and the random
    effect of the mixed model, :mod:`labnotes.reports.pooled`); days stay days since each
    animal's treatment start. The analysis day is the chosen one, else the earliest day the
    plan's rule gives in any run (every run contributes animals on it). Counts (animal flow,
    dosing, welfare) are summed per arm. Raises ReportDataError naming the run without
    randomized animals.
    """
    if len(runs) < 2:
        raise ReportDataError("A pooled report needs at least two runs of the study.")
    per_run: list[tuple[StudyRun, rm.ReportInput]] = []
    days: list[int] = []
    for snapshot in snapshots:
        day, _ = resolve_analysis_day(study, snapshot, options)
        if day is not None:
            days.append(day)
    pooled_options = (
        options
        if options.analysis_day is not None or not days
        else ReportOptions(
            analysis_day=min(days),
            tgi_definition=options.tgi_definition,
            dropout=options.dropout,
            synergy_model=options.synergy_model,
        )
    )
    for run, snapshot in zip(runs, snapshots, strict=True):
        per_run.append(
            (
                run,
                build_report_input(
                    run=run,
                    snapshot=snapshot,
                    kind=kind,
                    blinded=blinded,
                    options=pooled_options,
                    generated_by=generated_by,
                    generated_at=generated_at,
                    bootstrap_resamples=bootstrap_resamples,
                    keep_survival_without_events=True,
                ),
            )
        )
    first = per_run[0][1]

    def renamed(items: tuple[Any, ...], code: str, attribute: str) -> list[Any]:
        from dataclasses import replace

        return [
            replace(item, **{attribute: _pooled_name(code, getattr(item, attribute))})
            for item in items
        ]

    from dataclasses import replace

    animals: list[rm.Animal] = []
    growth: list[rm.GrowthRow] = []
    body_weight: list[rm.BodyWeightRow] = []
    survival: list[rm.SurvivalRow] = []
    assays: list[rm.AssayRow] = []
    necropsy: list[rm.NecropsyRow] = []
    corrections: list[rm.LogEntry] = []
    unblindings: list[rm.LogEntry] = []
    batches: list[rm.RandomizationBatchInfo] = []
    for run, report in per_run:
        animals += [
            replace(a, animal_id=_pooled_name(run.code, a.animal_id), run=run.code)
            for a in report.animals
        ]
        growth += renamed(report.growth, run.code, "animal")
        body_weight += renamed(report.body_weight, run.code, "animal")
        survival += renamed(report.survival, run.code, "animal")
        assays += renamed(report.assays, run.code, "animal")
        necropsy += renamed(report.necropsy, run.code, "animal")
        corrections += [replace(c, text=f"{run.code}: {c.text}") for c in report.corrections]
        # The study's own unblinding is in every run's report: listed once.
        unblindings += [
            u if u.text.startswith("Study") else replace(u, text=f"{run.code}: {u.text}")
            for u in report.unblindings
            if not (u.text.startswith("Study") and u in unblindings)
        ]
        batches += list(report.batches)
    flows = [r.flow for _, r in per_run if r.flow is not None]
    flow = (
        rm.AnimalFlow(
            received=sum(f.received for f in flows),
            implanted=sum(f.implanted for f in flows),
            enrolled=sum(f.enrolled for f in flows),
            randomized=sum(f.randomized for f in flows),
            excluded=_merge_counts([f.excluded for f in flows]),
            satellite=sum(f.satellite for f in flows),
            endpoint_by_cause=_merge_counts([f.endpoint_by_cause for f in flows]),
            analysed=sum(f.analysed for f in flows),
        )
        if flows
        else None
    )
    dosing: list[rm.DosingArm] = []
    welfare: list[rm.WelfareArm] = []
    for arm in first.arm_names:
        doses = [d for _, r in per_run for d in r.dosing if d.arm == arm]
        if doses:
            dosing.append(
                rm.DosingArm(
                    arm=arm,
                    animals=sum(d.animals for d in doses),
                    given=sum(d.given for d in doses),
                    missed=sum(d.missed for d in doses),
                    deviations=_merge_counts([d.deviations for d in doses]),
                    holds=sum(d.holds for d in doses),
                    reductions=sum(d.reductions for d in doses),
                    skips=sum(d.skips for d in doses),
                )
            )
        cares = [w for _, r in per_run for w in r.welfare if w.arm == arm]
        if cares:
            welfare.append(
                rm.WelfareArm(
                    arm=arm,
                    endpoints_by_cause=_merge_counts([w.endpoints_by_cause for w in cares]),
                    found_dead=sum(w.found_dead for w in cares),
                    hours_to_euthanasia=tuple(
                        sorted(h for w in cares for h in w.hours_to_euthanasia)
                    ),
                    over_24_hours=sum(w.over_24_hours for w in cares),
                )
            )
    # Survival is reported once any run has an event; a run without events still counts.
    if not any(row.event for row in survival):
        survival = []
    return replace(
        first,
        run_code=" + ".join(run.code for run, _ in per_run),
        day0=min(r.day0 for _, r in per_run),
        data_hash=pooled_data_hash(snapshots),
        options=replace(first.options, analysis_day=first.options.analysis_day),
        plan_differences=plan_differences(study, snapshots[0], options),
        exploratory=bool(plan_differences(study, snapshots[0], options)),
        animals=tuple(animals),
        growth=tuple(growth),
        body_weight=tuple(body_weight),
        survival=tuple(survival),
        assays=tuple(assays),
        necropsy=tuple(necropsy),
        dosing=tuple(dosing),
        welfare=tuple(welfare),
        flow=flow,
        batches=tuple(batches),
        corrections=tuple(corrections),
        unblindings=tuple(sorted(unblindings, key=lambda u: u.date)),
    )


__all__ = [
    "NOT_YET_FED",
    "ReportDataError",
    "ReportOptions",
    "RunSnapshot",
    "approved_plan",
    "build_pooled_report_input",
    "build_report_input",
    "current_data_hash",
    "data_hash",
    "plan_differences",
    "plan_options",
    "pooled_data_hash",
    "pooled_options_key",
    "resolve_analysis_day",
    "snapshot_run",
    "software_versions",
]
