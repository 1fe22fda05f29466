"""The demo's flow table: generated for the run's samples, imported through the same service,
with the combination arm's typical CD8/Treg shift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from labnotes.demo_flow import MAPPING, MAPPING_NAME, demo_table
from labnotes.importers.flowjo import parse_flowjo_table
from labnotes.models import FlowSampleMapping
from labnotes.selectors_flow import flow_report_rows
from labnotes.services.flow import import_flow_statistics
from tests.labnotes.flow_support import flow_run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def test_demo_table_is_a_flowjo10_table_of_every_sample_imported_by_the_service(lab: Any) -> None:
    flow = flow_run(lab)
    samples = list(flow.samples.values())
    content = demo_table(samples)
    assert content == demo_table(samples)  # deterministic for its seed
    table = parse_flowjo_table(content)
    assert len(table.rows) == len(samples) == 8  # Mean and SD lines dropped
    assert ("Lymphocytes/Single Cells/Live/CD45+/CD3+/CD8+", "Count") in table.columns
    flow_import = import_flow_statistics(
        panel=flow.panel,
        content=content,
        filename="demo.csv",
        spec=MAPPING,
        imported_by=flow.technician,
        save_mapping_as=MAPPING_NAME,
    )
    assert flow_import.sample_count == 8
    assert FlowSampleMapping.objects.get().name == MAPPING_NAME
    rows = flow_report_rows(flow.small.run)
    analytes = {row.analyte for row in rows}
    assert {"CD8+ % of CD45+", "CD25+Foxp3+ % of parent (CD4+)", "CD8/Treg ratio"} <= analytes
    assert {row.tissue for row in rows} == {"tumour", "spleen"}
    # Each value is the table's own arithmetic: CD8/Treg = CD8+ count / Treg count.
    first = table.rows[0]
    cd8 = first.get("Lymphocytes/Single Cells/Live/CD45+/CD3+/CD8+", "Count")
    treg = first.get("Lymphocytes/Single Cells/Live/CD45+/CD3+/CD4+/CD25+Foxp3+", "Count")
    tag, _, letter = first.sample.partition("_")
    tissue = "tumour" if letter.startswith("T") else "spleen"
    (ratio,) = [
        r for r in rows if r.analyte == "CD8/Treg ratio" and r.animal == tag and r.tissue == tissue
    ]
    assert ratio.value == pytest.approx(cd8 / treg)


def test_demo_step_imports_the_satellites_tumours_and_spleens_once(lab: Any) -> None:
    from labnotes.demo_flow import record_demo_flow
    from labnotes.models import Animal, FlowImport

    flow = flow_run(lab)
    users = {"scientist": flow.scientist, "tech_measure": flow.technician}
    Animal.objects.filter(pk=flow.small.animals[0].pk).update(is_satellite=True)
    Animal.objects.filter(pk=flow.small.animals[1].pk).update(is_satellite=True)
    flow_import = record_demo_flow(flow.small.run, users)
    assert flow_import is not None
    assert flow_import.sample_count == 4  # two satellites x (tumour, spleen)
    assert set(flow_import.mapping_snapshot["samples"].values()) == {
        "FL-0001-T",
        "FL-0001-S",
        "FL-0002-T",
        "FL-0002-S",
    }
    assert record_demo_flow(flow.small.run, users) is None  # idempotent
    assert FlowImport.objects.count() == 1
    rows = flow_report_rows(flow.small.run)
    assert {row.timing for row in rows} == {"scheduled"}
    assert len({row.sample for row in rows}) == 4
