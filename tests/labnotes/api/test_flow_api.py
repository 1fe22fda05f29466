"""Flow cytometry API: panel set-up, FlowJo import (dry run and real, idempotent), FCS upload,
results with blinding, bad files as problem+json with nothing saved, saved mappings, voiding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from labnotes.models import FlowAcquisition, FlowImport, FlowPopulationValue, StoredFile
from tests.labnotes.api.conftest import client_for
from tests.labnotes.flow_support import CD8, TREG, FlowRun, counts_row, flow_run, flowjo10_table
from tests.support.requirements import require_shared

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def flow(lab: Any) -> FlowRun:
    return flow_run(lab)


def _table(**rows: Any) -> SimpleUploadedFile:
    content = flowjo10_table({name: counts_row(**values) for name, values in rows.items()})
    return SimpleUploadedFile("table.csv", content, content_type="text/csv")


def _import_url(flow: FlowRun) -> str:
    return reverse("flow_panel-import-statistics", args=[flow.panel.pk])


def test_panel_listed_and_created_once_per_run_and_version(flow: FlowRun) -> None:
    client = client_for(flow.scientist)
    listed = client.get(reverse("flow_panel-list"), {"run": flow.small.run.pk}).json()
    assert [p["id"] for p in listed["results"]] == [flow.panel.pk]
    again = client.post(
        reverse("flow_panel-list"),
        {"run": flow.small.run.pk, "protocol_version": flow.panel.protocol_version_id},
        format="json",
    )
    assert again.status_code == 201
    assert again.json()["id"] == flow.panel.pk
    assert len(again.json()["derived_statistics"]) == 10


def test_dry_run_previews_the_mapping_and_writes_nothing(flow: FlowRun) -> None:
    client = client_for(flow.technician)
    response = client.post(
        _import_url(flow),
        {
            "file": _table(**{"0001_T.fcs": {}, "0007_T.fcs": {}}),
            "dry_run": "true",
            "pattern": r"^(?P<animal>\d{4})_(?P<tissue>\w)",
            "tissue_aliases": '{"T": "tumour", "S": "spleen"}',
        },
        format="multipart",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is False
    assert body["samples"][0]["barcode"] == "FL-0001-T"
    assert body["samples"][1]["problem"] == "no animal of this run has tag '0007'"
    assert body["populations"][CD8] == "Lymphocytes/Single Cells/Live/CD45+/CD3+/CD8+"
    assert (FlowImport.objects.count(), StoredFile.objects.count()) == (0, 0)


def test_import_then_results_with_derived_values_and_idempotent_retry(flow: FlowRun) -> None:
    client = client_for(flow.technician)
    payload = {"file": _table(**{"FL-0002-S.fcs": {"cd8": 600, "treg": 100}})}
    response = client.post(
        _import_url(flow), payload, format="multipart", HTTP_IDEMPOTENCY_KEY="flow-1"
    )
    assert response.status_code == 201, response.content
    assert response.json()["sample_count"] == 1
    payload = {"file": _table(**{"FL-0002-S.fcs": {"cd8": 600, "treg": 100}})}
    retry = client.post(
        _import_url(flow), payload, format="multipart", HTTP_IDEMPOTENCY_KEY="flow-1"
    )
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert FlowImport.objects.count() == 1
    results = client.get(reverse("flow_panel-results", args=[flow.panel.pk])).json()
    (row,) = results["results"]
    assert (row["barcode"], row["animal"], row["tissue"]) == ("FL-0002-S", "0002", "spleen")
    # 600 / 4000 = 15 % of CD45+; 100 / 1000 = 10 % of CD4+; 600 / 100 = 6.
    assert row["values"][f"{CD8}|percent_of|Live/CD45+"] == pytest.approx(15.0)
    assert row["values"][f"{TREG}|percent_of_parent"] == pytest.approx(10.0)
    assert row["values"][f"{CD8}|ratio|{TREG}"] == pytest.approx(6.0)


def test_results_show_the_arm_label_only_to_unblinded_readers(flow: FlowRun) -> None:
    client_for(flow.technician).post(
        _import_url(flow), {"file": _table(**{"FL-0001-T.fcs": {}})}, format="multipart"
    )
    animal = flow.small.animals[0]
    assert animal.arm is not None
    url = reverse("flow_panel-results", args=[flow.panel.pk])
    blinded = client_for(flow.technician).get(url)
    assert blinded.json()["results"][0]["arm"] == {"code": animal.arm.code, "label": None}
    assert animal.arm.label.encode() not in blinded.content
    unblinded = client_for(flow.scientist).get(url).json()
    assert unblinded["results"][0]["arm"]["label"] == animal.arm.label


def test_bad_table_is_a_problem_naming_line_and_nothing_is_saved(flow: FlowRun) -> None:
    content = b"Sample,Live/CD45+ | Count,Live/CD45+/CD3+ | Count\nFL-0001-T.fcs,4000\n"
    response = client_for(flow.technician).post(
        _import_url(flow),
        {"file": SimpleUploadedFile("cut.csv", content)},
        format="multipart",
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "cut.csv: line 2: the line has 1 values for 2 columns" in response.content.decode()
    assert (FlowImport.objects.count(), FlowPopulationValue.objects.count()) == (0, 0)
    assert StoredFile.objects.count() == 0


def test_unmatched_sample_names_refused_through_api(flow: FlowRun) -> None:
    response = client_for(flow.technician).post(
        _import_url(flow), {"file": _table(**{"VS-999999.fcs": {}})}, format="multipart"
    )
    assert response.status_code == 400
    assert "no sample of this run has barcode VS-999999" in response.content.decode()
    assert FlowAcquisition.objects.count() == 0


def test_fcs_upload_through_api_stores_metadata(flow: FlowRun) -> None:
    name = "fcs3.1_bd_accuri_c6plus_B01.fcs"
    content = (require_shared("data/instruments/flow_cytometry") / name).read_bytes()
    sample = flow.samples[("0004", "tumour")]
    response = client_for(flow.technician).post(
        reverse("flow_panel-fcs", args=[flow.panel.pk]),
        {"file": SimpleUploadedFile(name, content), "sample": sample.pk},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["cytometer"], body["event_count"], body["sample_barcode"]) == (
        "BD Accuri C6 Plus",
        1589,
        "FL-0004-T",
    )
    assert body["spillover"]["keyword"] == "$SPILLOVER"
    listed = client_for(flow.technician).get(
        reverse("flow_acquisition-list"), {"panel": flow.panel.pk}
    )
    assert [a["id"] for a in listed.json()["results"]] == [body["id"]]


def test_mapping_saved_through_api_is_listed_for_the_lab(flow: FlowRun) -> None:
    client = client_for(flow.technician)
    response = client.post(
        reverse("flow_mapping-list"),
        {
            "lab": flow.small.design.lab.pk,
            "name": "tag_tissue",
            "pattern": r"^(?P<animal>\d{4})_(?P<tissue>\w)",
            "tissue_aliases": {"T": "tumour"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    listed = client.get(reverse("flow_mapping-list")).json()["results"]
    assert [m["name"] for m in listed] == ["tag_tissue"]
    bad = client.post(
        reverse("flow_mapping-list"),
        {"lab": flow.small.design.lab.pk, "name": "x", "pattern": r"^(?P<tag>\d+)"},
        format="json",
    )
    assert bad.status_code == 400
    assert "must name the sample" in bad.content.decode()


def test_import_voided_through_api_with_a_reason(flow: FlowRun) -> None:
    client = client_for(flow.technician)
    created = client.post(
        _import_url(flow), {"file": _table(**{"FL-0001-T.fcs": {}})}, format="multipart"
    ).json()
    url = reverse("flow_import-void", args=[created["id"]])
    assert client.post(url, {"reason": ""}, format="json").status_code == 400
    voided = client.post(url, {"reason": "wrong gates"}, format="json")
    assert voided.status_code == 200
    assert voided.json()["void_reason"] == "wrong gates"
    results = client.get(reverse("flow_panel-results", args=[flow.panel.pk])).json()
    assert results["results"][0]["counts"] == {}


def test_blinded_technician_meets_no_arm_label_on_any_flow_endpoint(flow: FlowRun) -> None:
    client = client_for(flow.technician)
    client.post(
        _import_url(flow),
        {"file": _table(**{"FL-0001-T.fcs": {}, "FL-0002-T.fcs": {}})},
        format="multipart",
    )
    labels = {a.arm.label for a in flow.small.animals if a.arm is not None}
    paths = []
    for basename in ("flow_panel", "flow_acquisition", "flow_import", "flow_mapping"):
        listed = client.get(reverse(f"{basename}-list"))
        assert listed.status_code == 200
        paths.append(reverse(f"{basename}-list"))
        for item in listed.json()["results"]:
            paths.append(reverse(f"{basename}-detail", args=[item["id"]]))
            paths.append(reverse(f"{basename}-history", args=[item["id"]]))
    paths.append(reverse("flow_panel-results", args=[flow.panel.pk]))
    assert len(paths) >= 10
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        for label in labels:
            assert label.encode() not in response.content, (path, label)
