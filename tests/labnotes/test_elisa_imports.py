"""End-to-end imports of the real plate-reader exports in ../shared through the plate service:
detected format, the file stored with its SHA-256, every laid-out well's OD or flag as parsed."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from labnotes.importers.plates import parse_plate_export
from labnotes.models import ElisaPlate, PlateWell, StoredFile
from labnotes.services import elisa as elisa_services
from labnotes.services.files import read_file
from tests.labnotes.elisa_support import ElisaSetup, elisa_setup
from tests.support.requirements import require_shared

pytestmark = pytest.mark.django_db

#: file, expected format, the read to choose ("plate / label") when the file holds several
REAL_FILES = [
    ("biotek_gen5_abs450_96well_OVRFLW_MISSED.txt", "agilent_gen5", None),
    (
        "biotek_gen5_endpoint_stdcurve_singleplate.txt",
        "agilent_gen5",
        "Plate 1 / 630nmAbsRead:630",
    ),
    ("bmg_mars_abs450_96well.csv", "bmg_mars", None),
    (
        "perkinelmer_envision_A450_2plates.csv",
        "perkinelmer_envision",
        "2 / A450(1) - channel 1 (A)",
    ),
    ("softmaxpro_abs450_elisa_standards_UTF16LE.txt", "softmax_pro", "Plate01 / Raw 450 nm"),
    ("softmaxpro_elisa_groups_spike_recovery_reduced.txt", "softmax_pro", None),
    ("tecan_magellan_SLA01P01_OD_wellist.xlsx", "tecan_magellan", None),
]


def _full_plate(setup: ElisaSetup, name: str) -> ElisaPlate:
    """All 96 wells: rows A-G standards (1000 pg/mL halving down the rows), row H blanks."""
    wells: list[dict[str, Any]] = []
    for index, row in enumerate("ABCDEFGH"):
        for column in range(1, 13):
            if row == "H":
                wells.append({"well": f"H{column}", "role": "blank"})
            else:
                wells.append(
                    {
                        "well": f"{row}{column}",
                        "role": "standard",
                        "concentration_pg_per_ml": 1000 / 2**index,
                        "replicate_group": f"level {index}",
                    }
                )
    plate = elisa_services.create_plate(
        run=setup.small.run,
        protocol_version=setup.version,
        name=name,
        created_by=setup.small.design.technician,
    )
    return elisa_services.save_layout(
        plate=plate, wells=wells, changed_by=setup.small.design.technician
    )


@pytest.mark.parametrize(("filename", "fmt", "grid"), REAL_FILES)
def test_real_export_imports_end_to_end(
    lab: Any, filename: str, fmt: str, grid: str | None
) -> None:
    data = (require_shared("data/instruments/plate_readers") / filename).read_bytes()
    setup = elisa_setup(lab)
    plate = _full_plate(setup, "REAL")
    plate = elisa_services.import_reading(
        plate=plate,
        content=data,
        filename=filename,
        imported_by=setup.small.design.technician,
        grid=grid,
    )
    assert plate.status == "read" and plate.reading_format == fmt
    assert plate.reading_file is not None
    assert plate.reading_file.sha256 == hashlib.sha256(data).hexdigest()
    assert read_file(plate.reading_file) == data
    reading = parse_plate_export(data)
    chosen = elisa_services.choose_grid(reading, grid)
    assert plate.reading_grid == elisa_services.grid_key(chosen)
    wells = {w.well: w for w in PlateWell.objects.filter(plate=plate)}
    assert len(wells) == 96
    for name, value in chosen.wells.items():
        if value.value is not None:
            assert wells[name].od == pytest.approx(value.value, rel=1e-12), name
            assert wells[name].flag == ""
        else:
            assert wells[name].od is None and wells[name].od_flag == value.flag, name
            assert wells[name].flag == "instrument_flag"
    assert sum(1 for w in wells.values() if w.flag == "instrument_flag") == len(chosen.flags)
    # Either a curve (numbers kept on the plate) or the reason there is none.
    assert "parameters" in plate.fit or plate.fit.get("error")


def test_real_export_with_several_reads_needs_a_choice(lab: Any) -> None:
    filename = "softmaxpro_abs450_elisa_standards_UTF16LE.txt"
    data = (require_shared("data/instruments/plate_readers") / filename).read_bytes()
    setup = elisa_setup(lab)
    plate = _full_plate(setup, "REAL")
    with pytest.raises(ValidationError, match=r"4 reads \(Plate01 / Raw 450 nm; Plate01 / Reduced"):
        elisa_services.import_reading(
            plate=plate, content=data, filename=filename, imported_by=setup.small.design.technician
        )
    assert not StoredFile.objects.exists()
    assert ElisaPlate.objects.get(pk=plate.pk).status == "draft"


def test_real_ovrflw_file_keeps_flags_as_text(lab: Any) -> None:
    filename = "biotek_gen5_abs450_96well_OVRFLW_MISSED.txt"
    data = (require_shared("data/instruments/plate_readers") / filename).read_bytes()
    setup = elisa_setup(lab)
    plate = elisa_services.import_reading(
        plate=_full_plate(setup, "FLAGS"),
        content=data,
        filename=filename,
        imported_by=setup.small.design.technician,
    )
    flags = set(
        PlateWell.objects.filter(plate=plate, flag="instrument_flag").values_list(
            "od_flag", flat=True
        )
    )
    assert {"OVRFLW", "MISSED"} <= flags
    assert (
        plate.fit["n_standard_wells"]
        == 84
        - PlateWell.objects.filter(plate=plate, role="standard", flag="instrument_flag").count()
    )
