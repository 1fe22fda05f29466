"""Report jobs: request, claim, build, publish, fail and sweep — each report built exactly once.

The life of a report (issue 8):

* :func:`request_report` checks who asks, reads the run's counted data and its hash, and returns
  the existing job for the same (run, kind, variant, options, data hash) or creates one; the
  worker message is sent only after the transaction commits (``transaction.on_commit``).
* The task calls :func:`run_report_job`: :func:`claim_report` moves the job queued → running
  with a conditional UPDATE and a fresh claim token (one worker wins), a heartbeat thread keeps
  ``heartbeat_at`` fresh while it builds, each step records its progress, the artifacts are
  built in a private temporary directory, stored content-addressed, and published in one
  transaction that succeeds only while the claim token is still the job's own.
* :func:`sweep_stale_reports` (Celery beat) re-queues a running job whose heartbeat is older
  than the threshold — its worker died (SIGKILL, OOM, host lost); on the serverless broker that
  message is never redelivered — and fails it after a second loss. A queued job whose message
  was lost is sent again. Duplicate messages are harmless: only a queued job can be claimed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import socket
import tempfile
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from labnotes.analysis.errors import AnalysisInputError
from labnotes.models import Report, ReportArtifact, ReportKind, ReportStatus, ReportVariant
from labnotes.models.runs import StudyRun
from labnotes.reports.model import ReportInputError
from labnotes.selectors import blinding_for
from labnotes.services.report_input import (
    DROPOUT_LABELS,
    SYNERGY_LABELS,
    TGI_LABELS,
    ReportDataError,
    ReportOptions,
    build_pooled_report_input,
    build_report_input,
    data_hash,
    plan_differences,
    plan_options,
    pooled_data_hash,
    pooled_options_key,
    snapshot_run,
)
from planner.audit import audit_context, audited_change
from planner.models import Role, Study, StudyStatus
from planner.services.permissions import require_role

logger = logging.getLogger(__name__)

#: Who may ask for a report: people who decide about a study and QA (reports are read-only).
REPORT_REQUESTERS = (Role.SCIENTIST, Role.STUDY_DIRECTOR, Role.LAB_ADMIN, Role.QA)
#: Errors worth a retry: the database or broker was briefly unreachable.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
#: After this many losses (worker gone while running) the sweeper fails the job.
MAX_LOSSES = 2

CONTENT_TYPES = {
    "report.html": "text/html; charset=utf-8",
    "report.pdf": "application/pdf",
    "report.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "bundle.zip": "application/zip",
}
ARTIFACT_ORDER = ("report.pdf", "report.html", "report.xlsx", "bundle.zip")


def heartbeat_seconds() -> float:
    """How often a running job's heartbeat is written (``VIVOLOG_REPORT_HEARTBEAT_SECONDS``)."""
    return float(getattr(settings, "VIVOLOG_REPORT_HEARTBEAT_SECONDS", 10))


def stale_after_seconds() -> float:
    """A running job whose heartbeat is older than this is lost (``VIVOLOG_REPORT_STALE_SECONDS``).

    Well above the heartbeat interval, so a busy database does not make a live job look lost.
    """
    return float(getattr(settings, "VIVOLOG_REPORT_STALE_SECONDS", 120))


class ClaimLost(Exception):
    """The job is no longer this worker's (the sweeper re-queued it, another worker took it)."""


class TransientReportError(Exception):
    """A transient failure (database unreachable): the task retries with backoff."""


# --------------------------------------------------------------------------------------------
# Requesting


def validate_options(options: ReportOptions) -> None:
    """Refuse options the engine does not know, naming the field."""
    errors: dict[str, str] = {}
    if options.analysis_day is not None and (
        isinstance(options.analysis_day, bool)
        or not isinstance(options.analysis_day, int)
        or options.analysis_day < 0
    ):
        errors["analysis_day"] = "must be a whole number of days since treatment start (0 or more)"
    if options.tgi_definition not in TGI_LABELS:
        errors["tgi_definition"] = f"must be one of {', '.join(TGI_LABELS)}"
    if options.dropout not in DROPOUT_LABELS:
        errors["dropout"] = f"must be one of {', '.join(DROPOUT_LABELS)}"
    if options.synergy_model not in SYNERGY_LABELS:
        errors["synergy_model"] = f"must be one of {', '.join(SYNERGY_LABELS)}"
    if errors:
        raise ValidationError(errors)


def request_report(
    *,
    run: StudyRun,
    kind: str,
    requested_by: User,
    variant: str = ReportVariant.UNBLINDED,
    options: ReportOptions | None = None,
) -> tuple[Report, bool]:
    """Ask for a report of ``run``; returns (job, created).

    Same run, kind, variant, options and counted data → the existing job (unless it failed).
    ``options`` None means the approved analysis plan's; any other choice makes the report
    exploratory, listing how it differs. Only members who may see the allocation may ask: every
    report (the blinded variant included) shows per-arm results. A final report needs an
    approved design. The worker message is sent after commit.
    """
    study = run.study
    _check_requester(requested_by, study, kind, variant)
    snapshot = snapshot_run(run)
    if options is None:
        options = plan_options(study, snapshot)
    validate_options(options)
    differences = plan_differences(study, snapshot, options)
    current_hash = data_hash(snapshot)
    identity = {
        "run": run,
        "kind": kind,
        "variant": variant,
        "options_key": options.key,
        "data_hash": current_hash,
    }
    with transaction.atomic(), audited_change(reason=None, required=False):
        existing = Report.objects.filter(**identity).exclude(status=ReportStatus.FAILED).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                report = Report.objects.create(
                    lab=study.lab,
                    options=options.as_json(),
                    exploratory=bool(differences),
                    plan_differences=list(differences),
                    requested_by=requested_by,
                    enqueued_at=timezone.now(),
                    **identity,
                )
        except IntegrityError:
            # Someone asked for the same report at the same moment: theirs is the job.
            return Report.objects.filter(**identity).exclude(
                status=ReportStatus.FAILED
            ).get(), False
        _enqueue_on_commit(report)
    return report, True


def _check_requester(requested_by: User, study: Study, kind: str, variant: str) -> None:
    require_role(requested_by, study.lab, REPORT_REQUESTERS, action="request study reports")
    if not blinding_for(requested_by, study).sees_allocation:
        raise PermissionDenied(
            "Reports show results per arm: only members who may see the allocation can ask "
            "for them."
        )
    if kind not in ReportKind.values:
        raise ValidationError({"kind": f"must be one of {', '.join(ReportKind.values)}"})
    if variant not in ReportVariant.values:
        raise ValidationError({"variant": f"must be one of {', '.join(ReportVariant.values)}"})
    if kind == ReportKind.FINAL and study.status not in (
        StudyStatus.APPROVED,
        StudyStatus.ACTIVE,
        StudyStatus.COMPLETED,
    ):
        raise ValidationError(
            {"kind": "A final report follows the approved analysis plan; approve the design first."}
        )


def pooled_runs_of(study: Study, run_pks: list[int]) -> list[StudyRun]:
    """The runs of ``study`` with these pks in pk order; ValidationError naming the field when
    fewer than two distinct runs are given or one is not a run of the study."""
    wanted = sorted({int(pk) for pk in run_pks})
    if len(wanted) < 2:
        raise ValidationError({"runs": "Choose at least two runs of the study to pool."})
    runs = list(StudyRun.objects.filter(study=study, pk__in=wanted).order_by("pk"))
    missing = sorted(set(wanted) - {run.pk for run in runs})
    if missing:
        raise ValidationError(
            {"runs": f"Run(s) {', '.join(map(str, missing))} are not runs of study {study.code}."}
        )
    return runs


def request_study_report(
    *,
    study: Study,
    run_pks: list[int],
    kind: str,
    requested_by: User,
    variant: str = ReportVariant.UNBLINDED,
    options: ReportOptions | None = None,
) -> tuple[Report, bool]:
    """Ask for a report pooling several runs of ``study``; returns (job, created).

    Same study, runs, kind, variant, options and counted data of every run → the existing job.
    The run is a stratum of the log-rank test and a random effect of the mixed model
    (:mod:`labnotes.reports.pooled`). Who may ask and what makes it final or exploratory is as
    for :func:`request_report`; the analysis plan is the study's.
    """
    _check_requester(requested_by, study, kind, variant)
    runs = pooled_runs_of(study, run_pks)
    snapshots = [snapshot_run(run) for run in runs]
    if options is None:
        options = plan_options(study, snapshots[0])
    validate_options(options)
    differences = plan_differences(study, snapshots[0], options)
    identity = {
        "study": study,
        "run": None,
        "kind": kind,
        "variant": variant,
        "options_key": pooled_options_key(options, [run.pk for run in runs]),
        "data_hash": pooled_data_hash(snapshots),
    }
    with transaction.atomic(), audited_change(reason=None, required=False):
        existing = Report.objects.filter(**identity).exclude(status=ReportStatus.FAILED).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                report = Report.objects.create(
                    lab=study.lab,
                    options=options.as_json(),
                    pooled_runs=[run.pk for run in runs],
                    exploratory=bool(differences),
                    plan_differences=list(differences),
                    requested_by=requested_by,
                    enqueued_at=timezone.now(),
                    **identity,
                )
        except IntegrityError:
            return Report.objects.filter(**identity).exclude(
                status=ReportStatus.FAILED
            ).get(), False
        _enqueue_on_commit(report)
    return report, True


def report_study(report: Report) -> Study:
    """The study of a run report or of a pooled report."""
    if report.run is not None:
        return report.run.study
    assert report.study is not None
    return report.study


def report_subject(report: Report) -> str:
    """How people name what a report is of: ``STUDY RUN`` or ``STUDY runs R1 + R2``."""
    if report.run is not None:
        return f"{report.run.study.code} {report.run.code}"
    codes = StudyRun.objects.filter(pk__in=report.pooled_runs).order_by("pk")
    return f"{report_study(report).code} runs {' + '.join(r.code for r in codes)}"


def current_report_data_hash(report: Report) -> str:
    """The data hash the report would have now (staleness): of its run, or of its runs."""
    if report.run is not None:
        return data_hash(snapshot_run(report.run))
    runs = list(StudyRun.objects.filter(pk__in=report.pooled_runs).order_by("pk"))
    return pooled_data_hash([snapshot_run(run) for run in runs])


def _enqueue_on_commit(report: Report) -> None:
    from labnotes.tasks import build_report

    report_id, user_id = report.pk, report.requested_by_id
    # robust: a broker that is briefly unreachable must not undo the committed request; the
    # sweeper sends the message again for a job still queued after the stale threshold.
    transaction.on_commit(
        lambda: build_report.delay(report_id, requested_by_user_id=user_id), robust=True
    )


# --------------------------------------------------------------------------------------------
# Claiming, progress, heartbeat


def worker_name() -> str:
    return f"{socket.gethostname()}:{threading.get_native_id()}"[:200]


def claim_report(*, report_id: int, worker: str) -> str | None:
    """Move a queued job to running for this worker; its claim token, or None if another
    worker (or an earlier delivery of the same message) already has or had it."""
    token = uuid.uuid4().hex
    now = timezone.now()
    with audited_change(reason=None, required=False):
        claimed = Report.objects.filter(pk=report_id, status=ReportStatus.QUEUED).update(
            status=ReportStatus.RUNNING,
            claim_token=token,
            worker=worker[:200],
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            progress_percent=0,
            current_step="Starting",
        )
    return token if claimed == 1 else None


def record_progress(*, report_id: int, token: str, percent: int, step: str) -> None:
    """Progress and heartbeat of a claimed job; raises ClaimLost if it is no longer ours."""
    with audited_change(reason=None, required=False):
        updated = Report.objects.filter(
            pk=report_id, status=ReportStatus.RUNNING, claim_token=token
        ).update(progress_percent=percent, current_step=step[:120], heartbeat_at=timezone.now())
    if updated != 1:
        raise ClaimLost(f"report {report_id} is no longer claimed by this worker")


def touch_heartbeat(*, report_id: int, token: str) -> bool:
    with audited_change(reason=None, required=False):
        updated = Report.objects.filter(
            pk=report_id, status=ReportStatus.RUNNING, claim_token=token
        ).update(heartbeat_at=timezone.now())
    return updated == 1


@contextmanager
def heartbeat(report_id: int, token: str, metadata: dict[str, Any]) -> Iterator[None]:
    """Write the heartbeat every :func:`heartbeat_seconds` from a thread while the body runs.

    Long single steps (the PDF layout) would otherwise leave the job looking lost. The thread
    has its own database connection, closed when it stops.
    """
    stop = threading.Event()

    def beat() -> None:
        try:
            with audit_context(**metadata):
                while not stop.wait(heartbeat_seconds()):
                    try:
                        if not touch_heartbeat(report_id=report_id, token=token):
                            return
                    except TRANSIENT_ERRORS:
                        logger.warning("report %s: heartbeat not written", report_id)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"report-{report_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


# --------------------------------------------------------------------------------------------
# Building and publishing


@dataclass(frozen=True)
class BuiltFile:
    name: str
    path: Path
    sha256: str
    size_bytes: int


def _write_private(directory: Path, name: str, data: bytes) -> BuiltFile:
    path = directory / name
    path.write_bytes(data)
    return BuiltFile(name, path, hashlib.sha256(data).hexdigest(), len(data))


def build_artifacts(
    report_input: Any, directory: Path, progress: Callable[[int, str], None]
) -> tuple[dict[str, Any], list[BuiltFile]]:
    """Compute and render every artifact into ``directory``; results.json and the files."""
    from labnotes.reports.bundle import render_bundle
    from labnotes.reports.html import render_html
    from labnotes.reports.pdf import render_pdf
    from labnotes.reports.results import compute_results
    from labnotes.reports.xlsx import render_xlsx

    progress(15, "Computing the statistics (growth, mixed models, survival)")
    results = compute_results(report_input)
    progress(55, "Writing the HTML report")
    html = render_html(report_input, results)
    built = [_write_private(directory, "report.html", html.encode("utf-8"))]
    progress(60, "Laying out the PDF")
    built.append(_write_private(directory, "report.pdf", render_pdf(html)))
    progress(85, "Writing the Excel workbook")
    built.append(_write_private(directory, "report.xlsx", render_xlsx(report_input, results)))
    progress(90, "Writing the data bundle")
    built.append(_write_private(directory, "bundle.zip", render_bundle(report_input, results)))
    return results.json, built


def run_report_job(*, report_id: int, worker: str | None = None) -> str:
    """Claim and build one report job; returns what happened ("built", "not claimed", …).

    Raises TransientReportError (after releasing the claim) when the database was briefly
    unreachable, so the task can retry.
    """
    worker = worker or worker_name()
    token = claim_report(report_id=report_id, worker=worker)
    if token is None:
        return "not claimed"
    from planner.audit import current_actor_metadata

    metadata = current_actor_metadata()
    try:
        with heartbeat(report_id, token, metadata):
            _build_and_publish(report_id=report_id, token=token)
    except ClaimLost:
        logger.warning("report %s: claim lost while building; another worker has it", report_id)
        return "claim lost"
    except TRANSIENT_ERRORS as exc:
        _release_claim(report_id=report_id, token=token)
        raise TransientReportError(str(exc)) from exc
    except SoftTimeLimitExceeded:
        fail_report(
            report_id=report_id,
            token=token,
            message=(
                "Building the report took longer than the time limit of "
                f"{settings.CELERY_TASK_SOFT_TIME_LIMIT} s and was stopped. Ask your "
                "administrator to raise VIVOLOG_TASK_SOFT_TIME_LIMIT for runs this large."
            ),
            detail="SoftTimeLimitExceeded",
        )
        return "failed"
    except ReportDataError as exc:
        fail_report(report_id=report_id, token=token, message=str(exc), detail=repr(exc))
        return "failed"
    except (AnalysisInputError, ReportInputError) as exc:
        fail_report(
            report_id=report_id,
            token=token,
            message=f"The analysis could not run on this run's data: {exc}",
            detail=traceback.format_exc(),
        )
        return "failed"
    except Exception as exc:
        logger.exception("report %s failed", report_id)
        fail_report(
            report_id=report_id,
            token=token,
            message=(
                f"The report could not be built because of an internal error ({type(exc).__name__}"
                f"). Your administrator can read the details on report #{report_id}."
            ),
            detail=traceback.format_exc(),
        )
        return "failed"
    return "built"


def _build_and_publish(*, report_id: int, token: str) -> None:
    from labnotes.services.files import store_file

    report = Report.objects.select_related("run__study__lab", "study__lab", "requested_by").get(
        pk=report_id
    )

    def progress(percent: int, step: str) -> None:
        record_progress(report_id=report_id, token=token, percent=percent, step=step)

    progress(5, "Reading the run's data")
    requester = report.requested_by
    if report.run is not None:
        report_input = build_report_input(
            run=report.run,
            snapshot=snapshot_run(report.run),
            kind=report.kind,
            blinded=report.variant == ReportVariant.BLINDED,
            options=ReportOptions.from_json(report.options),
            generated_by=requester.get_full_name() or requester.get_username(),
            generated_at=timezone.now().replace(microsecond=0),
        )
        file_prefix = report.run.code
    else:
        study = report_study(report)
        runs = list(StudyRun.objects.filter(pk__in=report.pooled_runs).order_by("pk"))
        report_input = build_pooled_report_input(
            study=study,
            runs=runs,
            snapshots=[snapshot_run(run) for run in runs],
            kind=report.kind,
            blinded=report.variant == ReportVariant.BLINDED,
            options=ReportOptions.from_json(report.options),
            generated_by=requester.get_full_name() or requester.get_username(),
            generated_at=timezone.now().replace(microsecond=0),
        )
        file_prefix = f"{study.code}-pooled"
    with tempfile.TemporaryDirectory(prefix=f"vivolog-report-{report_id}-") as temporary:
        results, built = build_artifacts(report_input, Path(temporary), progress)
        progress(95, "Storing the files")
        stored = []
        for item in built:
            content = item.path.read_bytes()
            if hashlib.sha256(content).hexdigest() != item.sha256:
                raise RuntimeError(f"{item.name} changed on disk before it was stored")
            stored.append(
                (
                    item,
                    store_file(
                        content=content,
                        filename=f"{file_prefix}-{report_id}-{item.name}",
                        content_type=CONTENT_TYPES[item.name],
                        stored_by=requester,
                        lab=report.lab,
                    ),
                )
            )
    version = str(settings.VIVOLOG_VERSION)
    with transaction.atomic(), audited_change(reason=None, required=False):
        mine = (
            Report.objects.select_for_update()
            .filter(pk=report_id, status=ReportStatus.RUNNING, claim_token=token)
            .first()
        )
        if mine is None:
            raise ClaimLost(f"report {report_id} was taken over before publishing")
        ReportArtifact.objects.bulk_create(
            [
                ReportArtifact(
                    report_id=report_id,
                    name=item.name,
                    stored_file=stored_file,
                    sha256=item.sha256,
                    size_bytes=item.size_bytes,
                    content_type=CONTENT_TYPES[item.name],
                    software_version=version,
                )
                for item, stored_file in stored
            ]
        )
        Report.objects.filter(pk=report_id).update(
            status=ReportStatus.SUCCEEDED,
            progress_percent=100,
            current_step="Done",
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            built_data_hash=report_input.data_hash,
            exploratory=report_input.exploratory,
            plan_differences=list(report_input.plan_differences),
            software_version=version,
            results=results,
            message="",
        )
        _notify(mine, succeeded=True)


def _release_claim(*, report_id: int, token: str) -> None:
    """Give a claimed job back to the queue (before a retry); the sweeper covers a failure."""
    try:
        with audited_change(reason=None, required=False):
            Report.objects.filter(
                pk=report_id, status=ReportStatus.RUNNING, claim_token=token
            ).update(status=ReportStatus.QUEUED, claim_token="", current_step="Waiting to retry")
    except TRANSIENT_ERRORS:
        logger.warning("report %s: claim not released; the sweeper will re-queue it", report_id)


def fail_report(
    *, report_id: int, message: str, detail: str = "", token: str | None = None
) -> bool:
    """End a queued or running job as failed with a message a scientist can act on."""
    jobs = Report.objects.filter(
        pk=report_id, status__in=[ReportStatus.QUEUED, ReportStatus.RUNNING]
    )
    if token is not None:
        jobs = jobs.filter(claim_token=token)
    with transaction.atomic(), audited_change(reason=None, required=False):
        updated = jobs.update(
            status=ReportStatus.FAILED,
            message=message,
            error_detail=detail[:20000],
            finished_at=timezone.now(),
        )
        if updated:
            _notify(
                Report.objects.select_related("run__study", "study", "requested_by").get(
                    pk=report_id
                ),
                succeeded=False,
            )
    return updated == 1


def _notify(report: Report, *, succeeded: bool) -> None:
    """An outbound message to the person who asked (sent by the worker after commit)."""
    from planner.services.outbound import queue_message

    subject_text = report_subject(report)
    link = reverse("report_detail", args=[report.pk])
    if succeeded:
        subject = f"Report ready: {subject_text} ({report.get_kind_display().lower()})"
        body = (
            f"The {report.get_kind_display().lower()} report #{report.pk} of {subject_text} "
            "is ready"
            + (" — exploratory, it differs from the analysis plan" if report.exploratory else "")
            + f".\n\nOpen it: {link}\n"
        )
    else:
        subject = f"Report failed: {subject_text}"
        body = (
            f"Report #{report.pk} of {subject_text} could not be built.\n\n"
            f"{report.message}\n\n{link}\n"
        )
    queue_message(
        lab=report.lab,
        recipient=report.requested_by,
        subject=subject,
        body=body,
        reason="report finished" if succeeded else "report failed",
        related_object=f"report:{report.pk}",
    )


# --------------------------------------------------------------------------------------------
# Sweeping


@dataclass(frozen=True)
class SweepResult:
    requeued: tuple[int, ...]
    failed: tuple[int, ...]
    resent: tuple[int, ...]


def sweep_stale_reports(
    *, stale_after: dt.timedelta | None = None, now: dt.datetime | None = None
) -> SweepResult:
    """Recover jobs whose worker is gone.

    A running job whose heartbeat is older than ``stale_after`` (default
    :func:`stale_after_seconds`) lost its worker: the first time it is queued again (a new
    message after commit), the second time it fails with a message. A queued job whose message
    was sent longer ago than ``stale_after`` gets its message again (a message can be lost on
    the serverless broker when its worker dies before claiming). Every change is a conditional
    UPDATE, so two sweepers at once cannot act twice on one job.
    """
    now = now or timezone.now()
    cutoff = now - (stale_after or dt.timedelta(seconds=stale_after_seconds()))
    requeued: list[int] = []
    failed: list[int] = []
    resent: list[int] = []
    stale = Report.objects.filter(status=ReportStatus.RUNNING, heartbeat_at__lt=cutoff)
    for report in stale.select_related("requested_by"):
        match = Report.objects.filter(
            pk=report.pk, status=ReportStatus.RUNNING, claim_token=report.claim_token
        )
        with (
            transaction.atomic(),
            audited_change(
                reason="worker stopped while building (heartbeat stale)", required=False
            ),
        ):
            if report.losses + 1 >= MAX_LOSSES:
                if match.update(
                    status=ReportStatus.FAILED,
                    losses=F("losses") + 1,
                    finished_at=now,
                    message=(
                        "The worker building this report stopped twice before it finished "
                        "(it may run out of memory on this run). Ask for the report again; if "
                        "it fails again, tell your administrator."
                    ),
                    error_detail=f"heartbeat older than {cutoff.isoformat()} on the 2nd attempt",
                ):
                    failed.append(report.pk)
                    _notify(
                        Report.objects.select_related("run__study", "study").get(pk=report.pk),
                        succeeded=False,
                    )
            elif match.update(
                status=ReportStatus.QUEUED,
                losses=F("losses") + 1,
                claim_token="",
                progress_percent=0,
                current_step="Queued again: the worker building it stopped",
                enqueued_at=now,
            ):
                requeued.append(report.pk)
                _enqueue_on_commit(report)
    lost = Report.objects.filter(status=ReportStatus.QUEUED, enqueued_at__lt=cutoff)
    for report in lost:
        with transaction.atomic(), audited_change(reason=None, required=False):
            if Report.objects.filter(
                pk=report.pk, status=ReportStatus.QUEUED, enqueued_at=report.enqueued_at
            ).update(enqueued_at=now):
                resent.append(report.pk)
                _enqueue_on_commit(report)
    return SweepResult(tuple(requeued), tuple(failed), tuple(resent))


def is_stale(report: Report, current_hash: str) -> bool:
    """A succeeded report is stale when the counted data changed after it was built."""
    return report.status == ReportStatus.SUCCEEDED and report.built_data_hash != current_hash


__all__ = [
    "ARTIFACT_ORDER",
    "CONTENT_TYPES",
    "REPORT_REQUESTERS",
    "ClaimLost",
    "SweepResult",
    "TransientReportError",
    "claim_report",
    "current_report_data_hash",
    "fail_report",
    "is_stale",
    "pooled_runs_of",
    "report_study",
    "report_subject",
    "request_report",
    "request_study_report",
    "run_report_job",
    "sweep_stale_reports",
]
