# ruff: noqa: RUF001, RUF002, RUF003  (report text is typeset: −, ×, – and γ are intended)
"""Inline SVG figures for study reports, drawn by a few small functions (no matplotlib).

Why our own SVG: the figures are simple (lines, error bars, steps, bars), the output must be
byte-identical for the same input (SHA-256 per artifact) and fully text-based, so that WeasyPrint
lays it out fast and ``pdftotext`` can still read axis labels. Every figure has readable axes with
units, a legend, and arms told apart by colour *and* marker *and* dash pattern (Okabe–Ito
palette, safe for the common colour-vision deficiencies and for greyscale printing).

All figures use one coordinate system of CSS pixels (``WIDTH`` wide) and scale to the page
width through their ``viewBox``. Text is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from labnotes.analysis.growth import AnimalChange, GroupCurve
from labnotes.analysis.growth_data import GrowthData
from labnotes.analysis.survival import SurvivalAnalysis, numbers_at_risk
from labnotes.reports.results import (
    LOG_FLOOR_MM3,
    GeometricPoint,
    WeightPoint,
    nice_step,
)

WIDTH = 680
#: Left edge of full-width plots: room for the y label and for the arm names of n tables.
PLOT_LEFT = 104.0
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
#: Okabe & Ito (2008) colour-blind-safe palette, without its yellow (too pale on white).
PALETTE = ("#000000", "#E69F00", "#0072B2", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#999999")
MARKERS = ("circle", "square", "triangle", "diamond", "down", "cross", "plus")
DASHES = ("", "7 3", "2 2", "9 3 2 3", "4 4")
VOLUME_LABEL = "Tumour volume (mm³)"
DAY_LABEL = "Days since treatment start"


@dataclass(frozen=True)
class Style:
    colour: str
    marker: str
    dash: str


def arm_style(index: int) -> Style:
    """Style of the arm at ``index`` in design order: colour, marker and dash all differ.

    The three cycles have co-prime lengths (8, 7, 5), so no two of the first 280 arms share all
    three; the control (index 0) is black, solid, circles.
    """
    return Style(
        PALETTE[index % len(PALETTE)], MARKERS[index % len(MARKERS)], DASHES[index % len(DASHES)]
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _f(value: float) -> str:
    """Coordinates with 1 decimal: compact SVG, and stable bytes for identical input."""
    return f"{value:.1f}"


def marker(
    kind: str, x: float, y: float, colour: str, size: float = 3.6, filled: bool = True
) -> str:
    """One data marker centred on (x, y)."""
    fill = colour if filled else "#ffffff"
    common = f'fill="{fill}" stroke="{colour}" stroke-width="1.2"'
    s = size
    if kind == "circle":
        return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(s)}" {common}/>'
    if kind == "square":
        return (
            f'<rect x="{_f(x - s)}" y="{_f(y - s)}" width="{_f(2 * s)}" '
            f'height="{_f(2 * s)}" {common}/>'
        )
    if kind in ("triangle", "down"):
        sign = 1 if kind == "triangle" else -1
        points = [
            (x, y - sign * s * 1.2),
            (x - s * 1.1, y + sign * s * 0.8),
            (x + s * 1.1, y + sign * s * 0.8),
        ]
        return f'<polygon points="{_points(points)}" {common}/>'
    if kind == "diamond":
        points = [(x, y - s * 1.3), (x + s, y), (x, y + s * 1.3), (x - s, y)]
        return f'<polygon points="{_points(points)}" {common}/>'
    if kind == "cross":
        return (
            f'<path d="M{_f(x - s)} {_f(y - s)}L{_f(x + s)} {_f(y + s)}M{_f(x - s)} '
            f'{_f(y + s)}L{_f(x + s)} {_f(y - s)}" stroke="{colour}" stroke-width="1.8"/>'
        )
    return (
        f'<path d="M{_f(x - s)} {_f(y)}H{_f(x + s)}M{_f(x)} {_f(y - s)}V{_f(y + s)}" '
        f'stroke="{colour}" stroke-width="1.8"/>'
    )


def _points(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{_f(x)},{_f(y)}" for x, y in points)


def _text(
    x: float,
    y: float,
    text: object,
    *,
    size: float = 11,
    anchor: str = "middle",
    weight: str = "normal",
    colour: str = "#000000",
    rotate: bool = False,
) -> str:
    transform = f' transform="rotate(-90 {_f(x)} {_f(y)})"' if rotate else ""
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size:g}" text-anchor="{anchor}" '
        f'fill="{colour}"{bold}{transform}>{_e(text)}</text>'
    )


def _short(label: str, limit: int = 22) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


@dataclass(frozen=True)
class Scale:
    """Maps data values to pixels on one axis, linear or log10."""

    low: float
    high: float
    start: float
    end: float
    log: bool = False

    def __call__(self, value: float) -> float:
        if self.log:
            value = math.log10(max(value, self.low))
            low, high = math.log10(self.low), math.log10(self.high)
        else:
            low, high = self.low, self.high
        span = high - low if high != low else 1.0
        return self.start + (value - low) / span * (self.end - self.start)

    def ticks(self) -> list[float]:
        if self.log:
            first = math.floor(math.log10(self.low))
            last = math.ceil(math.log10(self.high))
            return [
                10.0**k for k in range(first, last + 1) if self.low <= 10.0**k <= self.high * 1.0001
            ]
        step = nice_step(self.high - self.low, 6)
        first = math.ceil(self.low / step - 1e-9)
        values: list[float] = []
        k = first
        while k * step <= self.high + 1e-9 * step:
            values.append(round(k * step, 10))
            k += 1
        return values


def tick_label(value: float) -> str:
    """Axis numbers: thousands separated by a thin space, no trailing ``.0``."""
    if abs(value) >= 1000 and float(value).is_integer():
        return f"{int(value):,}".replace(",", "\u2009")
    return f"{value:g}".replace("-", "−")


def linear_range(
    values: Sequence[float], *, include_zero: bool = True, pad: float = 0.05
) -> tuple[float, float]:
    """A padded, nicely rounded [low, high] covering ``values`` (and 0 when asked)."""
    finite = [v for v in values if math.isfinite(v)]
    low = min(finite, default=0.0)
    high = max(finite, default=1.0)
    if include_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1.0
    step = nice_step(high - low, 6)
    low_r = (
        math.floor((low - pad * (high - low)) / step) * step if low < 0 or not include_zero else low
    )
    high_r = math.ceil((high + pad * (high - low)) / step) * step
    return low_r, high_r


def log_range(values: Sequence[float], floor: float) -> tuple[float, float]:
    positive = [max(v, floor) for v in values if math.isfinite(v)]
    low = min(positive, default=floor)
    high = max(positive, default=floor * 10)
    return 10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high * 1.05))


@dataclass(frozen=True)
class Frame:
    """A plot area with its axes drawn; ``x``/``y`` map data to pixels."""

    x: Scale
    y: Scale
    svg: str


def frame(
    x: Scale,
    y: Scale,
    *,
    x_label: str,
    y_label: str,
    title: str = "",
    reference_lines: Sequence[tuple[float, str]] = (),
    size: float = 11,
    x_ticks: bool = True,
) -> Frame:
    """Axes box, grid, ticks and labels around the plot area ``x.start..x.end, y.end..y.start``."""
    parts: list[str] = []
    left, right = x.start, x.end
    top, bottom = y.end, y.start
    for value in y.ticks():
        py = y(value)
        parts.append(
            f'<line x1="{_f(left)}" x2="{_f(right)}" y1="{_f(py)}" y2="{_f(py)}" '
            'stroke="#e3e3e3" stroke-width="0.8"/>'
        )
        parts.append(_text(left - 6, py + 3.8, tick_label(value), size=size - 1, anchor="end"))
    for value in x.ticks() if x_ticks else []:
        px = x(value)
        parts.append(
            f'<line x1="{_f(px)}" x2="{_f(px)}" y1="{_f(bottom)}" '
            f'y2="{_f(bottom + 4)}" stroke="#000" stroke-width="1"/>'
        )
        parts.append(_text(px, bottom + 16, tick_label(value), size=size - 1))
    for value, label in reference_lines:
        py = y(value)
        parts.append(
            f'<line x1="{_f(left)}" x2="{_f(right)}" y1="{_f(py)}" y2="{_f(py)}" '
            'stroke="#666" stroke-width="1" stroke-dasharray="5 4"/>'
        )
        if label:
            parts.append(
                _text(right - 4, py - 4, label, size=size - 2, anchor="end", colour="#444444")
            )
    parts.append(
        f'<path d="M{_f(left)} {_f(top)}V{_f(bottom)}H{_f(right)}" fill="none" '
        'stroke="#000" stroke-width="1.2"/>'
    )
    parts.append(_text((left + right) / 2, bottom + 34, x_label, size=size))
    parts.append(_text(left - 50, (top + bottom) / 2, y_label, size=size, rotate=True))
    if title:
        parts.append(_text(left, top - 10, title, size=size + 1, anchor="start", weight="bold"))
    return Frame(x, y, "".join(parts))


def legend(
    entries: Sequence[tuple[str, Style]],
    *,
    top: float,
    left: float = PLOT_LEFT,
    width: float = WIDTH - 80,
    line: bool = True,
) -> tuple[str, float]:
    """Legend rows under a plot; returns the SVG and its height. Each entry: line + marker."""
    columns = max(1, min(len(entries), int(width // 200)))
    parts: list[str] = []
    column_width = width / columns
    for index, (label, style) in enumerate(entries):
        row, column = divmod(index, columns)
        x = left + column * column_width
        y = top + row * 17
        if line:
            dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
            parts.append(
                f'<line x1="{_f(x)}" x2="{_f(x + 28)}" y1="{_f(y)}" y2="{_f(y)}" '
                f'stroke="{style.colour}" stroke-width="2"{dash}/>'
            )
        parts.append(marker(style.marker, x + 14, y, style.colour))
        parts.append(_text(x + 34, y + 4, _short(label, 26), size=10.5, anchor="start"))
    rows = (len(entries) + columns - 1) // columns
    return "".join(parts), rows * 17 + 4


def svg_document(body: str, height: float, label: str) -> str:
    """Wrap figure content in an ``<svg>`` that scales to the container's width."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="figure" role="img" '
        f'aria-label="{_e(label)}" viewBox="0 0 {WIDTH} {_f(height)}" '
        f'width="{WIDTH}" height="{_f(height)}" font-family="{FONT}">{body}</svg>'
    )


def _series_path(points: Sequence[tuple[float, float]], style: Style, width: float = 1.8) -> str:
    if len(points) < 2:
        return ""
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    return (
        f'<polyline points="{_points(points)}" fill="none" stroke="{style.colour}" '
        f'stroke-width="{width:g}"{dash} stroke-linejoin="round"/>'
    )


def _error_bar(x: float, y_low: float, y_high: float, colour: str) -> str:
    return (
        f'<path d="M{_f(x)} {_f(y_low)}V{_f(y_high)}M{_f(x - 3)} {_f(y_low)}H{_f(x + 3)}'
        f'M{_f(x - 3)} {_f(y_high)}H{_f(x + 3)}" stroke="{colour}" stroke-width="1"/>'
    )


def _count_table(
    rows: Sequence[tuple[str, Style, Sequence[tuple[float, int]]]], x: Scale, top: float, title: str
) -> tuple[str, float]:
    """A table of counts under a plot (n per point, or numbers at risk), one row per arm."""
    parts = [_text(8, top + 2, title, size=10, anchor="start", weight="bold")]
    for index, (label, style, counts) in enumerate(rows):
        y = top + 16 + index * 14
        parts.append(marker(style.marker, 12, y - 3.5, style.colour, size=3))
        parts.append(_text(20, y, _short(label, 13), size=8.5, anchor="start"))
        last_x = -1e9
        for day, count in counts:
            px = x(day)
            if px - last_x < 13:  # crowded days: keep the table legible
                continue
            parts.append(_text(px, y, count, size=9, colour=style.colour))
            last_x = px
    return "".join(parts), 16 + 14 * len(rows)


# --------------------------------------------------------------------------------------------
# Figures


def group_curve_figure(
    curves: Sequence[GroupCurve],
    arm_index: dict[str, int],
    *,
    analysis_day: float | None = None,
) -> str:
    """Group mean ± SEM tumour volume, stopped by the dropout rule, with n at every point."""
    series: list[tuple[str, Style, list[tuple[float, float, float, float]]]] = []
    for curve in curves:
        points = [
            (
                p.day,
                p.mean_volume_mm3,
                p.mean_volume_mm3 - (p.sem_volume_mm3 if math.isfinite(p.sem_volume_mm3) else 0.0),
                p.mean_volume_mm3 + (p.sem_volume_mm3 if math.isfinite(p.sem_volume_mm3) else 0.0),
            )
            for p in curve.points
        ]
        series.append((curve.group, arm_style(arm_index[curve.group]), points))
    counts = [
        (c.group, arm_style(arm_index[c.group]), [(p.day, p.n) for p in c.points]) for c in curves
    ]
    return _curve_figure(
        series,
        counts,
        log=False,
        y_label=VOLUME_LABEL,
        title="Tumour volume, group mean ± SEM",
        analysis_day=analysis_day,
        label="group mean tumour volume",
    )


def geometric_curve_figure(
    geometric: dict[str, tuple[GeometricPoint, ...]], arm_index: dict[str, int]
) -> str:
    """Geometric mean ± 95 % CI on a log axis; zero geometric means drawn at the floor."""
    series = []
    for group, points in geometric.items():
        series.append(
            (
                group,
                arm_style(arm_index[group]),
                [
                    (
                        p.day,
                        max(p.geometric_mean_mm3, LOG_FLOOR_MM3),
                        p.lower_mm3 if p.lower_mm3 is not None else math.nan,
                        p.upper_mm3 if p.upper_mm3 is not None else math.nan,
                    )
                    for p in points
                ],
            )
        )
    counts = [
        (g, arm_style(arm_index[g]), [(p.day, p.n) for p in pts]) for g, pts in geometric.items()
    ]
    return _curve_figure(
        series,
        counts,
        log=True,
        y_label=VOLUME_LABEL + ", log scale",
        title=f"Tumour volume, geometric mean ± 95 % CI (0 drawn at {LOG_FLOOR_MM3:g} mm³)",
        analysis_day=None,
        label="geometric mean tumour volume",
    )


def _curve_figure(
    series: Sequence[tuple[str, Style, Sequence[tuple[float, float, float, float]]]],
    counts: Sequence[tuple[str, Style, Sequence[tuple[float, int]]]],
    *,
    log: bool,
    y_label: str,
    title: str,
    analysis_day: float | None,
    label: str,
    x_label: str = DAY_LABEL,
    reference_lines: Sequence[tuple[float, str]] = (),
    count_title: str = "n",
    include_zero: bool = True,
) -> str:
    days = [p[0] for _, _, pts in series for p in pts]
    values = [v for _, _, pts in series for p in pts for v in p[1:]]
    values += [v for v, _ in reference_lines]
    top, plot_height = 30.0, 250.0
    x = Scale(*linear_range(days, pad=0.02), start=PLOT_LEFT, end=WIDTH - 20)
    if log:
        y = Scale(*log_range(values, LOG_FLOOR_MM3), start=top + plot_height, end=top, log=True)
    else:
        low, high = linear_range(values, include_zero=include_zero)
        y = Scale(low, high, start=top + plot_height, end=top)
    axes = frame(
        x, y, x_label=x_label, y_label=y_label, title=title, reference_lines=reference_lines
    )
    parts = [axes.svg]
    if analysis_day is not None:
        px = x(analysis_day)
        parts.append(
            f'<line x1="{_f(px)}" x2="{_f(px)}" y1="{_f(top)}" '
            f'y2="{_f(top + plot_height)}" stroke="#888" stroke-dasharray="2 3"/>'
        )
        parts.append(
            _text(
                px + 3,
                top + 10,
                f"analysis day {tick_label(analysis_day)}",
                size=9,
                anchor="start",
                colour="#555555",
            )
        )
    for _, style, points in series:
        for day, _, low, high in points:
            if math.isfinite(low) and math.isfinite(high):
                parts.append(_error_bar(x(day), y(low), y(high), style.colour))
        parts.append(_series_path([(x(p[0]), y(p[1])) for p in points], style))
        parts.extend(marker(style.marker, x(p[0]), y(p[1]), style.colour) for p in points)
    legend_svg, legend_height = legend([(s[0], s[1]) for s in series], top=top + plot_height + 52)
    parts.append(legend_svg)
    table_top = top + plot_height + 52 + legend_height
    table_svg, table_height = _count_table(counts, x, table_top, count_title)
    parts.append(table_svg)
    return svg_document("".join(parts), table_top + table_height + 4, label)


def _exit_kind(cause: str | None) -> tuple[str, str]:
    if cause is None:
        return "", ""
    lowered = cause.lower()
    if "dead" in lowered or "death" in lowered:
        return "down", "found dead"
    if "volume" in lowered:
        return "cross", "volume endpoint"
    return "diamond", "other endpoint"


def spider_figure(
    data: GrowthData,
    arm_index: dict[str, int],
    exits: dict[str, str | None],
    *,
    log: bool,
) -> str:
    """Individual tumour curves, one panel per arm (linear or log axis), exits marked by cause.

    On the log axis zero volumes (non-palpable) are drawn at ``LOG_FLOOR_MM3``. The last point
    of an animal that left the study carries a black marker for its exit cause.
    """
    groups = list(data.groups)
    columns = 2 if len(groups) <= 4 else 3
    rows = (len(groups) + columns - 1) // columns
    panel_w = (WIDTH - 20) / columns
    panel_h = 190.0
    all_values = [float(v) for v in data.volume_mm3.ravel() if math.isfinite(v)]
    finite_days = [float(d) for d in data.days]
    x_low, x_high = linear_range(finite_days, pad=0.02)
    if log:
        y_low, y_high = log_range(all_values, LOG_FLOOR_MM3)
    else:
        y_low, y_high = linear_range(all_values)
    parts: list[str] = []
    used_causes: dict[str, str] = {}
    for index, group in enumerate(groups):
        row, column = divmod(index, columns)
        left = 10 + column * panel_w + 58
        right = 10 + (column + 1) * panel_w - 12
        top = 14 + row * (panel_h + 62) + 20
        bottom = top + panel_h - 30
        x = Scale(x_low, x_high, start=left, end=right)
        y = Scale(y_low, y_high, start=bottom, end=top, log=log)
        style = arm_style(arm_index[group])
        axes = frame(
            x,
            y,
            x_label=DAY_LABEL,
            y_label=VOLUME_LABEL,
            size=9.5,
            title=f"{_short(group, 30)} (n = {data.members(group).size})",
        )
        parts.append(axes.svg)
        for member in data.members(group):
            values = data.volume_mm3[member]
            points = [
                (x(float(d)), y(max(float(v), LOG_FLOOR_MM3) if log else float(v)))
                for d, v in zip(data.days, values, strict=True)
                if math.isfinite(v)
            ]
            parts.append(_series_path(points, Style(style.colour, style.marker, ""), width=1.1))
            kind, name = _exit_kind(exits.get(data.animals[member]))
            if kind and points:
                used_causes[name] = kind
                parts.append(marker(kind, points[-1][0], points[-1][1], "#000000", size=3.4))
    height = 14 + rows * (panel_h + 62)
    note = f"Zero volumes (non-palpable) drawn at {LOG_FLOOR_MM3:g} mm³. " if log else ""
    caption = (
        note
        + "Exit markers: "
        + (
            ", ".join(
                f"{'×' if k == 'cross' else '▼' if k == 'down' else '◆'} {n}"
                for n, k in sorted(used_causes.items())
            )
            or "none"
        )
    )
    parts.append(_text(10, height + 2, caption, size=10, anchor="start"))
    title = "Individual tumour volumes" + (" (log scale)" if log else "")
    return svg_document("".join(parts), height + 10, title)


def waterfall_figure(changes: Sequence[AnimalChange], arm_index: dict[str, int]) -> str:
    """Best % change from baseline per animal, sorted, bars coloured and patterned by arm.

    Dashed lines at +35 % and −50 % mark the mRECIST best-response thresholds of PD and PR.
    """
    ordered = sorted(changes, key=lambda c: (-c.best_percent_change, arm_index[c.group]))
    values = [c.best_percent_change for c in ordered] + [-100.0, 35.0]
    top, plot_height = 30.0, 240.0
    low, high = linear_range(values)
    y = Scale(max(low, -100.0), high, start=top + plot_height, end=top)
    count = max(len(ordered), 1)
    x = Scale(0.0, float(count), start=PLOT_LEFT, end=WIDTH - 20)
    axes = frame(
        x,
        y,
        x_label="Animals, sorted by best response",
        y_label="Best change from baseline (%)",
        title="Waterfall of best % change in tumour volume",
        reference_lines=((35.0, "+35 % (PD)"), (-50.0, "−50 % (PR)")),
        x_ticks=False,
    )
    parts = [axes.svg]
    bar = (x.end - x.start) / count
    zero = y(0.0)
    for k, change in enumerate(ordered):
        style = arm_style(arm_index[change.group])
        px = x(float(k)) + bar * 0.1
        py = y(change.best_percent_change)
        top_y, height = (py, zero - py) if py < zero else (zero, py - zero)
        parts.append(
            f'<rect x="{_f(px)}" y="{_f(top_y)}" width="{_f(bar * 0.8)}" '
            f'height="{_f(max(height, 0.6))}" fill="{style.colour}"/>'
        )
        if bar >= 6:
            parts.append(
                marker(
                    style.marker,
                    px + bar * 0.4,
                    py - 6 if change.best_percent_change >= 0 else py + 6,
                    style.colour,
                    size=min(3.0, bar * 0.3),
                )
            )
    present = sorted({arm_index[c.group] for c in changes})
    names = {arm_index[c.group]: c.group for c in changes}
    legend_svg, legend_height = legend(
        [(names[i], arm_style(i)) for i in present], top=top + plot_height + 48, line=False
    )
    parts.append(legend_svg)
    return svg_document("".join(parts), top + plot_height + 48 + legend_height, "waterfall")


def kaplan_meier_figure(
    analysis: SurvivalAnalysis,
    arm_index: dict[str, int],
    risk_days: Sequence[float],
    times_of: dict[str, list[float]],
) -> str:
    """Kaplan–Meier step curves (censoring as ticks) with numbers at risk under the plot."""
    last = max(
        risk_days[-1] if risk_days else 0.0,
        max((float(t) for g in analysis.groups for t in g.curve.time_days), default=1.0),
    )
    top, plot_height = 30.0, 230.0
    x = Scale(0.0, last, start=PLOT_LEFT, end=WIDTH - 20)
    y = Scale(0.0, 100.0, start=top + plot_height, end=top)
    axes = frame(x, y, x_label=DAY_LABEL, y_label="Survival (%)", title="Kaplan–Meier survival")
    parts = [axes.svg]
    entries: list[tuple[str, Style]] = []
    for group in analysis.groups:
        style = arm_style(arm_index[group.group])
        entries.append((group.group, style))
        points: list[tuple[float, float]] = [(x(0.0), y(100.0))]
        level = 100.0
        for t, s in zip(group.curve.time_days, group.curve.survival, strict=True):
            points.append((x(float(t)), y(level)))
            level = 100.0 * float(s)
            points.append((x(float(t)), y(level)))
        points.append((x(max(float(group.curve.time_days[-1]), 0.0)), y(level)))
        parts.append(_series_path(points, style, width=2))
        level = 100.0
        for t, s, c in zip(
            group.curve.time_days, group.curve.survival, group.curve.n_censor, strict=True
        ):
            level = 100.0 * float(s)
            if c > 0:
                px, py = x(float(t)), y(level)
                parts.append(
                    f'<path d="M{_f(px)} {_f(py - 5)}V{_f(py + 5)}" '
                    f'stroke="{style.colour}" stroke-width="1.5"/>'
                )
        end_t = float(group.curve.time_days[-1]) if len(group.curve.time_days) else 0.0
        parts.append(marker(style.marker, x(end_t), y(level), style.colour))
    legend_svg, legend_height = legend(entries, top=top + plot_height + 52)
    parts.append(legend_svg)
    table_top = top + plot_height + 52 + legend_height
    rows = [
        (
            g.group,
            arm_style(arm_index[g.group]),
            list(
                zip(
                    risk_days,
                    (int(n) for n in numbers_at_risk(times_of[g.group], risk_days)),
                    strict=True,
                )
            ),
        )
        for g in analysis.groups
    ]
    table_svg, table_height = _count_table(rows, x, table_top, "Number at risk")
    parts.append(table_svg)
    parts.append(
        _text(
            WIDTH - 20,
            table_top + table_height + 10,
            "| censored",
            size=9,
            anchor="end",
            colour="#444444",
        )
    )
    return svg_document("".join(parts), table_top + table_height + 16, "Kaplan-Meier survival")


def body_weight_figure(
    curves: dict[str, tuple[WeightPoint, ...]],
    arm_index: dict[str, int],
    *,
    title: str = "Body weight, group mean ± SEM",
) -> str:
    """Mean ± SEM body weight in % of each animal's baseline, lines at 100 % and 80 %."""
    series = [
        (
            group,
            arm_style(arm_index[group]),
            [
                (
                    p.day,
                    p.mean_percent,
                    p.mean_percent - (p.sem_percent or 0.0),
                    p.mean_percent + (p.sem_percent or 0.0),
                )
                for p in points
            ],
        )
        for group, points in curves.items()
    ]
    counts = [
        (g, arm_style(arm_index[g]), [(p.day, p.n) for p in pts]) for g, pts in curves.items()
    ]
    return _curve_figure(
        series,
        counts,
        log=False,
        y_label="Body weight (% of baseline weight)",
        title=title,
        analysis_day=None,
        label="body weight",
        reference_lines=((100.0, ""), (80.0, "80 % (20 % loss)")),
        include_zero=False,
    )


__all__ = [
    "PALETTE",
    "arm_style",
    "body_weight_figure",
    "geometric_curve_figure",
    "group_curve_figure",
    "kaplan_meier_figure",
    "spider_figure",
    "waterfall_figure",
]
