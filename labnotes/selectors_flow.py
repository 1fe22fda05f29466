"""Read-side queries for flow cytometry: panels, acquisitions and imports scoped to the user,
derived statistics per sample and animal, and the rows the report reads.

Blinding: results carry the animal's tag and the sample's tissue and day; the arm is given as
its label only to readers who see the allocation (the report is built for them only), as its
blinded code otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from labnotes.analysis.flow_statistics import DerivedStatistic, compute_derived
from labnotes.models import (
    FlowAcquisition,
    FlowImport,
    FlowPanel,
    FlowPopulationValue,
    FlowSampleMapping,
    Sample,
    StudyRun,
    TaskKind,
)
from labnotes.reports.model import AssayRow, AssayTiming
from labnotes.selectors import list_runs_for_user
from labnotes.services.flow import panel_derived_statistics
from planner.selectors import UserLike, list_labs_for_user


def list_flow_panels_for_user(user: UserLike) -> QuerySet[FlowPanel]:
    return FlowPanel.objects.filter(run__in=list_runs_for_user(user)).select_related(
        "run__study__lab", "protocol_version__template", "created_by"
    )


def list_flow_acquisitions_for_user(user: UserLike) -> QuerySet[FlowAcquisition]:
    return FlowAcquisition.objects.filter(panel__run__in=list_runs_for_user(user)).select_related(
        "panel__run", "sample__animal__arm", "sample__task", "fcs_file"
    )


def list_flow_imports_for_user(user: UserLike) -> QuerySet[FlowImport]:
    return FlowImport.objects.filter(panel__run__in=list_runs_for_user(user)).select_related(
        "panel__run", "stored_file", "mapping", "imported_by", "voided_by"
    )


def list_flow_mappings_for_user(user: UserLike) -> QuerySet[FlowSampleMapping]:
    return FlowSampleMapping.objects.filter(lab__in=list_labs_for_user(user)).select_related(
        "lab", "created_by"
    )


def list_flow_values_for_user(user: UserLike) -> QuerySet[FlowPopulationValue]:
    return FlowPopulationValue.objects.filter(acquisition__in=list_flow_acquisitions_for_user(user))


def sample_timing(sample: Sample) -> AssayTiming:
    """ "scheduled" for satellite animals and planned collections (same day in every arm);
    "endpoint" for samples taken when an animal left the study (necropsy or takedown)."""
    if sample.animal.is_satellite:
        return "scheduled"
    if sample.task is not None and sample.task.kind == TaskKind.SAMPLE:
        return "scheduled"
    if sample.necropsy_id is not None or (
        sample.task is not None and sample.task.kind == TaskKind.TAKEDOWN
    ):
        return "endpoint"
    return "scheduled"


@dataclass(frozen=True)
class FlowResult:
    """One acquisition's derived statistics (``values`` by derived-statistic key)."""

    acquisition: FlowAcquisition
    sample: Sample
    timing: AssayTiming
    values: dict[str, float | None]
    counts: dict[str, float]

    @property
    def has_values(self) -> bool:
        return bool(self.counts) or any(v is not None for v in self.values.values())


def flow_results(panel: FlowPanel) -> list[FlowResult]:
    """The panel's non-voided acquisitions with their derived statistics, computed from the
    values of imports that are not voided; ordered by animal tag, tissue, day."""
    definitions = panel_derived_statistics(panel)
    live_values = FlowPopulationValue.objects.filter(flow_import__voided_at__isnull=True)
    acquisitions = (
        FlowAcquisition.objects.filter(panel=panel, voided_at__isnull=True)
        .select_related("sample__animal__arm", "sample__task", "fcs_file")
        .prefetch_related(Prefetch("population_values", queryset=live_values))
        .order_by("sample__animal__tag", "sample__tissue", "sample__study_day", "pk")
    )
    return [_result(acquisition, definitions) for acquisition in acquisitions]


def _result(acquisition: FlowAcquisition, definitions: tuple[DerivedStatistic, ...]) -> FlowResult:
    counts: dict[str, float] = {}
    frequency_of_parent: dict[str, float] = {}
    for value in acquisition.population_values.all():
        if value.statistic == "count":
            counts[value.population] = value.value
        elif value.statistic == "frequency_of_parent":
            frequency_of_parent[value.population] = value.value
    if acquisition.event_count is not None and "" not in counts and counts:
        counts[""] = float(acquisition.event_count)
    values = (
        compute_derived(definitions, counts, frequency_of_parent)
        if (counts or frequency_of_parent)
        else {d.key: None for d in definitions}
    )
    return FlowResult(
        acquisition=acquisition,
        sample=acquisition.sample,
        timing=sample_timing(acquisition.sample),
        values=values,
        counts=counts,
    )


def flow_report_rows(run: StudyRun) -> list[AssayRow]:
    """Panel-defined statistics of this run's samples, one row per sample and statistic.

    Only randomized animals (an arm to group by) and defined values; ``group`` is the arm's
    label (the report is for readers who see the allocation).
    """
    rows: list[AssayRow] = []
    panels = FlowPanel.objects.filter(run=run).order_by("pk")
    for panel in panels:
        definitions = panel_derived_statistics(panel)
        by_key = {d.key: d for d in definitions}
        for result in flow_results(panel):
            animal = result.sample.animal
            if animal.arm is None:
                continue
            for key, value in result.values.items():
                if value is None:
                    continue
                definition = by_key[key]
                rows.append(
                    AssayRow(
                        assay="flow",
                        analyte=definition.label,
                        animal=animal.tag,
                        group=animal.arm.label,
                        value=float(value),
                        unit=definition.unit,
                        study_day=result.sample.study_day,
                        timing=result.timing,
                        tissue=result.sample.get_tissue_display().lower(),
                        sample=result.sample.barcode,
                    )
                )
    return rows


@dataclass(frozen=True)
class AnimalFlowSummary:
    """An animal's values: tissue → derived key → value (one sample per tissue and day)."""

    tag: str
    arm: str
    rows: list[FlowResult]


def results_by_animal(
    results: list[FlowResult], *, sees_allocation: bool
) -> list[AnimalFlowSummary]:
    grouped: dict[str, list[FlowResult]] = defaultdict(list)
    arms: dict[str, str] = {}
    for result in results:
        animal = result.sample.animal
        grouped[animal.tag].append(result)
        if animal.arm is None:
            arms[animal.tag] = "—"
        else:
            arms[animal.tag] = animal.arm.label if sees_allocation else animal.arm.code
    return [AnimalFlowSummary(tag, arms[tag], rows) for tag, rows in grouped.items()]
