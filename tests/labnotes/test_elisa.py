"""ELISA plate services: layout, import, fit and QC on a known curve, decision, bad files."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from labnotes.models import ElisaPlate, ElisaResult, PlateLayoutTemplate, PlateWell, StoredFile
from labnotes.selectors_elisa import elisa_report_rows
from labnotes.services import elisa as elisa_services
from labnotes.services.files import read_file
from tests.labnotes.elisa_support import (
    STANDARDS,
    ElisaSetup,
    elisa_setup,
    expected_ods,
    grid_csv,
    laid_out_plate,
    scipy_fit,
    standard_layout,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(lab: Any) -> ElisaSetup:
    return elisa_setup(lab)


def _import(setup: ElisaSetup, plate: ElisaPlate, data: bytes, **kwargs: Any) -> ElisaPlate:
    return elisa_services.import_reading(
        plate=plate,
        content=data,
        filename=kwargs.pop("filename", "plate.csv"),
        imported_by=setup.small.design.technician,
        **kwargs,
    )


def test_layout_is_saved_with_default_replicate_groups_when_valid(setup: ElisaSetup) -> None:
    plate = laid_out_plate(setup)
    wells = {w.well: w for w in PlateWell.objects.filter(plate=plate)}
    assert len(wells) == 14 + 2 + 16
    assert wells["A1"].replicate_group == "STD 2000" and wells["G2"].concentration_pg_per_ml == (
        pytest.approx(31.25)
    )
    assert wells["A5"].sample == setup.samples[0] and wells["A5"].dilution == 10
    assert wells["A3"].replicate_group == "SER-1 1:2"
    assert plate.row_version == 2 and plate.status == "draft"


def test_layout_refused_naming_each_well_when_duplicate_or_unknown_sample(
    setup: ElisaSetup,
) -> None:
    plate = laid_out_plate(setup)
    bad: list[dict[str, Any]] = [
        {"well": "A1", "role": "standard", "concentration_pg_per_ml": 100},
        {"well": "a01", "role": "blank"},
        {"well": "B1", "role": "sample", "sample": "NOPE-9"},
        {"well": "C1", "role": "standard"},
        {"well": "Z9", "role": "blank"},
        {"well": "D1", "role": "sample", "sample": "SER-1", "dilution": "0.5"},
    ]
    with pytest.raises(ValidationError) as info:
        elisa_services.save_layout(
            plate=plate, wells=bad, changed_by=setup.small.design.technician, reason="redo"
        )
    messages = info.value.message_dict["layout"]
    assert "Well A1: given twice in the layout (duplicate well)." in messages
    assert any("Well B1, field sample: 'NOPE-9' matches no sample" in m for m in messages)
    assert any(m.startswith("Well C1, field concentration_pg_per_ml") for m in messages)
    assert any(m.startswith("Entry 5, field well: 'Z9'") for m in messages)
    assert any(m.startswith("Well D1, field dilution") for m in messages)
    # nothing written: the earlier layout stands
    assert PlateWell.objects.filter(plate=plate).count() == 32
    assert ElisaPlate.objects.get(pk=plate.pk).row_version == 2


def test_changing_a_layout_needs_a_reason(setup: ElisaSetup) -> None:
    plate = laid_out_plate(setup)
    with pytest.raises(ValidationError, match="reason"):
        elisa_services.save_layout(
            plate=plate, wells=standard_layout(setup)[:4], changed_by=setup.small.design.technician
        )
    assert PlateWell.objects.filter(plate=plate).count() == 32


def test_plate_qc_matches_scipy_when_known_curve(setup: ElisaSetup) -> None:
    plate = laid_out_plate(setup)
    ods = expected_ods(setup)
    plate = _import(setup, plate, grid_csv(ods))
    assert plate.status == "read" and plate.reading_format == "generic_grid"
    fit = plate.fit
    # Independent fit of the same blank-corrected standard ODs.
    blank = (ods["H1"] + ods["H2"]) / 2
    assert fit["blank_od"] == pytest.approx(blank, rel=1e-12)
    concentration = np.repeat(np.array(STANDARDS), 2)
    od = np.array([ods[f"{r}{c}"] - blank for r in "ABCDEFG" for c in (1, 2)])
    reference = scipy_fit(concentration, od)
    ours = fit["parameters"]
    for name, value in zip(("bottom", "top", "ec50", "hill"), reference, strict=True):
        assert ours[name] == pytest.approx(value, rel=1e-5), name
    predicted = reference[0] + (reference[1] - reference[0]) / (
        1 + (reference[2] / concentration) ** reference[3]
    )
    r_squared = 1 - np.sum((od - predicted) ** 2) / np.sum((od - od.mean()) ** 2)
    assert fit["r_squared"] == pytest.approx(r_squared, rel=1e-9)
    assert fit["qc_passed"] is True and fit["qc_failures"] == []
    assert fit["lloq_pg_per_ml"] == pytest.approx(31.25)
    assert fit["uloq_pg_per_ml"] == pytest.approx(2000.0)
    # Samples: the inverse of the scipy curve at the mean blank-corrected OD, times dilution.
    bottom, top, ec50, hill = reference
    results = {r.replicate_group: r for r in ElisaResult.objects.filter(plate=plate)}
    assert len(results) == 8
    for row, sample in zip("ABCD", setup.samples, strict=False):
        for columns, dilution in (((3, 4), 2), ((5, 6), 10)):
            mean_od = np.mean([ods[f"{row}{c}"] - blank for c in columns])
            in_well = ec50 / ((top - bottom) / (mean_od - bottom) - 1) ** (1 / hill)
            result = results[f"{sample.barcode} 1:{dilution}"]
            if 31.25 <= in_well <= 2000:
                assert result.flag == "ok"
                assert result.concentration_pg_per_ml == pytest.approx(in_well * dilution, rel=1e-4)
            assert result.mean_od == pytest.approx(mean_od + blank, rel=1e-12)
    # 6000 pg/mL at 1:2 is 3000 in the well: above the top standard.
    assert results["SER-4 1:2"].flag == "above_uloq"
    # 400 pg/mL at 1:10 is 40 in the well: in range, close to the bottom.
    assert results["SER-1 1:10"].flag == "ok"
    # Per sample: mean of in-range dilutions, within 3 % of the truth despite the ±1.5 % noise.
    per_sample = {
        c.sample.barcode: c for c in elisa_services.sample_concentrations(list(results.values()))
    }
    for barcode, truth in setup.true_concentration.items():
        value = per_sample[barcode].concentration_pg_per_ml
        assert value is not None and value == pytest.approx(truth, rel=0.03), barcode
    assert per_sample["SER-4"].n_dilutions_in_range == 1


def test_import_keeps_file_and_flags_when_ovrflw_and_missed(setup: ElisaSetup) -> None:
    plate = laid_out_plate(setup)
    ods: dict[str, str | float] = dict(expected_ods(setup))
    ods["D3"], ods["D4"] = "OVRFLW", "OVRFLW"
    ods["A1"] = "MISSED"
    data = grid_csv(ods)
    plate = _import(setup, plate, data, filename="reader.csv")
    wells = {w.well: w for w in PlateWell.objects.filter(plate=plate)}
    assert wells["D3"].od is None and wells["D3"].od_flag == "OVRFLW"
    assert wells["D3"].flag == "instrument_flag" and wells["A1"].od_flag == "MISSED"
    assert plate.fit["n_standard_wells"] == 13
    assert ElisaResult.objects.get(plate=plate, replicate_group="SER-4 1:2").flag == "above_uloq"
    assert plate.reading_file is not None
    stored = plate.reading_file
    assert stored.original_filename == "reader.csv"
    import hashlib

    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert read_file(stored) == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"%PDF-1.4 not a plate", "PDF"),
        (b"hello,world\n1,2\n", "not a plate-reader export we recognise"),
        (b"Well,OD\nA1,0.1\nB2,0.2\nA01,0.3\n", "appears twice"),
    ],
)
def test_bad_files_are_refused_and_nothing_saved(
    setup: ElisaSetup, data: bytes, message: str
) -> None:
    plate = laid_out_plate(setup)
    files_before = StoredFile.objects.count()
    with pytest.raises(ValidationError, match=message) as info:
        _import(setup, plate, data, filename="bad.csv")
    assert "bad.csv" in str(info.value) or message == "empty"
    plate.refresh_from_db()
    assert plate.status == "draft" and plate.reading_file_id is None
    assert StoredFile.objects.count() == files_before
    assert not ElisaResult.objects.filter(plate=plate).exists()
    assert not PlateWell.objects.filter(plate=plate, od__isnull=False).exists()


def test_truncated_file_is_refused_when_softmax_end_missing(setup: ElisaSetup) -> None:
    plate = laid_out_plate(setup)
    data = b"##BLOCKS= 1\nPlate:\tPlate1\t1.3\tPlateFormat\tEndpoint\tAbsorbance\n\t1\t2\n"
    with pytest.raises(ValidationError):
        _import(setup, plate, data)
    assert not StoredFile.objects.exists()


def test_upload_over_the_size_limit_is_refused(setup: ElisaSetup, settings: Any) -> None:
    settings.VIVOLOG_MAX_FILE_BYTES = 2048
    plate = laid_out_plate(setup)
    data = grid_csv(expected_ods(setup)) + b"\n" * 4096
    with pytest.raises(ValidationError, match="MiB"):
        _import(setup, plate, data, filename="big.csv")
    assert not StoredFile.objects.exists()


def test_generic_well_list_needs_mapping_then_imports(setup: ElisaSetup) -> None:
    plate = laid_out_plate(setup)
    ods = expected_ods(setup)
    lines = ["Well,OD450,OD570"] + [f"{w},{v:.4f},0.040" for w, v in ods.items()]
    data = "\n".join(lines).encode("latin-1")
    with pytest.raises(ValidationError, match="column-mapping"):
        _import(setup, plate, data)
    plate = _import(setup, plate, data, well_column="Well", value_column="OD450")
    assert plate.reading_format == "generic_well_list" and plate.fit["qc_passed"]


def test_reimport_needs_reason_and_decided_plate_is_not_read_again(setup: ElisaSetup) -> None:
    plate = laid_out_plate(setup)
    data = grid_csv(expected_ods(setup))
    plate = _import(setup, plate, data)
    with pytest.raises(ValidationError, match="reason"):
        _import(setup, plate, data)
    plate = _import(setup, plate, data, reason="re-exported with the right read")
    assert ElisaResult.objects.filter(plate=plate).count() == 8
    with pytest.raises(ValidationError, match="reason"):
        elisa_services.decide_plate(
            plate=plate, accept=True, decided_by=setup.small.design.scientist, reason=" "
        )
    plate = elisa_services.decide_plate(
        plate=plate, accept=True, decided_by=setup.small.design.scientist, reason="QC passed"
    )
    assert plate.status == "accepted" and plate.decided_by == setup.small.design.scientist
    with pytest.raises(ValidationError, match="not read again"):
        _import(setup, plate, data, reason="again")
    events = plate.events.order_by("pgh_id")  # type: ignore[attr-defined]
    last = events.last()
    assert last.status == "accepted" and last.pgh_context["reason"] == "QC passed"


def test_technician_cannot_accept_a_plate(setup: ElisaSetup) -> None:
    plate = _import(setup, laid_out_plate(setup), grid_csv(expected_ods(setup)))
    with pytest.raises(PermissionDenied, match="may accept or reject ELISA plates"):
        elisa_services.decide_plate(
            plate=plate, accept=True, decided_by=setup.small.design.technician, reason="fine"
        )
    plate.refresh_from_db()
    assert plate.status == "read"


def test_layout_template_round_trip_without_samples(setup: ElisaSetup) -> None:
    plate = laid_out_plate(setup)
    template = elisa_services.save_layout_template(
        plate=plate, name="7-point IFN", created_by=setup.small.design.technician
    )
    assert len(template.wells) == 32 and all(w["sample"] == "" for w in template.wells)
    second = elisa_services.create_plate(
        run=setup.small.run,
        protocol_version=setup.version,
        name="P2",
        created_by=setup.small.design.technician,
        template=template,
    )
    wells = PlateWell.objects.filter(plate=second)
    assert wells.count() == 32 and wells.filter(role="standard").count() == 14
    assert not wells.filter(sample__isnull=False).exists()
    with pytest.raises(ValidationError, match="already has a layout template"):
        elisa_services.save_layout_template(
            plate=plate, name="7-point IFN", created_by=setup.small.design.technician
        )
    assert PlateLayoutTemplate.objects.count() == 1


def test_report_rows_only_from_accepted_plates_with_day_and_timing(setup: ElisaSetup) -> None:
    plate = _import(setup, laid_out_plate(setup), grid_csv(expected_ods(setup)))
    assert elisa_report_rows(setup.small.run) == []
    elisa_services.decide_plate(
        plate=plate, accept=True, decided_by=setup.small.design.scientist, reason="QC passed"
    )
    rows = elisa_report_rows(setup.small.run)
    assert len(rows) == 4
    by_sample = {row.sample: row for row in rows}
    for sample in setup.samples:
        row = by_sample[sample.barcode]
        assert sample.animal.arm is not None
        assert row.animal == sample.animal.tag and row.group == sample.animal.arm.label
        assert row.study_day == sample.study_day and row.timing == "scheduled"
        assert row.tissue == "serum" and row.unit == "pg/mL" and row.analyte == "IFN-gamma"
        assert row.value == pytest.approx(setup.true_concentration[sample.barcode], rel=0.03)


def test_rejected_plate_gives_no_report_rows(setup: ElisaSetup) -> None:
    plate = _import(setup, laid_out_plate(setup), grid_csv(expected_ods(setup)))
    elisa_services.decide_plate(
        plate=plate, accept=False, decided_by=setup.small.design.scientist, reason="edge effect"
    )
    assert elisa_report_rows(setup.small.run) == []
