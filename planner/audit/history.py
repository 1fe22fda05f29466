"""Reading the audit trail: per-object history and the lab-level audit search."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pghistory.models
from django.db.models import Model
from rest_framework import serializers

HIDDEN_FIELDS = frozenset({"password", "key_hash"})


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    action: str
    model: str
    object_id: str
    who: str
    client: str
    reason: str
    request_id: str
    token: str
    changes: tuple[FieldChange, ...] = field(default_factory=tuple)


def _who(context: dict[str, Any]) -> str:
    username = context.get("username")
    token = context.get("token")
    if token and username:
        return f"{token} (owner {username})"
    if username:
        return str(username)
    if context.get("client") in {"task", "command", "migration"}:
        return f"system ({context['client']})"
    return "unknown"


def entry_from_event(event: Any) -> HistoryEntry:
    context = event.pgh_context or {}
    diff = event.pgh_diff or {}
    label = event.pgh_label
    if label == "insert":
        data = event.pgh_data or {}
        changes = tuple(
            FieldChange(name, None, value)
            for name, value in sorted(data.items())
            if name not in HIDDEN_FIELDS
        )
    else:
        changes = tuple(
            FieldChange(name, values[0], values[1])
            for name, values in sorted(diff.items())
            if name not in HIDDEN_FIELDS
        )
    model_label = event.pgh_model.split(".")[-1] if event.pgh_model else ""
    return HistoryEntry(
        at=event.pgh_created_at,
        action=label,
        model=model_label,
        object_id=str(event.pgh_obj_id),
        who=_who(context),
        client=str(context.get("client", "")),
        reason=str(context.get("reason") or ""),
        request_id=str(context.get("request_id") or ""),
        token=str(context.get("token") or ""),
        changes=changes,
    )


def history_for(instance: Model) -> list[HistoryEntry]:
    """Every event of one object, oldest first."""
    events = pghistory.models.Events.objects.tracks(instance).order_by("pgh_created_at", "pgh_id")
    return [entry_from_event(event) for event in events]


class FieldChangeSerializer(serializers.Serializer[FieldChange]):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer[HistoryEntry]):
    at = serializers.DateTimeField()
    action = serializers.CharField()
    model = serializers.CharField()
    object_id = serializers.CharField()
    who = serializers.CharField()
    client = serializers.CharField()
    reason = serializers.CharField()
    request_id = serializers.CharField()
    token = serializers.CharField()
    changes = FieldChangeSerializer(many=True)
