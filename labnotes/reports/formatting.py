# ruff: noqa: RUF003  (report text is typeset: −, ×, – and γ are intended)
"""How numbers are printed in reports: one place, so that tests can look for the same strings.

Negative numbers use the typographic minus (U+2212), p-values three significant digits with
powers of ten below 0.001, and an undefined number (``None``: not estimable, not reached) prints
as an en dash or the reason given by the caller.
"""

from __future__ import annotations

import math

MINUS = "\u2212"
NOT_AVAILABLE = "–"
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def number(value: float | None, decimals: int = 1, *, missing: str = NOT_AVAILABLE) -> str:
    """Fixed decimals with a real minus sign; ``missing`` for None/NaN."""
    if value is None or not math.isfinite(value):
        return missing
    text = f"{value:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text.replace("-", MINUS)


def signed(value: float | None, decimals: int = 1) -> str:
    """Like :func:`number` but with an explicit + on positive changes (``+12.0``)."""
    text = number(value, decimals)
    return "+" + text if value is not None and math.isfinite(value) and value > 0 else text


def p_value(value: float | None) -> str:
    """p with 3 significant digits; below 0.001 as ``2.18 × 10⁻¹⁰``."""
    if value is None or not math.isfinite(value):
        return NOT_AVAILABLE
    if value >= 0.001:
        return f"{value:.3g}"
    if value == 0:
        return "< 10⁻³⁰⁰"
    exponent = math.floor(math.log10(value))
    mantissa = value / 10.0**exponent
    if round(mantissa, 2) >= 10.0:
        mantissa, exponent = mantissa / 10.0, exponent + 1
    return f"{mantissa:.2f} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def interval(low: float | None, high: float | None, decimals: int = 1) -> str:
    """``[low, high]`` for a confidence interval; an en dash when undefined."""
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return NOT_AVAILABLE
    return f"[{number(low, decimals)}, {number(high, decimals)}]"


def median_interval(low: float | None, high: float | None, decimals: int = 1) -> str:
    """CI of a median survival: a limit the curve never reaches prints as "not reached"."""
    if low is None and high is None:
        return NOT_AVAILABLE
    return (
        f"[{number(low, decimals, missing='not reached')}, "
        f"{number(high, decimals, missing='not reached')}]"
    )


def mean_sem(mean: float | None, sem: float | None, decimals: int = 1) -> str:
    if sem is None or not math.isfinite(sem):
        return number(mean, decimals)
    return f"{number(mean, decimals)} ± {number(sem, decimals)}"


def day(value: float | None) -> str:
    if value is None:
        return NOT_AVAILABLE
    return str(int(value)) if float(value).is_integer() else number(value, 1)


__all__ = [
    "MINUS",
    "NOT_AVAILABLE",
    "day",
    "interval",
    "mean_sem",
    "median_interval",
    "number",
    "p_value",
    "signed",
]
