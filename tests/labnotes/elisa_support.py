"""Set-up shared by the ELISA tests: a run with serum samples, an ELISA protocol version, a
plate laid out with a 7-level standard curve, blanks and samples at two dilutions, and readings
generated from a known 4PL curve."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils import timezone

from labnotes.models import ElisaPlate, Sample
from labnotes.services import elisa as elisa_services
from labnotes.services import samples as sample_services
from planner.models import ProtocolVersion
from tests.labnotes.builders import released_version
from tests.labnotes.samples_support import SmallRun, small_run

#: The curve the readings are drawn from (blank-corrected OD), and the blank OD.
BOTTOM, TOP, EC50, HILL = 0.02, 2.6, 250.0, 1.3
BLANK_OD = 0.05
STANDARDS = tuple(2000.0 / 2.0**k for k in range(7))
#: Replicate noise: ±1.5 % alternating, so the fit is not exact but deterministic.
NOISE = (0.985, 1.015)
ELISA_PARAMETERS = {
    "analyte": "IFN-gamma",
    "kit": "Mouse IFN-gamma DuoSet ELISA",
    "standard_top_pg_per_ml": 2000,
    "standard_dilution_factor": 2,
    "standard_points": 7,
    "sample_dilutions": [2, 10],
    "replicates": 2,
    "curve_model": "4pl",
}


def curve_od(concentration: float) -> float:
    return float(BOTTOM + (TOP - BOTTOM) / (1.0 + (EC50 / concentration) ** HILL))


@dataclass
class ElisaSetup:
    small: SmallRun
    version: ProtocolVersion
    samples: list[Sample]
    #: in-well concentration (pg/mL) of each sample at dilution 1
    true_concentration: dict[str, float]


def elisa_setup(lab: Any, *, blinded: bool = True) -> ElisaSetup:
    small = small_run(lab, count=4, blinded=blinded)
    version = released_version(
        lab, small.design.director, "elisa", "IFN-gamma ELISA", ELISA_PARAMETERS
    )
    taken = timezone.now() - dt.timedelta(hours=2)
    samples = [
        sample_services.record_sample(
            animal=animal,
            tissue="serum",
            collected_at=taken,
            collected_by=small.design.technician,
            barcode=f"SER-{index}",
            volume_ul="100",
        )
        for index, animal in enumerate(small.animals, start=1)
    ]
    true = {s.barcode: c for s, c in zip(samples, (400.0, 1200.0, 3000.0, 6000.0), strict=True)}
    return ElisaSetup(small, version, samples, true)


def standard_layout(setup: ElisaSetup) -> list[dict[str, Any]]:
    """Standards in columns 1-2 (A-G), blanks H1-H2, each sample at 1:2 and 1:10 in duplicate
    (columns 3-6, one row per sample)."""
    wells: list[dict[str, Any]] = []
    for row, level in zip("ABCDEFG", STANDARDS, strict=False):
        for column in (1, 2):
            wells.append({"well": f"{row}{column}", "role": "standard",
                          "concentration_pg_per_ml": level})  # fmt: skip
    wells += [{"well": "H1", "role": "blank"}, {"well": "H2", "role": "blank"}]
    for row, sample in zip("ABCD", setup.samples, strict=False):
        for column, dilution in ((3, 2), (4, 2), (5, 10), (6, 10)):
            wells.append({"well": f"{row}{column}", "role": "sample", "sample": sample.barcode,
                          "dilution": dilution})  # fmt: skip
    return wells


def expected_ods(setup: ElisaSetup) -> dict[str, float]:
    """Raw ODs (blank included) of every laid-out well, from the known curve with the noise,
    rounded to the 4 decimals a reader exports."""
    ods: dict[str, float] = {}
    for row, level in zip("ABCDEFG", STANDARDS, strict=False):
        for index, column in enumerate((1, 2)):
            ods[f"{row}{column}"] = round(BLANK_OD + curve_od(level) * NOISE[index], 4)
    ods["H1"], ods["H2"] = round(BLANK_OD * 0.98, 4), round(BLANK_OD * 1.02, 4)
    for row, sample in zip("ABCD", setup.samples, strict=False):
        for index, (column, dilution) in enumerate(((3, 2), (4, 2), (5, 10), (6, 10))):
            in_well = setup.true_concentration[sample.barcode] / dilution
            ods[f"{row}{column}"] = round(BLANK_OD + curve_od(in_well) * NOISE[index % 2], 4)
    return ods


def grid_csv(ods: Mapping[str, str | float], *, title: str = "OD450") -> bytes:
    """A generic 8 x 12 grid CSV (empty cells for wells not read)."""
    lines = [title, "," + ",".join(str(c) for c in range(1, 13))]
    for row in "ABCDEFGH":
        cells = []
        for column in range(1, 13):
            value = ods.get(f"{row}{column}", "")
            cells.append(f"{value:.4f}" if isinstance(value, float) else str(value))
        lines.append(row + "," + ",".join(cells))
    return ("\n".join(lines) + "\n").encode()


def laid_out_plate(setup: ElisaSetup, name: str = "P1") -> ElisaPlate:
    plate = elisa_services.create_plate(
        run=setup.small.run,
        protocol_version=setup.version,
        name=name,
        created_by=setup.small.design.technician,
    )
    return elisa_services.save_layout(
        plate=plate, wells=standard_layout(setup), changed_by=setup.small.design.technician
    )


def scipy_fit(concentration: np.ndarray, od: np.ndarray) -> np.ndarray:
    """An independent 4PL fit (scipy curve_fit, trust-region reflective, numeric Jacobian)."""
    from scipy.optimize import curve_fit

    def model(c: np.ndarray, bottom: float, top: float, ec50: float, hill: float) -> np.ndarray:
        return bottom + (top - bottom) / (1.0 + (ec50 / c) ** hill)

    parameters, _ = curve_fit(
        model,
        concentration,
        od,
        p0=[0.0, 2.0, 200.0, 1.0],
        method="trf",
        bounds=([-1, 0, 1, 0.1], [1, 10, 1e5, 10]),
        xtol=1e-14,
        ftol=1e-14,
        gtol=1e-14,
        max_nfev=100000,
    )
    return np.asarray(parameters)
