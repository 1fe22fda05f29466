"""Locking a run's data, unlocking it (study director and QA, each with a reason), and what
changed after a lock.

The refusal of writes to a locked run lives in PostgreSQL (``vivolog_refuse_locked_run``,
migration ``labnotes.0013``); these services only write the lock rows and turn the trigger's
refusal into a message (``locked_run_message``, ``DatabaseRefusal.readable``). Pages wrap a
write in :func:`refusals_as_errors` so that a refusal (lock or archive) comes back as a form
error on the page instead of the middleware's bare 423 page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, models, transaction
from django.db.models.functions import Now
from django.http import HttpRequest

from labnotes.models import RunLock, StudyRun
from labnotes.models.locks import LOCKED_SQLSTATE, LOCKED_TABLES
from planner.audit import audited_change
from planner.models import Membership, Role, SecurityEventKind
from planner.services.security import record_security_event
from planner.services.signatures import printed_name

#: How a locked table's event rows reach the run (a lookup on the event model).
_RUN_LOOKUP = {
    "run": "run_id",
    "animal": "animal__run_id",
    "tumour": "tumour__animal__run_id",
    "observation": "observation__animal__run_id",
    "dose": "dose__run_id",
    "plate": "plate__run_id",
    "panel": "panel__run_id",
    "acquisition": "acquisition__panel__run_id",
}


def active_lock(run: StudyRun) -> RunLock | None:
    return RunLock.objects.filter(run=run, released_at__isnull=True).first()


def _role(user: User, run: StudyRun) -> str | None:
    membership = Membership.objects.filter(user=user, lab_id=run.study.lab_id).first()
    return membership.role if membership else None


def lock_run(
    *, run: StudyRun, by: User, reason: str, request: HttpRequest | None = None
) -> RunLock:
    """Lock ``run``'s data. Only a study director of the run's lab; a reason is required;
    refused while the run is already locked."""
    if _role(by, run) != Role.STUDY_DIRECTOR:
        raise PermissionDenied("Only a study director may lock a run's data.")
    cleaned = (reason or "").strip()
    if not cleaned:
        raise ValidationError({"reason": "A reason is required to lock the run's data."})
    with transaction.atomic(), audited_change(reason=f"run locked: {cleaned}"):
        StudyRun.objects.select_for_update().get(pk=run.pk)
        if active_lock(run) is not None:
            raise ValidationError({"run": f"Run {run} is already locked."})
        lock = RunLock(run=run, reason=cleaned, locked_by=by, locked_by_name=printed_name(by))
        lock.full_clean(exclude=["locked_at"])
        try:
            with transaction.atomic():
                lock.save()
        except IntegrityError:
            raise ValidationError({"run": f"Run {run} is already locked."}) from None
        lock.refresh_from_db(fields=["locked_at"])
        record_security_event(
            kind=SecurityEventKind.RUN_LOCKED,
            user=by,
            request=request,
            detail={"run": run.pk, "lock": lock.pk, "reason": cleaned},
        )
    return lock


def release_run_lock(
    *, lock: RunLock, by: User, reason: str, request: HttpRequest | None = None
) -> RunLock:
    """One of the two unlock steps: the study director's or QA's (by ``by``'s role), each with
    a reason, by two different people, in either order. The second step releases the lock.

    Refused for anyone else, without a reason, for a step already done, or for a lock
    already released.
    """
    run = lock.run
    role = _role(by, run)
    if role not in (Role.STUDY_DIRECTOR, Role.QA):
        raise PermissionDenied("Only the study director and QA may unlock a run's data.")
    cleaned = (reason or "").strip()
    if not cleaned:
        raise ValidationError({"reason": "A reason is required to unlock the run's data."})
    step = "director" if role == Role.STUDY_DIRECTOR else "qa"
    with transaction.atomic(), audited_change(reason=f"run unlock ({step}): {cleaned}"):
        current = RunLock.objects.select_for_update().get(pk=lock.pk)
        if current.released_at is not None:
            raise ValidationError({"lock": "This lock was already released."})
        other = current.qa_release_by_id if step == "director" else current.director_release_by_id
        if getattr(current, f"{step}_release_by_id") is not None:
            raise ValidationError(
                {"lock": f"The {'study director' if step == 'director' else 'QA'} step of this "
                 "unlock is already done; the other person must confirm."}
            )  # fmt: skip
        if other == by.pk:
            raise ValidationError({"lock": "Unlocking needs two different people."})
        updates: dict[str, Any] = {
            f"{step}_release_by": by,
            f"{step}_release_reason": cleaned,
            f"{step}_release_at": Now(),
        }
        if other is not None:
            updates["released_at"] = Now()
        RunLock.objects.filter(pk=current.pk).update(**updates)
        current.refresh_from_db()
        released = current.released_at is not None
        record_security_event(
            kind=SecurityEventKind.RUN_UNLOCKED if released else SecurityEventKind.RUN_UNLOCK_STEP,
            user=by,
            request=request,
            detail={"run": run.pk, "lock": current.pk, "step": step, "reason": cleaned},
        )
    return current


ARCHIVED_SQLSTATE = "VL410"
"""Raised by ``vivolog_refuse_archived_study`` (migration 0014) on a write to an archived study."""


_LOCK_MESSAGE = re.compile(
    r"^run (?P<study>.+?) / (?P<run>.+?) is locked since (?P<since>.+?) by (?P<who>.+?) "
    r"\(reason: (?P<reason>.*)\): \w+ on \w+ refused$",
    re.DOTALL,
)
_ARCHIVE_MESSAGE = re.compile(r"^Study (?P<study>.+?) is archived: ", re.DOTALL)


@dataclass(frozen=True)
class DatabaseRefusal:
    """A write the database refused on purpose (run locked, study archived), for people."""

    title: str
    message: str

    @property
    def readable(self) -> str:
        """The refusal as a sentence for the person who submitted a form: who locked the run,
        since when and why, and who can unlock it; or that the study is archived."""
        locked = _LOCK_MESSAGE.match(self.message)
        if locked is not None:
            return (
                f"Run {locked['run']} of study {locked['study']} is locked by {locked['who']} "
                f"since {locked['since']} for: {locked['reason']}. Nothing was saved; "
                "unlocking needs the study director and QA."
            )
        archived = _ARCHIVE_MESSAGE.match(self.message)
        if archived is not None:
            return (
                f"Study {archived['study']} is archived: read-only. Nothing was saved; its "
                "archive package holds the records."
            )
        return self.message


class WriteRefused(ValidationError):
    """A write to a locked run or an archived study, refused (see :func:`refusals_as_errors`)."""


@contextmanager
def refusals_as_errors(*, savepoint: bool = True) -> Iterator[None]:
    """Run the enclosed write in a savepoint and turn the database's refusal of it (run locked,
    study archived: the triggers stay the real guarantee) into a :class:`WriteRefused`
    validation error with the readable message, so a page shows it as a form error.

    The savepoint is rolled back first, so nothing of the write remains and the request's
    connection can still render the page. ``savepoint=False`` is for a write that already runs
    in its own ``transaction.atomic()`` (the grid's cell save, which counts its queries)."""
    try:
        with transaction.atomic() if savepoint else nullcontext():
            yield
    except DatabaseError as error:
        refusal = database_refusal(error)
        if refusal is None:
            raise
        raise WriteRefused(refusal.readable, code="write_refused") from error


def database_refusal(error: BaseException) -> DatabaseRefusal | None:
    """The trigger's readable refusal when ``error`` (or its cause) is a lock or archive refusal."""
    titles = {LOCKED_SQLSTATE: "Run locked", ARCHIVED_SQLSTATE: "Study archived"}
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        diag = getattr(current, "diag", None)
        state = getattr(diag, "sqlstate", None) if diag is not None else None
        if diag is not None and state in titles:
            return DatabaseRefusal(titles[state], str(diag.message_primary))
        current = current.__cause__ or current.__context__
    return None


def locked_run_message(error: BaseException) -> str | None:
    """The trigger's readable refusal when ``error`` (or its cause) is a locked-run refusal."""
    refusal = database_refusal(error)
    return refusal.message if refusal is not None and refusal.title == "Run locked" else None


# -- changes made after a lock -------------------------------------------------------------


@dataclass(frozen=True)
class ChangeAfterLock:
    """One audited change to a run's data made after the run was first locked."""

    at: dt.datetime
    table: str
    object_id: str
    action: str
    who: str
    reason: str


def _model_for_table(table: str) -> type[models.Model] | None:
    for model in apps.get_models():
        if model._meta.db_table == table:
            return model
    return None


def changes_after_lock(run: StudyRun) -> list[ChangeAfterLock]:
    """Every audit event on the run's data tables after the run's first lock, oldest first.

    Only metadata (when, what record, insert/update/delete, who, why) — never values, so a
    blinded reader learns nothing about the allocation from it.
    """
    first = RunLock.objects.filter(run=run).order_by("locked_at").first()
    if first is None:
        return []
    from planner.audit.history import _who

    found: list[ChangeAfterLock] = []
    for table, via, _column in LOCKED_TABLES:
        model = _model_for_table(table)
        if model is None or not hasattr(model, "events"):
            continue
        event_model: Any = model.events.rel.related_model
        events = event_model.objects.filter(
            pgh_created_at__gt=first.locked_at, **{_RUN_LOOKUP[via]: run.pk}
        ).order_by("pgh_created_at", "pgh_id")
        for event in events:
            context = event.pgh_context or {}
            found.append(
                ChangeAfterLock(
                    at=event.pgh_created_at,
                    table=str(model._meta.verbose_name),
                    object_id=str(event.pgh_obj_id),
                    action=event.pgh_label,
                    who=_who(context),
                    reason=str(context.get("reason") or ""),
                )
            )
    found.sort(key=lambda change: (change.at, change.table, change.object_id))
    return found
