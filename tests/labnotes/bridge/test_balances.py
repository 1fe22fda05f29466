"""Balance line parsers: lines as the manuals show them, stable and unstable, errors named."""

from __future__ import annotations

import pytest

from labnotes.bridge.balances import (
    BalanceLineError,
    BalanceProtocol,
    parse_balance_line,
    parse_mt_sics,
    parse_ohaus,
    parse_sartorius,
    to_grams,
)


@pytest.mark.parametrize(
    ("line", "value", "unit", "stable"),
    [
        ("S S      100.00 g\r\n", 100.0, "g", True),
        ("S D       23.47 g", 23.47, "g", False),
        ("S S     -0.003 g", -0.003, "g", True),
        ("S S      0.02345 kg", 0.02345, "kg", True),
        ("SI S     21.3 g", 21.3, "g", True),
    ],
)
def test_mt_sics_weight_lines_when_stable_or_dynamic(
    line: str, value: float, unit: str, stable: bool
) -> None:
    reading = parse_mt_sics(line)
    assert (reading.value, reading.unit, reading.stable) == (value, unit, stable)
    assert reading.raw == line.rstrip("\r\n")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("S I", "could not weigh"),
        ("S +", "overload"),
        ("S -", "underload"),
        ("ES", "Not an MT-SICS weight line"),
        ("S S      100.00 stones", "Unknown unit"),
    ],
)
def test_mt_sics_refuses_status_lines_with_their_reason(line: str, reason: str) -> None:
    with pytest.raises(BalanceLineError, match=reason):
        parse_mt_sics(line)


@pytest.mark.parametrize(
    ("line", "value", "unit", "stable"),
    [
        ("+    23.456 g  ", 23.456, "g", True),
        ("+    23.456    ", 23.456, "", False),
        ("-     0.010 g  ", -0.010, "g", True),
        ("N     " + "+    23.456 g   ", 23.456, "g", True),
        ("N  +  23.456 g", 23.456, "g", True),
        ("G#    " + "+   123.4   g   ", 123.4, "g", True),
        ("      +  0.02345 kg ", 0.02345, "kg", True),
    ],
)
def test_sartorius_sbi_lines_when_16_or_22_characters(
    line: str, value: float, unit: str, stable: bool
) -> None:
    reading = parse_sartorius(line)
    assert (reading.value, reading.unit, reading.stable) == (pytest.approx(value), unit, stable)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("       HHHHHH   ", "overload"),
        ("  LLLL  ", "underload"),
        ("Err 54", "balance error 54"),
        ("Tare", "Not a Sartorius"),
    ],
)
def test_sartorius_refuses_over_and_underload(line: str, reason: str) -> None:
    with pytest.raises(BalanceLineError, match=reason):
        parse_sartorius(line)


@pytest.mark.parametrize(
    ("line", "value", "stable"),
    [
        ("     23.45 g", 23.45, True),
        ("     23.45 g ?", 23.45, False),
        ("     23.45 g   N", 23.45, True),
        ("     23.45 g ? G", 23.45, False),
        ("    -1.20 g", -1.2, True),
    ],
)
def test_ohaus_lines_when_stable_or_marked_with_a_question_mark(
    line: str, value: float, stable: bool
) -> None:
    reading = parse_ohaus(line)
    assert (reading.value, reading.unit, reading.stable) == (value, "g", stable)


def test_ohaus_refuses_text_that_is_not_a_weight() -> None:
    with pytest.raises(BalanceLineError, match="Not an Ohaus weight line"):
        parse_ohaus("Ohaus Scout STX")


def test_readings_convert_to_grams_and_an_unstable_sartorius_reading_has_no_unit() -> None:
    assert to_grams(
        parse_balance_line("S S   0.02345 kg", BalanceProtocol.MT_SICS)
    ) == pytest.approx(23.45)
    assert to_grams(parse_balance_line("  23450 mg", BalanceProtocol.OHAUS)) == pytest.approx(23.45)
    with pytest.raises(BalanceLineError, match="not stable"):
        to_grams(parse_sartorius("+    23.456    "))
