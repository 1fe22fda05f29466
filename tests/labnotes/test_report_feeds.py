# ruff: noqa: RUF001, RUF003  (γ in analyte names is intended)
"""The report sections fed from the database: ELISA and flow results (through the assay
selectors), on a real run written through the services.

The assay selectors are another app's; here they return AssayRows built in the test (named by
animal tag, with a deliberately wrong group), which is the contract the report relies on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import timezone

from labnotes.reports.model import AssayRow
from labnotes.reports.results import compute_results
from labnotes.services.report_input import (
    current_data_hash,
    data_hash,
    snapshot_run,
)
from tests.labnotes.builders import SENTINEL_LABEL
from tests.labnotes.reports.report_run import ReportRun, build_report_run, final_report_input


@pytest.fixture
def report_run(lab: Any) -> ReportRun:
    return build_report_run(lab=lab)


@pytest.mark.django_db
def test_assay_rows_reach_the_report_by_animal_arm_when_selectors_return_rows(
    report_run: ReportRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = current_data_hash(report_run.run)
    animals = sorted(report_run.animals, key=lambda a: a.tag)
    randomized = [a for a in animals if a.arm_id is not None]
    # The row's group is ignored (a selector must not be able to leak a label): "WRONG".
    elisa = [
        AssayRow(
            "elisa",
            "IFN-γ",
            a.tag,
            "WRONG",
            10.0 + i,
            "pg/mL",
            20,
            "scheduled",
            "serum",
            f"BC{i}",
        )
        for i, a in enumerate(randomized)
    ] + [AssayRow("elisa", "IFN-γ", "NO-SUCH-TAG", "WRONG", 1.0, "pg/mL", 20, "scheduled")]
    flow = [
        AssayRow(
            "flow",
            "CD8+ of CD45+",
            randomized[0].tag,
            "WRONG",
            7.5,
            "%",
            25,
            "endpoint",
            "tumour",
            "F1",
        ),
    ]
    monkeypatch.setattr("labnotes.selectors_elisa.elisa_report_rows", lambda run: elisa)
    monkeypatch.setattr("labnotes.selectors_flow.flow_report_rows", lambda run: flow)
    unblinded = final_report_input(report_run, blinded=False)
    assert len(unblinded.assays) == len(randomized) + 1  # the unknown tag is left out
    arm_of = {a.tag: a.arm for a in randomized}
    for row in unblinded.assays:
        assert row.group == arm_of[row.animal].label
    assert {r.timing for r in unblinded.assays} == {"scheduled", "endpoint"}
    # The data hash counts the results: a report built before them is stale.
    assert current_data_hash(report_run.run) != before
    blinded = final_report_input(report_run, blinded=True)
    for row in blinded.assays:
        assert row.group == arm_of[row.animal].code
    results = compute_results(blinded)
    text = json.dumps(results.json, ensure_ascii=False) + json.dumps(results.files)
    assert SENTINEL_LABEL not in text
    assert SENTINEL_LABEL in json.dumps(compute_results(unblinded).json, ensure_ascii=False)
    block = next(b for b in results.json["assays"] if b["assay"] == "elisa")
    assert sum(g["n"] for g in block["same_day"][0]["groups"]) == len(randomized)
    assert block["same_day"][0]["study_day"] == 20


@pytest.mark.django_db
def test_data_hash_unchanged_when_run_has_no_assay_results(report_run: ReportRun) -> None:
    snapshot = snapshot_run(report_run.run)
    assert snapshot.assays == ()
    from dataclasses import asdict

    facts = asdict(snapshot)
    for name in ("assays", "doses", "modifications", "endpoints", "episodes", "necropsies"):
        if not facts[name]:
            facts.pop(name)
    import hashlib

    text = json.dumps(facts, sort_keys=True, separators=(",", ":"), default=str)
    assert data_hash(snapshot) == "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _dose(report_run: ReportRun, animal: Any, occurrence: int, outcome: str) -> Any:
    """A dose record written directly (the dosing service has its own tests), like the
    sample tests' ``give_dose``."""
    import datetime as dt
    from decimal import Decimal

    from labnotes.models.dosing import DoseRecord, FormulationBatch

    design = report_run.design
    item = animal.arm.regimen_items.order_by("order", "pk").first()
    given_at = timezone.now() - dt.timedelta(days=10 - occurrence)
    batch = FormulationBatch.objects.filter(study=design.study, agent=item.agent).first()
    if batch is None:
        batch = FormulationBatch.objects.create(
            study=design.study,
            agent=item.agent,
            lot=f"LOT-{item.pk}",
            concentration_mg_per_ml=Decimal("1"),
            vehicle="saline",
            prepared_by=design.scientist,
            prepared_at=given_at - dt.timedelta(days=20),
            expires_at=given_at + dt.timedelta(days=30),
            recorded_by=design.scientist,
        )
    return DoseRecord.objects.create(
        run=report_run.run,
        animal=animal,
        regimen_item=item,
        occurrence=occurrence,
        scheduled_for=given_at.date(),
        outcome=outcome,
        batch=batch if outcome == "given" else None,
        route=item.route,
        dose_basis=item.dose_basis,
        dose=item.dose,
        volume_ul=Decimal("200") if outcome == "given" else None,
        given_at=given_at if outcome == "given" else None,
        operator=design.doser if outcome == "given" else None,
        recorded_by=design.doser,
    )


@pytest.mark.django_db
def test_dosing_welfare_and_necropsy_sections_counted_per_arm_when_records_exist(
    report_run: ReportRun,
) -> None:
    import datetime as dt

    from labnotes.models import Animal, AnimalStatus, EndpointRecord
    from labnotes.models.dosing import DoseDeviation, DoseModification
    from labnotes.reports.html import render_html
    from labnotes.services.necropsy import record_necropsy

    design = report_run.design
    before = snapshot_run(report_run.run)
    assert (before.doses, before.necropsies) == ((), ())
    animals = [
        a for a in Animal.objects.filter(run=report_run.run).select_related("arm") if a.arm_id
    ]
    by_arm: dict[int | None, list[Any]] = {}
    for animal in sorted(animals, key=lambda a: a.tag):
        by_arm.setdefault(animal.arm_id, []).append(animal)
    first_arm, second_arm = design.arms[0], design.arms[1]
    # First arm: 2 animals × 2 doses, one missed (a "missed" deviation) → 3/4 given.
    a1, a2 = by_arm[first_arm.pk][:2]
    _dose(report_run, a1, 1, "given")
    _dose(report_run, a1, 2, "given")
    _dose(report_run, a2, 1, "given")
    missed = _dose(report_run, a2, 2, "missed")
    DoseDeviation.objects.create(dose=missed, kind="missed", detail="animal not found in cage")
    # Second arm: one animal, one late dose and one hold.
    b1 = by_arm[second_arm.pk][0]
    late = _dose(report_run, b1, 1, "given")
    DoseDeviation.objects.create(dose=late, kind="late", detail="3 h after the window")
    DoseModification.objects.create(
        run=report_run.run,
        animal=b1,
        regimen_item=late.regimen_item,
        kind="hold",
        effective_from=timezone.localdate(),
        rule="hold at 15 % weight loss",
        reason="weight loss 16 %",
        decided_by=design.scientist,
    )
    # Necropsies of animals that left the study (their endpoint recorded by the builder).
    ended = [
        a
        for a in Animal.objects.filter(run=report_run.run, arm__isnull=False)
        .exclude(status=AnimalStatus.ON_STUDY)
        .select_related("arm")
        .order_by("tag")
    ][:3]
    assert ended, "the builder's run has endpoint animals"
    weights = [512.5, 1480.0, 990.2]  # mg, to 0.1 mg as the necropsy keeps them
    for animal, weight in zip(ended, weights, strict=False):
        record_necropsy(
            animal=animal,
            performed_at=timezone.now() - dt.timedelta(hours=2),
            performed_by=design.technician,
            terminal_body_weight_g="21.5",
            tumour_weights=[{"tumour": animal.tumours.get().pk, "weight_mg": weight}],
        )
    unblinded = final_report_input(report_run, blinded=False)
    results = compute_results(unblinded).json
    dosing = {row["group"]: row for row in results["dosing"]}
    assert set(dosing) == {first_arm.label, second_arm.label}  # arms without records absent
    first = dosing[first_arm.label]
    assert (first["animals"], first["doses_recorded"], first["given"], first["missed"]) == (
        2,
        4,
        3,
        1,
    )
    assert first["compliance_percent"] == pytest.approx(75.0)
    assert first["deviations"] == {"Missed": 1} and first["holds"] == 0
    second = dosing[second_arm.label]
    assert second["deviations"] == {"Late (after the permitted window)": 1}
    assert (second["holds"], second["compliance_percent"]) == (1, 100.0)
    # Welfare: endpoint records by cause per arm, as recorded.
    records = EndpointRecord.objects.filter(
        animal__run=report_run.run, voided_at__isnull=True
    ).select_related("animal__arm")
    expected: dict[str, int] = {}
    for record in records:
        label = str(getattr(record.animal.arm, "label", ""))
        expected[label] = expected.get(label, 0) + 1
    welfare = {row["group"]: row for row in results["welfare"]}
    assert {arm: row["endpoints_total"] for arm, row in welfare.items()} == expected
    assert all(row["found_dead"] == 0 for row in welfare.values())
    # Necropsy: summed tumour weights per arm.
    necropsy_rows = {row["group"]: row for row in results["necropsy"]}
    assert sum(row["necropsies"] for row in necropsy_rows.values()) == len(ended)
    for arm_label, row in necropsy_rows.items():
        mine = [
            w
            for a, w in zip(ended, weights, strict=False)
            if getattr(a.arm, "label", None) == arm_label
        ]
        assert row["tumour_weight_mg"]["mean"] == pytest.approx(sum(mine) / len(mine))
        assert row["terminal_body_weight_g"]["mean"] == pytest.approx(21.5)
    html = render_html(unblinded, compute_results(unblinded))
    for heading in ("Dosing compliance, holds and deviations", "Welfare", "Necropsy and tumour"):
        assert heading in html
    # The data hash counts these records; the blinded variant names arms by code only.
    assert current_data_hash(report_run.run) != data_hash(before)
    blinded = final_report_input(report_run, blinded=True)
    blinded_results = compute_results(blinded)
    text = json.dumps(blinded_results.json, ensure_ascii=False) + render_html(
        blinded, blinded_results
    )
    assert SENTINEL_LABEL not in text
    assert {row["group"] for row in blinded_results.json["dosing"]} == {
        first_arm.code,
        second_arm.code,
    }
