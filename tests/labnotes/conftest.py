from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.labnotes.builders import Design

# Django is imported inside the fixtures: the pure analysis, importer, capture, document and
# report tests below this folder also run with ``-p no:django``.


@pytest.fixture
def design(lab: Any) -> Design:
    from tests.labnotes.builders import build_design

    return build_design(lab=lab)


@pytest.fixture
def run(design: Design) -> Any:
    from django.utils import timezone

    from labnotes.services.runs import start_study_run

    return start_study_run(
        study=design.study,
        code="RUN-1",
        day0=timezone.localdate() - dt.timedelta(days=10),
        started_by=design.director,
    )


def stage(
    design: Design,
    run: Any,
    count: int = 40,
    *,
    seed: int = 7,
    start: int = 1,
    weights: bool = False,
) -> list[Any]:
    """Register ``count`` animals with one tumour each and a staging caliper reading."""
    import numpy as np
    from django.utils import timezone

    from labnotes.services.animals import record_implantation, register_animals
    from labnotes.services.measurements import record_measurement
    from tests.labnotes.builders import tag_rows

    animals = register_animals(
        run=run, rows=tag_rows(count, start=start), registered_by=design.technician
    )
    rng = np.random.default_rng(seed)
    taken_at = timezone.now() - dt.timedelta(hours=1)
    for animal in animals:
        implantation = record_implantation(
            animal=animal,
            site="right flank",
            implanted_on=run.day0,
            cells=500_000,
            operator=design.technician,
            viability_percent=95,
        )
        length = round(float(rng.uniform(6.0, 8.5)), 2)
        width = round(float(rng.uniform(4.0, min(length, 5.5))), 2)
        record_measurement(
            tumour=implantation.tumour,
            length_mm=length,
            width_mm=width,
            taken_at=taken_at,
            operator=design.technician,
        )
        if weights:
            record_measurement(
                animal=animal,
                weight_g=round(float(rng.uniform(17, 22)), 2),
                taken_at=taken_at,
                operator=design.technician,
            )
    return animals
