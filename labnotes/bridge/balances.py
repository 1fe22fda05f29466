"""Parsers for the lines balances print over RS-232/USB (MT-SICS, Sartorius SBI, Ohaus).

Each parser takes one line as sent by the balance and returns a :class:`BalanceReading`, or raises
:class:`BalanceLineError` saying why the line is not a usable weight. An unstable (dynamic)
reading is parsed with ``stable=False``; the bridge refuses to send those.

Formats (from the manufacturers' interface manuals):

- Mettler Toledo MT-SICS: ``S S     100.00 g`` answers ``S``/``SI``; the second field is the
  status: ``S`` stable, ``D`` dynamic (unstable), ``I`` not executable, ``+``/``-`` over/underload.
- Sartorius SBI: a 16-character line (sign, value, unit) optionally behind a 6-character
  identifier (``N     ``, ``G#    ``, ``T     ``), 22 characters in all. The unit is left blank
  while the reading is unstable; ``H``/``L`` in place of the value mean over/underload.
- Ohaus: ``   123.45 g  ? N`` — value, unit, ``?`` when unstable, then an optional ``G``/``N``/``T``
  legend (gross, net, tare).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

UNITS = ("mg", "g", "kg", "ct", "lb", "oz")


class BalanceProtocol(StrEnum):
    MT_SICS = "mt-sics"
    SARTORIUS = "sartorius"
    OHAUS = "ohaus"


class BalanceLineError(ValueError):
    """A line that carries no usable weight; the message says why, for the operator."""


@dataclass(frozen=True)
class BalanceReading:
    value: float
    unit: str
    stable: bool
    raw: str


def _number(text: str, line: str) -> float:
    try:
        return float(text.replace(" ", ""))
    except ValueError:
        raise BalanceLineError(f"Not a number in {line!r}: {text!r}.") from None


_MT_SICS = re.compile(
    r"^(?P<cmd>SI?|SIR|SNR)\s+(?P<status>[SD])\s+(?P<value>[-+]?\s*\d+(?:\.\d+)?)\s+(?P<unit>\S+)\s*$"
)
_MT_SICS_STATUS = re.compile(r"^(?P<cmd>SI?|SIR|SNR)\s+(?P<status>[I+\-L])\s*$")


def parse_mt_sics(line: str) -> BalanceReading:
    text = line.strip("\r\n")
    if match := _MT_SICS.match(text.strip()):
        unit = match["unit"]
        if unit not in UNITS:
            raise BalanceLineError(f"Unknown unit {unit!r} in {text!r}.")
        return BalanceReading(
            value=_number(match["value"], text),
            unit=unit,
            stable=match["status"] == "S",
            raw=text,
        )
    if match := _MT_SICS_STATUS.match(text.strip()):
        reasons = {
            "I": "the balance could not weigh (busy or not ready)",
            "+": "overload",
            "-": "underload",
            "L": "logical error (command not allowed now)",
        }
        raise BalanceLineError(f"MT-SICS {text.strip()!r}: {reasons[match['status']]}.")
    raise BalanceLineError(f"Not an MT-SICS weight line: {text!r}.")


_SARTORIUS = re.compile(
    r"^(?P<sign>[+-])?\s*(?P<value>\d+(?:\.\d*)?|\.\d+|[HL]+)\s*(?P<unit>[A-Za-z]{0,3})\s*$"
)
_SARTORIUS_IDENT = re.compile(r"^\s*(?:N|G#|G|T|NET|Stat)\s+(?=[+-]|\d)")
_SARTORIUS_ERROR = re.compile(r"^Err\s*(?P<code>\d+)", re.IGNORECASE)


def parse_sartorius(line: str) -> BalanceReading:
    text = line.strip("\r\n")
    # The 22-character format puts a 6-character identifier (N, G#, T, …) before the 16-character
    # data field; the 16-character format is the data field alone.
    data = text[6:] if len(text) >= 22 else text
    if (ident := _SARTORIUS_IDENT.match(data)) is not None:  # trailing blanks lost on the way
        data = data[ident.end() :]
    if error := _SARTORIUS_ERROR.match(data.strip()):
        raise BalanceLineError(f"Sartorius {text.strip()!r}: balance error {error['code']}.")
    match = _SARTORIUS.match(data.strip())
    if match is None:
        raise BalanceLineError(f"Not a Sartorius SBI weight line: {text!r}.")
    value = match["value"]
    if set(value) <= {"H"}:
        raise BalanceLineError(f"Sartorius {text.strip()!r}: overload.")
    if set(value) <= {"L"}:
        raise BalanceLineError(f"Sartorius {text.strip()!r}: underload.")
    unit = match["unit"]
    if unit and unit not in UNITS:
        raise BalanceLineError(f"Unknown unit {unit!r} in {text!r}.")
    number = _number(value, text)
    if match["sign"] == "-":
        number = -number
    # SBI leaves the unit field blank while the weight is still moving.
    return BalanceReading(value=number, unit=unit or "", stable=bool(unit), raw=text)


_OHAUS = re.compile(
    r"^(?P<value>[-+]?\s*\d+(?:\.\d+)?)\s+(?P<unit>[A-Za-z]{1,3})(?:\s+(?P<unstable>\?))?(?:\s+(?P<legend>[GNT]))?\s*$"
)


def parse_ohaus(line: str) -> BalanceReading:
    text = line.strip("\r\n")
    match = _OHAUS.match(text.strip())
    if match is None:
        raise BalanceLineError(f"Not an Ohaus weight line: {text!r}.")
    unit = match["unit"]
    if unit not in UNITS:
        raise BalanceLineError(f"Unknown unit {unit!r} in {text!r}.")
    return BalanceReading(
        value=_number(match["value"], text),
        unit=unit,
        stable=match["unstable"] is None,
        raw=text,
    )


PARSERS = {
    BalanceProtocol.MT_SICS: parse_mt_sics,
    BalanceProtocol.SARTORIUS: parse_sartorius,
    BalanceProtocol.OHAUS: parse_ohaus,
}


def parse_balance_line(line: str, protocol: BalanceProtocol) -> BalanceReading:
    return PARSERS[protocol](line)


def to_grams(reading: BalanceReading) -> float:
    """The reading in grams (body weights are stored in g)."""
    factors = {"mg": 0.001, "g": 1.0, "kg": 1000.0, "ct": 0.2, "lb": 453.59237, "oz": 28.349523125}
    if reading.unit not in factors:
        raise BalanceLineError(f"No unit in {reading.raw!r}: the reading is not stable.")
    return reading.value * factors[reading.unit]
