"""Walk every registered route as a member of another lab: nothing of lab A is reachable.

Routes whose URL takes an object id must be described in ``OBJECT_ROUTES`` (pages) or be DRF
routes (the model is read from the serializer). A new route that is neither fails this test,
so every later route is covered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pghistory.models
import pytest
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from labnotes.models import BackgroundJob
from labnotes.models.jobs import JobKind
from planner.models import (
    Amendment,
    Arm,
    Closure,
    EthicsProtocol,
    Holiday,
    Lab,
    Membership,
    OutboundMessage,
    ProtocolTemplate,
    ProtocolVersion,
    RegimenItem,
    Study,
    StudyMember,
    StudyProcedure,
)
from tests.factories import TEST_PASSWORD

# Page routes taking ids: URL name → function(objects) → kwargs for an object of lab A.
OBJECT_ROUTES: dict[str, Callable[[dict[type, Any]], dict[str, Any]]] = {
    "study_detail": lambda objs: {"pk": objs[Study].pk},
    "study_edit": lambda objs: {"pk": objs[Study].pk},
    "job_detail": lambda objs: {"pk": objs[BackgroundJob].pk},
    "object_history": lambda objs: {
        "app_label": "planner",
        "model_name": "study",
        "pk": objs[Study].pk,
    },
    "study_design_edit": lambda objs: {"pk": objs[Study].pk},
    "study_add_arm": lambda objs: {"pk": objs[Study].pk},
    "study_set_procedure": lambda objs: {"pk": objs[Study].pk},
    "study_transition": lambda objs: {"pk": objs[Study].pk, "name": "approve"},
    "study_clone": lambda objs: {"pk": objs[Study].pk},
    "study_set_member": lambda objs: {"pk": objs[Study].pk},
    "study_preview": lambda objs: {"pk": objs[Study].pk},
    "study_amendments": lambda objs: {"pk": objs[Study].pk},
    "amendment_decide": lambda objs: {"pk": objs[Amendment].pk, "decision": "approve"},
    "arm_remove": lambda objs: {"pk": objs[Arm].pk},
    "arm_add_regimen_item": lambda objs: {"pk": objs[Arm].pk},
    "arm_add_satellite": lambda objs: {"pk": objs[Arm].pk},
    "regimen_item_remove": lambda objs: {"pk": objs[RegimenItem].pk},
    "arm_edit": lambda objs: {"pk": objs[Arm].pk},
    "regimen_item_edit": lambda objs: {"pk": objs[RegimenItem].pk},
    "procedure_remove": lambda objs: {"pk": objs[StudyProcedure].pk},
    "ethics_edit": lambda objs: {"pk": objs[EthicsProtocol].pk},
    "holiday_remove": lambda objs: {"pk": objs[Holiday].pk},
    "closure_remove": lambda objs: {"pk": objs[Closure].pk},
    "protocol_detail": lambda objs: {"pk": objs[ProtocolTemplate].pk},
    "protocol_new_version": lambda objs: {"pk": objs[ProtocolTemplate].pk},
    "protocol_clone": lambda objs: {"pk": objs[ProtocolTemplate].pk},
    "protocol_retire": lambda objs: {"pk": objs[ProtocolTemplate].pk},
    "protocol_version_edit": lambda objs: {"pk": objs[ProtocolVersion].pk},
    "protocol_version_release": lambda objs: {"pk": objs[ProtocolVersion].pk},
    "protocol_version_diff": lambda objs: {"pk": objs[ProtocolVersion].pk},
    # run pages (labnotes)
    "study_runs": lambda objs: {"pk": objs[Study].pk},
    "study_unblind": lambda objs: {"pk": objs[Study].pk},
    "run_detail": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "animal_register": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_cages": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_staging": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_implantation": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_rechallenge": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_dosing": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_dosing_batches": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_dose_modifications": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "dose_task_row": lambda objs: {"pk": _run_obj(objs, "Task").pk},
    "dose_task_record": lambda objs: {"pk": _run_obj(objs, "Task").pk},
    "dose_task_missed": lambda objs: {"pk": _run_obj(objs, "Task").pk},
    "formulation_batch_void": lambda objs: {"pk": _run_obj(objs, "FormulationBatch").pk},
    "transcription_list": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "transcription_new": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "transcription_detail": lambda objs: {"pk": _run_obj(objs, "TranscriptionSheet").pk},
    "transcription_verify": lambda objs: {"pk": _run_obj(objs, "TranscriptionSheet").pk},
    "transcription_return": lambda objs: {"pk": _run_obj(objs, "TranscriptionSheet").pk},
    "transcription_correct": lambda objs: {"pk": _run_obj(objs, "TranscriptionSheet").pk},
    "run_import": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "file_download": lambda objs: {"pk": _run_obj(objs, "StoredFile").pk},
    "run_grid": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "grid_cell_save": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_randomize": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_worksheet": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_worksheet_pdf": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_cage_cards": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_animal_labels": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "animal_detail": lambda objs: {"pk": _run_obj(objs, "Animal").pk},
    "animal_exclude": lambda objs: {"pk": _run_obj(objs, "Animal").pk},
    "animal_unblind": lambda objs: {"pk": _run_obj(objs, "Animal").pk},
    "animal_endpoint": lambda objs: {"pk": _run_obj(objs, "Animal").pk},
    "run_observations": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_reports": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_dashboard": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_dashboard_individual": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "report_detail": lambda objs: {"pk": _run_obj(objs, "Report").pk},
    "report_download": lambda objs: {"pk": _run_obj(objs, "Report").pk, "name": "report.pdf"},
    "cage_detail": lambda objs: {"pk": _run_obj(objs, "Cage").pk},
    "cage_move": lambda objs: {"pk": _run_obj(objs, "Cage").pk},
    "cage_split": lambda objs: {"pk": _run_obj(objs, "Cage").pk},
    "cage_card": lambda objs: {"pk": _run_obj(objs, "Cage").pk},
    "batch_detail": lambda objs: {"pk": _run_obj(objs, "RandomizationBatch").pk},
    "batch_apply": lambda objs: {"pk": _run_obj(objs, "RandomizationBatch").pk},
    "batch_void": lambda objs: {"pk": _run_obj(objs, "RandomizationBatch").pk},
    "task_complete": lambda objs: {"pk": _run_obj(objs, "Task").pk},
    # samples, necropsy, notebook
    "run_samples": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "sample_new": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "run_sample_labels": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "sample_detail": lambda objs: {"pk": _run_obj(objs, "Sample").pk},
    "sample_correct": lambda objs: {"pk": _run_obj(objs, "Sample").pk},
    "sample_void": lambda objs: {"pk": _run_obj(objs, "Sample").pk},
    "sample_label": lambda objs: {"pk": _run_obj(objs, "Sample").pk},
    "run_necropsies": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "animal_necropsy": lambda objs: {"pk": _run_obj(objs, "Animal").pk},
    "necropsy_void": lambda objs: {"pk": _run_obj(objs, "Necropsy").pk},
    "notebook_detail": lambda objs: {"pk": _run_obj(objs, "NotebookEntry").pk},
    "notebook_edit": lambda objs: {"pk": _run_obj(objs, "NotebookEntry").pk},
    "notebook_attach": lambda objs: {"pk": _run_obj(objs, "NotebookEntry").pk},
    "notebook_void": lambda objs: {"pk": _run_obj(objs, "NotebookEntry").pk},
    "notebook_attachment": lambda objs: {"pk": _run_obj(objs, "NotebookAttachment").pk},
    "notebook_entry-attachment-content": lambda objs: {
        "pk": _run_obj(objs, "NotebookEntry").pk,
        "attachment_id": _run_obj(objs, "NotebookAttachment").pk,
    },
    # ELISA plates (issue 9)
    "run_elisa_plates": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "elisa_plate_detail": lambda objs: {"pk": _run_obj(objs, "ElisaPlate").pk},
    "elisa_plate_layout": lambda objs: {"pk": _run_obj(objs, "ElisaPlate").pk},
    "elisa_plate_template": lambda objs: {"pk": _run_obj(objs, "ElisaPlate").pk},
    "elisa_plate_import": lambda objs: {"pk": _run_obj(objs, "ElisaPlate").pk},
    "elisa_plate_decide": lambda objs: {"pk": _run_obj(objs, "ElisaPlate").pk},
    # run data locks, study (pooled) reports
    "run_lock": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "study_reports": lambda objs: {"pk": objs[Study].pk},
    # instruments and device tokens
    "instrument_detail": lambda objs: {"pk": _run_obj(objs, "Instrument").pk},
    "device_token_revoke": lambda objs: {"pk": _run_obj(objs, "DeviceToken").pk},
    "grid_instrument": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "instrument_settings-detail": lambda objs: {"lab": objs[Lab].pk},
    "instrument_settings-history": lambda objs: {"lab": objs[Lab].pk},
    # flow cytometry
    "run_flow": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "flow_panel_new": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "flow_import": lambda objs: {"pk": _run_obj(objs, "FlowPanel").pk},
    "flow_fcs_upload": lambda objs: {"pk": _run_obj(objs, "FlowPanel").pk},
    "flow_acquisition_detail": lambda objs: {"pk": _run_obj(objs, "FlowAcquisition").pk},
    "flow_import_void": lambda objs: {"pk": _run_obj(objs, "FlowImport").pk},
    # deviations, QA inspections, archives, ethics usage
    "run_deviations": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "deviation_detail": lambda objs: {"pk": _run_obj(objs, "Deviation").pk},
    "run_inspections": lambda objs: {"pk": _run_obj(objs, "StudyRun").pk},
    "inspection_detail": lambda objs: {"pk": _run_obj(objs, "QAInspection").pk},
    "study_archive": lambda objs: {"pk": objs[Study].pk},
    "archive_download": lambda objs: {"pk": _run_obj(objs, "StudyArchive").pk},
    "ethics_usage": lambda objs: {"pk": objs[EthicsProtocol].pk},
    "ethics_usage_csv": lambda objs: {"pk": objs[EthicsProtocol].pk},
    # electronic signatures: the signing page of lab A's signed sample
    "sign_record": lambda objs: {
        "app_label": "labnotes",
        "model_name": "sample",
        "pk": _run_obj(objs, "Sample").pk,
    },
    # a feed token nobody holds: the feed must answer 404 (calendar apps do not log in)
    "calendar_feed": lambda objs: {"token": "not-a-feed-token"},
}


def _run_obj(objs: dict[type, Any], name: str) -> Any:
    return next(value for key, value in objs.items() if key.__name__ == name)


# Routes with ids that are not lab data (Django admin and auth internals).
IGNORED_PREFIXES = ("admin:", "password_reset_confirm")


def _walk(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, URLPattern, str]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        else:
            yield (
                f"{namespace}{entry.name}" if entry.name else "",
                entry,
                prefix + str(entry.pattern),
            )


def _drf_model(pattern: URLPattern) -> type | None:
    cls = getattr(pattern.callback, "cls", None)
    if cls is None or not hasattr(cls, "get_serializer_class"):
        return None
    serializer = getattr(cls, "serializer_class", None)
    meta = getattr(serializer, "Meta", None)
    return getattr(meta, "model", None)


@pytest.fixture
def lab_a_objects(lab, scientist, settings, tmp_path) -> dict[type, Any]:
    settings.MEDIA_ROOT = tmp_path / "media"  # the flow import keeps its file
    study = Study.objects.create(
        lab=lab, code="SECRET-A", title="Lab A secret study", created_by=scientist
    )
    member = StudyMember.objects.create(study=study, user=scientist, unblinded=True)
    job = BackgroundJob.objects.create(lab=lab, kind=JobKind.SELF_TEST, requested_by=scientist)
    message = OutboundMessage.objects.create(
        lab=lab,
        recipient=scientist,
        to_address="a@example.org",
        subject="Lab A alert",
        body="secret",
        reason="test",
    )
    template = ProtocolTemplate.objects.create(
        lab=lab, name="Lab A dosing", kind="dosing", created_by=scientist
    )
    version = ProtocolVersion.objects.create(template=template, number=1, created_by=scientist)
    ethics = EthicsProtocol.objects.create(
        lab=lab,
        number="SECRET-A-ETH",
        title="Lab A ethics",
        approved_on="2024-01-01",
        expires_on="2099-01-01",
    )
    arm = Arm.objects.create(study=study, label="Lab A arm", code="A", planned_n=5)
    item = RegimenItem.objects.create(
        arm=arm,
        protocol_version=version,
        agent="secret",
        dose=1,
        dose_basis="fixed_per_animal",
        route="IP",
        schedule="once on day 7",
    )
    amendment = Amendment.objects.create(
        study=study,
        number=1,
        reason="Lab A amendment",
        effective_date="2025-01-01",
        scope="runs",
        proposed_by=scientist,
    )
    return {
        Lab: lab,
        Study: study,
        StudyMember: member,
        BackgroundJob: job,
        OutboundMessage: message,
        Membership: Membership.objects.get(user=scientist, lab=lab),
        ProtocolTemplate: template,
        ProtocolVersion: version,
        EthicsProtocol: ethics,
        Arm: arm,
        RegimenItem: item,
        Amendment: amendment,
        StudyProcedure: StudyProcedure.objects.create(
            study=study, role="sample_collection", protocol_version=version
        ),
        Holiday: Holiday.objects.create(lab=lab, day="2025-12-25", name="Lab A holiday"),
        Closure: Closure.objects.create(
            lab=lab, first_day="2025-08-04", last_day="2025-08-08", reason="Lab A closure"
        ),
        **_lab_a_run_objects(lab, scientist, study, arm),
        **_lab_a_dosing_objects(study, scientist, item),
        **_lab_a_transcription_objects(lab, scientist, study),
        **_lab_a_report_objects(lab, scientist, study),
        **_lab_a_welfare_objects(study, scientist),
        **_lab_a_sample_objects(lab, scientist),
        **_lab_a_elisa_objects(lab, scientist),
        **_lab_a_flow_objects(lab, scientist),
        **_lab_a_qa_objects(lab, scientist, ethics),
        **_lab_a_instrument_objects(lab, scientist),
        **_lab_a_signature_objects(lab, scientist),
    }


def _event_count() -> int:
    return pghistory.models.Events.objects.count()


@pytest.mark.django_db
def test_no_route_reveals_or_changes_lab_a_objects_when_user_is_from_lab_b(lab_a_objects, outsider):
    client = Client()
    assert client.login(username=outsider.username, password=TEST_PASSWORD)
    events_before = _event_count()
    unmapped: list[str] = []
    leaks: list[str] = []
    checked = 0
    for name, pattern, route in _walk(get_resolver()):
        converters = pattern.pattern.converters if isinstance(pattern.pattern, RoutePattern) else {}
        regex_groups = pattern.pattern.regex.groupindex
        if not converters and not regex_groups:
            continue
        if (
            name.startswith(IGNORED_PREFIXES)
            or route.startswith("admin/")
            or "format" in regex_groups
        ):
            continue
        model = _drf_model(pattern)
        if name in OBJECT_ROUTES:
            kwargs = OBJECT_ROUTES[name](lab_a_objects)
        elif model is not None and model in lab_a_objects:
            kwargs = {"pk": lab_a_objects[model].pk}
        else:
            unmapped.append(f"{name} ({route})")
            continue
        try:
            path = reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            unmapped.append(f"{name} ({route}): cannot reverse with {kwargs}")
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            response = getattr(client, method)(
                path, content_type="application/json", data={} if method != "get" else None
            )
            checked += 1
            if response.status_code not in {404, 405}:
                leaks.append(f"{method.upper()} {path} → {response.status_code}")
            elif b"SECRET-A" in response.content or b"Lab A" in response.content:
                leaks.append(f"{method.upper()} {path} shows lab A data")
    assert not unmapped, f"routes with ids not covered by this test: {unmapped}"
    assert not leaks, leaks
    assert checked >= 40
    assert _event_count() == events_before


@pytest.mark.django_db
def test_lists_and_exports_exclude_lab_a_when_user_is_from_lab_b(lab_a_objects, outsider):
    client = Client()
    assert client.login(username=outsider.username, password=TEST_PASSWORD)
    Membership.objects.filter(user=outsider).update(role="qa")
    for path in [
        "/",
        "/studies/",
        "/system/",
        "/audit/",
        "/audit/?format=csv",
        "/api/v1/studies/",
        "/api/v1/labs/",
        "/api/v1/outbound-messages/",
        "/studies/?q=SECRET",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"SECRET-A" not in response.content, path
        assert b"Lab A secret" not in response.content, path


@pytest.mark.django_db
def test_admin_hides_lab_a_rows_when_staff_member_of_lab_b(lab_a_objects, outsider):
    outsider.is_staff = True
    outsider.save()
    from django.contrib.auth.models import Permission

    outsider.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client = Client()
    assert client.login(username=outsider.username, password=TEST_PASSWORD)
    listing = client.get("/admin/planner/study/")
    assert listing.status_code == 200
    assert b"SECRET-A" not in listing.content
    detail = client.get(f"/admin/planner/study/{lab_a_objects[Study].pk}/change/")
    assert detail.status_code in {302, 404}
    assert b"SECRET-A" not in detail.content


def _lab_a_run_objects(lab: Any, scientist: Any, study: Any, arm: Any) -> dict[type, Any]:
    """One of each labnotes run model in lab A (written directly: this test is about reading)."""
    import datetime as dt

    from django.utils import timezone

    from labnotes.models import (
        Animal,
        Cage,
        CageAssignment,
        Measurement,
        RandomizationBatch,
        StudyRun,
        Task,
        Tumour,
        Unblinding,
    )
    from planner.models import ProcedureRole, StudyProcedure

    run = StudyRun.objects.create(
        study=study, code="SECRET-A-RUN", day0=dt.date(2025, 1, 6), created_by=scientist
    )
    cage = Cage.objects.create(lab=lab, run=run, label="SECRET-A-CAGE")
    animal = Animal.objects.create(
        run=run,
        tag="0001",
        sex="female",
        received_on=run.day0,
        registered_by=scientist,
        arm=arm,
        treatment_start_date=run.day0,
    )
    CageAssignment.objects.create(animal=animal, cage=cage, from_date=run.day0)
    tumour = Tumour.objects.create(animal=animal, site="right flank")
    reading = Measurement.objects.create(
        kind="caliper",
        animal=animal,
        tumour=tumour,
        length_mm=6,
        width_mm=5,
        volume_mm3=75,
        formula="half_length_width_squared",
        operator=scientist,
        recorded_by=scientist,
        taken_at=timezone.now(),
        study_day=1,
    )
    batch = RandomizationBatch.objects.create(
        run=run,
        number=1,
        method="simple",
        seed=1,
        numpy_version="2",
        bit_generator="PCG64",
        inputs={},
        allocation=[],
        balance={},
        randomized_on=run.day0,
        previewed_by=scientist,
    )
    caliper = ProtocolTemplate.objects.create(
        lab=lab, name="Lab A caliper", kind="caliper_measurement", created_by=scientist
    )
    procedure = StudyProcedure.objects.create(
        study=study,
        role=ProcedureRole.CALIPER_MEASUREMENT,
        protocol_version=ProtocolVersion.objects.create(
            template=caliper, number=1, created_by=scientist
        ),
    )
    task = Task.objects.create(
        run=run,
        animal=animal,
        kind="measure",
        procedure=procedure,
        occurrence=1,
        study_day=1,
        nominal_date=run.day0,
    )
    unblinding = Unblinding.objects.create(
        study=study, scope="animal", animal=animal, performed_by=scientist, reason="vet"
    )
    return {
        StudyRun: run,
        Cage: cage,
        Animal: animal,
        Tumour: tumour,
        Measurement: reading,
        RandomizationBatch: batch,
        Task: task,
        Unblinding: unblinding,
    }


def _lab_a_welfare_objects(study: Any, scientist: Any) -> dict[type, Any]:
    """An observation (with an ulcer score), a welfare check, an endpoint episode and record of
    lab A's animal (written directly: this test is about reading)."""
    import datetime as dt

    from django.utils import timezone

    from labnotes.models import (
        Animal,
        EndpointEpisode,
        EndpointRecord,
        Observation,
        UlcerationScore,
        WelfareCheck,
    )

    animal = Animal.objects.get(run__study=study, tag="0001")
    now = timezone.now()
    observation = Observation.objects.create(
        animal=animal,
        observed_at=now,
        study_day=1,
        scores={"Activity": 0},
        notes="SECRET-A-NOTE",
        observer=scientist,
        recorded_by=scientist,
    )
    ulcer = UlcerationScore.objects.create(
        observation=observation, tumour=animal.tumours.get(), score=1
    )
    check = WelfareCheck.objects.create(
        animal=animal,
        kind="daily_check",
        due_date=dt.date(2025, 1, 8),
        rule="ulceration ≥ 1",
        triggered_by=observation,
    )
    record = EndpointRecord.objects.create(
        animal=animal,
        cause="tumour_volume",
        outcome="event",
        occurred_at=now,
        study_day=2,
        recorded_by=scientist,
    )
    episode = EndpointEpisode.objects.create(
        animal=animal,
        status="closed",
        cause="tumour_volume",
        first_reached_at=now,
        closed_at=now,
        endpoint_record=record,
    )
    return {
        Observation: observation,
        UlcerationScore: ulcer,
        WelfareCheck: check,
        EndpointRecord: record,
        EndpointEpisode: episode,
    }


def _lab_a_report_objects(lab: Any, scientist: Any, study: Any) -> dict[type, Any]:
    """A succeeded report of lab A's run with one stored file (written directly)."""
    from labnotes.models import Report, ReportArtifact, StoredFile, StudyRun

    run = StudyRun.objects.get(study=study, code="SECRET-A-RUN")
    stored = StoredFile.objects.create(
        lab=lab,
        sha256="a" * 64,
        size_bytes=10,
        content_type="application/pdf",
        original_filename="SECRET-A-report.pdf",
        stored_by=scientist,
    )
    report = Report.objects.create(
        lab=lab,
        run=run,
        kind="final",
        options={},
        options_key="0" * 64,
        data_hash="sha256:" + "0" * 64,
        status="succeeded",
        requested_by=scientist,
    )
    artifact = ReportArtifact.objects.create(
        report=report,
        name="report.pdf",
        stored_file=stored,
        sha256="a" * 64,
        size_bytes=10,
        content_type="application/pdf",
        software_version="0.1.0",
    )
    return {Report: report, ReportArtifact: artifact}


def _lab_a_transcription_objects(lab: Any, scientist: Any, study: Any) -> dict[type, Any]:
    """A stored scan and a transcription sheet of lab A's run (written directly)."""
    import datetime as dt

    from django.utils import timezone

    from labnotes.models import StoredFile, StudyRun, TranscriptionSheet

    run = StudyRun.objects.get(study=study)
    scan = StoredFile.objects.create(
        lab=lab,
        sha256="b" * 64,
        size_bytes=1,
        content_type="application/pdf",
        original_filename="SECRET-A-scan.pdf",
        stored_by=scientist,
    )
    sheet = TranscriptionSheet.objects.create(
        run=run,
        sheet_date=run.day0,
        sheet_time=dt.time(9, 0),
        taken_at=timezone.now(),
        scan=scan,
        notes="SECRET-A-SHEET",
        transcribed_by=scientist,
        measured_by=scientist,
    )
    return {StoredFile: scan, TranscriptionSheet: sheet}


def _lab_a_dosing_objects(study: Any, scientist: Any, item: Any) -> dict[type, Any]:
    """A formulation batch, a (missed) dose record and a hold of lab A's animal."""
    import datetime as dt

    from django.utils import timezone

    from labnotes.models import Animal, DoseModification, DoseRecord, FormulationBatch

    animal = Animal.objects.get(run__study=study, tag="0001")
    now = timezone.now()
    batch = FormulationBatch.objects.create(
        study=study,
        agent="secret",
        lot="SECRET-A-LOT",
        concentration_mg_per_ml=1,
        vehicle="PBS",
        prepared_by=scientist,
        prepared_at=now,
        expires_at=now + dt.timedelta(days=1),
        recorded_by=scientist,
    )
    dose = DoseRecord.objects.create(
        run=animal.run,
        animal=animal,
        regimen_item=item,
        occurrence=1,
        scheduled_for=animal.run.day0,
        outcome="missed",
        dose_basis="fixed_per_animal",
        dose=1,
        recorded_by=scientist,
    )
    hold = DoseModification.objects.create(
        run=animal.run,
        animal=animal,
        regimen_item=item,
        kind="hold",
        effective_from=animal.run.day0,
        rule="hold at weight loss ≥ 15 %",
        reason="Lab A hold",
        decided_by=scientist,
    )
    return {FormulationBatch: batch, DoseRecord: dose, DoseModification: hold}


def _lab_a_elisa_objects(lab: Any, scientist: Any) -> dict[type, Any]:
    """An ELISA plate of lab A's run."""
    from labnotes.models import ElisaPlate, StudyRun

    plate = ElisaPlate.objects.create(
        run=StudyRun.objects.filter(study__lab=lab).first(),
        protocol_version=ProtocolVersion.objects.filter(template__lab=lab).first(),
        name="SECRET-A-PLATE",
        analyte="Lab A analyte",
        created_by=scientist,
    )
    return {ElisaPlate: plate}


def _lab_a_sample_objects(lab: Any, scientist: Any) -> dict[type, Any]:
    """A sample, a necropsy and a notebook entry with an attachment in lab A."""
    import hashlib

    from django.utils import timezone

    from labnotes.models import (
        Animal,
        Necropsy,
        NotebookAttachment,
        NotebookEntry,
        NotebookLink,
        Sample,
        StoredFile,
    )

    animal = Animal.objects.get(run__study__lab=lab, tag="0001")
    now = timezone.now()
    necropsy = Necropsy.objects.create(
        animal=animal,
        performed_at=now,
        study_day=1,
        terminal_body_weight_g=19,
        performed_by=scientist,
        recorded_by=scientist,
    )
    sample = Sample.objects.create(
        lab=lab,
        animal=animal,
        tissue="serum",
        collected_at=now,
        study_day=1,
        barcode="SECRET-A-TUBE",
        collected_by=scientist,
        recorded_by=scientist,
        necropsy=necropsy,
    )
    entry = NotebookEntry.objects.create(
        lab=lab, entry_date=now.date(), title="Lab A secret entry", author=scientist
    )
    NotebookLink.objects.create(entry=entry, kind="animal", animal=animal)
    stored = StoredFile.objects.create(
        lab=lab,
        sha256=hashlib.sha256(b"SECRET-A").hexdigest(),
        size_bytes=8,
        content_type="text/plain",
        original_filename="secret.txt",
        stored_by=scientist,
    )
    attachment = NotebookAttachment.objects.create(
        entry=entry, stored_file=stored, filename="secret.txt", added_by=scientist
    )
    return {
        Sample: sample,
        Necropsy: necropsy,
        NotebookEntry: entry,
        NotebookAttachment: attachment,
    }


def _lab_a_flow_objects(lab: Any, scientist: Any) -> dict[type, Any]:
    """A flow panel of lab A's run, a saved sample-name mapping and a FlowJo table imported
    with it (one acquisition: lab A's sample), through the flow services."""
    from labnotes.models import FlowAcquisition, FlowImport, FlowPanel, FlowSampleMapping, StudyRun
    from labnotes.services.flow import (
        MappingSpec,
        create_flow_panel,
        import_flow_statistics,
        save_flow_mapping,
    )
    from planner.models import ProcedureRole
    from tests.labnotes.builders import released_version
    from tests.labnotes.flow_support import TREG_PANEL, counts_row, flowjo10_table

    run = StudyRun.objects.get(study__lab=lab, code="SECRET-A-RUN")
    version = released_version(lab, scientist, "flow_panel", "Lab A Treg panel", TREG_PANEL)
    StudyProcedure.objects.create(
        study=run.study, role=ProcedureRole.FLOW_PANEL, protocol_version=version
    )
    panel = create_flow_panel(run=run, protocol_version=version, created_by=scientist)
    mapping = save_flow_mapping(
        lab=lab, name="Lab A mapping", spec=MappingSpec(), saved_by=scientist
    )
    flow_import = import_flow_statistics(
        panel=panel,
        content=flowjo10_table({"SECRET-A-TUBE": counts_row()}),
        filename="SECRET-A-flow.csv",
        spec=MappingSpec.of(mapping),
        imported_by=scientist,
        mapping=mapping,
    )
    return {
        FlowPanel: panel,
        FlowSampleMapping: mapping,
        FlowImport: flow_import,
        FlowAcquisition: FlowAcquisition.objects.get(panel=panel),
    }


def _lab_a_qa_objects(lab: Any, scientist: Any, ethics: Any) -> dict[type, Any]:
    """A deviation, a QA inspection with a finding and an audit-trail review of lab A's run
    (through the QA services), an archive package of lab A's study (written directly: building
    one needs an archived study and the worker), and lab A's study under its ethics protocol."""
    from labnotes.models import (
        Animal,
        AuditTrailReview,
        Deviation,
        QAInspection,
        StoredFile,
        StudyArchive,
        StudyRun,
    )
    from labnotes.services.deviations import record_deviation
    from labnotes.services.inspections import (
        FindingInput,
        mark_audit_trail_reviewed,
        record_inspection,
    )
    from tests.factories import MembershipFactory, UserFactory

    run = StudyRun.objects.get(study__lab=lab, code="SECRET-A-RUN")
    Study.objects.filter(pk=run.study_id).update(ethics_protocol=ethics)
    qa: Any = UserFactory()  # type: ignore[no-untyped-call]
    MembershipFactory(user=qa, lab=lab, role="qa")  # type: ignore[no-untyped-call]
    deviation = record_deviation(
        run=run,
        category="dosing",
        description="Lab A deviation: dosed late",
        occurred_on=run.day0,
        animals=[Animal.objects.get(run=run, tag="0001")],
        detected_by=scientist,
        recorded_by=scientist,
    )
    inspection = record_inspection(
        study=run.study,
        run=run,
        inspected_on=run.day0,
        phase="dosing",
        scope="Lab A dosing records",
        inspector=qa,
        recorded_by=qa,
        findings=[FindingInput("minor", "Lab A finding")],
    )
    review = mark_audit_trail_reviewed(
        run=run,
        period_start=run.day0,
        period_end=run.day0,
        conclusion="Lab A review: nothing unexplained",
        reviewer=qa,
    )
    package = StoredFile.objects.create(
        lab=lab,
        sha256="c" * 64,
        size_bytes=22,
        content_type="application/zip",
        original_filename="SECRET-A-archive.zip",
        stored_by=scientist,
    )
    archive = StudyArchive.objects.create(
        study=run.study,
        job=BackgroundJob.objects.create(
            lab=lab, kind=JobKind.STUDY_ARCHIVE, requested_by=scientist
        ),
        status="succeeded",
        requested_by=scientist,
        reason="Lab A archive",
        package=package,
        file_count=1,
    )
    return {
        Deviation: deviation,
        QAInspection: inspection,
        AuditTrailReview: review,
        StudyArchive: archive,
    }


def _lab_a_instrument_objects(lab: Any, scientist: Any) -> dict[type, Any]:
    """A balance of lab A and a device token of lab A's run, through the instrument services
    (tokens are issued by a study director)."""
    from labnotes.models import DeviceToken, Instrument, StudyRun
    from labnotes.services.instruments import create_device_token, create_instrument
    from tests.factories import MembershipFactory, UserFactory

    director: Any = UserFactory()  # type: ignore[no-untyped-call]
    MembershipFactory(user=director, lab=lab, role="study_director")  # type: ignore[no-untyped-call]
    instrument = create_instrument(
        lab=lab,
        kind="balance",
        name="Lab A balance",
        serial_number="SECRET-A-SN",
        created_by=scientist,
    )
    issued = create_device_token(
        created_by=director,
        name="Lab A bridge",
        actions=["post_weights"],
        run=StudyRun.objects.get(study__lab=lab, code="SECRET-A-RUN"),
        instrument=instrument,
    )
    return {Instrument: instrument, DeviceToken: issued.token}


def _lab_a_signature_objects(lab: Any, scientist: Any) -> dict[type, Any]:
    """The scientist's signature on lab A's sample, through the signing service."""
    from labnotes.models import Sample
    from planner.models import Signature
    from planner.services.signatures import sign_record

    signature = sign_record(
        record=Sample.objects.get(lab=lab, barcode="SECRET-A-TUBE"),
        meaning="authored",
        signer=scientist,
        password=TEST_PASSWORD,
    )
    return {Signature: signature}
