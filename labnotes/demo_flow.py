"""The demo's flow cytometry: the Treg panel's results for the day-10 satellites' tumours and
spleens (CD8+ % of CD45+, Foxp3+ Tregs % of CD4+, CD8/Treg ratio).

Called after the samples step in ``labnotes.demo._record_history``: it sets up the run's flow
panel from the study's flow-panel protocol version, records the tumour and spleen samples of
every randomized satellite where the samples step did not (at the planned takedown, once that
day has passed), writes a FlowJo 10 table export (``path | Count`` and ``path | Freq. of
Parent`` columns, Mean and SD lines) with counts drawn around typical values per arm, and
imports it through the same import service as a user's file, with a sample-name mapping
(``<tag>_<T|S>.fcs``) saved for the lab.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
from django.utils import timezone

from labnotes.models import Animal, FlowImport, FlowPanel, Sample, StudyRun, Task, TaskKind
from labnotes.services import flow as flow_services
from labnotes.services import samples as sample_services
from planner.models import ProcedureRole, StudyProcedure

logger = logging.getLogger(__name__)

DEMO_SEED = 20240611
MAPPING_NAME = "FlowJo: <tag>_<T|S>.fcs"
MAPPING = flow_services.MappingSpec(
    pattern=r"^(?P<animal>[^_]+)_(?P<tissue>[A-Za-z]+)\.fcs$",
    tissue_aliases={"T": "tumour", "S": "spleen"},
)
#: FlowJo gates above the panel's populations.
PREFIX = "Lymphocytes/Single Cells/"
#: By arm label: CD8+ fraction of CD3+ and Foxp3+ Treg fraction of CD4+ in the tumour (IL-12
#: recruits CD8 T cells; low-dose cyclophosphamide depletes Tregs).
TUMOUR_CD8_OF_CD3 = {
    "Vehicle": 0.25,
    "IL-12": 0.42,
    "Cyclophosphamide": 0.30,
    "IL-12 + cyclophosphamide": 0.52,
}
TUMOUR_TREG_OF_CD4 = {
    "Vehicle": 0.32,
    "IL-12": 0.24,
    "Cyclophosphamide": 0.16,
    "IL-12 + cyclophosphamide": 0.11,
}


def _tumour_and_spleen(run: StudyRun, users: dict[str, Any]) -> list[Sample]:
    """The takedown tumour and spleen of every randomized satellite (recorded where missing)."""
    now = timezone.now()
    zone = run.study.lab.zone
    samples: list[Sample] = []
    satellites = Animal.objects.filter(run=run, is_satellite=True, arm__isnull=False).order_by(
        "arm__order", "tag"
    )
    for animal in satellites:
        takedown = (
            Task.objects.filter(animal=animal, kind=TaskKind.TAKEDOWN)
            .order_by("nominal_date")
            .first()
        )
        for row, tissue in enumerate(("tumour", "spleen")):
            existing = (
                Sample.objects.filter(animal=animal, tissue=tissue, voided_at__isnull=True)
                .order_by("collected_at")
                .first()
            )
            if existing is not None:
                samples.append(existing)
                continue
            if takedown is None:
                continue
            day = takedown.date
            taken = dt.datetime(day.year, day.month, day.day, 11, 12 + 6 * row, tzinfo=zone)
            if taken > now - dt.timedelta(minutes=5):
                continue
            tumour = animal.tumours.filter(role="injected").order_by("pk").first()
            task = next(
                (
                    t
                    for t in Task.objects.filter(animal=animal, kind=TaskKind.SAMPLE, status="due")
                    .select_related("procedure__protocol_version")
                    .order_by("nominal_date", "pk")
                    if t.procedure and sample_services.procedure_tissue(t.procedure) == tissue
                ),
                None,
            )
            samples.append(
                sample_services.record_sample(
                    animal=animal,
                    tissue=tissue,
                    tumour=tumour if tissue == "tumour" else None,
                    collected_at=taken,
                    collected_by=users["tech_measure"],
                    task=task,
                    mass_mg="150" if tissue == "tumour" else "90",
                    freezer="4 °C, processed the same day",
                    notes="For the Treg flow panel.",
                )
            )
    return samples


def demo_table(samples: list[Sample], seed: int = DEMO_SEED) -> bytes:
    """A FlowJo 10 table of the samples' population counts (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    paths = [
        "Live",
        "Live/CD45+",
        "Live/CD45+/CD3+",
        "Live/CD45+/CD3+/CD4+",
        "Live/CD45+/CD3+/CD8+",
        "Live/CD45+/CD3+/CD4+/CD25+Foxp3+",
    ]
    header = ["", "Count"]
    for path in paths:
        header += [f"{PREFIX}{path} | Count", f"{PREFIX}{path} | Freq. of Parent"]
    lines = [",".join(header)]
    for sample in samples:
        arm = sample.animal.arm
        label = arm.label if arm is not None else "Vehicle"

        def jitter(value: float) -> float:
            return float(min(0.95, value * rng.lognormal(0.0, 0.12)))

        tumour = sample.tissue == "tumour"
        cd8_of_cd3 = jitter(TUMOUR_CD8_OF_CD3.get(label, 0.25) * (1.0 if tumour else 0.75))
        treg_of_cd4 = jitter(TUMOUR_TREG_OF_CD4.get(label, 0.3) * (1.0 if tumour else 0.55))
        total = int(rng.integers(45_000, 55_000))
        counts: dict[str, int] = {"": total}
        counts["Live"] = round(total * jitter(0.78))
        counts["Live/CD45+"] = round(counts["Live"] * jitter(0.32 if tumour else 0.93))
        counts["Live/CD45+/CD3+"] = round(counts["Live/CD45+"] * jitter(0.38 if tumour else 0.31))
        counts["Live/CD45+/CD3+/CD8+"] = round(counts["Live/CD45+/CD3+"] * cd8_of_cd3)
        counts["Live/CD45+/CD3+/CD4+"] = round(
            counts["Live/CD45+/CD3+"] * max(0.2, 0.92 - cd8_of_cd3)
        )
        counts["Live/CD45+/CD3+/CD4+/CD25+Foxp3+"] = round(
            counts["Live/CD45+/CD3+/CD4+"] * treg_of_cd4
        )
        name = f"{sample.animal.tag}_{'T' if tumour else 'S'}.fcs"
        cells = [name, str(total)]
        for path in paths:
            parent = path.rpartition("/")[0]
            cells += [str(counts[path]), f"{100.0 * counts[path] / counts[parent]:.3g}"]
        lines.append(",".join(cells))
    width = len(header) - 1
    lines.append(",".join(["Mean", *[""] * width]))
    lines.append(",".join(["SD", *[""] * width]))
    return ("\r\n".join(lines) + "\r\n").encode()


def record_demo_flow(run: StudyRun, users: dict[str, Any]) -> FlowImport | None:
    """The run's flow panel and one imported FlowJo table (idempotent: a panel with an import
    is left alone)."""
    procedure = (
        StudyProcedure.objects.filter(study=run.study, role=ProcedureRole.FLOW_PANEL)
        .select_related("protocol_version")
        .first()
    )
    if procedure is None:
        logger.info("demo: %s uses no flow panel; no flow results", run.study)
        return None
    scientist = users["scientist"]
    panel: FlowPanel = flow_services.create_flow_panel(
        run=run, protocol_version=procedure.protocol_version, created_by=scientist
    )
    if panel.imports.exists():
        return None
    samples = _tumour_and_spleen(run, users)
    if not samples:
        logger.info("demo: the satellites' takedown lies ahead; no flow results yet")
        return None
    table = demo_table(samples)
    return flow_services.import_flow_statistics(
        panel=panel,
        content=table,
        filename="Treg panel day 10 satellites (FlowJo table).csv",
        spec=MAPPING,
        imported_by=users["tech_measure"],
        save_mapping_as=MAPPING_NAME,
    )
