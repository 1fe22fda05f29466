"""labnotes' entries in the planner's scoping registry (history pages, admin, tenancy tests)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from labnotes import selectors
from labnotes.models import (
    Animal,
    BackgroundJob,
    Cage,
    CageAssignment,
    Implantation,
    Measurement,
    RandomizationBatch,
    StoredFile,
    StudyRun,
    Task,
    TranscriptionSheet,
    Tumour,
    Unblinding,
)
from planner.scoping import register_scope
from planner.selectors import list_labs_for_user


def list_jobs_for_user(user: Any) -> QuerySet[BackgroundJob]:
    return BackgroundJob.objects.filter(lab__in=list_labs_for_user(user)).select_related(
        "requested_by", "lab"
    )


def register_labnotes_scopes() -> None:
    register_scope(BackgroundJob, list_jobs_for_user)
    register_scope(StudyRun, selectors.list_runs_for_user)
    register_scope(Animal, selectors.list_animals_for_user)
    register_scope(Cage, selectors.list_cages_for_user)
    register_scope(CageAssignment, selectors.list_cage_assignments_for_user)
    register_scope(Tumour, selectors.list_tumours_for_user)
    register_scope(
        Implantation,
        lambda user: Implantation.objects.filter(tumour__in=selectors.list_tumours_for_user(user)),
    )
    register_scope(Measurement, selectors.list_measurements_for_user)
    from labnotes.models import CaptureSettings, PendingAxis

    register_scope(
        PendingAxis,
        lambda user: PendingAxis.objects.filter(animal__run__in=selectors.list_runs_for_user(user)),
    )
    register_scope(
        CaptureSettings,
        lambda user: CaptureSettings.objects.filter(lab__in=list_labs_for_user(user)),
    )
    # Batches hold the allocation: only those who may see it reach them (history included).
    register_scope(RandomizationBatch, selectors.list_batches_for_user)
    register_scope(Task, selectors.list_tasks_for_user)
    register_scope(Unblinding, selectors.list_unblindings_for_user)
    # Reports show per-arm results: only those who may see the allocation reach them.
    from labnotes.models import Report, ReportArtifact
    from labnotes.selectors_reports import list_report_artifacts_for_user, list_reports_for_user

    register_scope(Report, list_reports_for_user)
    register_scope(ReportArtifact, list_report_artifacts_for_user)
    register_scope(StoredFile, selectors.list_stored_files_for_user)
    register_scope(TranscriptionSheet, selectors.list_transcription_sheets_for_user)
    # Dosing: only where the user sees dosing (unblinded, or may dose).
    from labnotes.models import DoseDeviation, DoseModification, DoseRecord, FormulationBatch

    register_scope(FormulationBatch, selectors.list_formulation_batches_for_user)
    register_scope(DoseRecord, selectors.list_doses_for_user)
    register_scope(DoseDeviation, selectors.list_dose_deviations_for_user)
    register_scope(DoseModification, selectors.list_dose_modifications_for_user)
    # Samples, necropsies and notebook entries (entries: run membership and allocation-safe).
    from labnotes import selectors_samples as samples_selectors
    from labnotes.models import (
        Necropsy,
        NotebookAttachment,
        NotebookEntry,
        NotebookEntryVersion,
        NotebookLink,
        NotebookRestriction,
        Sample,
    )

    register_scope(Sample, samples_selectors.list_samples_for_user)
    register_scope(Necropsy, samples_selectors.list_necropsies_for_user)
    register_scope(NotebookEntry, samples_selectors.list_entries_for_user)
    register_scope(NotebookAttachment, samples_selectors.list_attachments_for_user)
    register_scope(
        NotebookEntryVersion,
        lambda user: NotebookEntryVersion.objects.filter(
            entry__in=samples_selectors.list_entries_for_user(user)
        ),
    )
    register_scope(
        NotebookLink,
        lambda user: NotebookLink.objects.filter(
            entry__in=samples_selectors.list_entries_for_user(user)
        ),
    )
    register_scope(
        NotebookRestriction,
        lambda user: NotebookRestriction.objects.filter(
            entry__in=samples_selectors.list_entries_for_user(user)
        ),
    )
    from labnotes import selectors_welfare
    from labnotes.models import (
        EndpointEpisode,
        EndpointRecord,
        Observation,
        UlcerationScore,
        WelfareCheck,
    )

    register_scope(Observation, selectors_welfare.list_observations_for_user)
    register_scope(UlcerationScore, selectors_welfare.list_ulceration_scores_for_user)
    register_scope(WelfareCheck, selectors_welfare.list_welfare_checks_for_user)
    register_scope(EndpointEpisode, selectors_welfare.list_episodes_for_user)
    register_scope(EndpointRecord, selectors_welfare.list_endpoint_records_for_user)
    from labnotes import selectors_flow
    from labnotes.models import (
        FlowAcquisition,
        FlowImport,
        FlowPanel,
        FlowPopulationValue,
        FlowSampleMapping,
    )

    register_scope(FlowPanel, selectors_flow.list_flow_panels_for_user)
    register_scope(FlowAcquisition, selectors_flow.list_flow_acquisitions_for_user)
    register_scope(FlowImport, selectors_flow.list_flow_imports_for_user)
    register_scope(FlowPopulationValue, selectors_flow.list_flow_values_for_user)
    register_scope(FlowSampleMapping, selectors_flow.list_flow_mappings_for_user)
    # Instruments (lab members), device tokens (lab admins and study directors), ingest batches
    # and reading flags (through the run).
    from labnotes.models import (
        DeviceToken,
        IngestBatch,
        Instrument,
        InstrumentCheck,
        InstrumentSettings,
        ReadingFlag,
    )

    register_scope(
        Instrument, lambda user: Instrument.objects.filter(lab__in=list_labs_for_user(user))
    )
    register_scope(
        InstrumentCheck,
        lambda user: InstrumentCheck.objects.filter(instrument__lab__in=list_labs_for_user(user)),
    )
    register_scope(
        InstrumentSettings,
        lambda user: InstrumentSettings.objects.filter(lab__in=list_labs_for_user(user)),
    )
    register_scope(
        DeviceToken,
        lambda user: (
            DeviceToken.objects.filter(
                lab__memberships__user=user,
                lab__memberships__role__in=["lab_admin", "study_director"],
            )
            if user.is_authenticated
            else DeviceToken.objects.none()
        ),
    )
    register_scope(
        IngestBatch,
        lambda user: IngestBatch.objects.filter(run__in=selectors.list_runs_for_user(user)),
    )
    register_scope(
        ReadingFlag,
        lambda user: ReadingFlag.objects.filter(
            measurement__in=selectors.list_measurements_for_user(user)
        ),
    )
