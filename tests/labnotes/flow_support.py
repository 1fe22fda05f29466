"""Set-up shared by the flow cytometry tests: a small run whose study uses the Treg panel, with a
tumour and a spleen sample of every animal, and FlowJo files written by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from labnotes.models import FlowPanel, Sample
from labnotes.services.flow import create_flow_panel
from labnotes.services.samples import record_sample
from planner.models import ProcedureRole, StudyProcedure
from tests.labnotes.builders import released_version
from tests.labnotes.samples_support import SmallRun, small_run

TREG_PANEL: dict[str, Any] = {
    "markers": [
        {"marker": "CD45", "fluorochrome": "BV510", "clone": "30-F11"},
        {"marker": "CD3", "fluorochrome": "FITC", "clone": "17A2"},
        {"marker": "CD4", "fluorochrome": "BV421", "clone": "GK1.5"},
        {"marker": "CD8", "fluorochrome": "PE-Cy7", "clone": "53-6.7"},
        {"marker": "CD25", "fluorochrome": "PE", "clone": "PC61"},
        {"marker": "Foxp3", "fluorochrome": "APC", "clone": "FJK-16s"},
    ],
    "viability_dye": "Zombie NIR",
    "populations": [
        "Live/CD45+",
        "Live/CD45+/CD3+",
        "Live/CD45+/CD3+/CD4+",
        "Live/CD45+/CD3+/CD8+",
        "Live/CD45+/CD3+/CD4+/CD25+Foxp3+",
    ],
    "statistics": ["count", "frequency_of_parent"],
}

CD45 = "Live/CD45+"
CD3 = "Live/CD45+/CD3+"
CD4 = "Live/CD45+/CD3+/CD4+"
CD8 = "Live/CD45+/CD3+/CD8+"
TREG = "Live/CD45+/CD3+/CD4+/CD25+Foxp3+"
#: File gating paths: FlowJo's tree has Lymphocytes and Single Cells above Live.
PREFIX = "Lymphocytes/Single Cells/"


@dataclass
class FlowRun:
    small: SmallRun
    panel: FlowPanel
    samples: dict[tuple[str, str], Sample]

    @property
    def scientist(self) -> Any:
        return self.small.design.scientist

    @property
    def technician(self) -> Any:
        return self.small.design.technician


def flow_run(lab: Any, *, blinded: bool = True) -> FlowRun:
    small = small_run(lab, blinded=blinded)
    director = small.design.director
    version = released_version(lab, director, "flow_panel", f"Treg panel {lab.pk}", TREG_PANEL)
    StudyProcedure.objects.create(
        study=small.design.study, role=ProcedureRole.FLOW_PANEL, protocol_version=version
    )
    panel = create_flow_panel(run=small.run, protocol_version=version, created_by=director)
    samples: dict[tuple[str, str], Sample] = {}
    taken = timezone.now() - dt.timedelta(hours=2)
    for animal in small.animals:
        for tissue in ("tumour", "spleen"):
            samples[(animal.tag, tissue)] = record_sample(
                animal=animal,
                tissue=tissue,
                collected_at=taken,
                collected_by=small.design.technician,
                barcode=f"FL-{animal.tag}-{tissue[0].upper()}",
            )
    return FlowRun(small, panel, samples)


def counts_row(cd8: int = 800, treg: int = 200) -> dict[str, float]:
    """Counts of one sample: Live 10000, CD45+ 4000, CD3+ 2000, CD4+ 1000, CD8+ and Tregs."""
    return {
        "Live": 10000,
        CD45: 4000,
        CD3: 2000,
        CD4: 1000,
        CD8: cd8,
        TREG: treg,
    }


def flowjo10_table(rows: dict[str, dict[str, float]], *, delimiter: str = ",") -> bytes:
    """A FlowJo 10 table: ``path | Count`` and ``path | Freq. of Parent`` columns, a bare
    ``Count`` (all events, 20000), Mean and SD lines at the end."""
    paths = ["Live", CD45, CD3, CD4, CD8, TREG]
    header = ["", "Count"]
    for path in paths:
        header += [f"{PREFIX}{path} | Count", f"{PREFIX}{path} | Freq. of Parent"]
    lines = [delimiter.join(header)]
    for name, counts in rows.items():
        cells = [name, "20000"]
        for path in paths:
            parent = path.rpartition("/")[0]
            parent_count = counts[parent] if parent else 20000
            cells += [str(counts[path]), f"{100 * counts[path] / parent_count:.4g}"]
        lines.append(delimiter.join(cells))
    lines.append(delimiter.join(["Mean", *["1"] * (len(header) - 1)]))
    lines.append(delimiter.join(["SD", *["0"] * (len(header) - 1)]))
    return ("\n".join(lines) + "\n").encode()


def legacy_table(rows: dict[str, dict[str, float]]) -> bytes:
    """An old Mac FlowJo table: tab-separated, ``path,Freq. of Parent`` headers, row numbers on
    sample names, a "µ" in a gate name, MacRoman with CR-only line endings."""
    paths = [CD45, CD3, CD4, CD8, TREG]
    header = ["Sample:"] + [f"{PREFIX}{p},Freq. of Parent" for p in paths]
    header.append(f"{PREFIX}Live/CD45+/µ-gate,Freq. of Parent")
    lines = ["\t".join(header)]
    for number, (name, values) in enumerate(rows.items(), start=1):
        lines.append("\t".join([f"{number}: {name}", *[str(values[p]) for p in paths], "1.5"]))
    lines.append("\t".join(["Mean", *["1"] * (len(header) - 1)]))
    lines.append("\t".join(["SD", *["0"] * (len(header) - 1)]))
    return "\r".join(lines).encode("mac_roman")


def workspace(samples: dict[str, dict[str, float]]) -> bytes:
    """A FlowJo 10 workspace with one gating tree per sample (counts as FlowJo stores them)."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>']
    parts.append('<Workspace version="20.0" flowJoVersion="10.10.0"><SampleList>')
    for index, (name, counts) in enumerate(samples.items(), start=1):
        parts.append(
            f'<Sample><DataSet uri="file:{name}" sampleID="{index}"/>'
            f'<SampleNode name="{name}" count="{int(counts["all"])}" sampleID="{index}">'
        )

        def node(path: str, children: list[str], counts: dict[str, float] = counts) -> str:
            name = path.rpartition("/")[2]
            inner = "".join(children)
            sub = f"<Subpopulations>{inner}</Subpopulations>" if inner else ""
            return f'<Population name="{name}" count="{int(counts[path])}">{sub}</Population>'

        treg = node(TREG, [])
        cd4 = node(CD4, [treg])
        cd8 = node(CD8, [])
        cd3 = node(CD3, [cd4, cd8])
        cd45 = node(CD45, [cd3])
        live = node("Live", [cd45])
        parts.append(f"<Subpopulations>{live}</Subpopulations></SampleNode></Sample>")
    parts.append("</SampleList></Workspace>")
    return "".join(parts).encode()
