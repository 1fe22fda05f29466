"""Typed, validated parameters for each protocol kind.

One frozen dataclass per kind of protocol template. ``from_dict`` reads the stored JSON (or a
form's cleaned data), validates every field and raises
:class:`~planner.domain.errors.ParameterErrors` with *all* problems at once, keyed by field
(nested: ``cell_line.rrid``, ``markers[2].clone``; cross-field: the field to correct, or
``__all__``). ``to_dict`` gives the JSON to store; ``from_dict(p.to_dict()) == p``. Unknown keys
are refused, so that a misspelt name or a wrong unit (``volume_ml`` for ``volume_ul``) is never
silently ignored. Units are part of every name (``volume_ul``, ``dose_mg_per_kg``,
``max_volume_mm3``); percentages are 0-100.

Science defaults and their sources:

* Mouse dosing volume limits (good-practice bolus volumes, mL/kg): PO 10, SC 10, IP 20, IV 5 —
  Diehl et al. 2001, J Appl Toxicol 21:15-23 ("A good practice guide to the administration of
  substances and removal of blood"). A protocol may set its own limit.
* Humane endpoints: tumour volume 2000 mm³, diameter 20 mm, weight loss 20 %, ulceration score 3
  (the project's science defaults). The ethics approval has the last word: a design may tighten
  its limits freely, loosening them needs an amendment (:func:`endpoint_limits_loosened`).
* Ulceration scale per tumour: 0 none, 1 scab, 2 open, 3 bleeding or infected; score ≥ 1 means
  daily checks including weekends, score 3 is an endpoint.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum, StrEnum
from typing import ClassVar, Literal, Self, TypeVar

from planner.domain.errors import NON_FIELD, DomainError, ParameterErrors
from planner.domain.schedule_notation import (
    ExplicitSchedule,
    IntervalSchedule,
    Schedule,
    WeekdaySchedule,
    parse_schedule,
)

# -- reading untrusted parameter dictionaries -----------------------------------------------
#
# Each read returns a value of the declared type; when the input is wrong it records a message
# under the field's path and returns a placeholder, and _Collector.finish() raises ParameterErrors
# if anything was recorded, so no placeholder ever reaches a constructed object. JSON null, blank
# text and an empty list count as absent.

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

_REQUIRED = "this field is required"
_UNKNOWN = "is not a parameter of this protocol (check the spelling and the unit in the name)"


class _Sentinel(Enum):
    MISSING = "missing"


_MISSING_VALUE: Literal[_Sentinel.MISSING] = _Sentinel.MISSING


def _number_text(value: float) -> str:
    """A number as a scientist would write it: ``2000`` not ``2000.0``, ``0.05`` not ``5e-02``."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number_text(value)
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


class _Collector:
    """Shared by the readers of one parameter set: the messages and every reader created."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.readers: list[_Reader] = []

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def root(self, data: object) -> _Reader:
        return _Reader(data, self, "")

    def has_errors(self, name: str) -> bool:
        """True when ``name`` or anything inside it (``name[0]``, ``name.x``) has a message."""
        return any(
            path == name or path.startswith((f"{name}[", f"{name}.")) for path in self.errors
        )

    def finish(self) -> None:
        """Report unknown keys of every reader, then raise if anything was recorded."""
        for reader in self.readers:
            for key in reader.data:
                if key not in reader.seen:
                    self.add(reader.path(str(key)), _UNKNOWN)
        if self.errors:
            raise ParameterErrors(self.errors)


class _Reader:
    """Reads the fields of one mapping; ``prefix`` is its path (``cell_line``, ``items[0]``)."""

    def __init__(
        self, data: object, collector: _Collector, prefix: str, *, muted: bool = False
    ) -> None:
        self.collector = collector
        self.prefix = prefix
        self.seen: set[str] = set()
        self.muted = muted
        collector.readers.append(self)
        if isinstance(data, Mapping):
            self.data: Mapping[object, object] = data
        else:
            self.data = {}
            where = prefix or NON_FIELD
            collector.add(where, f"must be an object of named values, not {_json_type(data)}")
            # The fields of a value that is not an object would all be "required": noise.
            self.muted = True

    def path(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def add(self, name: str, message: str) -> None:
        if not self.muted:
            self.collector.add(self.path(name), message)

    def has(self, name: str) -> bool:
        return self.raw(name) is not _MISSING_VALUE

    def raw(self, name: str) -> object:
        """The value for ``name``; ``_MISSING_VALUE`` if absent, null, blank text or empty list."""
        self.seen.add(name)
        value = self.data.get(name, _MISSING_VALUE)
        if value is None or (isinstance(value, str) and not value.strip()):
            return _MISSING_VALUE
        if isinstance(value, (list, tuple)) and not value:
            return _MISSING_VALUE
        return value

    # -- text -------------------------------------------------------------------------------

    def text(self, name: str, *, max_length: int = 200) -> str:
        value = self.optional_text(name, max_length=max_length, required=True)
        return value if value is not None else ""

    def optional_text(
        self, name: str, *, max_length: int = 200, required: bool = False
    ) -> str | None:
        raw = self.raw(name)
        if raw is _MISSING_VALUE:
            if required:
                self.add(name, _REQUIRED)
            return None
        if not isinstance(raw, str):
            self.add(name, f"must be text, not {_json_type(raw)}")
            return None
        value = " ".join(raw.split())
        if len(value) > max_length:
            self.add(name, f"must be at most {max_length} characters (it has {len(value)})")
            return None
        return value

    # -- numbers ----------------------------------------------------------------------------

    def _number(self, name: str, raw: object) -> float | None:
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            self.add(name, f"must be a number, not {_json_type(raw)}")
            return None
        if isinstance(raw, str):
            try:
                value = float(raw.strip())
            except ValueError:
                self.add(name, f"must be a number, not '{raw}'")
                return None
        else:
            value = float(raw)
        if not math.isfinite(value):
            self.add(name, f"must be a finite number, not {_json_type(raw)}")
            return None
        return value

    def _check_range(
        self,
        name: str,
        value: float,
        unit: str,
        minimum: float | None,
        above: float | None,
        maximum: float | None,
        below: float | None,
    ) -> bool:
        suffix = f" {unit}" if unit else ""
        if minimum is not None and value < minimum:
            self.add(name, f"must be at least {_number_text(minimum)}{suffix}")
            return False
        if above is not None and value <= above:
            self.add(name, f"must be greater than {_number_text(above)}{suffix}")
            return False
        if maximum is not None and value > maximum:
            self.add(name, f"must be at most {_number_text(maximum)}{suffix}")
            return False
        if below is not None and value >= below:
            self.add(name, f"must be less than {_number_text(below)}{suffix}")
            return False
        return True

    def optional_number(
        self,
        name: str,
        *,
        unit: str = "",
        minimum: float | None = None,
        above: float | None = None,
        maximum: float | None = None,
        below: float | None = None,
        required: bool = False,
    ) -> float | None:
        raw = self.raw(name)
        if raw is _MISSING_VALUE:
            if required:
                self.add(name, _REQUIRED)
            return None
        value = self._number(name, raw)
        if value is None or not self._check_range(
            name, value, unit, minimum, above, maximum, below
        ):
            return None
        return value

    def number(
        self,
        name: str,
        *,
        default: float | Literal[_Sentinel.MISSING] = _MISSING_VALUE,
        unit: str = "",
        minimum: float | None = None,
        above: float | None = None,
        maximum: float | None = None,
        below: float | None = None,
    ) -> float:
        if default is not _MISSING_VALUE and not self.has(name):
            return default
        value = self.optional_number(
            name,
            unit=unit,
            minimum=minimum,
            above=above,
            maximum=maximum,
            below=below,
            required=True,
        )
        return value if value is not None else 0.0

    def optional_integer(
        self,
        name: str,
        *,
        unit: str = "",
        minimum: int | None = None,
        maximum: int | None = None,
        required: bool = False,
    ) -> int | None:
        raw = self.raw(name)
        if raw is _MISSING_VALUE:
            if required:
                self.add(name, _REQUIRED)
            return None
        value = self._number(name, raw)
        if value is None:
            return None
        if not value.is_integer():
            self.add(name, f"must be a whole number, not {_json_type(raw)}")
            return None
        if not self._check_range(name, value, unit, minimum, None, maximum, None):
            return None
        return int(value)

    def integer(
        self,
        name: str,
        *,
        default: int | Literal[_Sentinel.MISSING] = _MISSING_VALUE,
        unit: str = "",
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        if default is not _MISSING_VALUE and not self.has(name):
            return default
        value = self.optional_integer(
            name, unit=unit, minimum=minimum, maximum=maximum, required=True
        )
        return value if value is not None else 0

    # -- other scalars ----------------------------------------------------------------------

    def boolean(self, name: str, *, default: bool) -> bool:
        raw = self.raw(name)
        if raw is _MISSING_VALUE:
            return default
        if not isinstance(raw, bool):
            self.add(name, f"must be true or false, not {_json_type(raw)}")
            return default
        return raw

    def optional_choice(self, name: str, choices: type[E], *, required: bool = False) -> E | None:
        raw = self.raw(name)
        if raw is _MISSING_VALUE:
            if required:
                self.add(name, _REQUIRED)
            return None
        return self._choice(name, raw, choices)

    def _choice(self, name: str, raw: object, choices: type[E]) -> E | None:
        for choice in choices:
            if isinstance(raw, str) and raw.strip().lower() == choice.value.lower():
                return choice
        allowed = ", ".join(choice.value for choice in choices)
        self.add(name, f"{_json_type(raw)} is not one of: {allowed}")
        return None

    def choice(
        self,
        name: str,
        choices: type[E],
        *,
        default: E | Literal[_Sentinel.MISSING] = _MISSING_VALUE,
    ) -> E:
        if default is not _MISSING_VALUE and not self.has(name):
            return default
        value = self.optional_choice(name, choices, required=True)
        return value if value is not None else next(iter(choices))

    # -- lists and nested objects -----------------------------------------------------------

    def items(self, name: str, *, required: bool = True) -> list[object] | None:
        """The raw list for ``name`` (``None`` when absent and not required, or not a list)."""
        raw = self.raw(name)
        if raw is _MISSING_VALUE:
            if required:
                self.add(name, _REQUIRED)
            return None
        if not isinstance(raw, (list, tuple)):
            self.add(name, f"must be a list, not {_json_type(raw)}")
            return None
        return list(raw)

    def text_list(
        self, name: str, *, required: bool = True, max_length: int = 200
    ) -> tuple[str, ...]:
        """Non-blank, distinct (ignoring case) text items, each reported at ``name[i]``."""
        values: list[str] = []
        for index, raw in enumerate(self.items(name, required=required) or []):
            where = f"{name}[{index}]"
            if not isinstance(raw, str):
                self.add(where, f"must be text, not {_json_type(raw)}")
                continue
            value = " ".join(raw.split())
            if not value:
                self.add(where, "must not be blank")
            elif len(value) > max_length:
                self.add(where, f"must be at most {max_length} characters (it has {len(value)})")
            elif value.lower() in (seen.lower() for seen in values):
                self.add(where, f"'{value}' is listed twice")
            else:
                values.append(value)
        return tuple(values)

    def choice_list(
        self, name: str, choices: type[E], *, default: tuple[E, ...] | None = None
    ) -> tuple[E, ...]:
        """Distinct choices; ``default`` when absent (required when ``default`` is ``None``)."""
        if default is not None and not self.has(name):
            return default
        values: list[E] = []
        for index, raw in enumerate(self.items(name) or []):
            value = self._choice(f"{name}[{index}]", raw, choices)
            if value is None:
                continue
            if value in values:
                self.add(f"{name}[{index}]", f"'{value.value}' is listed twice")
            else:
                values.append(value)
        return tuple(values)

    def number_list(
        self, name: str, *, unit: str = "", minimum: float | None = None, required: bool = True
    ) -> tuple[float, ...]:
        values: list[float] = []
        for index, raw in enumerate(self.items(name, required=required) or []):
            where = f"{name}[{index}]"
            value = self._number(where, raw)
            if value is None or not self._check_range(
                where, value, unit, minimum, None, None, None
            ):
                continue
            if value in values:
                self.add(where, f"{_number_text(value)} is listed twice")
            else:
                values.append(value)
        return tuple(values)

    def nested(self, name: str) -> _Reader:
        raw = self.raw(name)
        if raw is _MISSING_VALUE:
            self.add(name, _REQUIRED)
            return _Reader({}, self.collector, self.path(name), muted=True)
        return _Reader(raw, self.collector, self.path(name), muted=self.muted)

    def nested_list(self, name: str, *, required: bool = True) -> list[_Reader]:
        return [
            _Reader(raw, self.collector, self.path(f"{name}[{index}]"))
            for index, raw in enumerate(self.items(name, required=required) or [])
        ]


class ProtocolKind(StrEnum):
    IMPLANTATION = "implantation"
    RANDOMIZATION = "randomization"
    DOSING = "dosing"
    CALIPER_MEASUREMENT = "caliper_measurement"
    BODY_WEIGHT = "body_weight"
    CLINICAL_OBSERVATION = "clinical_observation"
    HUMANE_ENDPOINTS = "humane_endpoints"
    SAMPLE_COLLECTION = "sample_collection"
    NECROPSY = "necropsy"
    ELISA = "elisa"
    FLOW_PANEL = "flow_panel"


KIND_CHOICES: list[tuple[str, str]] = [
    (ProtocolKind.IMPLANTATION.value, "Implantation"),
    (ProtocolKind.RANDOMIZATION.value, "Randomization"),
    (ProtocolKind.DOSING.value, "Dosing"),
    (ProtocolKind.CALIPER_MEASUREMENT.value, "Caliper measurement"),
    (ProtocolKind.BODY_WEIGHT.value, "Body weight"),
    (ProtocolKind.CLINICAL_OBSERVATION.value, "Clinical observation (score sheet)"),
    (ProtocolKind.HUMANE_ENDPOINTS.value, "Humane endpoints"),
    (ProtocolKind.SAMPLE_COLLECTION.value, "Sample collection"),
    (ProtocolKind.NECROPSY.value, "Necropsy"),
    (ProtocolKind.ELISA.value, "ELISA"),
    (ProtocolKind.FLOW_PANEL.value, "Flow cytometry panel"),
]


def _to_plain(value: object) -> object:
    """JSON-ready value: enums as values, schedules as notation, tuples as lists."""
    if isinstance(value, (IntervalSchedule, WeekdaySchedule, ExplicitSchedule)):
        return value.notation
    if isinstance(value, StrEnum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: _to_plain(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_to_plain(item) for item in value]
    return value


class _ToDict:
    def to_dict(self) -> dict[str, object]:
        """The parameters as JSON-ready data, accepted unchanged by ``from_dict``."""
        plain = _to_plain(self)
        assert isinstance(plain, dict)
        return plain


def _schedule(reader: _Reader, name: str) -> Schedule:
    text = reader.optional_text(name, required=True)
    if text is None:
        return ExplicitSchedule(())
    try:
        return parse_schedule(text)
    except DomainError as error:
        reader.add(name, error.message)
        return ExplicitSchedule(())


# -- implantation ---------------------------------------------------------------------------

RRID_PATTERN = re.compile(r"^CVCL_[A-Z0-9]{4}$")


class ImplantationRoute(StrEnum):
    SC = "SC"
    ID = "ID"
    ORTHOTOPIC = "orthotopic"
    IV = "IV"
    IP = "IP"


@dataclass(frozen=True)
class CellLine:
    """The implanted cells: ``rrid`` is the Cellosaurus RRID, ``host_strain`` the syngeneic host."""

    name: str
    rrid: str
    host_strain: str


@dataclass(frozen=True)
class ImplantationParameters(_ToDict):
    """Tumour cell implantation: which cells, how many per site, in what, where.

    ``sites`` holds one site, or two for bilateral designs (e.g. right and left flank).
    ``viability_min_percent`` is the lowest viability at which the cells may be implanted;
    ``passage_limit`` the highest passage number allowed (``None``: no limit).
    """

    kind: ClassVar[ProtocolKind] = ProtocolKind.IMPLANTATION

    cell_line: CellLine
    cells_per_site: int
    vehicle: str
    volume_ul: float
    sites: tuple[str, ...]
    route: ImplantationRoute
    viability_min_percent: float = 90.0
    passage_limit: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        collector = _Collector()
        reader = collector.root(data)
        cell = reader.nested("cell_line")
        name = cell.text("name")
        rrid = cell.optional_text("rrid", required=True, max_length=40)
        if rrid is not None:
            normalized = rrid.upper().removeprefix("RRID:").strip()
            if RRID_PATTERN.match(normalized):
                rrid = normalized
            else:
                cell.add(
                    "rrid",
                    f"'{rrid}' is not a Cellosaurus RRID (CVCL_ followed by 4 characters, "
                    "e.g. CVCL_7254)",
                )
        host_strain = cell.text("host_strain")
        cells_per_site = reader.integer("cells_per_site", minimum=1, maximum=10**9)
        vehicle = reader.text("vehicle")
        volume_ul = reader.number("volume_ul", unit="µL", above=0, maximum=1000)
        sites = reader.text_list("sites")
        if len(sites) > 2:
            reader.add("sites", f"at most two sites (a bilateral design); {len(sites)} were given")
        route = reader.choice("route", ImplantationRoute)
        viability = reader.number(
            "viability_min_percent", default=90.0, unit="%", above=0, maximum=100
        )
        passage_limit = reader.optional_integer("passage_limit", minimum=1, maximum=200)
        collector.finish()
        return cls(
            cell_line=CellLine(name=name, rrid=rrid or "", host_strain=host_strain),
            cells_per_site=cells_per_site,
            vehicle=vehicle,
            volume_ul=volume_ul,
            sites=sites,
            route=route,
            viability_min_percent=viability,
            passage_limit=passage_limit,
        )


# -- randomization --------------------------------------------------------------------------


class RandomizationMethod(StrEnum):
    SIMPLE = "simple"
    STRATIFIED_VOLUME = "stratified_volume"
    COVARIATE_BALANCE = "covariate_balance"


class Covariate(StrEnum):
    TUMOUR_VOLUME = "tumour_volume"
    BODY_WEIGHT = "body_weight"
    AGE = "age"


class CageConstraint(StrEnum):
    """``mixed_cages``: spread each cage over the arms; ``whole_cages``: a cage goes to one arm."""

    NONE = "none"
    MIXED_CAGES = "mixed_cages"
    WHOLE_CAGES = "whole_cages"


@dataclass(frozen=True)
class RandomizationParameters(_ToDict):
    """Who may be randomized (eligibility window) and how animals are allocated to arms.

    Animals are eligible with a tumour volume in [min, max] mm³ (and a weight in [min, max] g when
    given). ``stratified_volume`` stratifies on tumour volume into ``volume_strata`` strata
    (default 3); ``covariate_balance`` balances the listed covariates. ``max_batches`` > 1
    allows rolling enrolment (several randomization batches per run).
    """

    kind: ClassVar[ProtocolKind] = ProtocolKind.RANDOMIZATION

    eligible_volume_min_mm3: float
    eligible_volume_max_mm3: float
    method: RandomizationMethod
    covariates: tuple[Covariate, ...] = ()
    eligible_weight_min_g: float | None = None
    eligible_weight_max_g: float | None = None
    volume_strata: int | None = None
    cage_constraint: CageConstraint = CageConstraint.NONE
    max_batches: int = 1

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        collector = _Collector()
        reader = collector.root(data)
        volume_min = reader.optional_number(
            "eligible_volume_min_mm3", unit="mm³", above=0, required=True
        )
        volume_max = reader.optional_number(
            "eligible_volume_max_mm3", unit="mm³", above=0, required=True
        )
        if volume_min is not None and volume_max is not None and volume_max <= volume_min:
            reader.add(
                "eligible_volume_max_mm3",
                f"must be greater than eligible_volume_min_mm3 ({_number_text(volume_min)} mm³)",
            )
        weight_min = reader.optional_number("eligible_weight_min_g", unit="g", above=0)
        weight_max = reader.optional_number("eligible_weight_max_g", unit="g", above=0)
        if weight_min is not None and weight_max is not None and weight_max <= weight_min:
            reader.add(
                "eligible_weight_max_g",
                f"must be greater than eligible_weight_min_g ({_number_text(weight_min)} g)",
            )
        method = reader.optional_choice("method", RandomizationMethod, required=True)
        covariates = reader.choice_list("covariates", Covariate, default=())
        strata = reader.optional_integer("volume_strata", minimum=2, maximum=10)
        if method is RandomizationMethod.SIMPLE and covariates:
            reader.add(
                "covariates",
                "simple randomization uses no covariates; remove them or choose "
                "'covariate_balance'",
            )
        if method is RandomizationMethod.STRATIFIED_VOLUME:
            if covariates and covariates != (Covariate.TUMOUR_VOLUME,):
                reader.add(
                    "covariates",
                    "'stratified_volume' stratifies on tumour_volume only; choose "
                    "'covariate_balance' to balance more covariates",
                )
            covariates = (Covariate.TUMOUR_VOLUME,)
            strata = strata if strata is not None else 3
        elif strata is not None:
            reader.add("volume_strata", "only used with method 'stratified_volume'")
        if method is RandomizationMethod.COVARIATE_BALANCE and not covariates:
            if not collector.has_errors("covariates"):
                reader.add(
                    "covariates",
                    "list at least one covariate to balance (tumour_volume, body_weight, age)",
                )
        cage_constraint = reader.choice(
            "cage_constraint", CageConstraint, default=CageConstraint.NONE
        )
        max_batches = reader.integer("max_batches", default=1, minimum=1, maximum=20)
        collector.finish()
        return cls(
            eligible_volume_min_mm3=volume_min or 0.0,
            eligible_volume_max_mm3=volume_max or 0.0,
            method=method or RandomizationMethod.SIMPLE,
            covariates=covariates,
            eligible_weight_min_g=weight_min,
            eligible_weight_max_g=weight_max,
            volume_strata=strata,
            cage_constraint=cage_constraint,
            max_batches=max_batches,
        )


# -- dosing ---------------------------------------------------------------------------------

DEFAULT_ROUTE_VOLUME_LIMITS_ML_PER_KG: dict[str, float] = {"PO": 10, "SC": 10, "IP": 20, "IV": 5}


class DosingRoute(StrEnum):
    IP = "IP"
    IV = "IV"
    SC = "SC"
    PO = "PO"
    IT = "IT"
    IM = "IM"


class DoseBasis(StrEnum):
    """What the dose is relative to.

    ``per_kg_own_weight``: mg per kg of each animal's latest weight (no older than
    ``weight_max_age_days``); ``per_kg_arm_mean_weight``: mg per kg of the arm's mean weight (one
    volume for the arm); ``fixed_per_animal`` / ``fixed_per_tumour``: a fixed amount in µg.
    """

    PER_KG_OWN_WEIGHT = "per_kg_own_weight"
    PER_KG_ARM_MEAN_WEIGHT = "per_kg_arm_mean_weight"
    FIXED_PER_ANIMAL = "fixed_per_animal"
    FIXED_PER_TUMOUR = "fixed_per_tumour"

    @property
    def is_per_kg(self) -> bool:
        return self in (DoseBasis.PER_KG_OWN_WEIGHT, DoseBasis.PER_KG_ARM_MEAN_WEIGHT)


@dataclass(frozen=True)
class DosingParameters(_ToDict):
    """How one agent is given: formulation, dose basis, volume, route and allowed modifications.

    The dose is ``dose_mg_per_kg`` for per-kg bases or ``dose_ug`` for fixed bases (optional
    here: a regimen item may set it; when both the dose and the volume are known, the
    concentration must deliver exactly that dose). The volume is ``volume_ml_per_kg`` (scaled to
    weight) or a fixed ``volume_ul``; either must stay within the route's limit
    (``max_volume_ml_per_kg``, else :data:`DEFAULT_ROUTE_VOLUME_LIMITS_ML_PER_KG`; a fixed volume
    is checked for a mouse of ``reference_body_weight_g`` and again at dosing with the animal's
    weight). Dosing is held while weight loss ≥ ``hold_at_weight_loss_percent`` and resumes below
    ``resume_below_weight_loss_percent``; ``reduced_dose_percent`` is the permitted reduced dose;
    ``skip_when_tumour_not_palpable`` applies to IT dosing.
    """

    kind: ClassVar[ProtocolKind] = ProtocolKind.DOSING

    agent: str
    vehicle: str
    concentration_mg_per_ml: float
    dose_basis: DoseBasis
    route: DosingRoute
    dose_mg_per_kg: float | None = None
    dose_ug: float | None = None
    volume_ml_per_kg: float | None = None
    volume_ul: float | None = None
    max_volume_ml_per_kg: float | None = None
    reference_body_weight_g: float = 20.0
    weight_max_age_days: int | None = None
    hold_at_weight_loss_percent: float | None = None
    resume_below_weight_loss_percent: float | None = None
    reduced_dose_percent: float | None = None
    skip_when_tumour_not_palpable: bool = False

    @property
    def volume_limit_ml_per_kg(self) -> float | None:
        """The limit in force: the protocol's own, else the route default (none for IT and IM)."""
        if self.max_volume_ml_per_kg is not None:
            return self.max_volume_ml_per_kg
        return DEFAULT_ROUTE_VOLUME_LIMITS_ML_PER_KG.get(self.route.value)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        collector = _Collector()
        reader = collector.root(data)
        agent = reader.text("agent")
        vehicle = reader.text("vehicle")
        concentration = reader.optional_number(
            "concentration_mg_per_ml", unit="mg/mL", minimum=0, required=True
        )
        basis = reader.optional_choice("dose_basis", DoseBasis, required=True)
        route = reader.optional_choice("route", DosingRoute, required=True)
        dose_mg_per_kg = reader.optional_number("dose_mg_per_kg", unit="mg/kg", minimum=0)
        dose_ug = reader.optional_number("dose_ug", unit="µg", minimum=0)
        volume_ml_per_kg = reader.optional_number("volume_ml_per_kg", unit="mL/kg", above=0)
        volume_ul = reader.optional_number("volume_ul", unit="µL", above=0)
        max_volume = reader.optional_number("max_volume_ml_per_kg", unit="mL/kg", above=0)
        reference_g = reader.number(
            "reference_body_weight_g", default=20.0, unit="g", above=0, maximum=100
        )
        weight_age = reader.optional_integer("weight_max_age_days", minimum=0, maximum=14)
        hold = reader.optional_number("hold_at_weight_loss_percent", unit="%", above=0, below=100)
        resume = reader.optional_number(
            "resume_below_weight_loss_percent", unit="%", above=0, below=100
        )
        reduced = reader.optional_number("reduced_dose_percent", unit="%", above=0, below=100)
        skip_not_palpable = reader.boolean("skip_when_tumour_not_palpable", default=False)

        given_volume_ml_per_kg = reader.has("volume_ml_per_kg")
        given_volume_ul = reader.has("volume_ul")
        if given_volume_ml_per_kg and given_volume_ul:
            reader.add("volume_ul", "give either volume_ml_per_kg or volume_ul, not both")
        elif not given_volume_ml_per_kg and not given_volume_ul:
            reader.add(
                "volume_ml_per_kg",
                "give the volume: volume_ml_per_kg (scaled to weight) or volume_ul (fixed)",
            )
        if basis is not None:
            if basis.is_per_kg:
                if reader.has("dose_ug"):
                    reader.add("dose_ug", "a per-kg dose basis takes dose_mg_per_kg, not dose_ug")
                if basis is DoseBasis.PER_KG_OWN_WEIGHT and given_volume_ul:
                    reader.add(
                        "volume_ul",
                        "dosing per kg of each animal's own weight needs volume_ml_per_kg: "
                        "a fixed volume_ul would give every animal the same amount",
                    )
                weight_age = weight_age if reader.has("weight_max_age_days") else 3
            else:
                if reader.has("dose_mg_per_kg"):
                    reader.add(
                        "dose_mg_per_kg", "a fixed dose basis takes dose_ug, not dose_mg_per_kg"
                    )
                if given_volume_ml_per_kg:
                    reader.add(
                        "volume_ml_per_kg",
                        "a fixed dose needs a fixed volume_ul: a volume per kg would make the dose "
                        "depend on weight",
                    )
                if reader.has("weight_max_age_days"):
                    reader.add("weight_max_age_days", "only used when the dose is per kg")
                if basis is DoseBasis.FIXED_PER_TUMOUR and route not in (None, DosingRoute.IT):
                    reader.add(
                        "dose_basis",
                        "a dose per tumour is given intratumorally: use route IT or a "
                        "per-animal basis",
                    )
        if route is not None:
            limit = (
                max_volume
                if max_volume is not None
                else (DEFAULT_ROUTE_VOLUME_LIMITS_ML_PER_KG.get(route.value))
            )
            source = "set for this protocol" if max_volume is not None else f"for {route.value}"
            if limit is not None and volume_ml_per_kg is not None and volume_ml_per_kg > limit:
                reader.add(
                    "volume_ml_per_kg",
                    f"{_number_text(volume_ml_per_kg)} mL/kg is above the limit of "
                    f"{_number_text(limit)} mL/kg {source}",
                )
            if limit is not None and volume_ul is not None and reference_g > 0:
                per_kg = volume_ul / reference_g
                if per_kg > limit:
                    reader.add(
                        "volume_ul",
                        f"{_number_text(volume_ul)} µL is {_number_text(round(per_kg, 2))} mL/kg "
                        f"for a {_number_text(reference_g)} g mouse, above the limit of "
                        f"{_number_text(limit)} mL/kg {source}",
                    )
            if skip_not_palpable and route is not DosingRoute.IT:
                reader.add(
                    "skip_when_tumour_not_palpable", "only applies to intratumoral (IT) dosing"
                )
        if concentration is not None and basis is not None:
            if basis.is_per_kg and dose_mg_per_kg is not None and volume_ml_per_kg is not None:
                delivered = concentration * volume_ml_per_kg
                if not math.isclose(delivered, dose_mg_per_kg, rel_tol=1e-3, abs_tol=1e-9):
                    reader.add(
                        "dose_mg_per_kg",
                        f"{_number_text(concentration)} mg/mL at {_number_text(volume_ml_per_kg)} "
                        f"mL/kg gives {_number_text(round(delivered, 6))} mg/kg, not "
                        f"{_number_text(dose_mg_per_kg)} mg/kg; correct the dose, the "
                        "concentration or the volume",
                    )
            if not basis.is_per_kg and dose_ug is not None and volume_ul is not None:
                delivered = concentration * volume_ul
                if not math.isclose(delivered, dose_ug, rel_tol=1e-3, abs_tol=1e-9):
                    reader.add(
                        "dose_ug",
                        f"{_number_text(concentration)} mg/mL in {_number_text(volume_ul)} µL "
                        f"gives {_number_text(round(delivered, 6))} µg, not "
                        f"{_number_text(dose_ug)} µg; correct the dose, the concentration or "
                        "the volume",
                    )
        if (
            hold is not None
            and resume is None
            and not reader.has("resume_below_weight_loss_percent")
        ):
            reader.add(
                "resume_below_weight_loss_percent",
                "give the weight loss below which dosing resumes",
            )
        if resume is not None and hold is None and not reader.has("hold_at_weight_loss_percent"):
            reader.add(
                "hold_at_weight_loss_percent", "give the weight loss at which dosing is held"
            )
        if hold is not None and resume is not None and resume >= hold:
            reader.add(
                "resume_below_weight_loss_percent",
                f"must be below hold_at_weight_loss_percent ({_number_text(hold)} %)",
            )
        collector.finish()
        return cls(
            agent=agent,
            vehicle=vehicle,
            concentration_mg_per_ml=concentration or 0.0,
            dose_basis=basis or DoseBasis.PER_KG_OWN_WEIGHT,
            route=route or DosingRoute.IP,
            dose_mg_per_kg=dose_mg_per_kg,
            dose_ug=dose_ug,
            volume_ml_per_kg=volume_ml_per_kg,
            volume_ul=volume_ul,
            max_volume_ml_per_kg=max_volume,
            reference_body_weight_g=reference_g,
            weight_max_age_days=weight_age,
            hold_at_weight_loss_percent=hold,
            resume_below_weight_loss_percent=resume,
            reduced_dose_percent=reduced,
            skip_when_tumour_not_palpable=skip_not_palpable,
        )


# -- caliper measurement and body weight -----------------------------------------------------


class VolumeFormula(StrEnum):
    """``half_length_width_squared``: L·W²/2; ``ellipsoid``: π/6·L·W·H;
    ``ellipsoid_length_width``: π/6·(L·W)^1.5 (mm → mm³, L the longer axis)."""

    HALF_LENGTH_WIDTH_SQUARED = "half_length_width_squared"
    ELLIPSOID = "ellipsoid"
    ELLIPSOID_LENGTH_WIDTH = "ellipsoid_length_width"

    @property
    def axes(self) -> tuple[Axis, ...]:
        if self is VolumeFormula.ELLIPSOID:
            return (Axis.LENGTH, Axis.WIDTH, Axis.HEIGHT)
        return (Axis.LENGTH, Axis.WIDTH)


class Axis(StrEnum):
    LENGTH = "length"
    WIDTH = "width"
    HEIGHT = "height"


@dataclass(frozen=True)
class CaliperMeasurementParameters(_ToDict):
    """Tumour caliper measurement: volume formula, schedule, and the order axes are entered in.

    ``entry_order`` lists exactly the axes the formula needs, once each, in the order the
    technician reads them (a USB caliper sends values in sequence).
    """

    kind: ClassVar[ProtocolKind] = ProtocolKind.CALIPER_MEASUREMENT

    schedule: Schedule
    formula: VolumeFormula = VolumeFormula.HALF_LENGTH_WIDTH_SQUARED
    entry_order: tuple[Axis, ...] = (Axis.LENGTH, Axis.WIDTH)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        collector = _Collector()
        reader = collector.root(data)
        schedule = _schedule(reader, "schedule")
        formula = reader.choice(
            "formula", VolumeFormula, default=VolumeFormula.HALF_LENGTH_WIDTH_SQUARED
        )
        entry_order = reader.choice_list("entry_order", Axis, default=formula.axes)
        if not collector.has_errors("entry_order") and sorted(entry_order) != sorted(formula.axes):
            needed = ", ".join(axis.value for axis in formula.axes)
            reader.add(
                "entry_order",
                f"the formula '{formula.value}' needs {needed}: list each of them once",
            )
        collector.finish()
        return cls(schedule=schedule, formula=formula, entry_order=entry_order)


class WeightBaseline(StrEnum):
    RANDOMIZATION = "randomization"
    DAY_0 = "day_0"


@dataclass(frozen=True)
class BodyWeightParameters(_ToDict):
    """Body weighing: schedule, the baseline weight change is relative to, tumour correction.

    With ``tumour_corrected`` the tumour mass is subtracted (1 mm³ counted as 1 mg), so that a
    growing tumour does not hide weight loss.
    """

    kind: ClassVar[ProtocolKind] = ProtocolKind.BODY_WEIGHT

    schedule: Schedule
    baseline: WeightBaseline = WeightBaseline.RANDOMIZATION
    tumour_corrected: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        collector = _Collector()
        reader = collector.root(data)
        schedule = _schedule(reader, "schedule")
        baseline = reader.choice("baseline", WeightBaseline, default=WeightBaseline.RANDOMIZATION)
        corrected = reader.boolean("tumour_corrected", default=False)
        collector.finish()
        return cls(schedule=schedule, baseline=baseline, tumour_corrected=corrected)


# -- clinical observation -------------------------------------------------------------------

ULCERATION = "ulceration"
ULCERATION_LEVELS: tuple[tuple[int, str], ...] = (
    (0, "none"),
    (1, "scab"),
    (2, "open"),
    (3, "bleeding or infected"),
)


class EscalationAction(StrEnum):
    """``daily_checks``: checked every day, weekends and holidays included."""

    DAILY_CHECKS = "daily_checks"
    VETERINARY_REVIEW = "veterinary_review"
    ENDPOINT = "endpoint"


@dataclass(frozen=True)
class ScoreLevel:
    score: int
    description: str


@dataclass(frozen=True)
class ScoreItem:
    """One row of the score sheet; ``endpoint_score`` (if any) is the score that ends the study."""

    name: str
    levels: tuple[ScoreLevel, ...]
    endpoint_score: int | None = None

    @property
    def max_score(self) -> int:
        return self.levels[-1].score


@dataclass(frozen=True)
class EscalationRule:
    """When ``item`` (a score-sheet item, or ``ulceration``) reaches ``at_score``, do ``action``."""

    item: str
    at_score: int
    action: EscalationAction


DEFAULT_ESCALATION_RULES: tuple[EscalationRule, ...] = (
    EscalationRule(ULCERATION, 1, EscalationAction.DAILY_CHECKS),
    EscalationRule(ULCERATION, 3, EscalationAction.ENDPOINT),
)


@dataclass(frozen=True)
class ClinicalObservationParameters(_ToDict):
    """The clinical score sheet: items with levels scored from 0, limits and escalation rules.

    Ulceration is scored per tumour on the fixed scale :data:`ULCERATION_LEVELS` (with the ulcer
    diameter in mm when ``record_ulcer_diameter``); escalation rules default to daily checks from
    ulceration score 1 and the endpoint at 3. ``total_score_limit`` is the summed score of the
    sheet's items that is an endpoint.
    """

    kind: ClassVar[ProtocolKind] = ProtocolKind.CLINICAL_OBSERVATION

    schedule: Schedule
    items: tuple[ScoreItem, ...] = ()
    total_score_limit: int | None = None
    ulceration_per_tumour: bool = True
    record_ulcer_diameter: bool = True
    escalation_rules: tuple[EscalationRule, ...] = DEFAULT_ESCALATION_RULES

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        collector = _Collector()
        reader = collector.root(data)
        schedule = _schedule(reader, "schedule")
        items: list[ScoreItem] = []
        max_scores: dict[str, int] = {}
        for item_reader in reader.nested_list("items", required=False):
            item = _score_item(item_reader)
            if item is None:
                continue
            key = item.name.lower()
            if key == ULCERATION:
                item_reader.add(
                    "name",
                    "ulceration is scored per tumour on the built-in scale; remove this item",
                )
            elif key in max_scores:
                item_reader.add("name", f"'{item.name}' is listed twice")
            else:
                max_scores[key] = item.max_score
                items.append(item)
        ulceration = reader.boolean("ulceration_per_tumour", default=True)
        diameter = reader.boolean("record_ulcer_diameter", default=True)
        if ulceration:
            max_scores[ULCERATION] = ULCERATION_LEVELS[-1][0]
        elif diameter and reader.has("record_ulcer_diameter"):
            reader.add("record_ulcer_diameter", "only used when ulceration_per_tumour is true")
        if not items and not ulceration and not collector.has_errors("items"):
            reader.add(NON_FIELD, "the score sheet is empty: add items or score ulceration")
        total_limit = reader.optional_integer("total_score_limit", minimum=1)
        item_total = sum(item.max_score for item in items)
        if total_limit is not None and items and total_limit > item_total:
            reader.add(
                "total_score_limit",
                f"must be at most {item_total}, the highest total the items can reach",
            )
        rules: list[EscalationRule] = []
        if reader.has("escalation_rules"):
            rule_readers = reader.nested_list("escalation_rules")
        else:
            rule_readers = []
            rules = [rule for rule in DEFAULT_ESCALATION_RULES if ulceration]
        for index, rule_reader in enumerate(rule_readers):
            names = {item.name.lower(): item.name for item in items}
            rule = _escalation_rule(rule_reader, max_scores, names)
            if rule is None:
                continue
            if rule in rules:
                reader.add(f"escalation_rules[{index}]", "this rule is listed twice")
            else:
                rules.append(rule)
        collector.finish()
        return cls(
            schedule=schedule,
            items=tuple(items),
            total_score_limit=total_limit,
            ulceration_per_tumour=ulceration,
            record_ulcer_diameter=diameter and ulceration,
            escalation_rules=tuple(rules),
        )


def _score_item(reader: _Reader) -> ScoreItem | None:
    name = reader.text("name", max_length=80)
    levels: list[ScoreLevel] = []
    level_readers = reader.nested_list("levels")
    for level_reader in level_readers:
        score = level_reader.optional_integer("score", minimum=0, maximum=10, required=True)
        description = level_reader.text("description")
        if score is not None:
            levels.append(ScoreLevel(score, description))
    scores = [level.score for level in levels]
    if len(levels) == len(level_readers) and levels:
        if len(levels) < 2:
            reader.add("levels", "give at least two levels (0 = normal, and one abnormal level)")
        elif scores != list(range(len(scores))):
            found = ", ".join(str(score) for score in scores)
            reader.add("levels", f"scores must run 0, 1, 2, … in order without gaps; found {found}")
    endpoint = reader.optional_integer("endpoint_score", minimum=1)
    if endpoint is not None and scores and endpoint > max(scores):
        reader.add("endpoint_score", f"must be one of the item's scores (1 to {max(scores)})")
    if not name or not levels:
        return None
    return ScoreItem(name=name, levels=tuple(levels), endpoint_score=endpoint)


def _escalation_rule(
    reader: _Reader, max_scores: Mapping[str, int], names: Mapping[str, str]
) -> EscalationRule | None:
    """One rule; ``item`` is matched ignoring case and stored as the score sheet spells it."""
    item = reader.text("item", max_length=80)
    at_score = reader.optional_integer("at_score", minimum=1, required=True)
    action = reader.optional_choice("action", EscalationAction, required=True)
    key = item.lower()
    if item and key not in max_scores:
        known = ", ".join(sorted(max_scores)) or "none"
        reader.add("item", f"'{item}' is not an item of this score sheet (items: {known})")
        return None
    if at_score is not None and item and at_score > max_scores[key]:
        reader.add(
            "at_score", f"'{item}' is scored 0 to {max_scores[key]}; {at_score} is never reached"
        )
        return None
    if not item or at_score is None or action is None:
        return None
    return EscalationRule(item=names.get(key, ULCERATION), at_score=at_score, action=action)


# -- humane endpoints -----------------------------------------------------------------------


@dataclass(frozen=True)
class HumaneEndpoints(_ToDict):
    """The limits at which an animal is euthanized.

    ``max_volume_mm3`` applies to each tumour, ``max_total_volume_mm3`` (``None``: no separate
    limit) to the sum of an animal's tumours; ``max_weight_loss_percent`` is relative to the
    body-weight baseline; ``ulceration_score_limit`` is on the 0-3 ulceration scale;
    ``clinical_score_limit`` (``None``: per-item limits only) is the score-sheet total.
    """

    kind: ClassVar[ProtocolKind] = ProtocolKind.HUMANE_ENDPOINTS

    max_volume_mm3: float = 2000.0
    max_total_volume_mm3: float | None = None
    max_diameter_mm: float = 20.0
    max_weight_loss_percent: float = 20.0
    ulceration_score_limit: int = 3
    clinical_score_limit: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        collector = _Collector()
        reader = collector.root(data)
        max_volume = reader.number("max_volume_mm3", default=2000.0, unit="mm³", above=0)
        max_total = reader.optional_number("max_total_volume_mm3", unit="mm³", above=0)
        if max_total is not None and not collector.has_errors("max_volume_mm3"):
            if max_total < max_volume:
                reader.add(
                    "max_total_volume_mm3",
                    f"must be at least max_volume_mm3 ({_number_text(max_volume)} mm³): the total "
                    "includes the largest tumour",
                )
        diameter = reader.number("max_diameter_mm", default=20.0, unit="mm", above=0)
        weight_loss = reader.number(
            "max_weight_loss_percent", default=20.0, unit="%", above=0, below=100
        )
        ulceration = reader.integer("ulceration_score_limit", default=3, minimum=1, maximum=3)
        clinical = reader.optional_integer("clinical_score_limit", minimum=1)
        collector.finish()
        return cls(
            max_volume_mm3=max_volume,
            max_total_volume_mm3=max_total,
            max_diameter_mm=diameter,
            max_weight_loss_percent=weight_loss,
            ulceration_score_limit=ulceration,
            clinical_score_limit=clinical,
        )


def endpoint_limits_loosened(approved: HumaneEndpoints, proposed: HumaneEndpoints) -> list[str]:
    """Every limit of ``proposed`` that is less strict than ``approved``, as a sentence each.

    A higher maximum, a higher score limit, or a limit removed (``None``) counts as loosened;
    an empty list means the proposal may be adopted without an ethics amendment.
    """
    loosened: list[str] = []

    def compare(
        name: str, approved_value: float | None, proposed_value: float | None, unit: str
    ) -> None:
        if approved_value is None:
            return
        if proposed_value is None:
            loosened.append(
                f"{name}: no limit, the approved limit is {_number_text(approved_value)}{unit}"
            )
        elif proposed_value > approved_value:
            loosened.append(
                f"{name}: {_number_text(proposed_value)}{unit} is above the approved "
                f"{_number_text(approved_value)}{unit}"
            )

    compare("max_volume_mm3", approved.max_volume_mm3, proposed.max_volume_mm3, " mm³")
    compare(
        "max_total_volume_mm3", approved.max_total_volume_mm3, proposed.max_total_volume_mm3, " mm³"
    )
    compare("max_diameter_mm", approved.max_diameter_mm, proposed.max_diameter_mm, " mm")
    compare(
        "max_weight_loss_percent",
        approved.max_weight_loss_percent,
        proposed.max_weight_loss_percent,
        " %",
    )
    compare(
        "ulceration_score_limit",
        approved.ulceration_score_limit,
        proposed.ulceration_score_limit,
        "",
    )
    compare(
        "clinical_score_limit", approved.clinical_score_limit, proposed.clinical_score_limit, ""
    )
    return loosened


# -- sample collection and necropsy ---------------------------------------------------------


class Tissue(StrEnum):
    SERUM = "serum"
    WHOLE_BLOOD = "whole_blood"
    TUMOUR = "tumour"
    SPLEEN = "spleen"
    LYMPH_NODE = "lymph_node"

    @property
    def is_blood(self) -> bool:
        return self in (Tissue.SERUM, Tissue.WHOLE_BLOOD)


class SampleTiming(StrEnum):
    AT_ENDPOINT = "at_endpoint"
    FIXED_DAY = "fixed_day"
    AFTER_DOSE = "after_dose"


class LabelField(StrEnum):
    BARCODE = "barcode"
    ANIMAL_TAG = "animal_tag"
    STUDY_CODE = "study_code"
    ARM_CODE = "arm_code"
    STUDY_DAY = "study_day"
    TISSUE = "tissue"
    COLLECTION_DATE = "collection_date"


DEFAULT_LABEL_FIELDS: tuple[LabelField, ...] = (
    LabelField.BARCODE,
    LabelField.STUDY_CODE,
    LabelField.ANIMAL_TAG,
    LabelField.TISSUE,
    LabelField.STUDY_DAY,
)


@dataclass(frozen=True)
class SampleCollectionParameters(_ToDict):
    """What is collected, when, how much, how it is processed and what its label shows.

    Timing: ``at_endpoint``; ``fixed_day`` on ``study_day``; or ``after_dose`` at each of
    ``hours_after_dose`` (negative = before) relative to the dose named ``dose_name``
    (e.g. "IL-12 dose 1"). ``volume_ul`` (blood collected) is required for serum and whole blood.
    Labels never show the arm's name, only its blinded code.
    """

    kind: ClassVar[ProtocolKind] = ProtocolKind.SAMPLE_COLLECTION

    tissue: Tissue
    timing: SampleTiming
    processing: str
    label_fields: tuple[LabelField, ...] = DEFAULT_LABEL_FIELDS
    study_day: int | None = None
    dose_name: str | None = None
    hours_after_dose: tuple[float, ...] = ()
    volume_ul: float | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        collector = _Collector()
        reader = collector.root(data)
        tissue = reader.optional_choice("tissue", Tissue, required=True)
        timing = reader.optional_choice("timing", SampleTiming, required=True)
        processing = reader.text("processing", max_length=1000)
        label_fields = reader.choice_list("label_fields", LabelField, default=DEFAULT_LABEL_FIELDS)
        study_day = reader.optional_integer(
            "study_day", minimum=-30, maximum=1000, required=timing is SampleTiming.FIXED_DAY
        )
        dose_name = reader.optional_text(
            "dose_name", max_length=120, required=timing is SampleTiming.AFTER_DOSE
        )
        hours = reader.number_list(
            "hours_after_dose", unit="h", required=timing is SampleTiming.AFTER_DOSE
        )
        if list(hours) != sorted(hours):
            reader.add("hours_after_dose", "list the times in increasing order")
        if timing is not None and timing is not SampleTiming.FIXED_DAY and reader.has("study_day"):
            reader.add("study_day", "only used when timing is 'fixed_day'")
        if timing is not None and timing is not SampleTiming.AFTER_DOSE:
            for name in ("dose_name", "hours_after_dose"):
                if reader.has(name):
                    reader.add(name, "only used when timing is 'after_dose'")
        volume_ul = reader.optional_number(
            "volume_ul", unit="µL", above=0, required=tissue is not None and tissue.is_blood
        )
        collector.finish()
        return cls(
            tissue=tissue or Tissue.SERUM,
            timing=timing or SampleTiming.AT_ENDPOINT,
            processing=processing,
            label_fields=label_fields,
            study_day=study_day,
            dose_name=dose_name,
            hours_after_dose=hours,
            volume_ul=volume_ul,
        )


@dataclass(frozen=True)
class NecropsyParameters(_ToDict):
    """What is recorded at necropsy: weights, organ weights, metastasis counts, gross findings.

    ``metastasis_count_organs`` names the organs whose surface metastases are counted (e.g. lung
    in the 4T1 model).
    """

    kind: ClassVar[ProtocolKind] = ProtocolKind.NECROPSY

    terminal_body_weight: bool = True
    tumour_weights: bool = True
    organ_weights: tuple[str, ...] = ()
    metastasis_count_organs: tuple[str, ...] = ()
    gross_findings: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        collector = _Collector()
        reader = collector.root(data)
        terminal = reader.boolean("terminal_body_weight", default=True)
        tumours = reader.boolean("tumour_weights", default=True)
        organs = reader.text_list("organ_weights", required=False, max_length=80)
        metastases = reader.text_list("metastasis_count_organs", required=False, max_length=80)
        gross = reader.boolean("gross_findings", default=True)
        if not (terminal or tumours or organs or metastases or gross) and not collector.errors:
            reader.add(NON_FIELD, "the necropsy records nothing: choose at least one observation")
        collector.finish()
        return cls(
            terminal_body_weight=terminal,
            tumour_weights=tumours,
            organ_weights=organs,
            metastasis_count_organs=metastases,
            gross_findings=gross,
        )


# -- ELISA ----------------------------------------------------------------------------------


class CurveModel(StrEnum):
    FOUR_PL = "4pl"
    FIVE_PL = "5pl"

    @property
    def parameter_count(self) -> int:
        return 4 if self is CurveModel.FOUR_PL else 5


@dataclass(frozen=True)
class ElisaParameters(_ToDict):
    """A sandwich ELISA: analyte, kit, standard curve, replicates, sample dilutions, acceptance.

    Standards are ``standard_points`` concentrations from ``standard_top_pg_per_ml`` down by
    ``standard_dilution_factor``; at least one more point than the curve model has parameters, so
    the fit keeps a residual degree of freedom. A plate is accepted when the fit has R² ≥
    ``min_r_squared``, replicate CVs ≤ ``max_replicate_cv_percent`` and back-calculated standards
    recover within [``standard_recovery_min_percent``, ``standard_recovery_max_percent``].
    """

    kind: ClassVar[ProtocolKind] = ProtocolKind.ELISA

    analyte: str
    kit: str
    standard_top_pg_per_ml: float
    standard_dilution_factor: float
    standard_points: int
    sample_dilutions: tuple[float, ...]
    replicates: int = 2
    curve_model: CurveModel = CurveModel.FOUR_PL
    min_r_squared: float = 0.99
    max_replicate_cv_percent: float = 20.0
    standard_recovery_min_percent: float = 80.0
    standard_recovery_max_percent: float = 120.0

    @property
    def standard_concentrations_pg_per_ml(self) -> tuple[float, ...]:
        return tuple(
            self.standard_top_pg_per_ml / self.standard_dilution_factor**step
            for step in range(self.standard_points)
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        collector = _Collector()
        reader = collector.root(data)
        analyte = reader.text("analyte", max_length=80)
        kit = reader.text("kit")
        top = reader.number("standard_top_pg_per_ml", unit="pg/mL", above=0)
        factor = reader.number("standard_dilution_factor", above=1)
        model = reader.choice("curve_model", CurveModel, default=CurveModel.FOUR_PL)
        points = reader.optional_integer("standard_points", maximum=16, required=True)
        needed = model.parameter_count + 1
        if points is not None and points < needed:
            reader.add(
                "standard_points",
                f"a {model.value.upper()} curve needs at least {needed} standard points "
                f"({model.parameter_count} parameters plus one degree of freedom); got {points}",
            )
        dilutions = reader.number_list("sample_dilutions", minimum=1)
        replicates = reader.integer("replicates", default=2, minimum=1, maximum=4)
        r_squared = reader.number("min_r_squared", default=0.99, above=0, maximum=1)
        cv = reader.number("max_replicate_cv_percent", default=20.0, unit="%", above=0, maximum=100)
        recovery_min = reader.number(
            "standard_recovery_min_percent", default=80.0, unit="%", above=0, below=100
        )
        recovery_max = reader.number(
            "standard_recovery_max_percent", default=120.0, unit="%", above=100
        )
        collector.finish()
        return cls(
            analyte=analyte,
            kit=kit,
            standard_top_pg_per_ml=top,
            standard_dilution_factor=factor,
            standard_points=points or 0,
            sample_dilutions=dilutions,
            replicates=replicates,
            curve_model=model,
            min_r_squared=r_squared,
            max_replicate_cv_percent=cv,
            standard_recovery_min_percent=recovery_min,
            standard_recovery_max_percent=recovery_max,
        )


# -- flow panel -----------------------------------------------------------------------------

_MARKER_SUFFIXES = ("+", "-", "hi", "lo", "int")


class FlowStatistic(StrEnum):
    COUNT = "count"
    FREQUENCY_OF_PARENT = "frequency_of_parent"
    FREQUENCY_OF_TOTAL = "frequency_of_total"
    MEDIAN_FLUORESCENCE_INTENSITY = "median_fluorescence_intensity"


@dataclass(frozen=True)
class FlowMarker:
    marker: str
    fluorochrome: str
    clone: str


@dataclass(frozen=True)
class FlowPanelParameters(_ToDict):
    """A flow cytometry panel and the populations to report.

    Each marker has its own fluorochrome (two markers on one fluorochrome cannot be told apart)
    and antibody clone. ``populations`` are gating paths from the root, steps separated by
    ``/`` (``Live/CD45+/CD3+/CD4+/CD25+Foxp3+``); a step written with ``+``/``-`` (or ``hi``,
    ``lo``, ``int``) names markers, which must be in the panel (or be the viability dye); other
    steps (``Live``, ``Singlets``, ``Lymphocytes``) are gate names.
    """

    kind: ClassVar[ProtocolKind] = ProtocolKind.FLOW_PANEL

    markers: tuple[FlowMarker, ...]
    viability_dye: str
    populations: tuple[str, ...]
    statistics: tuple[FlowStatistic, ...] = (
        FlowStatistic.COUNT,
        FlowStatistic.FREQUENCY_OF_PARENT,
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        collector = _Collector()
        reader = collector.root(data)
        markers: list[FlowMarker] = []
        marker_readers = reader.nested_list("markers")
        used_fluorochromes: dict[str, str] = {}
        for marker_reader in marker_readers:
            name = marker_reader.text("marker", max_length=40)
            fluorochrome = marker_reader.text("fluorochrome", max_length=40)
            clone = marker_reader.text("clone", max_length=40)
            if name and name.lower() in (marker.marker.lower() for marker in markers):
                marker_reader.add("marker", f"'{name}' is listed twice")
                continue
            if fluorochrome and fluorochrome.lower() in used_fluorochromes:
                other = used_fluorochromes[fluorochrome.lower()]
                marker_reader.add(
                    "fluorochrome",
                    f"'{fluorochrome}' is already used for {other}: two markers on one "
                    "fluorochrome cannot be told apart",
                )
                continue
            if name and fluorochrome and clone:
                used_fluorochromes[fluorochrome.lower()] = name
                markers.append(FlowMarker(marker=name, fluorochrome=fluorochrome, clone=clone))
        viability_dye = reader.text("viability_dye", max_length=80)
        panel = [marker.marker for marker in markers]
        # A step may gate on the viability dye itself ("Zombie NIR-" or "Zombie-").
        viability_names = [viability_dye, viability_dye.split()[0]] if viability_dye else []
        populations = _gating_paths(
            reader,
            panel,
            viability_names,
            # Markers are checked only against a complete, valid panel: otherwise every path
            # would repeat the panel's own error.
            check_markers=bool(markers)
            and len(markers) == len(marker_readers)
            and bool(viability_dye),
        )
        statistics = reader.choice_list(
            "statistics",
            FlowStatistic,
            default=(FlowStatistic.COUNT, FlowStatistic.FREQUENCY_OF_PARENT),
        )
        collector.finish()
        return cls(
            markers=tuple(markers),
            viability_dye=viability_dye,
            populations=populations,
            statistics=statistics,
        )


def _gating_paths(
    reader: _Reader, panel: list[str], viability_names: list[str], *, check_markers: bool
) -> tuple[str, ...]:
    paths: list[str] = []
    raw_paths = reader.items("populations") or []
    for index, raw in enumerate(raw_paths):
        where = f"populations[{index}]"
        if not isinstance(raw, str):
            reader.add(where, f"must be text, not {_json_type(raw)}")
            continue
        steps = [step.strip() for step in raw.strip().split("/")]
        path = "/".join(steps)
        if not raw.strip() or any(not step for step in steps):
            reader.add(
                where,
                f"'{raw.strip()}' has an empty step: separate the gates by single '/' "
                "(e.g. Live/CD45+/CD3+)",
            )
            continue
        if path in paths:
            reader.add(where, f"'{path}' is listed twice")
            continue
        problem = next(
            (
                message
                for step in steps
                if (message := _unknown_marker(step, panel, viability_names)) is not None
            ),
            None,
        )
        if problem is not None and check_markers:
            reader.add(where, f"'{path}': {problem}")
            continue
        paths.append(path)
    return tuple(paths)


def _unknown_marker(step: str, panel: list[str], viability_names: list[str]) -> str | None:
    """Why a marker step names something outside the panel, or ``None`` if it is fine."""
    if "+" not in step and "-" not in step:
        return None
    names = sorted({name.lower() for name in [*panel, *viability_names]}, key=len, reverse=True)
    lowered = step.lower()
    position = 0
    while position < len(step):
        for name in names:
            if lowered.startswith(name, position):
                after = position + len(name)
                suffix = next(
                    (suffix for suffix in _MARKER_SUFFIXES if lowered.startswith(suffix, after)),
                    None,
                )
                if suffix is not None:
                    position = after + len(suffix)
                    break
        else:
            end = position
            while end < len(step) and step[end] not in "+-":
                end += 1
            unknown = step[position:end] or step[position:]
            listed = ", ".join(panel) if panel else "none"
            return f"'{unknown}' is not a marker of this panel (markers: {listed})"
    return None


# -- by kind --------------------------------------------------------------------------------

ProtocolParameters = (
    ImplantationParameters
    | RandomizationParameters
    | DosingParameters
    | CaliperMeasurementParameters
    | BodyWeightParameters
    | ClinicalObservationParameters
    | HumaneEndpoints
    | SampleCollectionParameters
    | NecropsyParameters
    | ElisaParameters
    | FlowPanelParameters
)

PARAMETER_CLASSES: dict[ProtocolKind, type[ProtocolParameters]] = {
    ProtocolKind.IMPLANTATION: ImplantationParameters,
    ProtocolKind.RANDOMIZATION: RandomizationParameters,
    ProtocolKind.DOSING: DosingParameters,
    ProtocolKind.CALIPER_MEASUREMENT: CaliperMeasurementParameters,
    ProtocolKind.BODY_WEIGHT: BodyWeightParameters,
    ProtocolKind.CLINICAL_OBSERVATION: ClinicalObservationParameters,
    ProtocolKind.HUMANE_ENDPOINTS: HumaneEndpoints,
    ProtocolKind.SAMPLE_COLLECTION: SampleCollectionParameters,
    ProtocolKind.NECROPSY: NecropsyParameters,
    ProtocolKind.ELISA: ElisaParameters,
    ProtocolKind.FLOW_PANEL: FlowPanelParameters,
}


def parse_parameters(kind: str, data: Mapping[str, object]) -> ProtocolParameters:
    """Validate ``data`` as the parameters of protocol ``kind``; raises :class:`ParameterErrors`."""
    try:
        protocol_kind = ProtocolKind(kind)
    except ValueError:
        choices = ", ".join(choice.value for choice in ProtocolKind)
        raise ParameterErrors(
            {"kind": [f"'{kind}' is not a protocol kind; choose one of: {choices}"]}
        ) from None
    return PARAMETER_CLASSES[protocol_kind].from_dict(data)


# -- version diff ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterChange:
    """One changed value between two versions; ``None`` stands for absent on that side."""

    field: str
    old: object
    new: object


def diff_parameters(old: Mapping[str, object], new: Mapping[str, object]) -> list[ParameterChange]:
    """The changes from ``old`` to ``new`` parameters (stored JSON), field by field.

    Nested objects are compared key by key (``cell_line.rrid``); lists of objects element by
    element (``markers[1].clone``, an added or removed element as a whole); lists of plain values
    as one value (``sites``). Numbers compare by value (``2000 == 2000.0``). Order: the fields of
    ``old`` in their order, then fields only in ``new``.
    """
    changes: list[ParameterChange] = []
    _diff_mapping(old, new, "", changes)
    return changes


def _diff_mapping(
    old: Mapping[str, object], new: Mapping[str, object], prefix: str, out: list[ParameterChange]
) -> None:
    keys = list(old) + [key for key in new if key not in old]
    for key in keys:
        path = f"{prefix}.{key}" if prefix else key
        _diff_value(old.get(key), new.get(key), path, out)


def _diff_value(old: object, new: object, path: str, out: list[ParameterChange]) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        _diff_mapping(old, new, path, out)
        return
    if (
        isinstance(old, (list, tuple))
        and isinstance(new, (list, tuple))
        and any(isinstance(item, Mapping) for item in (*old, *new))
    ):
        for index in range(max(len(old), len(new))):
            _diff_value(
                old[index] if index < len(old) else None,
                new[index] if index < len(new) else None,
                f"{path}[{index}]",
                out,
            )
        return
    if not _same(old, new):
        out.append(ParameterChange(field=path, old=old, new=new))


def _same(old: object, new: object) -> bool:
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    if isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    return old == new
