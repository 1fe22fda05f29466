"""The lab-level audit search for QA: events of a lab's records, filterable, exportable."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from typing import Any, cast

import pghistory.models
from django.apps import apps
from django.db.models import Model, Q, QuerySet

from planner.audit.history import HistoryEntry, entry_from_event
from planner.models import Lab, Study


def tracked_models() -> list[type[Model]]:
    """Every model with an audit event table, in a stable order."""
    found = []
    for model in apps.get_models():
        if hasattr(model, "pgh_event_models") and model._meta.app_label in {"planner", "labnotes"}:
            found.append(model)
    return sorted(found, key=lambda model: model._meta.label)


def event_model_labels() -> dict[str, str]:
    return {
        event._meta.label: model._meta.label
        for model in tracked_models()
        for event in cast(Any, model).pgh_event_models.values()
    }


def record_type_choices() -> list[tuple[str, str]]:
    return [
        (model._meta.label, str(model._meta.verbose_name).capitalize())
        for model in tracked_models()
    ]


def _lab_scope(lab: Lab) -> Q:
    """Events belonging to ``lab``: the lab itself, rows naming it, rows of its studies."""
    study_ids = [str(pk) for pk in Study.objects.filter(lab=lab).values_list("pk", flat=True)]
    scope = Q(pgh_obj_model="planner.Lab", pgh_obj_id=str(lab.pk)) | Q(pgh_data__lab_id=lab.pk)
    if study_ids:
        scope |= Q(pgh_data__study_id__in=[int(pk) for pk in study_ids])
    return scope


def search_audit_events(
    *,
    lab: Lab,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    username: str = "",
    record_type: str = "",
    study_code: str = "",
) -> QuerySet[Any]:
    models = tracked_models()
    if record_type:
        models = [model for model in models if model._meta.label == record_type]
    event_models = {
        event for model in models for event in cast(Any, model).pgh_event_models.values()
    }
    events: QuerySet[Any] = pghistory.models.Events.objects.across(*event_models).filter(
        _lab_scope(lab)
    )
    if date_from:
        events = events.filter(pgh_created_at__date__gte=date_from)
    if date_to:
        events = events.filter(pgh_created_at__date__lte=date_to)
    if username:
        events = events.filter(pgh_context__username=username)
    if study_code:
        study = Study.objects.filter(lab=lab, code=study_code).first()
        if study is None:
            return events.none()
        events = events.filter(
            Q(pgh_data__study_id=study.pk)
            | Q(pgh_obj_model="planner.Study", pgh_obj_id=str(study.pk))
        )
    return events.order_by("-pgh_created_at")


def entries(events: Iterable[Any]) -> list[HistoryEntry]:
    return [entry_from_event(event) for event in events]


_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """A cell value that Excel/LibreOffice will not evaluate as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def export_csv(rows: Iterable[HistoryEntry]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "when_utc",
            "who",
            "client",
            "action",
            "record_type",
            "record_id",
            "field",
            "old",
            "new",
            "reason",
            "request_id",
        ]
    )
    for entry in rows:
        changes = entry.changes or ()
        if not changes:
            writer.writerow(
                [
                    spreadsheet_safe(v)
                    for v in (
                        entry.at.isoformat(),
                        entry.who,
                        entry.client,
                        entry.action,
                        entry.model,
                        entry.object_id,
                        "",
                        "",
                        "",
                        entry.reason,
                        entry.request_id,
                    )
                ]
            )
        for change in changes:
            writer.writerow(
                [
                    spreadsheet_safe(v)
                    for v in (
                        entry.at.isoformat(),
                        entry.who,
                        entry.client,
                        entry.action,
                        entry.model,
                        entry.object_id,
                        change.field,
                        change.old,
                        change.new,
                        entry.reason,
                        entry.request_id,
                    )
                ]
            )
    return buffer.getvalue()
