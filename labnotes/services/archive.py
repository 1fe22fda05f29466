"""Archiving a completed study: the study becomes read-only and a background job packs a
self-contained ZIP of everything recorded about it.

The package (``<study code>-archive.zip``) holds:

* ``index.html`` — a human-readable table of contents with counts, sizes and checksums;
* ``manifest.json`` — the same, machine-readable (study, who archived it, when, why, files);
* ``records/<model>.csv`` and ``records/<model>.json`` — every row of the study's design and
  records (runs, animals, readings, doses, observations, endpoints, samples, randomizations,
  deviations, QA inspections, reports, signatures …), one file pair per record type;
* ``randomizations/<run>-batch-<n>.json`` — each randomization batch whole (inputs, seed,
  allocation, balance statistics);
* ``audit_trail.csv`` and ``audit_trail.json`` — every audit event of those rows;
* ``files/<sha256>-<name>`` — the stored files the records point at (attachments, scans,
  report artifacts), checked against their SHA-256 while packing;
* ``SHA256SUMS`` — the SHA-256 of every other file, in ``sha256sum -c`` format.

Read-only: the study's status becomes ``archived`` first (in the same transaction as the job
request), so the package is built from data nobody can change any more; a database trigger
(migration 0014) refuses every write to an archived study's run records on every path, and the
QA services check :func:`ensure_study_writable` first to say so in plain words. Migration 0017
extends the trigger to every table of a study or a run (design, reports, notebook, assays,
instruments, signatures …); archiving waits while a report of the study is still being built.

Record types are found by following foreign keys from each model to ``Study`` or ``StudyRun``
(up to three steps), so record types added later (signatures, instruments, assays) are packed
without a change here.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import pghistory.models
from django.apps import apps
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from labnotes.models import (
    ArchiveStatus,
    BackgroundJob,
    StoredFile,
    StudyArchive,
    StudyRun,
)
from labnotes.models.jobs import JobKind
from labnotes.services import jobs as job_services
from labnotes.services.files import StoredFileCorrupted, read_file, store_file
from planner.audit import audited_change
from planner.audit.history import HIDDEN_FIELDS, entry_from_event
from planner.audit.search import spreadsheet_safe
from planner.models import Role, Study, StudyStatus
from planner.services import lifecycle
from planner.services.permissions import require_role

#: Who may archive a study (the same people who move a study through its life cycle).
ARCHIVERS = (Role.STUDY_DIRECTOR, Role.LAB_ADMIN)
#: Who may download an archive package (it holds the allocation: see ``may_download``).
READERS = (Role.STUDY_DIRECTOR, Role.QA, Role.LAB_ADMIN)
#: Record types never packed: secrets, the archive machinery itself, per-user settings.
EXCLUDED_MODELS = frozenset(
    {
        "labnotes.BackgroundJob",
        "labnotes.StudyArchive",
        "labnotes.CalendarFeedToken",
        "labnotes.DeviceToken",
        "labnotes.DeviceTokenWindow",
    }
)
SECRET_FIELD = re.compile(r"(password|secret|key_hash|token_hash|otp)", re.IGNORECASE)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class ArchivedStudy(ValidationError):
    """A write to an archived study, refused."""


def ensure_study_writable(study: Study) -> None:
    """Refuse (``ValidationError``) any write to a study that is archived.

    Reads the status from the database, not from the possibly stale instance."""
    if Study.objects.filter(pk=study.pk, status=StudyStatus.ARCHIVED).exists():
        raise ArchivedStudy(
            f"Study {study.code} is archived: its records are read-only. The archive package "
            "holds everything recorded."
        )


# -- which rows belong to a study ---------------------------------------------------------------


def _is_event_model(model: type[models.Model]) -> bool:
    return issubclass(model, pghistory.models.Event) or model._meta.app_label == "pghistory"


def _paths_to_study(model: type[models.Model], depth: int = 3) -> list[str]:
    """Lookups from ``model`` to ``planner.Study`` through forward foreign keys.

    Required keys are followed first; optional ones only when no required key leads to a
    study, so a re-challenge run (``parent_run``) or a reused animal never pulls another
    study's rows into this one's archive."""
    if model is Study:
        return ["pk"]
    required: list[str] = []
    optional: list[str] = []
    for field in model._meta.get_fields():
        if not (field.many_to_one or field.one_to_one) or not field.concrete:
            continue
        target = cast(Any, field).related_model
        if target is None or target is model:
            continue
        found = required if not cast(Any, field).null else optional
        if target is Study:
            found.append(f"{field.name}__pk")
        elif target is StudyRun:
            found.append(f"{field.name}__study__pk")
        elif depth > 1 and target._meta.app_label in {"labnotes", "planner"}:
            found.extend(f"{field.name}__{path}" for path in _paths_to_study(target, depth - 1))
    return required or optional


def study_querysets(study: Study) -> dict[str, QuerySet[Any]]:
    """Every record type that has rows for ``study``: label → queryset of those rows."""
    result: dict[str, QuerySet[Any]] = {}
    for model in apps.get_models():
        label = model._meta.label
        if model._meta.app_label not in {"planner", "labnotes"} or label in EXCLUDED_MODELS:
            continue
        if _is_event_model(model):
            continue
        paths = [path for path in _paths_to_study(model) if path.count("__") <= 4]
        if not paths:
            continue
        condition = Q()
        for path in paths:
            condition |= Q(**{path: study.pk})
        result[label] = model._default_manager.filter(condition).distinct().order_by("pk")
    ethics = study.ethics_protocol
    if ethics is not None:
        ethics_model = type(ethics)
        result[ethics_model._meta.label] = ethics_model._default_manager.filter(pk=ethics.pk)
        approvals = apps.get_model("planner", "EthicsApproval")
        result[approvals._meta.label] = approvals._default_manager.filter(protocol=ethics).order_by(
            "pk"
        )
    versions = apps.get_model("planner", "ProtocolVersion")
    result[versions._meta.label] = (
        versions._default_manager.filter(
            Q(study_procedures__study=study) | Q(regimen_items__arm__study=study)
        )
        .distinct()
        .order_by("pk")
    )
    notebook = apps.get_model("labnotes", "NotebookEntry")
    result[notebook._meta.label] = (
        notebook._default_manager.filter(
            Q(links__run__study=study) | Q(links__animal__run__study=study)
        )
        .distinct()
        .order_by("pk")
    )
    entries = result[notebook._meta.label]
    for model in apps.get_models():
        if model._meta.app_label != "labnotes" or _is_event_model(model):
            continue
        for item in model._meta.concrete_fields:
            if getattr(item, "related_model", None) is notebook and model is not notebook:
                result[model._meta.label] = model._default_manager.filter(
                    **{f"{item.name}__in": entries}
                ).order_by("pk")
    _add_generic_references(result)
    return {label: rows for label, rows in sorted(result.items()) if rows.exists()}


def _add_generic_references(result: dict[str, QuerySet[Any]]) -> None:
    """Rows that point at packed rows through a generic relation (content type + object id):
    the electronic signatures of designs, randomizations, sheets, reports and records."""
    from django.contrib.contenttypes.models import ContentType

    try:
        signature = apps.get_model("planner", "Signature")
    except LookupError:  # signatures not installed: nothing to add
        return
    condition = Q(pk__in=[])
    for label, rows in result.items():
        content_type = ContentType.objects.get_for_model(apps.get_model(label))
        condition |= Q(content_type=content_type, object_id__in=rows.values("pk"))
    result[signature._meta.label] = (
        signature._default_manager.filter(condition).distinct().order_by("pk")
    )


def run_querysets(run: StudyRun) -> dict[str, QuerySet[Any]]:
    """The record types of ``run`` alone (the rows reached through that run): label → rows."""
    result: dict[str, QuerySet[Any]] = {"labnotes.StudyRun": StudyRun.objects.filter(pk=run.pk)}
    for model in apps.get_models():
        label = model._meta.label
        if model._meta.app_label not in {"planner", "labnotes"} or label in EXCLUDED_MODELS:
            continue
        if _is_event_model(model) or model is StudyRun:
            continue
        paths = [
            path[: -len("__study__pk")] + "__pk"
            for path in _paths_to_study(model)
            if path.endswith("__study__pk")
        ]
        if not paths:
            continue
        condition = Q()
        for path in paths:
            condition |= Q(**{path: run.pk})
        result[label] = model._default_manager.filter(condition).distinct().order_by("pk")
    return result


def count_audit_events(
    querysets: dict[str, QuerySet[Any]], *, start: dt.date, end: dt.date, zone: Any
) -> int:
    """Audit events of the rows in ``querysets`` from ``start`` to ``end`` (lab-local dates,
    both included)."""
    since = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    total = 0
    for label, rows in querysets.items():
        model = apps.get_model(label)
        event_models = list(getattr(model, "pgh_event_models", {}).values())
        if not event_models:
            continue
        ids = [str(pk) for pk in rows.values_list("pk", flat=True)]
        if ids:
            total += (
                pghistory.models.Events.objects.across(*event_models)
                .filter(
                    pgh_obj_model=label,
                    pgh_obj_id__in=ids,
                    pgh_created_at__gte=since,
                    pgh_created_at__lt=until,
                )
                .count()
            )
    return total


# -- serialization ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, dict | list | int | float | str | bool) or value is None:
        return value
    return str(value)


def _columns(model: type[models.Model]) -> list[tuple[str, str]]:
    """(attribute, column name) of every stored field but secrets."""
    return [
        (field.attname, field.attname)
        for field in model._meta.concrete_fields
        if not SECRET_FIELD.search(field.name) and field.name not in HIDDEN_FIELDS
    ]


def _rows(queryset: QuerySet[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    columns = _columns(queryset.model)
    rows = [
        {name: _plain(getattr(row, attname)) for attname, name in columns}
        for row in queryset.iterator()
    ]
    return [name for _, name in columns], rows


def _csv(header: list[str], rows: Iterable[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                spreadsheet_safe(
                    json.dumps(row[name]) if isinstance(row[name], dict | list) else row[name]
                )
                for name in header
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _record_file_name(label: str) -> str:
    app, model = label.split(".")
    return f"{app}_{model.lower()}"


def audit_events_for(querysets: dict[str, QuerySet[Any]]) -> list[Any]:
    """Every audit event of the rows in ``querysets``, oldest first."""
    events: list[Any] = []
    for label, rows in querysets.items():
        model = apps.get_model(label)
        event_models = list(getattr(model, "pgh_event_models", {}).values())
        if not event_models:
            continue
        ids = [str(pk) for pk in rows.values_list("pk", flat=True)]
        if not ids:
            continue
        events.extend(
            pghistory.models.Events.objects.across(*event_models).filter(
                pgh_obj_model=label, pgh_obj_id__in=ids
            )
        )
    return sorted(events, key=lambda event: (event.pgh_created_at, str(event.pgh_id)))


def _audit_rows(events: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        entry = entry_from_event(event)
        rows.append(
            {
                "when_utc": entry.at.isoformat(),
                "who": entry.who,
                "client": entry.client,
                "action": entry.action,
                "record_type": str(event.pgh_obj_model),
                "record_id": entry.object_id,
                "reason": entry.reason,
                "request_id": entry.request_id,
                "changes": [
                    {"field": change.field, "old": _plain(change.old), "new": _plain(change.new)}
                    for change in entry.changes
                ],
            }
        )
    return rows


def _stored_file_ids(querysets: dict[str, QuerySet[Any]]) -> set[int]:
    ids: set[int] = set()
    for label, rows in querysets.items():
        model = apps.get_model(label)
        for field in model._meta.concrete_fields:
            if getattr(field, "related_model", None) is StoredFile:
                ids.update(
                    pk for pk in rows.values_list(field.attname, flat=True) if pk is not None
                )
    return ids


@dataclass(frozen=True)
class PackageFile:
    path: str
    size_bytes: int
    sha256: str
    description: str


@dataclass(frozen=True)
class Package:
    content: bytes
    files: tuple[PackageFile, ...]
    record_counts: dict[str, int]
    audit_events: int


def build_package(*, study: Study, archived_by: str, reason: str) -> Package:
    """The archive ZIP of ``study`` as bytes (see the module docstring for its layout)."""
    querysets = study_querysets(study)
    entries: list[tuple[str, bytes, str]] = []
    counts: dict[str, int] = {}
    for label, rows in querysets.items():
        header, data = _rows(rows)
        counts[label] = len(data)
        name = _record_file_name(label)
        entries.append((f"records/{name}.csv", _csv(header, data), f"{label} rows (CSV)"))
        entries.append((f"records/{name}.json", _json(data), f"{label} rows (JSON)"))
    batches = apps.get_model("labnotes", "RandomizationBatch")
    for batch in batches._default_manager.filter(run__study=study).select_related("run"):
        header, data = _rows(batches._default_manager.filter(pk=batch.pk))
        entries.append(
            (
                f"randomizations/{_SAFE_NAME.sub('_', batch.run.code)}-batch-{batch.pk}.json",
                _json(data[0]),
                f"Randomization batch {batch.pk} of run {batch.run.code}",
            )
        )
    events = audit_events_for(querysets)
    audit = _audit_rows(events)
    audit_header = list(audit[0].keys()) if audit else ["when_utc"]
    entries.append(("audit_trail.csv", _csv(audit_header, audit), "Audit trail (CSV)"))
    entries.append(("audit_trail.json", _json(audit), "Audit trail (JSON)"))
    for stored in StoredFile.objects.filter(pk__in=_stored_file_ids(querysets)).order_by("pk"):
        try:
            content = read_file(stored)
        except StoredFileCorrupted as error:
            raise PackageError(str(error)) from error
        name = _SAFE_NAME.sub("_", stored.original_filename)[:100]
        entries.append(
            (f"files/{stored.sha256[:16]}-{name}", content, f"Stored file {stored.pk}: {name}")
        )
    package_files = [
        PackageFile(path, len(content), hashlib.sha256(content).hexdigest(), description)
        for path, content, description in entries
    ]
    archived_at = timezone.now().isoformat()
    manifest = {
        "study": {"code": study.code, "title": study.title, "id": study.pk},
        "archived_by": archived_by,
        "archived_at_utc": archived_at,
        "reason": reason,
        "record_counts": counts,
        "audit_events": len(events),
        "files": [item.__dict__ for item in package_files],
    }
    manifest_bytes = _json(manifest)
    index_bytes = _index_html(study, archived_by, archived_at, reason, counts, package_files)
    entries.append(("manifest.json", manifest_bytes, "Manifest"))
    entries.append(("index.html", index_bytes, "Index"))
    sums = "".join(
        f"{hashlib.sha256(content).hexdigest()}  {path}\n" for path, content, _ in entries
    ).encode("ascii")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content, _ in [*entries, ("SHA256SUMS", sums, "Checksums")]:
            archive.writestr(path, content)
    all_files = tuple(
        PackageFile(path, len(content), hashlib.sha256(content).hexdigest(), description)
        for path, content, description in [*entries, ("SHA256SUMS", sums, "Checksums")]
    )
    return Package(buffer.getvalue(), all_files, counts, len(events))


def _index_html(
    study: Study,
    archived_by: str,
    archived_at: str,
    reason: str,
    counts: dict[str, int],
    files: list[PackageFile],
) -> bytes:
    escape = html.escape
    count_rows = "".join(
        f"<tr><th scope='row'>{escape(label)}</th><td class='num'>{count}</td></tr>"
        for label, count in counts.items()
    )
    file_rows = "".join(
        f"<tr><td><a href='{escape(item.path)}'>{escape(item.path)}</a></td>"
        f"<td>{escape(item.description)}</td><td class='num'>{item.size_bytes}</td>"
        f"<td><code>{item.sha256}</code></td></tr>"
        for item in files
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Archive of study {escape(study.code)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:.2em .5em;text-align:left}}.num{{text-align:right}}
code{{font-size:.8em}}</style></head>
<body>
<h1>Archive of study {escape(study.code)}</h1>
<p>{escape(study.title)}</p>
<dl><dt>Archived by</dt><dd>{escape(archived_by)}</dd>
<dt>Archived at (UTC)</dt><dd>{escape(archived_at)}</dd>
<dt>Reason</dt><dd>{escape(reason)}</dd></dl>
<p>Every file below is listed in <code>SHA256SUMS</code>; check the package with
<code>sha256sum -c SHA256SUMS</code> in the unpacked folder.</p>
<h2>Records</h2>
<table><thead><tr><th scope="col">Record type</th><th scope="col">Rows</th></tr></thead>
<tbody>{count_rows}</tbody></table>
<h2>Files</h2>
<table><thead><tr><th scope="col">File</th><th scope="col">Content</th>
<th scope="col">Bytes</th><th scope="col">SHA-256</th></tr></thead>
<tbody>{file_rows}</tbody></table>
</body></html>
"""
    return page.encode("utf-8")


class PackageError(Exception):
    """The package could not be built (a stored file is missing or corrupted)."""


# -- requesting and building ------------------------------------------------------------------


def _refuse_while_reports_build(study: Study) -> None:
    """A report still queued or building would write into the study after it became
    read-only (and be refused by the archive trigger): archive once it is done."""
    from labnotes.models import Report, ReportStatus

    building = Report.objects.filter(
        Q(run__study=study) | Q(study=study),
        status__in=[ReportStatus.QUEUED, ReportStatus.RUNNING],
    ).exists()
    if building:
        raise ValidationError(
            f"A report of study {study.code} is still being built: archive the study once it "
            "is done (the archived study is read-only, the report could not be saved)."
        )


def request_archive(
    *,
    study: Study,
    requested_by: User,
    reason: str,
    expected_version: int | None = None,
) -> StudyArchive:
    """Archive a completed study: it becomes read-only now and a background job builds its
    package (enqueued after commit). An archived study whose last package failed may ask again.
    """
    require_role(requested_by, study.lab, ARCHIVERS, action="archive studies")
    why = (reason or "").strip()
    if not why:
        raise ValidationError({"reason": "Say why the study is archived."})
    with transaction.atomic():
        current = Study.objects.select_for_update().get(pk=study.pk)
        if current.status == StudyStatus.ARCHIVED:
            previous = StudyArchive.objects.filter(study=current).first()
            if previous is not None and previous.status != ArchiveStatus.FAILED:
                raise ValidationError(
                    f"Study {current.code} is already archived "
                    f"(package {previous.get_status_display().lower()})."
                )
        elif current.status != StudyStatus.COMPLETED:
            raise ValidationError(
                f"Only a completed study can be archived; {current.code} is "
                f"{current.get_status_display().lower()}."
            )
        else:
            _refuse_while_reports_build(current)
            lifecycle.archive_study(
                study=current,
                changed_by=requested_by,
                expected_version=expected_version,
                reason=why,
            )
        with audited_change(reason=why, required=True):
            job = BackgroundJob.objects.create(
                lab=current.lab, kind=JobKind.STUDY_ARCHIVE, requested_by=requested_by
            )
            archive = StudyArchive.objects.create(
                study=current, job=job, requested_by=requested_by, reason=why
            )
        from labnotes.tasks import build_study_archive

        transaction.on_commit(
            lambda: build_study_archive.delay(archive.pk, requested_by_user_id=requested_by.pk)
        )
    return archive


def run_archive_job(*, archive_id: int) -> str:
    """Build one archive exactly once (claimed through its background job)."""
    archive = StudyArchive.objects.filter(pk=archive_id).select_related("study__lab").first()
    if archive is None or not job_services.claim_job(job_id=archive.job_id):
        return "skipped"
    with audited_change(reason=None, required=False):
        StudyArchive.objects.filter(pk=archive.pk).update(status=ArchiveStatus.RUNNING)
    requester = archive.requested_by
    name = requester.get_full_name() or requester.get_username()
    try:
        package = build_package(study=archive.study, archived_by=name, reason=archive.reason)
        stored = store_file(
            content=package.content,
            filename=f"{_SAFE_NAME.sub('_', archive.study.code)}-archive.zip",
            content_type="application/zip",
            stored_by=requester,
            lab=archive.study.lab,
        )
    except (PackageError, ValidationError) as error:
        text = " ".join(getattr(error, "messages", [str(error)]))
        with transaction.atomic(), audited_change(reason=None, required=False):
            StudyArchive.objects.filter(pk=archive.pk).update(
                status=ArchiveStatus.FAILED, message=text, finished_at=timezone.now()
            )
        job_services.finish_job(job_id=archive.job_id, result=None, error=text)
        return "failed"
    with transaction.atomic(), audited_change(reason=None, required=False):
        StudyArchive.objects.filter(pk=archive.pk).update(
            status=ArchiveStatus.SUCCEEDED,
            package=stored,
            file_count=len(package.files),
            finished_at=timezone.now(),
        )
    job_services.finish_job(
        job_id=archive.job_id,
        result={
            "sha256": stored.sha256,
            "size_bytes": stored.size_bytes,
            "files": len(package.files),
            "audit_events": package.audit_events,
        },
    )
    return "succeeded"
