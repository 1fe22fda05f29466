# ruff: noqa: RUF001, RUF003  (report text is typeset: −, ×, – and γ are intended)
"""The report as one self-contained HTML document (inline CSS and SVG), also the PDF's source.

A section appears only when its data exist. Every printed value is escaped with
:func:`html.escape`; numbers go through :mod:`labnotes.reports.formatting`, so the strings a
reader sees are the strings the tests look for. Per-animal listings carry the ``screen-only``
class: the browser shows them, the print stylesheet (which WeasyPrint uses) hides them, because
the PDF holds summary tables only and the listings live in the XLSX and the bundle.

In the blinded variant arm names are the codes the caller passed, and regimens (which name the
treatment) are withheld.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import importlib.resources
import statistics
from collections.abc import Iterable, Sequence
from string import Template
from typing import Any

from labnotes.reports import figures
from labnotes.reports import formatting as fmt
from labnotes.reports.assays import block_title
from labnotes.reports.model import TGI_DEFINITIONS, LogEntry, ReportInput
from labnotes.reports.results import LOG_FLOOR_MM3, ReportResults

TGI_KEYS = {"volume": "tgi_volume_percent", "delta": "tgi_delta_percent", "rtv": "tgi_rtv_percent"}
KEEP_TOGETHER_ROWS = 16
TGI_NAMES = {"volume": "TGI (volume)", "delta": "ΔTGI", "rtv": "TGI (RTV)"}


@functools.cache
def template(name: str) -> Template:
    """A ``string.Template`` from this package's ``templates/`` (strict substitution)."""
    text = importlib.resources.files(__package__).joinpath("templates", name).read_text("utf-8")
    return Template(text)


def esc(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute; None prints as nothing."""
    return "" if value is None else html.escape(str(value), quote=True)


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


class Cell:
    """A table cell: text (escaped) or trusted markup, optionally numeric (right-aligned)."""

    __slots__ = ("css", "markup")

    def __init__(
        self, value: object, *, numeric: bool = False, markup: bool = False, css: str = ""
    ) -> None:
        self.markup = str(value) if markup else esc(value)
        classes = [c for c in ("num" if numeric else "", css) if c]
        self.css = f' class="{" ".join(classes)}"' if classes else ""


def num(value: object) -> Cell:
    return Cell(value, numeric=True)


def table(
    headers: Sequence[str | Cell],
    rows: Iterable[Sequence[object]],
    *,
    caption: str = "",
    css: str = "",
) -> str:
    """An HTML table; plain values become escaped text cells, :class:`Cell` keeps its settings."""

    def cell(tag: str, value: object) -> str:
        item = value if isinstance(value, Cell) else Cell(value)
        return f"<{tag}{item.css}>{item.markup}</{tag}>"

    head = "".join(cell("th", h) for h in headers)
    row_html = ["<tr>" + "".join(cell("td", v) for v in row) + "</tr>" for row in rows]
    body = "".join(row_html)
    # Short tables stay on one page with their caption; long ones may break between rows.
    classes = " ".join(c for c in (css, "keep" if len(row_html) <= KEEP_TOGETHER_ROWS else "") if c)
    css_attr = f' class="{classes}"' if classes else ""
    caption_html = f"<caption>{esc(caption)}</caption>" if caption else ""
    markup = (
        f"<table{css_attr}>{caption_html}<thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )
    # WeasyPrint lets a caption part from its table; a wrapper keeps short tables whole.
    return f'<div class="keep">{markup}</div>' if len(row_html) <= KEEP_TOGETHER_ROWS else markup


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def section(identifier: str, title: str, content: str, *, major: bool = False) -> str:
    css = ' class="major"' if major else ""
    return f'<section id="{esc(identifier)}"{css}><h2>{esc(title)}</h2>{content}</section>'


# --------------------------------------------------------------------------------------------
# Sections


def watermark_text(report: ReportInput) -> str:
    """EXPLORATORY when the options differ from the plan, else FINAL or INTERIM (the kind line
    of the title page and the running header)."""
    return "EXPLORATORY" if report.exploratory else report.kind.upper()


def watermark_html(report: ReportInput) -> str:
    """The diagonal page watermark: only an exploratory report carries one (a final or interim
    report that follows the plan is the plan's analysis and needs no stamp across its pages)."""
    if not report.exploratory:
        return ""
    return '<div class="watermark" aria-hidden="true">EXPLORATORY</div>'


def title_page(report: ReportInput) -> str:
    kind = f"{report.kind.capitalize()} report" + (" — exploratory" if report.exploratory else "")
    rows = [
        ("Study", f"{report.study_code} — {report.study_title}"),
        ("Run", report.run_code),
        ("Day 0", report.day0.isoformat()),
        ("Report", kind + (" (blinded variant: arms shown by code)" if report.blinded else "")),
        ("Data hash", report.data_hash),
        ("Generated by", report.generated_by),
        ("Generated at", report.generated_at.isoformat(timespec="minutes")),
    ]
    meta = table(["Field", "Value"], rows, css="meta")
    parts = [
        '<section class="title-page" id="title">',
        f"<h1>{esc(report.study_title)}</h1>",
        f'<p class="kind">{esc(watermark_text(report))} · {esc(report.study_code)} · '
        f"{esc(report.run_code)}</p>",
        meta,
    ]
    if report.exploratory:
        items = "".join(f"<li>{esc(d)}</li>" for d in report.plan_differences)
        parts.append(
            '<div class="box exploratory"><h3>EXPLORATORY — differs from the pre-specified '
            "analysis plan</h3><p>The numbers below are not the plan's primary analysis.</p>"
            f"<ul>{items or '<li>(no difference listed)</li>'}</ul></div>"
        )
    if report.objective or report.hypothesis:
        parts.append(f"<p><b>Objective.</b> {esc(report.objective)}</p>")
        parts.append(f"<p><b>Hypothesis.</b> {esc(report.hypothesis)}</p>")
    signature_rows = [
        (s.role, s.name, s.meaning, signature_time(s.signed_at), f"{s.record} {s.status}".strip())
        for s in report.signatures
    ]
    if signature_rows:
        parts.append("<h3>Signatures</h3>")
        parts.append(
            table(
                ["Role", "Name", "Meaning", "Signed at", "Record"], signature_rows, css="signatures"
            )
        )
    if report.qa_statement:
        items = "".join(f"<li>{esc(line)}</li>" for line in report.qa_statement)
        parts.append(
            "<h3>Quality assurance statement</h3><p>QA inspected this study and reported its "
            "findings to the study director and to management as follows:</p>"
            f'<ul class="qa">{items}</ul>'
        )
    if report.changes_after_lock:
        parts.append("<h3>Changes made after a data lock</h3>")
        parts.append(
            table(
                ["Date", "Change", "By", "Reason"],
                [(e.date.isoformat(), e.text, e.by, e.reason) for e in report.changes_after_lock],
            )
        )
    parts.append("</section>")
    return "".join(parts)


def signature_time(value: dt.datetime | dt.date | None) -> str:
    """A signature's exact server time in UTC (seconds), or its date for a paper line."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return value.isoformat()


def arrive_section(report: ReportInput) -> str:
    if not report.arrive:
        return ""
    missing = sum(item.text is None for item in report.arrive)
    rows = [
        (
            item.number,
            item.item,
            Cell("reported") if item.text is not None else Cell("MISSING", css="missing"),
            item.text or "not in the structured study data: complete before submission",
        )
        for item in report.arrive
    ]
    summary = (
        f"<p>{len(report.arrive) - missing} of {len(report.arrive)} items filled from the "
        f"structured data; {missing} missing.</p>"
    )
    return section(
        "arrive",
        "ARRIVE 2.0 Essential 10",
        summary + table(["#", "Item", "Status", "Where reported"], rows),
    )


def design_section(report: ReportInput, results: ReportResults) -> str:
    randomized: dict[str, int] = {}
    for animal in report.animals:
        randomized[animal.arm] = randomized.get(animal.arm, 0) + 1
    rows = [
        (
            arm.name,
            "control" if arm.is_control else "",
            num(arm.planned_n),
            num(randomized.get(arm.name, 0)),
            "withheld in the blinded variant" if report.blinded else arm.regimen,
        )
        for arm in report.arms
    ]
    content = [
        table(["Arm", "Role", "Planned n", "Randomized n", "Regimen (schedule notation)"], rows)
    ]
    batches: dict[int, int] = {}
    for animal in report.animals:
        batches[animal.randomization_study_day] = batches.get(animal.randomization_study_day, 0) + 1
    if batches:
        content.append(
            "<p>Randomization batches (study day: animals): "
            + esc(", ".join(f"day {d}: {n}" for d, n in sorted(batches.items())))
            + ".</p>"
        )
    if report.batches:
        content.append(_batches_html(report))
    if report.amendments:
        content.append("<h3>Amendments</h3>" + _log_table(report.amendments))
    return section("design", "Design, arms and regimens", "".join(content))


def _batches_html(report: ReportInput) -> str:
    """Applied randomization batches and the covariate balance across arms after each."""
    rows = [
        (
            num(b.number),
            num(b.study_day),
            b.method,
            num(b.seed),
            num(b.animals),
            "; ".join(
                f"{name} {fmt.number(value, 2) if value is not None else '–'}"
                for name, value in b.largest_smd
            ),
        )
        for b in report.batches
    ]
    parts = [
        "<h3>Randomization batches</h3>",
        table(
            ["Batch", "Study day", "Method", "Seed", "Animals", "Largest SMD after the batch"],
            rows,
        ),
    ]
    last = report.batches[-1]
    if last.balance:
        parts.append(
            table(
                ["Arm", "Covariate", Cell("n", numeric=True), "Mean", "SD"],
                [
                    (
                        row.arm,
                        row.covariate,
                        num(row.n),
                        num(fmt.number(row.mean, 1) if row.mean is not None else "–"),
                        num(fmt.number(row.sd, 1) if row.sd is not None else "–"),
                    )
                    for row in last.balance
                ],
                caption=f"Balance of the covariates across arms after batch {last.number}",
            )
        )
    return "".join(parts)


def _log_table(entries: Sequence[LogEntry]) -> str:
    return table(
        ["Date", "What", "Reason", "By"],
        [(e.date.isoformat(), e.text, e.reason, e.by) for e in entries],
    )


def flow_section(report: ReportInput) -> str:
    flow = report.flow
    if flow is None and not report.animals:
        return ""
    content: list[str] = []
    if flow is not None:
        rows: list[tuple[object, ...]] = [
            ("Received", num(flow.received)),
            ("Implanted", num(flow.implanted)),
            ("Enrolled", num(flow.enrolled)),
            ("Randomized", num(flow.randomized)),
            *[(f"Excluded: {x.reason}", num(x.count)) for x in flow.excluded],
            ("Satellite (not analysed for efficacy)", num(flow.satellite)),
            *[(f"Endpoint: {x.reason}", num(x.count)) for x in flow.endpoint_by_cause],
            ("Analysed", num(flow.analysed)),
        ]
        content.append(table(["Stage", Cell("Animals", numeric=True)], rows))
    if report.animals:
        endpoint_rows: dict[tuple[str, str], int] = {}
        for animal in report.animals:
            if animal.endpoint_cause:
                key = (animal.arm, animal.endpoint_cause)
                endpoint_rows[key] = endpoint_rows.get(key, 0) + 1
        if endpoint_rows:
            content.append(
                "<h3>Endpoints and deaths by arm</h3>"
                + table(
                    ["Arm", "Cause", Cell("Animals", numeric=True)],
                    [(arm, cause, num(n)) for (arm, cause), n in endpoint_rows.items()],
                )
            )
        listing = table(
            ["Animal", "Arm", "Randomized (study day)", "Status", "Cause", "Exit day"],
            [
                (
                    a.animal_id,
                    a.arm,
                    num(a.randomization_study_day),
                    a.status,
                    a.endpoint_cause or "",
                    num(fmt.day(a.exit_day) if a.exit_day is not None else ""),
                )
                for a in report.animals
            ],
        )
        content.append(f'<div class="screen-only"><h3>Animals</h3>{listing}</div>')
        content.append(
            '<p class="note">The per-animal listing is in the XLSX (sheet Animals) '
            "and the bundle (animals.csv).</p>"
        )
    return section("flow", "Animal flow", "".join(content))


def _arm_index(report: ReportInput) -> dict[str, int]:
    return {name: k for k, name in enumerate(report.arm_names)}


def growth_section(report: ReportInput, results: ReportResults) -> str:
    growth = results.json.get("growth")
    figures_data = results.growth
    if growth is None or figures_data is None:
        return ""
    extras = results.json["growth_figures"]
    definition = report.options.tgi_definition
    arm_index = _arm_index(report)
    day = fmt.day(growth["day"])
    exits = {a.animal_id: a.endpoint_cause for a in report.animals}
    parts: list[str] = []
    parts.append(
        f"<p>Analysis day {esc(day)} (days since treatment start; baseline day "
        f"{esc(fmt.day(growth['baseline_day']))}); control arm {esc(growth['control'])}; "
        f"missing measurements: {esc(_dropout_text(growth['dropout']))}.</p>"
    )
    if growth.get("sensitivity_analysis"):
        parts.append(f'<p class="lead">{esc(growth.get("note", ""))}</p>')
    parts.append(
        figure(
            figures.group_curve_figure(
                figures_data.curves, arm_index, analysis_day=figures_data.analysis_day
            ),
            "Group mean ± SEM. " + extras["stop_rule"].capitalize() + "; n under the plot.",
        )
    )
    parts.append(
        figure(
            figures.geometric_curve_figure(figures_data.geometric, arm_index),
            "Geometric mean with t-based 95 % CI of ln volume; no interval where an arm has a "
            "zero volume (geometric mean 0, drawn at the floor).",
        )
    )
    parts.append(_tgi_table(growth, definition))
    parts.append(
        f'<p class="note">Definition used: {esc(TGI_DEFINITIONS[definition])}, on day '
        f"{esc(day)}. 95 % CI: percentile bootstrap, "
        f"{esc(growth.get('bootstrap', {}).get('resamples', 0))} resamples resampling "
        f"animals within each arm, seed {esc(growth.get('bootstrap', {}).get('seed'))}."
        " TGI above 100 % means regression and is not capped.</p>"
    )
    parts.append(_response_table(growth))
    parts.append(_delay_table(extras["growth_delay"]))
    if "mixed_model" in extras:
        parts.append(_mixed_model_table(extras["mixed_model"]))
    parts.append(_dunnett_table(extras["dunnett_log_volume"]))
    parts.append(
        figure(
            figures.spider_figure(figures_data.data, arm_index, exits, log=False),
            "Individual tumour volumes per arm, linear axis.",
        )
    )
    parts.append(
        figure(
            figures.spider_figure(figures_data.data, arm_index, exits, log=True),
            f"Individual tumour volumes per arm, log axis; zero volumes drawn at "
            f"{LOG_FLOOR_MM3:g} mm³.",
        )
    )
    parts.append(
        figure(
            figures.waterfall_figure(figures_data.waterfall, arm_index),
            "Best % change from baseline per animal (minimum over all days after "
            "baseline); animals without a positive baseline volume are left out.",
        )
    )
    contra = results.json.get("growth_contralateral")
    if contra is not None and results.contralateral is not None:
        parts.append("<h3>Contralateral (non-injected) tumours</h3>")
        parts.append(
            figure(
                figures.group_curve_figure(
                    results.contralateral.curves,
                    arm_index,
                    analysis_day=results.contralateral.analysis_day,
                ),
                "Contralateral tumours: group mean ± SEM, same stop rule.",
            )
        )
        parts.append(_tgi_table(contra, definition))
    return section("growth", "Tumour growth", "".join(parts), major=True)


def _dropout_text(dropout: str) -> str:
    return (
        "left out on the days they are missing (no imputation)"
        if dropout == "drop"
        else "last observation carried forward (sensitivity analysis)"
    )


def _tgi_table(growth: dict[str, Any], definition: str) -> str:
    key = TGI_KEYS[definition]
    rows = []
    for g in growth["groups"]:
        ci = g.get("tgi_ci95", {}).get(definition, [None, None])
        rows.append(
            (
                g["group"],
                num(f"{g['n']}/{g['n_randomized']}"),
                num(fmt.mean_sem(g["mean_volume_mm3"], g["sem_volume_mm3"])),
                num(fmt.number(g["tc_percent"])),
                num(fmt.number(g["median_tc_percent"])),
                num(fmt.number(g[key])),
                num(fmt.interval(ci[0], ci[1])),
                *[num(fmt.number(g[TGI_KEYS[d]])) for d in TGI_KEYS if d != definition],
            )
        )
    others = [TGI_NAMES[d] + " %" for d in TGI_KEYS if d != definition]
    headers: list[str | Cell] = [
        "Arm",
        Cell("n/N", numeric=True),
        Cell("Mean ± SEM (mm³)", numeric=True),
        Cell("T/C %", numeric=True),
        Cell("Median T/C %", numeric=True),
        Cell(f"{TGI_NAMES[definition]} %", numeric=True),
        Cell("95 % CI", numeric=True),
        *[Cell(o, numeric=True) for o in others],
    ]
    return table(headers, rows, caption=f"Tumour volume and TGI on day {fmt.day(growth['day'])}")


def _response_table(growth: dict[str, Any]) -> str:
    rows = [
        (
            g["group"],
            num(g["regressions"]["partial"]),
            num(g["regressions"]["complete"]),
            num(g["regressions"]["tumour_free"]),
            num(g["mrecist"]["cr"]),
            num(g["mrecist"]["pr"]),
            num(g["mrecist"]["sd"]),
            num(g["mrecist"]["pd"]),
        )
        for g in growth["groups"]
    ]
    definitions = growth.get("regression_definitions", {})
    note = (
        '<p class="note">Partial regression: '
        + esc(definitions.get("partial", ""))
        + ". Complete: "
        + esc(definitions.get("complete", ""))
        + ". Tumour-free: "
        + esc(definitions.get("tumour_free", ""))
        + ". mRECIST (Gao et al. 2015) from day 10 "
        f"to day {esc(fmt.day(growth['day']))}.</p>"
    )
    headers: list[str | Cell] = [
        "Arm",
        *[
            Cell(h, numeric=True)
            for h in (
                "Partial regr.",
                "Complete regr.",
                "Tumour-free",
                "mRECIST CR",
                "PR",
                "SD",
                "PD",
            )
        ],
    ]
    return table(headers, rows, caption="Regressions and mRECIST") + note


def _delay_table(delay: dict[str, Any]) -> str:
    rows = [
        (
            g["group"],
            num(g["n"]),
            num(g["events"]),
            num(fmt.number(g["median_days"], 1, missing="not reached")),
            num(fmt.number(g["delay_days"], 1)),
        )
        for g in delay["groups"]
    ]
    headers: list[str | Cell] = [
        "Arm",
        Cell("n", numeric=True),
        Cell(f"Reached {delay['fold']:g}× V₀", numeric=True),
        Cell("KM median time (days)", numeric=True),
        Cell("Growth delay T − C (days)", numeric=True),
    ]
    return table(
        headers, rows, caption=f"Tumour growth delay (time to {delay['fold']:g}× baseline volume)"
    )


def _mixed_model_table(model: dict[str, Any]) -> str:
    rows = [
        (
            c["name"],
            num(fmt.number(c["estimate"], 4)),
            num(fmt.number(c["se"], 4)),
            num(fmt.p_value(c["p"])),
            num(fmt.p_value(c["p_holm"])),
        )
        for c in model["contrasts"]
    ]
    headers: list[str | Cell] = [
        "Contrast",
        *[Cell(h, numeric=True) for h in ("Estimate (ln mm³/day)", "SE", "p", "p (Holm)")],
    ]
    return (
        table(headers, rows, caption="Mixed model of log volume: growth-rate contrasts vs control")
        + f'<p class="note">{esc(model["model"])}, up to day '
        f"{esc(fmt.day(model['last_day']))}; optimiser {esc(model['optimizer'])}.</p>"
    )


def _dunnett_table(comparison: dict[str, Any]) -> str:
    if not comparison["dunnett"]:
        return ""
    rows = [
        (d["group"], num(fmt.number(d["ratio"], 3)), num(fmt.p_value(d["p"])))
        for d in comparison["dunnett"]
    ]
    headers: list[str | Cell] = [
        "Arm vs control",
        Cell("Geometric mean ratio", numeric=True),
        Cell("Dunnett p", numeric=True),
    ]
    return table(
        headers, rows, caption=f"Log volume on day {fmt.day(comparison['day'])}: Dunnett vs control"
    )


def survival_section(report: ReportInput, results: ReportResults) -> str:
    survival = results.json.get("survival")
    analysis = results.survival
    if survival is None or analysis is None:
        return ""
    times_of: dict[str, list[float]] = {}
    for row in report.survival:
        times_of.setdefault(row.group, []).append(row.time_days)
    definition = report.survival_definition or "time to endpoint or death"
    parts = [f"<p><b>Survival definition.</b> {esc(definition)}.</p>"]
    parts.append(
        figure(
            figures.kaplan_meier_figure(
                analysis, _arm_index(report), results.survival_at_risk_days, times_of
            ),
            "Kaplan–Meier estimates; ticks mark censored animals; numbers at risk under the plot.",
        )
    )
    rows = []
    for g in survival["groups"]:
        hr = g.get("hazard_ratio") or {}
        rows.append(
            (
                g["group"],
                num(g["n"]),
                num(g["events"]),
                num(fmt.number(g["median_days"], 1, missing="not reached")),
                num(fmt.median_interval(g["median_ci_lower_days"], g["median_ci_upper_days"])),
                num(fmt.number(g["ils_percent"], 1)),
                num(fmt.number(hr.get("hr"), 2) if hr else "reference"),
                num(fmt.interval(hr.get("ci_lower"), hr.get("ci_upper"), 2) if hr else ""),
                num(fmt.p_value(hr.get("p")) if hr else ""),
            )
        )
    headers: list[str | Cell] = [
        "Arm",
        *[
            Cell(h, numeric=True)
            for h in (
                "n",
                "Events",
                "Median (days)",
                "95 % CI",
                "ILS %",
                "Hazard ratio",
                "95 % CI",
                "p",
            )
        ],
    ]
    parts.append(
        table(
            headers,
            rows,
            caption="Median survival, increase in lifespan and Cox "
            "hazard ratios vs " + survival["control"],
        )
    )
    notes = [
        hr["note"] for g in survival["groups"] if (hr := g.get("hazard_ratio")) and hr.get("note")
    ]
    if notes:
        parts.append('<p class="note">' + esc("; ".join(sorted(set(notes)))) + ".</p>")
    logrank = survival["logrank"]
    parts.append(
        f'<p class="lead">Log-rank test, all arms: χ² = {esc(fmt.number(logrank["chi2"], 2))}, '
        f"df = {esc(logrank['df'])}, p = {esc(fmt.p_value(logrank['p']))}.</p>"
    )
    pair_rows = [
        (
            f"{p['a']} vs {p['b']}",
            num(fmt.number(p["chi2"], 2)),
            num(fmt.p_value(p["p"])),
            num(fmt.p_value(p["p_holm"])),
        )
        for p in survival["pairwise"]
    ]
    parts.append(
        table(
            [
                "Pair",
                Cell("χ²", numeric=True),
                Cell("p", numeric=True),
                Cell("p (Holm)", numeric=True),
            ],
            pair_rows,
            caption="Pairwise log-rank tests, Holm-adjusted over all pairs",
        )
    )
    return section("survival", "Survival", "".join(parts), major=True)


def body_weight_section(report: ReportInput, results: ReportResults) -> str:
    weight = results.json.get("body_weight")
    if weight is None:
        return ""
    arm_index = _arm_index(report)
    parts = [
        figure(
            figures.body_weight_figure(results.body_weight, arm_index),
            "Body weight in % of each animal's baseline weight, mean ± SEM; the same "
            "stop rule as the growth curves.",
        )
    ]
    rows = [
        (
            g["group"],
            num(g["n_animals"]),
            num(fmt.number(g["nadir_mean_percent"], 1)),
            num(fmt.day(g["nadir_day"])),
            num(fmt.number(g["max_loss_percent"], 1)),
            num(g["animals_losing"]["15"]),
            num(g["animals_losing"]["20"]),
        )
        for g in weight["groups"]
    ]
    headers: list[str | Cell] = [
        "Arm",
        *[
            Cell(h, numeric=True)
            for h in (
                "n",
                "Nadir of mean (% of baseline)",
                "Nadir day",
                "Largest loss in one animal (%)",
                "Animals ≥ 15 % loss",
                "≥ 20 % loss",
            )
        ],
    ]
    parts.append(table(headers, rows, caption="Body weight nadir"))
    corrected = {
        g["group"]: g["tumour_corrected_curve"]
        for g in weight["groups"]
        if g["tumour_corrected_curve"]
    }
    if corrected:
        corrected_rows = [
            (
                group,
                num(fmt.day(curve[-1]["day"])),
                num(fmt.number(curve[-1]["mean_percent"], 1)),
                num(fmt.number(min(p["mean_percent"] for p in curve), 1)),
            )
            for group, curve in corrected.items()
        ]
        parts.append(
            table(
                [
                    "Arm",
                    *[
                        Cell(h, numeric=True)
                        for h in ("Last plotted day", "Mean at that day (%)", "Nadir of mean (%)")
                    ],
                ],
                corrected_rows,
                caption="Tumour-corrected body weight (weight − tumour volume × 1 mg/mm³)",
            )
        )
    return section("body-weight", "Body weight", "".join(parts), major=True)


def assay_section(results: ReportResults) -> str:
    """Same-day (scheduled) samples compared across arms, endpoint samples apart (issue 9).

    The PDF keeps to summaries: endpoint samples are summarised per arm with the study day of
    each value; the per-animal values are in the XLSX and the bundle's assays.csv.
    """
    assays = results.json.get("assays")
    if not assays:
        return ""
    parts = [
        "<p>Arms are compared only on samples taken on the same study day (satellite or "
        "scheduled collections): each treated arm against the control by Welch's t-test and by "
        "the Mann–Whitney U test, both Holm-adjusted over the arms compared on that day. "
        "Endpoint samples are taken when each animal leaves the study, days or weeks apart "
        "between arms, and are listed separately without a test.</p>"
    ]
    for block in assays:
        title = block_title(block)
        parts.append(f"<h3>{esc(title)}</h3>")
        for day_block in block["same_day"]:
            day = day_block["study_day"]
            day_text = "sampling day not recorded" if day is None else f"study day {day}"
            tests = {c["group"]: c for c in day_block["comparisons"]}
            rows = []
            for g in day_block["groups"]:
                test = tests.get(g["group"])
                rows.append(
                    (
                        g["group"],
                        num(g["n"]),
                        num(fmt.number(g["mean"], 2)),
                        num(fmt.number(g["sd"], 2)),
                        num(fmt.number(g["median"], 2)),
                        num(fmt.p_value(test["welch_p_holm"]) if test else "—"),
                        num(fmt.p_value(test["mann_whitney_p_holm"]) if test else "—"),
                    )
                )
            parts.append(
                table(
                    [
                        "Arm",
                        *[
                            Cell(h, numeric=True)
                            for h in (
                                "n",
                                "Mean",
                                "SD",
                                "Median",
                                "Welch p (Holm) vs control",
                                "Mann–Whitney p (Holm) vs control",
                            )
                        ],
                    ],
                    rows,
                    caption=f"{title}: same-day samples, {day_text}",
                )
            )
        if block["endpoint"]:
            by_arm: dict[str, list[dict[str, Any]]] = {}
            for row in block["endpoint"]:
                by_arm.setdefault(row["group"], []).append(row)
            endpoint_rows = []
            for arm, rows_of_arm in by_arm.items():
                values = [r["value"] for r in rows_of_arm]
                days = ", ".join(
                    "?" if r["study_day"] is None else str(r["study_day"]) for r in rows_of_arm
                )
                endpoint_rows.append(
                    (
                        arm,
                        num(len(values)),
                        num(fmt.number(statistics.fmean(values), 2)),
                        num(fmt.number(statistics.median(values), 2)),
                        days,
                    )
                )
            parts.append(
                table(
                    [
                        "Arm",
                        *[Cell(h, numeric=True) for h in ("n", "Mean", "Median")],
                        "Study day of each value",
                    ],
                    endpoint_rows,
                    caption=f"{title}: endpoint samples (not compared; days differ)",
                )
            )
    return section("assays", "ELISA and flow cytometry", "".join(parts))


def pooled_section(results: ReportResults) -> str:
    """A report pooling runs: which runs, the run-stratified log-rank and the mixed model with
    a random run effect."""
    pooled = results.json.get("pooled")
    if not pooled:
        return ""
    parts = [
        "<p>This report pools the runs "
        + esc(", ".join(pooled["runs"]))
        + ". Days count from each animal's treatment start. The log-rank test is stratified by "
        "run and the mixed model of log volume has a random intercept per run (animals nested "
        "in runs), so run-to-run differences do not pass for treatment effects.</p>"
    ]
    survival = pooled.get("survival_stratified")
    if survival is not None:
        rows = [
            (
                "All arms",
                num(fmt.number(survival["chi2"], 2)),
                num(survival["df"]),
                num(fmt.p_value(survival["p"])),
                num("—"),
            )
        ]
        rows += [
            (
                f"{c['group']} vs {c['control']}",
                num(fmt.number(c["chi2"], 2)),
                num(1),
                num(fmt.p_value(c["p"])),
                num(fmt.p_value(c["p_holm"])),
            )
            for c in survival["vs_control"]
        ]
        parts.append(
            table(
                ["Comparison", *[Cell(h, numeric=True) for h in ("χ²", "df", "p", "p (Holm)")]],
                rows,
                caption="Log-rank test stratified by run",
            )
        )
    model = pooled.get("growth_run_effect")
    if model is not None:
        parts.append(
            table(
                [
                    "Contrast",
                    *[Cell(h, numeric=True) for h in ("Estimate (1/day)", "SE", "p", "p (Holm)")],
                ],
                [
                    (
                        c["name"],
                        num(fmt.number(c["estimate"], 4)),
                        num(fmt.number(c["se"], 4)),
                        num(fmt.p_value(c["p"])),
                        num(fmt.p_value(c["p_holm"])),
                    )
                    for c in model["contrasts"]
                ],
                caption=(
                    "Mixed model of ln volume to day "
                    f"{fmt.day(model['last_day'])} with random effects: {model['random_effects']}"
                ),
            )
        )
    return section("pooled", "Pooled runs", "".join(parts), major=True)


def dosing_section(results: ReportResults) -> str:
    """Dosing compliance per arm, with deviations by kind, holds and reductions."""
    dosing = results.json.get("dosing")
    if not dosing:
        return ""
    rows = [
        (
            d["group"],
            num(d["animals"]),
            num(d["doses_recorded"]),
            num(d["given"]),
            num(d["missed"]),
            num(fmt.number(d["compliance_percent"])),
            "; ".join(f"{kind}: {n}" for kind, n in d["deviations"].items()) or "none",
            num(d["holds"]),
            num(d["reductions"]),
            num(d["skips"]),
        )
        for d in dosing
    ]
    headers: list[str | Cell] = [
        "Arm",
        *[Cell(h, numeric=True) for h in ("Animals", "Doses recorded", "Given", "Missed")],
        Cell("Compliance (%)", numeric=True),
        "Deviations",
        *[Cell(h, numeric=True) for h in ("Holds", "Reductions", "Skipped")],
    ]
    content = table(
        headers,
        rows,
        caption="Dosing compliance (given / recorded doses), deviations, holds and reductions",
    )
    return section("dosing", "Dosing compliance, holds and deviations", content)


def welfare_section(results: ReportResults) -> str:
    """Endpoints by cause, found dead, and the time from endpoint to euthanasia per arm."""
    welfare = results.json.get("welfare")
    if not welfare:
        return ""
    rows = [
        (
            w["group"],
            "; ".join(f"{cause}: {n}" for cause, n in w["endpoints_by_cause"].items()) or "none",
            num(w["found_dead"]),
            num(w["episodes_closed"]),
            num(fmt.number(w["median_hours_to_euthanasia"])),
            num(fmt.number(w["max_hours_to_euthanasia"])),
            num(w["over_24_hours"]),
        )
        for w in welfare
    ]
    headers: list[str | Cell] = [
        "Arm",
        "Endpoints by cause",
        Cell("Found dead", numeric=True),
        *[
            Cell(h, numeric=True)
            for h in (
                "Endpoint episodes closed",
                "Median h to euthanasia",
                "Longest (h)",
                "Over 24 h",
            )
        ],
    ]
    content = table(
        headers,
        rows,
        caption="Welfare: hours from the first reading at a humane endpoint to euthanasia",
    )
    return section("welfare", "Welfare", content)


def necropsy_section(results: ReportResults) -> str:
    """Tumour and terminal body weights at necropsy per arm (descriptive: days differ)."""
    necropsy = results.json.get("necropsy")
    if not necropsy:
        return ""
    rows = [
        (
            n["group"],
            num(n["necropsies"]),
            ", ".join(str(day) for day in n["study_days"]),
            num(n["tumour_weight_mg"]["n"]),
            num(fmt.number(n["tumour_weight_mg"]["mean"])),
            num(fmt.number(n["tumour_weight_mg"]["sd"])),
            num(fmt.number(n["tumour_weight_mg"]["median"])),
            num(fmt.number(n["terminal_body_weight_g"]["mean"], 2)),
        )
        for n in necropsy
    ]
    headers: list[str | Cell] = [
        "Arm",
        Cell("Necropsies", numeric=True),
        "Study days",
        *[
            Cell(h, numeric=True)
            for h in (
                "Tumours weighed (animals)",
                "Tumour weight mean (mg)",
                "SD (mg)",
                "Median (mg)",
                "Terminal body weight mean (g)",
            )
        ],
    ]
    content = table(
        headers,
        rows,
        caption="Necropsy: summed tumour weight per animal and terminal body weight",
    )
    return section("necropsy", "Necropsy and tumour weights", content)


def synergy_section(results: ReportResults) -> str:
    tgi = results.json.get("synergy_tgi")
    if tgi is None:
        return ""
    lmm = results.json.get("synergy_lmm")
    leading = results.json.get("synergy_leading", "tgi")
    arms = (
        f"control {tgi['control']}, A {tgi['drug_a']}, B {tgi['drug_b']}, "
        f"A + B {tgi['combination']}"
    )
    reference = str(results.json.get("synergy_reference", "bliss"))
    tgi_part = _synergy_tgi_table(tgi, reference)
    lmm_part = _synergy_lmm_table(lmm) if lmm is not None else ""
    auc = results.json.get("synergy_auc")
    auc_part = _synergy_auc_table(auc) if auc is not None else ""
    model = results.json.get("options", {}).get("synergy_model", "tgi")
    chosen = {
        "tgi": f"{SYNERGY_REFERENCE_NAMES.get(reference, reference)} on TGI",
        "lmm": "the mixed model of log volume over time",
        "auc": "the area under the growth curves",
    }.get(model, model)
    intro = f"<p>Arms: {esc(arms)}. Synergy model chosen for this report: {esc(chosen)}.</p>"
    if leading == "auc":
        body = auc_part + tgi_part + lmm_part
    elif leading == "lmm" and tgi["outside_0_100"]:
        intro += (
            '<p class="lead">Tumours regress in at least one arm ('
            + esc(", ".join(tgi["outside_0_100"]))
            + " outside 0–100 % TGI): Bliss on TGI "
            "fractions loses its meaning there, so the mixed-model test over time leads."
            "</p>"
        )
        body = lmm_part + tgi_part
    elif leading == "lmm":
        body = lmm_part + tgi_part
    else:
        body = tgi_part + lmm_part
    return section("synergy", "Combination synergy", intro + body, major=True)


SYNERGY_REFERENCE_NAMES = {
    "bliss": "Bliss independence",
    "hsa": "Highest single agent",
    "ra": "Response additivity",
}


def _synergy_auc_table(auc: dict[str, Any]) -> str:
    rows = [
        (
            arm,
            num(fmt.number(auc["egr"].get(arm), 4)),
            num(auc["n"].get(arm, "")),
            num(fmt.number(auc["relative_growth"].get(arm), 3)),
        )
        for arm in (auc["control"], auc["drug_a"], auc["drug_b"], auc["combination"])
    ]
    caption = (
        f"Area under the growth curves to day {fmt.day(auc['day'])}: combination index "
        f"{fmt.number(auc['combination_index'], 3)} (below 1: synergy), synergy score "
        f"{fmt.number(auc['synergy_score'], 3)}"
    )
    return "<h3>Area under the growth curves (invivoSyn)</h3>" + table(
        [
            "Arm",
            *[
                Cell(h, numeric=True)
                for h in ("Exponential growth rate (1/day)", "n", "Relative growth")
            ],
        ],
        rows,
        caption=caption,
    )


def _synergy_tgi_table(tgi: dict[str, Any], reference: str = "bliss") -> str:
    rows = []
    ci = tgi["ci95"]
    for model, name in SYNERGY_REFERENCE_NAMES.items():
        rows.append(
            (
                f"{name} (pre-specified)" if model == reference else name,
                num(fmt.number(tgi["expected"][model])),
                num(fmt.interval(*ci["expected"][model])),
                num(fmt.signed(tgi["synergy_score"][model])),
                num(fmt.interval(*ci["synergy_score"][model])),
                num(fmt.number(tgi["fold_over_expected"][model], 2)),
                num(
                    fmt.interval(
                        ci["fold_over_expected"][model][0], ci["fold_over_expected"][model][1], 2
                    )
                ),
            )
        )
    headers: list[str | Cell] = [
        "Reference model",
        *[
            Cell(h, numeric=True)
            for h in (
                "Expected TGI %",
                "95 % CI",
                "Observed − expected (pp)",
                "95 % CI",
                "Fold over expected",
                "95 % CI",
            )
        ],
    ]
    observed = tgi["observed_tgi_percent"]
    caption = (
        f"Synergy on TGI ({tgi['definition']}) on day {fmt.day(tgi['day'])}: observed "
        f"A + B {fmt.number(observed)} % {fmt.interval(*ci['observed_tgi_percent'])}; "
        f"A {fmt.number(tgi['tgi_percent']['drug_a'])} %, "
        f"B {fmt.number(tgi['tgi_percent']['drug_b'])} %"
    )
    return "<h3>Reference models on TGI</h3>" + table(headers, rows, caption=caption)


def _synergy_lmm_table(lmm: dict[str, Any]) -> str:
    rows = [
        (
            fmt.day(t["day"]),
            t["method"].upper(),
            num(fmt.number(t["combination_index"], 3)),
            num(_ci(t["combination_index_ci95"], 3)),
            num(fmt.number(t["synergy_score"], 2)),
            num(fmt.p_value(t["p"])),
            t["note"] or "",
        )
        for t in lmm["tests"]
    ]
    rates = ", ".join(f"{g} {fmt.number(v, 4)}" for g, v in lmm["growth_rates"].items())
    headers: list[str | Cell] = [
        "Day",
        "Test",
        *[Cell(h, numeric=True) for h in ("Combination index", "95 % CI", "Synergy score", "p")],
        "Note",
    ]
    return (
        "<h3>Mixed-model test over time (SynergyLMM)</h3>"
        f"<p>Growth rates (ln relative volume per day): {esc(rates)}; HSA reference "
        f"{esc(lmm['hsa_reference'])}. Combination index &lt; 1 and synergy score &gt; 0 "
        "mean synergy.</p>" + table(headers, rows)
    )


def _ci(pair: list[float | None] | None, decimals: int) -> str:
    return fmt.interval(None, None) if pair is None else fmt.interval(pair[0], pair[1], decimals)


def methods_section(report: ReportInput, results: ReportResults) -> str:
    items = [
        "Tumour volume V = length × width² / 2 (mm³), from calipers.",
        "T/C % = 100 · mean(T) / mean(C) on the analysis day; median T/C % = 100 · median(T) / "
        "median(C).",
        *TGI_DEFINITIONS.values(),
        "Bootstrap CIs: percentile intervals, animals resampled within each arm (seeded).",
        "Group curves stop before the first day with fewer than 50 % of the arm's randomized "
        "animals or fewer than 3 measured.",
        "mRECIST (Gao et al. 2015): best response and best average response from day 10.",
        "Survival: Kaplan–Meier with Greenwood variance and log-transformed CI (as R survfit); "
        "log-rank as R survdiff; Holm adjustment over all pairs; Cox model with Efron ties; "
        "ILS % = 100 · (median_T − median_C) / median_C.",
        "Synergy: Bliss 1 − (1 − a)(1 − b), HSA max(a, b), RA a + b on TGI fractions; "
        "SynergyLMM: ln(V/V₀) ~ 0 + time:arm with a random slope per animal (REML).",
        "Body weight in % of each animal's first weight; tumour-corrected weight = weight − "
        "volume × 1 mg/mm³.",
    ]
    parts = ["<ul>" + "".join(f'<li class="formula">{esc(i)}</li>' for i in items) + "</ul>"]
    if report.software_versions:
        parts.append(
            table(
                ["Software", "Version"], report.software_versions, caption="Software and versions"
            )
        )
    if results.commands:
        rows = [
            (c.title, Cell(f"<code>{esc(c.command_line)}</code>", markup=True))
            for c in results.commands
        ]
        parts.append(
            table(
                ["Table", "Reproduce with (from the data bundle)"],
                rows,
                caption="Commands that reproduce each table without a database",
            )
        )
    if results.warnings:
        parts.append("<ul>" + "".join(f"<li>{esc(w)}</li>" for w in results.warnings) + "</ul>")
    return section("methods", "Methods", "".join(parts), major=True)


def records_section(report: ReportInput) -> str:
    parts = []
    if report.deviations:
        parts.append("<h3>Deviations</h3>" + _log_table(report.deviations))
    if report.corrections:
        parts.append("<h3>Corrections (with reasons)</h3>" + _log_table(report.corrections))
    if report.unblindings:
        parts.append("<h3>Unblinding</h3>" + _log_table(report.unblindings))
    if not parts:
        return ""
    return section("records", "Deviations and corrections", "".join(parts))


def render_html(report: ReportInput, results: ReportResults) -> str:
    """The whole report as one HTML string (the PDF renders this same string)."""
    body = "".join(
        part
        for part in (
            title_page(report),
            arrive_section(report),
            design_section(report, results),
            flow_section(report),
            growth_section(report, results),
            survival_section(report, results),
            pooled_section(results),
            body_weight_section(report, results),
            dosing_section(results),
            welfare_section(results),
            necropsy_section(results),
            assay_section(results),
            synergy_section(results),
            methods_section(report, results),
            records_section(report),
        )
        if part
    )
    running_id = f"{report.study_code} · {report.run_code} · data {report.data_hash[:19]}"
    running_kind = watermark_text(report) + (" · BLINDED" if report.blinded else "")
    style = template("report.css").substitute(
        running_id=_css_string(running_id), running_kind=_css_string(running_kind)
    )
    return template("report.html").substitute(
        title=esc(f"{report.study_code} {report.run_code} — {report.kind} report"),
        style=style,
        body_class="exploratory" if report.exploratory else report.kind,
        watermark=watermark_html(report),
        body=body,
    )


__all__ = ["esc", "render_html", "watermark_html", "watermark_text"]
