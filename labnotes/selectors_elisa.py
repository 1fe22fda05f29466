"""Read-side queries for ELISA plates: results per animal for reports and pages."""

from __future__ import annotations

from django.db.models import QuerySet

from labnotes.models import (
    ElisaPlate,
    ElisaResult,
    PlateLayoutTemplate,
    PlateStatus,
    Sample,
    StudyRun,
    TaskKind,
)
from labnotes.reports.model import AssayRow, AssayTiming
from labnotes.selectors import list_runs_for_user
from labnotes.services.elisa import sample_concentrations
from planner.selectors import UserLike, list_labs_for_user

ELISA_UNIT = "pg/mL"


def list_plates_for_user(user: UserLike) -> QuerySet[ElisaPlate]:
    return ElisaPlate.objects.filter(run__in=list_runs_for_user(user)).select_related(
        "run__study__lab",
        "protocol_version__template",
        "reading_file",
        "created_by",
        "read_by",
        "decided_by",
    )


def list_layout_templates_for_user(user: UserLike) -> QuerySet[PlateLayoutTemplate]:
    return PlateLayoutTemplate.objects.filter(lab__in=list_labs_for_user(user))


def list_results(plate: ElisaPlate) -> QuerySet[ElisaResult]:
    return plate.results.select_related("sample__animal__arm", "sample__task").order_by(
        "sample__animal__tag", "sample__barcode", "dilution"
    )


def sample_timing(sample: Sample) -> AssayTiming:
    """``endpoint`` for material taken at a necropsy or an endpoint/takedown of a non-satellite
    animal; ``scheduled`` for satellite and scheduled collections (compared across arms)."""
    if sample.necropsy_id is not None and not sample.animal.is_satellite:
        return "endpoint"
    if (
        sample.task is not None
        and sample.task.kind == TaskKind.TAKEDOWN
        and not sample.animal.is_satellite
    ):
        return "endpoint"
    return "scheduled"


def elisa_report_rows(run: StudyRun) -> list[AssayRow]:
    """Accepted-plate concentrations of this run's animals, one row per sample and analyte.

    A sample measured on several accepted plates of one analyte gives the mean of its plates'
    values. Samples with no in-range dilution (below LLOQ, above ULOQ) carry no number and are
    left out; so are animals never randomized (no arm). ``study_day`` is the sample's collection
    day relative to the run's day 0, as recorded on the sample.
    """
    results = list(
        ElisaResult.objects.filter(
            plate__run=run,
            plate__status=PlateStatus.ACCEPTED,
            sample__voided_at__isnull=True,
        )
        .select_related("plate", "sample__animal__arm", "sample__task")
        .order_by("plate__analyte", "sample__animal__tag", "sample__barcode", "pk")
    )
    values: dict[tuple[str, int], list[float]] = {}
    samples: dict[int, Sample] = {}
    by_plate: dict[int, list[ElisaResult]] = {}
    for result in results:
        by_plate.setdefault(result.plate_id, []).append(result)
    analytes = {result.plate_id: result.plate.analyte for result in results}
    for plate_id, rows in by_plate.items():
        for concentration in sample_concentrations(rows):
            if concentration.concentration_pg_per_ml is None:
                continue
            sample = concentration.sample
            samples[sample.pk] = sample
            values.setdefault((analytes[plate_id], sample.pk), []).append(
                concentration.concentration_pg_per_ml
            )
    output: list[AssayRow] = []
    for (analyte, sample_pk), numbers in values.items():
        sample = samples[sample_pk]
        animal = sample.animal
        if animal.arm is None:
            continue
        output.append(
            AssayRow(
                assay="elisa",
                analyte=analyte,
                animal=animal.tag,
                group=animal.arm.label,
                value=sum(numbers) / len(numbers),
                unit=ELISA_UNIT,
                study_day=sample.study_day,
                timing=sample_timing(sample),
                tissue=sample.tissue,
                sample=sample.barcode,
            )
        )
    return output
