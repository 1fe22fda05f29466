"""One grid cell's text → a reading, a code (NP, NM, ND) or an error a technician can act on.

What arrives in a cell is either typed by a person or typed by an instrument in keyboard-wedge
mode (the USB device pretends to be a keyboard and ends with Enter). Accepted, for every kind:

* **Numbers** with a decimal dot or a decimal comma (``12.5``, ``12,5``), an optional ``+`` and
  leading zeros (``+012.50``, as some calipers send). **Thousands separators are refused**
  (``1,234.5``, ``1.234,5``, ``1 234``, ``1'234``): no mouse reading needs one, so one is a sign of
  a slip. A comma followed by exactly three digits (``1,234``) is refused as ambiguous.
* **Units**: ``mm`` for length, width and height, ``g`` for weight, any letter case, with or
  without a space. **``cm`` is refused, not converted**: the stored value must be the number the
  technician sees in a millimetre column, and a silent x10 would hide exactly the slip a unit in
  the wrong column betrays. The message gives the millimetre value to type instead.
* **Balance strings** (weight, but recognised for any kind so the message is right):
  Sartorius ``+    23.41 g``, Ohaus ``   23.41 g`` (``?`` marks an unstable reading),
  Mettler Toledo MT-SICS ``S S      23.41 g`` (stable) / ``S D      23.41 g`` (dynamic) and its
  ``S I`` (busy), ``S +`` (overload), ``S -`` (underload) answers, A&D ``ST,+00023.41  g`` /
  ``US,...`` (unstable) / ``OL,...`` (overload). An unstable reading is refused: the animal
  moved, and a moving-mouse weight is not a weight. A ``?`` anywhere, or a lone ``D`` token,
  also marks instability.
* **Codes**, distinct from a blank cell (which is "not entered yet", never a value): ``NP`` not
  palpable (a tumour reading with volume 0, flagged), ``NM`` present but not measurable and
  ``ND`` not done, both with a reason typed after the code (``NM ulcerated``,
  ``ND: animal in procedure room``). ``NP`` and ``NM`` are tumour codes; a weight can only be
  ``ND``.
* **Plausible ranges** per kind (``EntryConfig.ranges``), inclusive; zero is never a reading
  (an axis of 0 is ``NP``; a weight of 0 is an empty balance).
* At most ``EntryConfig.max_decimal_places`` decimals (2 by default, what the measurement
  table stores): a third decimal is refused rather than silently rounded.

A scanned animal tag is never a reading (see :func:`is_scanned_tag`); it is refused here so
that a tag scanned into a cell can never be stored as millimetres.

:func:`parse_reading` never raises for any input text: every outcome is a returned value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, TypeAlias

Kind: TypeAlias = Literal["length", "width", "height", "weight"]
AXIS_KINDS: frozenset[str] = frozenset({"length", "width", "height"})
CodeName: TypeAlias = Literal["NP", "NM", "ND"]
ErrorCode: TypeAlias = Literal[
    "empty",
    "scanned_tag",
    "unstable",
    "balance_busy",
    "overload",
    "underload",
    "reason_required",
    "code_not_allowed",
    "not_a_number",
    "thousands_separator",
    "ambiguous_separator",
    "too_many_decimals",
    "wrong_unit",
    "negative",
    "zero",
    "below_range",
    "above_range",
]

UNIT_BY_KIND: Mapping[str, str] = {"length": "mm", "width": "mm", "height": "mm", "weight": "g"}


@dataclass(frozen=True)
class PlausibleRange:
    """Inclusive bounds of a plausible reading, in the kind's unit (mm or g)."""

    minimum: Decimal
    maximum: Decimal

    def __post_init__(self) -> None:
        if not (Decimal(0) < self.minimum <= self.maximum):
            raise ValueError(
                f"a plausible range needs 0 < minimum <= maximum, not {self.minimum}-{self.maximum}"
            )


def _default_ranges() -> dict[str, PlausibleRange]:
    # Axes: under 1 mm nothing is palpable (that is NP); 40 mm is twice the usual 20 mm diameter
    # endpoint, so a reading past the endpoint is still recorded. Weight: adult mice, 5-60 g.
    axis = PlausibleRange(Decimal("1"), Decimal("40"))
    return {
        "length": axis,
        "width": axis,
        "height": axis,
        "weight": PlausibleRange(Decimal("5"), Decimal("60")),
    }


@dataclass(frozen=True)
class EntryConfig:
    """How a run's grid reads its cells: plausible ranges, decimals, and scanned-tag recognition.

    A scanned tag is recognised only by what is configured here, because numeric ear tags look
    exactly like readings: with nothing configured, nothing is a tag. ``tag_prefix`` and
    ``tag_suffix`` (as the scanner is programmed to add them) are stripped; ``tag_pattern`` then
    has to match the whole remainder. The pattern uses the syntax common to Python ``re`` and
    JavaScript ``RegExp`` (no named groups, no look-behind, no inline flags): it is sent to
    the browser as ``data-tag-pattern`` and must mean the same thing in both. The tag is the
    pattern's first group when it has one, else the whole remainder.
    """

    ranges: Mapping[str, PlausibleRange] = field(default_factory=_default_ranges)
    max_decimal_places: int = 2
    tag_prefix: str = ""
    tag_suffix: str = ""
    tag_pattern: str = ""

    def __post_init__(self) -> None:
        missing = sorted(set(UNIT_BY_KIND) - set(self.ranges))
        if missing:
            raise ValueError(f"plausible ranges missing for: {', '.join(missing)}")
        if self.max_decimal_places < 0:
            raise ValueError("max_decimal_places cannot be negative")
        if self.tag_pattern:
            re.compile(self.tag_pattern)  # a bad pattern fails when the config is built

    @property
    def recognises_tags(self) -> bool:
        return bool(self.tag_prefix or self.tag_suffix or self.tag_pattern)

    def tag_data_attributes(self) -> dict[str, str]:
        """The ``data-tag-*`` attributes that make grid.js recognise tags exactly as here."""
        attributes = {
            "data-tag-prefix": self.tag_prefix,
            "data-tag-suffix": self.tag_suffix,
            "data-tag-pattern": self.tag_pattern,
        }
        return {name: value for name, value in attributes.items() if value}


@dataclass(frozen=True)
class ParsedReading:
    """A number in the kind's unit. ``instrument_format`` names a recognised balance framing."""

    kind: Kind
    value: Decimal
    unit: str
    raw: str
    instrument_format: Literal["mt-sics", "a&d"] | None = None


@dataclass(frozen=True)
class ReadingCode:
    """``NP`` (volume 0, ``flagged``), ``NM`` or ``ND`` (both with a reason): not a number."""

    kind: Kind
    code: CodeName
    reason: str
    raw: str

    @property
    def volume_mm3(self) -> Decimal | None:
        """0 for a tumour not palpable (it enters group means as 0); no volume otherwise."""
        return Decimal(0) if self.code == "NP" else None

    @property
    def flagged(self) -> bool:
        """NP is stored as a measured volume of 0, flagged so that it reads NP and not 0.

        NM and ND carry no value at all, so there is nothing to flag: they are their own rows.
        """
        return self.code == "NP"


@dataclass(frozen=True)
class ReadingError:
    """Why the cell was refused, in a sentence for the technician at the bench."""

    code: ErrorCode
    message: str
    raw: str


ParseResult: TypeAlias = ParsedReading | ReadingCode | ReadingError

CODE_MEANINGS: Mapping[str, str] = {
    "NP": "not palpable",
    "NM": "present but not measurable",
    "ND": "not done",
}

# Spaces a keyboard-wedge or a locale may put between digit groups. NBSP and the narrow/thin
# spaces are the thousands separators of French and Swiss number formatting.
_GROUP_SPACES = "\u00a0\u2009\u202f"
_APOSTROPHES = "'\u2019"
_MINUS_SIGNS = "\u2212\u2013"

_CODE = re.compile(r"(?P<code>NP|NM|ND)(?:$|[\s:;,\-\u2013]+(?P<reason>.*))", re.IGNORECASE | re.S)
_MT_SICS = re.compile(r"S\s+(?P<status>[SDI+-])(?:\s+(?P<rest>.*))?", re.S)
_AND = re.compile(r"(?P<status>ST|US|OL|QT)\s*,\s*(?:(?:GS|NT|TR)\s*,\s*)?(?P<rest>.*)", re.S)
_LONE_D = re.compile(r"(?:^|\s)D(?:\s|$)")
_NUMBER_AND_UNIT = re.compile(r"(?P<body>.*?)\s*(?P<unit>[A-Za-z\u00b5\u03bc]+\.?)?", re.S)
_NUMBER_BODY = re.compile(r"[0-9.,\s" + _GROUP_SPACES + _APOSTROPHES + r"]*")

_UNSTABLE_MESSAGE = (
    "Unstable reading: the balance had not settled. Wait for the stable sign, then send "
    "the weight again."
)


def is_scanned_tag(raw: str, config: EntryConfig) -> bool:
    """Whether ``raw`` is a scanned animal tag under ``config`` (see :class:`EntryConfig`)."""
    return scanned_tag(raw, config) is not None


def scanned_tag(raw: str, config: EntryConfig) -> str | None:
    """The tag carried by a scan, or ``None`` when ``raw`` is not one.

    Prefix and suffix are stripped, the pattern must match the whole remainder, and the tag is
    the pattern's first group (or the remainder). grid.js implements the same rule.
    """
    if not config.recognises_tags:
        return None
    text = raw.strip()
    if config.tag_prefix:
        if not text.startswith(config.tag_prefix):
            return None
        text = text[len(config.tag_prefix) :]
    if config.tag_suffix:
        if not text.endswith(config.tag_suffix):
            return None
        text = text[: len(text) - len(config.tag_suffix)]
    if not text:
        return None
    if not config.tag_pattern:
        return text
    match = re.fullmatch(config.tag_pattern, text)
    if match is None:
        return None
    if match.re.groups and match.group(1):
        return match.group(1)
    return text


def parse_reading(raw: str, *, kind: Kind, config: EntryConfig) -> ParseResult:
    """Read one cell. Never raises: the result is a reading, a code or an error (module doc)."""
    text = raw.strip()
    for minus in _MINUS_SIGNS:
        text = text.replace(minus, "-")
    if not text:
        return ReadingError("empty", "Nothing typed: type a value, or NP, NM or ND.", raw)
    if is_scanned_tag(text, config):
        return ReadingError("scanned_tag", f"{text} is a scanned animal tag, not a reading.", raw)

    code_match = _CODE.fullmatch(text)
    if code_match:
        return _parse_code(code_match, kind=kind, raw=raw)

    instrument_format: Literal["mt-sics", "a&d"] | None = None
    sics = _MT_SICS.fullmatch(text)
    if sics:
        instrument_format = "mt-sics"
        status = sics.group("status")
        rest = (sics.group("rest") or "").strip()
        if status == "D":
            return ReadingError("unstable", _UNSTABLE_MESSAGE, raw)
        if status == "I":
            return ReadingError(
                "balance_busy", "The balance was busy and sent no weight: send it again.", raw
            )
        if status == "+" and not rest:
            return ReadingError("overload", "The balance is overloaded (over its range).", raw)
        if status == "-" and not rest:
            return ReadingError(
                "underload", "The balance reads under zero: tare it with the pan empty.", raw
            )
        if status in "+-":
            return _not_a_number(raw)
        text = rest
    else:
        and_format = _AND.fullmatch(text)
        if and_format:
            instrument_format = "a&d"
            status = and_format.group("status")
            if status == "US":
                return ReadingError("unstable", _UNSTABLE_MESSAGE, raw)
            if status == "OL":
                return ReadingError("overload", "The balance is overloaded (over its range).", raw)
            text = and_format.group("rest").strip()

    has_digit = any(c.isdigit() for c in text)
    if has_digit and ("?" in text or _LONE_D.search(text)):
        return ReadingError("unstable", _UNSTABLE_MESSAGE, raw)
    return _parse_number(text, kind=kind, config=config, raw=raw, instrument=instrument_format)


def _parse_code(match: re.Match[str], *, kind: Kind, raw: str) -> ParseResult:
    code_text = match.group("code").upper()
    code: CodeName = "NP" if code_text == "NP" else "NM" if code_text == "NM" else "ND"
    reason = " ".join((match.group("reason") or "").split())
    if code in ("NP", "NM") and kind not in AXIS_KINDS:
        return ReadingError(
            "code_not_allowed",
            f"{code} ({CODE_MEANINGS[code]}) is for tumours; a weight not taken is ND "
            "with a reason.",
            raw,
        )
    if code in ("NM", "ND") and not reason:
        return ReadingError(
            "reason_required",
            f"{code} ({CODE_MEANINGS[code]}) needs a reason after the code, "
            f"e.g. '{code} ulcerated'.",
            raw,
        )
    return ReadingCode(kind=kind, code=code, reason=reason, raw=raw)


def _not_a_number(raw: str) -> ReadingError:
    return ReadingError(
        "not_a_number", f"'{raw.strip()}' is not a reading: type a number, or NP, NM or ND.", raw
    )


def _parse_number(
    text: str,
    *,
    kind: Kind,
    config: EntryConfig,
    raw: str,
    instrument: Literal["mt-sics", "a&d"] | None,
) -> ParseResult:
    split = _NUMBER_AND_UNIT.fullmatch(text)
    if split is None:  # pragma: no cover - the pattern matches any text
        return _not_a_number(raw)
    body = split.group("body")
    unit = (split.group("unit") or "").rstrip(".").lower().replace("\u03bc", "\u00b5")

    sign = ""
    if body[:1] in ("+", "-"):
        sign, body = body[0], body[1:].strip()
    if not body or not _NUMBER_BODY.fullmatch(body) or not any(c.isdigit() for c in body):
        return _not_a_number(raw)
    if re.search(r"\d[\s" + _GROUP_SPACES + _APOSTROPHES + r"]+\d", body) or any(
        c in body for c in _APOSTROPHES
    ):
        return _thousands(raw)
    if re.search(r"\s", body):  # a space next to a separator, e.g. "12 .5"
        return _not_a_number(raw)
    dots, commas = body.count("."), body.count(",")
    if dots + commas > 1:
        return _thousands(raw)
    integer_part, _, fraction = body.replace(",", ".").partition(".")
    if commas and len(fraction) == 3:
        return ReadingError(
            "ambiguous_separator",
            f"'{body}' is ambiguous: a comma before three digits may be a thousands separator. "
            "Type the decimals with a dot or a comma and at most "
            f"{config.max_decimal_places} decimals.",
            raw,
        )

    unit_error = _check_unit(unit, kind=kind, number=body, raw=raw)
    if unit_error is not None:
        return unit_error

    value = Decimal(f"{integer_part or '0'}.{fraction or '0'}")
    expected_unit = UNIT_BY_KIND[kind]
    if sign == "-" and value != 0:
        return ReadingError(
            "negative",
            f"-{body} {expected_unit} is negative: "
            + ("tare the balance with the pan empty." if kind == "weight" else "not a reading."),
            raw,
        )
    if value == 0:
        if kind == "weight":
            message = "0 g is not a weight: is the animal on the balance?"
        else:
            message = f"0 mm is not a {kind}: type NP when the tumour is not palpable."
        return ReadingError("zero", message, raw)
    if len(fraction) > config.max_decimal_places:
        return ReadingError(
            "too_many_decimals",
            f"{body} has {len(fraction)} decimals; at most {config.max_decimal_places} are kept. "
            "Check the number (a thousands separator is not accepted).",
            raw,
        )
    plausible = config.ranges[kind]
    shown = f"{_plain(value)} {expected_unit}"
    if value < plausible.minimum:
        return ReadingError(
            "below_range",
            f"{shown} is under the plausible minimum {kind} of "
            f"{_plain(plausible.minimum)} {expected_unit}: check the value"
            + (", or type NP if the tumour is not palpable." if kind in AXIS_KINDS else "."),
            raw,
        )
    if value > plausible.maximum:
        return ReadingError(
            "above_range",
            f"{shown} is over the plausible maximum {kind} of "
            f"{_plain(plausible.maximum)} {expected_unit}: check the value.",
            raw,
        )
    return ParsedReading(
        kind=kind, value=value, unit=expected_unit, raw=raw, instrument_format=instrument
    )


def _thousands(raw: str) -> ReadingError:
    return ReadingError(
        "thousands_separator",
        f"'{raw.strip()}' has a thousands separator or several decimal separators: type the "
        "number with one decimal dot or comma and nothing between the digits.",
        raw,
    )


def _check_unit(unit: str, *, kind: Kind, number: str, raw: str) -> ReadingError | None:
    if not unit:
        return None
    expected = UNIT_BY_KIND[kind]
    if unit == expected:
        return None
    if kind in AXIS_KINDS and unit == "cm":
        millimetres = Decimal(number.replace(",", ".") or "0") * 10
        return ReadingError(
            "wrong_unit",
            f"Lengths are typed in millimetres, not centimetres: "
            f"{number} cm would be {_plain(millimetres)} mm.",
            raw,
        )
    if unit in ("mm", "cm", "m", "\u00b5m", "um", "in", "g", "mg", "kg", "oz", "lb", "ct"):
        what = "millimetres (mm)" if kind in AXIS_KINDS else "grams (g)"
        advice = "" if kind in AXIS_KINDS else " Set the balance to grams."
        return ReadingError(
            "wrong_unit", f"A {kind} is typed in {what}, not '{unit}'.{advice}", raw
        )
    return ReadingError(
        "not_a_number", f"'{raw.strip()}' is not a reading: type a number, or NP, NM or ND.", raw
    )


def plain_number(value: Decimal) -> str:
    """A value as the grid shows it: ``12.5``, ``20``, never ``1.25E+1`` or ``12.50``."""
    return _plain(value)


def _plain(value: Decimal) -> str:
    """Decimal as a person writes it: no exponent, no trailing zeros after the point."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
