# ruff: noqa: RUF002 - the TGI formulas use the minus sign.
"""The survival definition and the analysis plan of a study design: defaults and validation.

Both are stored as JSON on the study and fixed when the design is approved, so that the
analysis is decided before anyone sees the data (reports call the approved plan "final").

Survival definition::

    {"time_origin": "first_treatment" | "randomization" | "implantation",
     "causes": {"<endpoint cause>": "event" | "censored", ...}}

Default time origin: each animal's first treatment day. Default mapping of endpoint causes,
following the usual reading of a tumour-efficacy study ("time until the tumour, or the disease
it causes, ends the animal's participation"):

* events — tumour volume, tumour diameter, weight loss, clinical score, moribund, found dead:
  the tumour burden or the disease it causes;
* censored — ulceration (a property of the tumour surface, not of its burden; counted as an
  event it would reward treatments that merely delay ulceration), treatment toxicity (answered
  by the safety analysis, not efficacy), accident, scheduled sacrifice (satellites and planned
  takedowns) and missing animals: the animal left the study for a reason unrelated to tumour
  progression, known to be event-free until then.

Analysis plan::

    {"primary_endpoint": "tumour_volume" | "survival" | "tgi",
     "analysis_day_rule": "last_day_all_control_alive" | "fixed_day",
     "analysis_day": int | null,          # required with "fixed_day"
     "tgi_definition": "delta_volume" | "final_volume",
     "dropout_policy": "exclude_after_dropout" | "last_observation_carried_forward"
                       | "mixed_model",
     "contrasts": [{"treatment": "<arm label>", "reference": "<arm label>"}, ...],
     "synergy_model": "bliss" | "hsa" | "none",
     "alpha": 0.05}

TGI definitions: ``delta_volume`` TGI = 1 − (T_t − T_0)/(C_t − C_0) (mean volumes of the
treated and control arm at the analysis day t and at baseline 0); ``final_volume``
TGI = 1 − T_t/C_t. Default contrasts: each arm against the control, and each combination arm
(two or more active agents) against each of its single agents when that arm exists; the synergy
model defaults to Bliss independence when such a combination exists, else none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from planner.domain.errors import NON_FIELD, ParameterErrors


class TimeOrigin(StrEnum):
    FIRST_TREATMENT = "first_treatment"
    RANDOMIZATION = "randomization"
    IMPLANTATION = "implantation"


class EndpointCause(StrEnum):
    TUMOUR_VOLUME = "tumour_volume"
    TUMOUR_DIAMETER = "tumour_diameter"
    WEIGHT_LOSS = "weight_loss"
    CLINICAL_SCORE = "clinical_score"
    ULCERATION = "ulceration"
    MORIBUND = "moribund"
    FOUND_DEAD = "found_dead"
    TREATMENT_TOXICITY = "treatment_toxicity"
    ACCIDENT = "accident"
    SCHEDULED_SACRIFICE = "scheduled_sacrifice"
    MISSING = "missing"


class Outcome(StrEnum):
    EVENT = "event"
    CENSORED = "censored"


DEFAULT_EVENT_CAUSES: frozenset[EndpointCause] = frozenset(
    {
        EndpointCause.TUMOUR_VOLUME,
        EndpointCause.TUMOUR_DIAMETER,
        EndpointCause.WEIGHT_LOSS,
        EndpointCause.CLINICAL_SCORE,
        EndpointCause.MORIBUND,
        EndpointCause.FOUND_DEAD,
    }
)


class PrimaryEndpoint(StrEnum):
    TUMOUR_VOLUME = "tumour_volume"
    SURVIVAL = "survival"
    TGI = "tgi"


class AnalysisDayRule(StrEnum):
    LAST_DAY_ALL_CONTROL_ALIVE = "last_day_all_control_alive"
    FIXED_DAY = "fixed_day"


class TgiDefinition(StrEnum):
    DELTA_VOLUME = "delta_volume"
    FINAL_VOLUME = "final_volume"


class DropoutPolicy(StrEnum):
    EXCLUDE_AFTER_DROPOUT = "exclude_after_dropout"
    LAST_OBSERVATION_CARRIED_FORWARD = "last_observation_carried_forward"
    MIXED_MODEL = "mixed_model"


class SynergyModel(StrEnum):
    BLISS = "bliss"
    HSA = "hsa"
    NONE = "none"


@dataclass(frozen=True)
class ArmSummary:
    """What the default plan needs to know of an arm: its label, control flag, active agents."""

    label: str
    is_control: bool
    agents: frozenset[str]


def default_survival_definition() -> dict[str, object]:
    """The default survival definition (see the module docstring)."""
    return {
        "time_origin": TimeOrigin.FIRST_TREATMENT.value,
        "causes": {
            cause.value: (
                Outcome.EVENT.value if cause in DEFAULT_EVENT_CAUSES else Outcome.CENSORED.value
            )
            for cause in EndpointCause
        },
    }


def _choice(
    data: Mapping[str, object],
    name: str,
    enum: type[StrEnum],
    default: StrEnum,
    errors: dict[str, list[str]],
) -> str:
    raw = data.get(name, default.value)
    if raw in (None, ""):
        return default.value
    try:
        return enum(cast(str, raw)).value
    except ValueError:
        choices = ", ".join(choice.value for choice in enum)
        errors.setdefault(name, []).append(f"'{raw}' is not one of: {choices}")
        return default.value


def _unknown_keys(
    data: Mapping[str, object], known: set[str], errors: dict[str, list[str]], prefix: str = ""
) -> None:
    for key in data:
        if key not in known:
            errors.setdefault(f"{prefix}{key}", []).append(
                "is not part of this definition (check the spelling)"
            )


def parse_survival_definition(data: Mapping[str, object] | None) -> dict[str, object]:
    """Validate a survival definition; missing parts take the defaults. Raises ParameterErrors.

    Returns the complete definition (every cause mapped), ready to store.
    """
    data = data or {}
    errors: dict[str, list[str]] = {}
    if not isinstance(data, Mapping):
        raise ParameterErrors({NON_FIELD: ["the survival definition must be an object"]})
    _unknown_keys(data, {"time_origin", "causes"}, errors)
    origin = _choice(data, "time_origin", TimeOrigin, TimeOrigin.FIRST_TREATMENT, errors)
    causes = dict(default_survival_definition()["causes"])  # type: ignore[call-overload]
    given = data.get("causes") or {}
    if not isinstance(given, Mapping):
        errors.setdefault("causes", []).append("must map each endpoint cause to event or censored")
        given = {}
    for cause, outcome in given.items():
        try:
            EndpointCause(cause)
        except ValueError:
            known = ", ".join(item.value for item in EndpointCause)
            errors.setdefault(f"causes.{cause}", []).append(
                f"'{cause}' is not an endpoint cause (causes: {known})"
            )
            continue
        if outcome not in (Outcome.EVENT.value, Outcome.CENSORED.value):
            errors.setdefault(f"causes.{cause}", []).append(
                f"'{outcome}' must be 'event' or 'censored'"
            )
            continue
        causes[cause] = outcome
    if not errors and Outcome.EVENT.value not in causes.values():
        errors.setdefault("causes", []).append(
            "no cause counts as an event: survival would have no events to analyse"
        )
    if errors:
        raise ParameterErrors(errors)
    return {"time_origin": origin, "causes": causes}


def default_contrasts(arms: Sequence[ArmSummary]) -> list[dict[str, str]]:
    """Each arm against the control; each combination against each of its single agents."""
    contrasts: list[dict[str, str]] = []
    control = next((arm for arm in arms if arm.is_control), None)
    if control is not None:
        contrasts += [
            {"treatment": arm.label, "reference": control.label}
            for arm in arms
            if arm is not control
        ]
    for arm in arms:
        if len(arm.agents) < 2:
            continue
        for single in arms:
            if len(single.agents) == 1 and single.agents <= arm.agents:
                contrasts.append({"treatment": arm.label, "reference": single.label})
    return contrasts


def has_factorial_combination(arms: Sequence[ArmSummary]) -> bool:
    """True when some arm combines two agents each of which also has its own arm."""
    singles = {next(iter(arm.agents)) for arm in arms if len(arm.agents) == 1}
    return any(len(arm.agents) >= 2 and arm.agents <= singles for arm in arms) and any(
        arm.is_control for arm in arms
    )


def default_analysis_plan(arms: Sequence[ArmSummary]) -> dict[str, object]:
    """The default analysis plan for these arms (see the module docstring)."""
    return {
        "primary_endpoint": PrimaryEndpoint.TUMOUR_VOLUME.value,
        "analysis_day_rule": AnalysisDayRule.LAST_DAY_ALL_CONTROL_ALIVE.value,
        "analysis_day": None,
        "tgi_definition": TgiDefinition.DELTA_VOLUME.value,
        "dropout_policy": DropoutPolicy.EXCLUDE_AFTER_DROPOUT.value,
        "contrasts": default_contrasts(arms),
        "synergy_model": (
            SynergyModel.BLISS.value if has_factorial_combination(arms) else SynergyModel.NONE.value
        ),
        "alpha": 0.05,
    }


_PLAN_KEYS = {
    "primary_endpoint",
    "analysis_day_rule",
    "analysis_day",
    "tgi_definition",
    "dropout_policy",
    "contrasts",
    "synergy_model",
    "alpha",
}


def parse_analysis_plan(
    data: Mapping[str, object] | None, arm_labels: Sequence[str]
) -> dict[str, object]:
    """Validate an analysis plan against the design's arm labels. Raises ParameterErrors.

    Missing scalar settings take the defaults; contrasts must name existing, different arms.
    """
    data = data or {}
    if not isinstance(data, Mapping):
        raise ParameterErrors({NON_FIELD: ["the analysis plan must be an object"]})
    errors: dict[str, list[str]] = {}
    _unknown_keys(data, _PLAN_KEYS, errors)
    plan: dict[str, object] = {
        "primary_endpoint": _choice(
            data, "primary_endpoint", PrimaryEndpoint, PrimaryEndpoint.TUMOUR_VOLUME, errors
        ),
        "analysis_day_rule": _choice(
            data,
            "analysis_day_rule",
            AnalysisDayRule,
            AnalysisDayRule.LAST_DAY_ALL_CONTROL_ALIVE,
            errors,
        ),
        "tgi_definition": _choice(
            data, "tgi_definition", TgiDefinition, TgiDefinition.DELTA_VOLUME, errors
        ),
        "dropout_policy": _choice(
            data, "dropout_policy", DropoutPolicy, DropoutPolicy.EXCLUDE_AFTER_DROPOUT, errors
        ),
        "synergy_model": _choice(data, "synergy_model", SynergyModel, SynergyModel.NONE, errors),
    }
    day = data.get("analysis_day")
    if day in ("", None):
        day = None
    elif (
        isinstance(day, bool)
        or not isinstance(day, (int, str))
        or not str(day).lstrip("-").isdigit()
    ):
        errors.setdefault("analysis_day", []).append(f"must be a whole study day, not {day!r}")
        day = None
    else:
        day = int(day)
        if day < 1:
            errors.setdefault("analysis_day", []).append("must be day 1 or later")
    if plan["analysis_day_rule"] == AnalysisDayRule.FIXED_DAY.value and day is None:
        errors.setdefault("analysis_day", []).append("give the study day of the analysis")
    if plan["analysis_day_rule"] != AnalysisDayRule.FIXED_DAY.value and day is not None:
        errors.setdefault("analysis_day", []).append("only used with the rule 'fixed_day'")
    plan["analysis_day"] = day
    alpha = data.get("alpha", 0.05)
    try:
        alpha_value = float(alpha)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        errors.setdefault("alpha", []).append(f"must be a number, not {alpha!r}")
        alpha_value = 0.05
    if not 0 < alpha_value <= 0.5:
        errors.setdefault("alpha", []).append("must be greater than 0 and at most 0.5")
    plan["alpha"] = alpha_value
    contrasts: list[dict[str, str]] = []
    raw_contrasts = data.get("contrasts") or []
    if not isinstance(raw_contrasts, list):
        errors.setdefault("contrasts", []).append("must be a list of treatment/reference pairs")
        raw_contrasts = []
    labels = set(arm_labels)
    for index, raw in enumerate(raw_contrasts):
        where = f"contrasts[{index}]"
        if not isinstance(raw, Mapping) or set(raw) != {"treatment", "reference"}:
            errors.setdefault(where, []).append("give exactly a treatment and a reference arm")
            continue
        treatment, reference = str(raw["treatment"]), str(raw["reference"])
        for name, value in (("treatment", treatment), ("reference", reference)):
            if value not in labels:
                known = ", ".join(sorted(labels)) or "none yet"
                errors.setdefault(f"{where}.{name}", []).append(
                    f"'{value}' is not an arm of this design (arms: {known})"
                )
        if treatment == reference:
            errors.setdefault(where, []).append("an arm cannot be compared with itself")
        pair = {"treatment": treatment, "reference": reference}
        if pair in contrasts:
            errors.setdefault(where, []).append("this contrast is listed twice")
        contrasts.append(pair)
    plan["contrasts"] = contrasts
    if errors:
        raise ParameterErrors(errors)
    return plan
