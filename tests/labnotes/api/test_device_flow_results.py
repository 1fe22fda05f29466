"""Flow results posted by a device token: a FlowJo table imported once (a resend replays), an FCS
file from a real cytometer kept with its metadata, every unmatched name listed in problem+json
with nothing written, and a token of another run refused."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labnotes.models import (
    DeviceAction,
    FlowAcquisition,
    FlowImport,
    FlowPopulationValue,
    StoredFile,
)
from labnotes.services.instruments import create_device_token
from tests.labnotes.api.device_support import device_client
from tests.labnotes.flow_support import FlowRun, counts_row, flow_run, flowjo10_table
from tests.support.requirements import require_shared

pytestmark = pytest.mark.django_db

URL = "/api/v1/device/flow-results/"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def flow(lab: Any) -> FlowRun:
    return flow_run(lab)


def _secret(flow: FlowRun, actions: tuple[str, ...] = (DeviceAction.UPLOAD_FLOW,)) -> str:
    issued = create_device_token(
        created_by=flow.small.design.director,
        name="Cytometer PC",
        actions=actions,
        run=flow.small.run,
    )
    return issued.secret


def _post(secret: str, panel: int, name: str, content: bytes, key: str, **fields: Any) -> Any:
    upload = SimpleUploadedFile(name, content, "application/octet-stream")
    return device_client(secret).post(
        URL,
        {"panel": panel, "file": upload, **fields},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def _written() -> tuple[int, int, int, int]:
    return (
        FlowImport.objects.count(),
        FlowPopulationValue.objects.count(),
        FlowAcquisition.objects.count(),
        StoredFile.objects.count(),
    )


def test_flowjo_table_is_imported_once_audited_as_the_token(flow: FlowRun) -> None:
    content = flowjo10_table(
        {"FL-0001-T.fcs": counts_row(cd8=800), "FL-0002-T.fcs": counts_row(cd8=600)}
    )
    secret = _secret(flow)
    first = _post(secret, flow.panel.pk, "day10.csv", content, "flow-1")
    assert first.status_code == 201, first.content
    flow_import = FlowImport.objects.get()
    assert first.json() == {
        "panel": flow.panel.pk,
        "kind": "flowjo_table",
        "flow_import": flow_import.pk,
        "acquisition": None,
        "samples": 2,
        "values": flow_import.value_count,
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    cd8 = FlowPopulationValue.objects.get(
        acquisition__sample=flow.samples[("0002", "tumour")],
        population="Live/CD45+/CD3+/CD8+",
        statistic="count",
    )
    assert cd8.value == 600
    token = flow.small.run.device_tokens.get()
    (event,) = flow_import.events.filter(pgh_label="insert")  # type: ignore[attr-defined]
    context = (
        event.pgh_context if isinstance(event.pgh_context, dict) else event.pgh_context.metadata
    )
    assert context["token"] == f"DeviceToken:{token.prefix}"
    assert context["user_id"] == flow.small.design.director.pk
    assert flow_import.imported_by == flow.small.design.director
    before = _written()
    again = _post(secret, flow.panel.pk, "day10.csv", content, "flow-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert _written() == before


def test_real_fcs_file_becomes_the_mapped_samples_acquisition(flow: FlowRun) -> None:
    name = "fcs3.1_bd_accuri_c6plus_B01.fcs"
    content = (require_shared("data/instruments/flow_cytometry") / name).read_bytes()
    response = _post(_secret(flow), flow.panel.pk, "FL-0003-S.fcs", content, "fcs-1")
    assert response.status_code == 201, response.content
    acquisition = FlowAcquisition.objects.get()
    assert response.json()["kind"] == "fcs"
    assert response.json()["acquisition"] == acquisition.pk
    assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()
    assert acquisition.sample == flow.samples[("0003", "spleen")]
    assert acquisition.cytometer == "BD Accuri C6 Plus"


def test_real_table_with_unmatched_names_lists_every_bad_row_and_writes_nothing(
    flow: FlowRun,
) -> None:
    content = (
        require_shared("data/instruments/flow_cytometry")
        / "flowjo_table_export_legacy_macroman_CR.tsv"
    ).read_bytes()
    before = _written()
    response = _post(_secret(flow), flow.panel.pk, "legacy.tsv", content, "bad-1")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    reasons = [error["reason"] for error in errors]
    # The file has 15 samples, none with a barcode of this run: each named with its line.
    assert any(
        reason.startswith("line 2, sample 'Specimen_003_Spleen_001_045.fcs'") for reason in reasons
    )
    assert sum(1 for reason in reasons if reason.startswith("line ")) >= 15
    assert {error["field"] for error in errors} == {"file"}
    assert _written() == before


def test_a_token_of_another_run_or_without_the_action_is_refused(
    flow: FlowRun, other_lab: Any
) -> None:
    elsewhere = flow_run(other_lab)
    content = flowjo10_table({"FL-0001-T.fcs": counts_row()})
    foreign = _post(_secret(elsewhere), flow.panel.pk, "a.csv", content, "x-1")
    assert foreign.status_code == 403
    assert foreign["Content-Type"] == "application/problem+json"
    no_action = _post(
        _secret(flow, (DeviceAction.UPLOAD_PLATE_READER,)), flow.panel.pk, "a.csv", content, "x-2"
    )
    assert no_action.status_code == 403
    missing = _post(_secret(flow), 999_999, "a.csv", content, "x-3")
    assert missing.status_code == 403
    assert _written() == (0, 0, 0, 0)
    without_key = device_client(_secret(flow)).post(
        URL,
        {"panel": flow.panel.pk, "file": SimpleUploadedFile("a.csv", content)},
        format="multipart",
    )
    assert without_key.status_code == 400
    assert _written() == (0, 0, 0, 0)
