"""The audit trail: django-pghistory triggers on every model that holds lab data.

Each event row carries a copy of the context in force at its statement: the user (or device
token and its owner), request id, client kind (web, api, admin, task, command) and the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pghistory
from django.core.exceptions import ValidationError
from django.db import models

ModelT = TypeVar("ModelT", bound=type[models.Model])


class ClientKind(models.TextChoices):
    WEB = "web", "Web page"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    TASK = "task", "Background task"
    COMMAND = "command", "Command line"
    MIGRATION = "migration", "Migration"


def audit_trail() -> Callable[[ModelT], ModelT]:
    """Class decorator: track inserts, updates and deletes of a model in an append-only table."""
    return pghistory.track(  # type: ignore[no-any-return]
        pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent()
    )


def _context_metadata() -> dict[str, Any] | None:
    tracker = pghistory.runtime._tracker
    value = getattr(tracker, "value", None)
    return value.metadata if value is not None else None


@contextmanager
def audit_context(**metadata: Any) -> Iterator[dict[str, Any]]:
    """Enter (or join) the audit context and set ``metadata`` for the statements inside.

    Keys set here are restored to their previous values on exit, so a reason given to one
    service call never leaks onto a later write in the same request.
    """
    with pghistory.context():
        current = _context_metadata()
        assert current is not None
        missing = object()
        previous = {key: current.get(key, missing) for key in metadata}
        current.update(metadata)
        try:
            yield current
        finally:
            for key, value in previous.items():
                if value is missing:
                    current.pop(key, None)
                else:
                    current[key] = value


@contextmanager
def audited_change(*, reason: str | None, required: bool = True) -> Iterator[None]:
    """Wrap a service's writes: refuse a missing reason where one is required, record it.

    GLP (21 CFR 58.130(e)) asks that every change to recorded data states why; first entries
    may omit it (``required=False``).
    """
    cleaned = (reason or "").strip()
    if required and not cleaned:
        raise ValidationError({"reason": "A reason is required for changing recorded data."})
    with audit_context(reason=cleaned or None):
        yield


def current_actor_metadata() -> dict[str, Any]:
    """The metadata of the active audit context (empty outside one)."""
    return dict(_context_metadata() or {})
