"""Forms for protocol parameters, generated from each kind's typed dataclass.

A protocol kind's parameters are a frozen dataclass in :mod:`planner.domain.protocol_parameters`;
this module reads its fields (types, defaults, enum choices, nested dataclasses) and builds a
tree of :class:`ParameterField` for the template ``planner/_parameter_fields.html``:

* text, numbers (the unit taken from the name: ``volume_ul`` → µL), whole numbers, tick boxes;
* choices (an enum) as a select; several choices as tick boxes, or as ordered selects where the
  order matters (``entry_order``);
* lists of text one per line, lists of numbers separated by commas;
* a nested dataclass (``cell_line``) as a group; a list of them (score-sheet ``items`` with their
  ``levels``, ``markers``, ``escalation_rules``) as repeated rows with one blank row to add to.

Every input is named by its parameter path (``cell_line.rrid``, ``items[0].levels[1].score``),
the same path the domain's :class:`~planner.domain.errors.ParameterErrors` uses, so each message
lands beside its input unchanged. :func:`parameters_from_post` turns the submitted form back
into the parameter dictionary (blank rows dropped, rows renumbered), which is then validated by
the service like JSON from the API.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, Union, get_args, get_origin, get_type_hints

from planner.domain.errors import NON_FIELD
from planner.domain.protocol_parameters import PARAMETER_CLASSES, ProtocolKind
from planner.domain.schedule_notation import IntervalSchedule

# Longest first: ``_mg_per_kg`` before ``_kg``-like endings, ``_mm3`` before ``_mm``.
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_mg_per_kg", "mg/kg"),
    ("_ml_per_kg", "mL/kg"),
    ("_mg_per_ml", "mg/mL"),
    ("_pg_per_ml", "pg/mL"),
    ("_percent", "%"),
    ("_days", "days"),
    ("_mm3", "mm³"),
    ("_mm", "mm"),
    ("_ul", "µL"),
    ("_ug", "µg"),
    ("_g", "g"),
)
LABELS: dict[str, str] = {
    "rrid": "Cellosaurus RRID",
    "host_strain": "Host strain",
    "hours_after_dose": "Hours after the dose",
    "dose_name": "Dose named",
    "max_volume_ml_per_kg": "Route volume limit",
    "volume_ml_per_kg": "Volume per kg",
    "volume_ul": "Volume",
    "sites": "Sites",
    "at_score": "At score",
    "endpoint_score": "Endpoint score",
    "populations": "Populations (gating paths)",
    "statistics": "Statistics to report",
    "label_fields": "Label shows",
    "entry_order": "Entry order",
    "min_r_squared": "Minimum R²",
    "curve_model": "Curve model",
    "max_batches": "Randomization batches allowed",
    "volume_strata": "Volume strata",
}
UNITS: dict[str, str] = {"hours_after_dose": "h"}
HELP: dict[str, str] = {
    "rrid": "CVCL_ followed by 4 characters, e.g. CVCL_7256.",
    "sites": "One site per line; two for a bilateral design.",
    "organ_weights": "One organ per line.",
    "metastasis_count_organs": "One organ per line, e.g. lung.",
    "populations": "One gating path per line, e.g. Live/CD45+/CD3+/CD4+.",
    "sample_dilutions": "Separated by commas, e.g. 2, 10.",
    "hours_after_dose": "Separated by commas, negative before the dose, e.g. -1, 6, 24.",
    "schedule": "e.g. Mon/Wed/Fri, Q3Dx4 from day 7, 7,10,13.",
    "dose_name": 'The regimen dose the times count from, e.g. "IL-12 dose 1".',
    "entry_order": "The order a USB caliper sends the axes in.",
}
CHOICE_LABELS: dict[str, str] = {
    "half_length_width_squared": "L·W²/2",
    "ellipsoid": "π/6·L·W·H (ellipsoid)",
    "ellipsoid_length_width": "π/6·(L·W)^1.5",
    "4pl": "4PL",
    "5pl": "5PL",
    "day_0": "day 0",
}
# Lists of choices whose order means something: one select per position, not tick boxes.
ORDERED_CHOICE_LISTS = frozenset({"entry_order"})
# Rows a nested row list starts with when it is empty (a score item needs two levels).
MINIMUM_BLANK_ROWS: dict[str, int] = {"levels": 2}

REMOVE = "_remove"


class MultiValue(Protocol):
    """What a submitted form offers (Django's ``QueryDict``)."""

    def getlist(self, key: str, default: list[str] | None = None) -> list[str]: ...

    def keys(self) -> Any: ...


@dataclass
class ParameterField:
    """One input (or a group of inputs) of a parameter form, ready to render."""

    name: str
    path: str
    widget: (
        str  # text, number, integer, boolean, choice, choices, ordered, lines, numbers, group, rows
    )
    label: str
    unit: str = ""
    help: str = ""
    required: bool = False
    has_default: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: Any = ""
    errors: list[str] = field(default_factory=list)
    children: list[ParameterField] = field(default_factory=list)
    rows: list[ParameterRow] = field(default_factory=list)
    row_label: str = ""

    @property
    def id(self) -> str:
        return "p-" + re.sub(r"[^A-Za-z0-9_]+", "-", self.path).strip("-")

    @property
    def has_errors(self) -> bool:
        return (
            bool(self.errors)
            or any(child.has_errors for child in self.children)
            or any(row.has_errors for row in self.rows)
        )


@dataclass
class ParameterRow:
    """One row of a repeated group: its fields and whether it is the blank row to add to."""

    path: str
    number: int
    fields: list[ParameterField]
    blank: bool = False

    @property
    def id(self) -> str:
        return "p-" + re.sub(r"[^A-Za-z0-9_]+", "-", self.path).strip("-")

    @property
    def remove_name(self) -> str:
        return f"{self.path}.{REMOVE}"

    @property
    def has_errors(self) -> bool:
        return any(item.has_errors for item in self.fields)


@dataclass
class ParameterForm:
    """The whole form: fields, messages that belong to no field, and the kind's description."""

    kind: str
    fields: list[ParameterField]
    errors: list[str]
    description: str

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(item.has_errors for item in self.fields)

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(input id, label, first message) for each field with a message, in form order."""
        found: list[tuple[str, str, str]] = []

        def walk(items: Sequence[ParameterField], prefix: str) -> None:
            for item in items:
                label = f"{prefix}{item.label}"
                if item.errors:
                    found.append((item.id, label, item.errors[0]))
                walk(item.children, f"{label}: ")
                for row in item.rows:
                    walk(row.fields, f"{label} {row.number}: ")

        walk(self.fields, "")
        return found


# -- reading the dataclasses ----------------------------------------------------------------


def _unit_and_stem(name: str) -> tuple[str, str]:
    if name in UNITS:
        return UNITS[name], name
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit, name.removesuffix(suffix)
    return "", name


def label_for(name: str) -> str:
    """``eligible_volume_min_mm3`` → ``Eligible volume min`` (the unit is shown apart)."""
    if name in LABELS:
        return LABELS[name]
    _unit, stem = _unit_and_stem(name)
    text = stem.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def choice_label(value: str) -> str:
    if value in CHOICE_LABELS:
        return CHOICE_LABELS[value]
    return value if value.isupper() else value.replace("_", " ")


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` → (X, True); a schedule union stays whole."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        optional = len(args) < len(get_args(annotation))
        if len(args) == 1:
            return args[0], optional
        return annotation, optional
    return annotation, False


def _is_schedule(annotation: Any) -> bool:
    return IntervalSchedule in get_args(annotation)


def _widget(name: str, annotation: Any) -> tuple[str, Any]:
    """The widget for a field's type and, for lists and choices, the item type."""
    base, _optional = _strip_optional(annotation)
    if _is_schedule(base):
        return "text", None
    if get_origin(base) is tuple:
        item = get_args(base)[0]
        if isinstance(item, type) and issubclass(item, StrEnum):
            return ("ordered" if name in ORDERED_CHOICE_LISTS else "choices"), item
        if dataclasses.is_dataclass(item):
            return "rows", item
        if item is str:
            return "lines", None
        return "numbers", None
    if isinstance(base, type):
        if issubclass(base, StrEnum):
            return "choice", base
        if dataclasses.is_dataclass(base):
            return "group", base
        if base is bool:
            return "boolean", None
        if base is int:
            return "integer", None
        if base is float:
            return "number", None
    return "text", None


def _has_default(item: dataclasses.Field[Any]) -> bool:
    return (
        item.default is not dataclasses.MISSING or item.default_factory is not dataclasses.MISSING
    )


def _default(item: dataclasses.Field[Any]) -> Any:
    if item.default is not dataclasses.MISSING:
        return item.default
    if item.default_factory is not dataclasses.MISSING:
        return item.default_factory()
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def default_parameters(kind: str) -> dict[str, Any]:
    """The defaults a new protocol of ``kind`` starts from (fields without one stay empty)."""
    cls = PARAMETER_CLASSES[ProtocolKind(kind)]
    return {
        item.name: _plain(_default(item)) for item in dataclasses.fields(cls) if _has_default(item)
    }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _fields(
    cls: Any, data: Mapping[str, Any], prefix: str, errors: dict[str, list[str]], blank: bool
) -> list[ParameterField]:
    hints = get_type_hints(cls)
    result = []
    for item in dataclasses.fields(cls):
        name = item.name
        path = f"{prefix}{name}"
        widget, inner = _widget(name, hints[name])
        unit, _stem = _unit_and_stem(name)
        spec = ParameterField(
            name=name,
            path=path,
            widget=widget,
            label=label_for(name),
            unit=unit if widget in ("number", "integer", "numbers") else "",
            help=HELP.get(name, ""),
            required=not _has_default(item) and not _strip_optional(hints[name])[1],
            has_default=_has_default(item),
            errors=errors.pop(path, []),
        )
        value = data.get(name)
        if widget in ("choice", "choices", "ordered"):
            spec.choices = [(choice.value, choice_label(choice.value)) for choice in inner]
        if widget == "choices" and isinstance(value, list):
            # Ticked boxes first, in their stored order: the browser sends them in page order,
            # so the order (e.g. of a label's fields) survives an edit.
            rank = {_text(v): position for position, v in enumerate(value)}
            spec.choices.sort(key=lambda choice: rank.get(choice[0], len(rank)))
        if widget == "choice":
            spec.value = _text(value)
        elif widget in ("choices", "ordered"):
            spec.value = [_text(v) for v in value] if isinstance(value, list) else []
        elif widget == "boolean":
            spec.value = bool(value) if isinstance(value, bool) else bool(_default(item))
        elif widget == "lines":
            spec.value = "\n".join(_text(v) for v in value) if isinstance(value, list) else ""
            _list_errors(spec, errors)
        elif widget == "numbers":
            spec.value = ", ".join(_text(v) for v in value) if isinstance(value, list) else ""
            _list_errors(spec, errors)
        elif widget == "group":
            nested = value if isinstance(value, Mapping) else {}
            spec.children = _fields(inner, nested, f"{path}.", errors, blank)
        elif widget == "rows":
            spec.row_label = label_for(name).rstrip("s") or label_for(name)
            existing = value if isinstance(value, list) else []
            spec.rows = [
                ParameterRow(
                    path=f"{path}[{index}]",
                    number=index + 1,
                    fields=_fields(
                        inner,
                        row if isinstance(row, Mapping) else {},
                        f"{path}[{index}].",
                        errors,
                        blank,
                    ),
                )
                for index, row in enumerate(existing)
            ]
            # One blank row to add to (a new score item starts with two blank levels).
            if blank:
                extra = MINIMUM_BLANK_ROWS.get(name, 0)
            else:
                extra = max(1, MINIMUM_BLANK_ROWS.get(name, 1) - len(existing))
            for index in range(len(existing), len(existing) + extra):
                spec.rows.append(
                    ParameterRow(
                        path=f"{path}[{index}]",
                        number=index + 1,
                        fields=_fields(inner, {}, f"{path}[{index}].", errors, True),
                        blank=True,
                    )
                )
        else:
            spec.value = _text(value)
        result.append(spec)
    return result


def _list_errors(spec: ParameterField, errors: dict[str, list[str]]) -> None:
    """Messages for ``name[i]`` of a one-per-line or comma list, numbered from 1."""
    pattern = re.compile(re.escape(spec.path) + r"\[(\d+)\]$")
    for path in sorted(errors):
        match = pattern.match(path)
        if match:
            number = int(match.group(1)) + 1
            spec.errors += [f"Entry {number}: {message}" for message in errors.pop(path)]


def build_form(
    kind: str, data: Mapping[str, Any], errors: Mapping[str, Sequence[str]] | None = None
) -> ParameterForm:
    """The form for a protocol of ``kind`` showing ``data`` (stored or submitted parameters)
    and the domain's ``errors`` beside their inputs; messages for no input are kept on top."""
    cls = PARAMETER_CLASSES[ProtocolKind(kind)]
    remaining = {path: list(messages) for path, messages in (errors or {}).items()}
    fields = _fields(cls, data, "", remaining, False)
    general = remaining.pop(NON_FIELD, [])
    general += [
        f"{path}: {message}" for path, messages in remaining.items() for message in messages
    ]
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    description = " ".join(doc.replace("``", "").split())
    return ParameterForm(kind=kind, fields=fields, errors=general, description=description)


# -- reading a submitted form ---------------------------------------------------------------


def _row_indices(post: MultiValue, path: str) -> list[int]:
    pattern = re.compile(re.escape(path) + r"\[(\d+)\]\.")
    return sorted({int(m.group(1)) for key in post.keys() if (m := pattern.match(str(key)))})


def _first(post: MultiValue, key: str) -> str:
    values = post.getlist(key)
    return values[-1].strip() if values else ""


def _read(cls: Any, post: MultiValue, prefix: str) -> dict[str, Any]:
    hints = get_type_hints(cls)
    data: dict[str, Any] = {}
    for item in dataclasses.fields(cls):
        name = item.name
        path = f"{prefix}{name}"
        widget, inner = _widget(name, hints[name])
        if widget == "boolean":
            value = bool(post.getlist(path))
            # A box left at its default is not sent: a rule that only applies when another
            # box is ticked (record_ulcer_diameter) is then not reported as misplaced.
            if value != bool(_default(item)) or not _has_default(item):
                data[name] = value
        elif widget == "choices":
            chosen = [v for v in post.getlist(path) if v.strip()]
            if chosen:
                data[name] = chosen
        elif widget == "ordered":
            chosen = [v for v in post.getlist(path) if v.strip()]
            if chosen:
                data[name] = chosen
        elif widget == "lines":
            lines = [line.strip() for line in _first(post, path).splitlines() if line.strip()]
            if lines:
                data[name] = lines
        elif widget == "numbers":
            numbers = [part for part in re.split(r"[,;\s]+", _first(post, path)) if part]
            if numbers:
                data[name] = numbers
        elif widget == "group":
            data[name] = _read(inner, post, f"{path}.")
        elif widget == "rows":
            rows = []
            for index in _row_indices(post, path):
                row_path = f"{path}[{index}]"
                if post.getlist(f"{row_path}.{REMOVE}"):
                    continue
                row = _read(inner, post, f"{row_path}.")
                if _is_blank(row):
                    continue
                rows.append(row)
            if rows:
                data[name] = rows
        else:
            text = _first(post, path)
            if text:
                data[name] = text
    return data


def _is_blank(value: Any) -> bool:
    if isinstance(value, Mapping):
        return all(_is_blank(item) for item in value.values())
    if isinstance(value, list):
        return all(_is_blank(item) for item in value)
    if isinstance(value, bool):
        return True  # a box alone does not make a row
    return value in ("", None)


def parameters_from_post(kind: str, post: MultiValue) -> dict[str, Any]:
    """The parameter dictionary a submitted parameter form describes (not yet validated).

    Numbers stay text (the domain reads ``"2.5"`` as 2.5 and names a bad one); blank inputs,
    blank rows and rows ticked "remove" are left out, and the remaining rows are renumbered,
    so the domain's paths match the form rendered from this dictionary.
    """
    cls = PARAMETER_CLASSES[ProtocolKind(kind)]
    return _read(cls, post, "")


def add_row(data: dict[str, Any], path: str) -> None:
    """Give the row list at ``path`` (``items`` or ``items[0].levels``) one more blank row."""
    target: Any = data
    parts = re.findall(r"([A-Za-z_]+)(?:\[(\d+)\])?", path)
    for position, (name, index) in enumerate(parts):
        last = position == len(parts) - 1
        if last:
            target.setdefault(name, []).append({})
            return
        if index == "":
            target = target.setdefault(name, {})
        else:
            rows = target.setdefault(name, [])
            while len(rows) <= int(index):
                rows.append({})
            target = rows[int(index)]
