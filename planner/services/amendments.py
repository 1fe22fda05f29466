"""Amendments: the only way an approved design changes — numbered, dated, scoped, approved.

``changes`` (JSON) may hold::

    {"humane_endpoints": {...},                                  # the new limits
     "arms": [{"code": "B", "planned_n": 12}],
     "regimen_items": [{"id": 5, "schedule": "Q3Dx3 from day 8", "dose": "2",
                         "window_days": 1, "non_working_day_rule": "later"}],
     "procedures": [{"role": "caliper_measurement", "schedule": "Mon/Wed/Fri from day 5"}]}

A procedure is named by its ``role`` or, where the design has several of that role (sample
collection), by its ``id``.

At proposal every entry is validated and the values it replaces are recorded beside the new
ones (``"previous": {...}``), so the amendment states what changed even after it is applied.
Changes to endpoints, animal numbers or procedures need the ethics committee's amendment
number. Approval (study director) applies the changes and, in the same transaction, calls the
registered approval listeners: labnotes registers one that regenerates the runs' tasks from the
effective date on (:func:`planned_changes` computes which occurrences change); the planner never
imports labnotes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from planner.audit import audited_change
from planner.domain.amendment_effect import OccurrenceChanges, occurrence_changes
from planner.domain.errors import DomainError
from planner.domain.schedule_notation import expand_schedule, parse_schedule
from planner.models import (
    Amendment,
    AmendmentScope,
    AmendmentStatus,
    Arm,
    RegimenItem,
    Role,
    Study,
    StudyProcedure,
    StudyStatus,
)
from planner.services.design import check_regimen_item
from planner.services.ethics import validated_endpoint_limits
from planner.services.permissions import EDITORS, require_role

AMENDABLE = (StudyStatus.APPROVED, StudyStatus.ACTIVE)
REGIMEN_FIELDS = ("schedule", "dose", "window_days", "non_working_day_rule")
PROCEDURE_FIELDS = ("schedule", "window_days", "non_working_day_rule")

#: Called with the approved (applied) amendment and its approver, inside the approval's
#: transaction and audit context: an error refuses the approval and writes nothing.
ApprovalListener = Callable[[Amendment, User], None]
_APPROVAL_LISTENERS: list[ApprovalListener] = []


def register_approval_listener(listener: ApprovalListener) -> None:
    """Register ``listener`` for approved amendments (once; a second registration is ignored)."""
    if listener not in _APPROVAL_LISTENERS:
        _APPROVAL_LISTENERS.append(listener)


def _schedule(value: Any, where: str, errors: dict[str, list[str]]) -> str | None:
    try:
        return parse_schedule(str(value)).notation
    except DomainError as error:
        errors.setdefault(where, []).append(error.message)
        return None


def _normalized_changes(study: Study, changes: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The validated changes with their previous values; and whether ethics must be told."""
    errors: dict[str, list[str]] = {}
    result: dict[str, Any] = {}
    needs_ethics = False
    unknown = set(changes) - {"humane_endpoints", "arms", "regimen_items", "procedures"}
    for key in unknown:
        errors[f"changes.{key}"] = ["An amendment cannot change this."]
    if "humane_endpoints" in changes:
        try:
            limits = validated_endpoint_limits(changes["humane_endpoints"])
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors[f"changes.humane_endpoints.{field}"] = messages
        else:
            result["humane_endpoints"] = {"new": limits, "previous": study.humane_endpoints}
            needs_ethics = True
    arms = {arm.code: arm for arm in study.arms.all()}
    for index, entry in enumerate(changes.get("arms") or []):
        where = f"changes.arms[{index}]"
        arm = arms.get(str(entry.get("code", "")))
        if arm is None:
            errors[where] = [f"'{entry.get('code')}' is not an arm code of this design."]
            continue
        try:
            planned_n = int(entry["planned_n"])
        except (KeyError, TypeError, ValueError):
            errors[where] = ["Give the new planned n."]
            continue
        if planned_n < 1:
            errors[where] = ["An arm needs at least one animal."]
            continue
        result.setdefault("arms", []).append(
            {"code": arm.code, "planned_n": planned_n, "previous": {"planned_n": arm.planned_n}}
        )
        needs_ethics = True
    items = {item.pk: item for item in RegimenItem.objects.filter(arm__study=study)}
    for index, entry in enumerate(changes.get("regimen_items") or []):
        where = f"changes.regimen_items[{index}]"
        item = items.get(entry.get("id"))
        if item is None:
            errors[where] = [f"{entry.get('id')!r} is not a regimen item of this design."]
            continue
        new = {key: entry[key] for key in REGIMEN_FIELDS if key in entry}
        if not new:
            errors[where] = [f"Change at least one of: {', '.join(REGIMEN_FIELDS)}."]
            continue
        try:
            dose = Decimal(str(new.get("dose", item.dose)))
        except InvalidOperation:
            errors[f"{where}.dose"] = ["Give the dose as a number."]
            continue
        try:
            schedule = check_regimen_item(
                study=study,
                protocol_version=item.protocol_version,
                dose=dose,
                dose_basis=item.dose_basis,
                route=item.route,
                schedule=str(new.get("schedule", item.schedule)),
                is_vehicle=item.is_vehicle,
                non_working_day_rule=str(
                    new.get("non_working_day_rule", item.non_working_day_rule)
                ),
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors[f"{where}.{field}"] = messages
            continue
        if "schedule" in new:
            new["schedule"] = schedule
        if "dose" in new:
            new["dose"] = str(dose)
        previous = {
            key: str(getattr(item, key)) if key == "dose" else getattr(item, key) for key in new
        }
        result.setdefault("regimen_items", []).append({"id": item.pk, **new, "previous": previous})
    procedures = list(study.procedures.all())
    for index, entry in enumerate(changes.get("procedures") or []):
        where = f"changes.procedures[{index}]"
        procedure, problem = _procedure_for(procedures, entry)
        if procedure is None:
            errors[where] = [problem]
            continue
        new = {key: entry[key] for key in PROCEDURE_FIELDS if key in entry}
        if "schedule" in new:
            new["schedule"] = _schedule(new["schedule"], f"{where}.schedule", errors)
        result.setdefault("procedures", []).append(
            {
                "id": procedure.pk,
                "role": procedure.role,
                **new,
                "previous": {key: getattr(procedure, key) for key in new},
            }
        )
        needs_ethics = True
    if not result and not errors:
        errors["changes"] = ["The amendment changes nothing."]
    if errors:
        raise ValidationError(errors)
    return result, needs_ethics


def _procedure_for(
    procedures: list[StudyProcedure], entry: Mapping[str, Any]
) -> tuple[StudyProcedure | None, str]:
    """The procedure an amendment entry names: by ``id``, or by ``role`` where that is unique
    (a design may have several sample-collection procedures)."""
    if entry.get("id") is not None:
        found = next((p for p in procedures if str(p.pk) == str(entry["id"])), None)
        return found, f"{entry['id']!r} is not a procedure of this design."
    role = str(entry.get("role", ""))
    matching = [p for p in procedures if p.role == role]
    if len(matching) > 1:
        return None, (
            f"The design has {len(matching)} '{role}' procedures; name the one to change by its id."
        )
    return (matching[0] if matching else None), f"The design has no '{role}' procedure."


def propose_amendment(
    *,
    study: Study,
    reason: str,
    effective_date: dt.date,
    scope: str,
    changes: Mapping[str, Any],
    proposed_by: User,
    ethics_amendment_reference: str = "",
) -> Amendment:
    """Propose a numbered amendment to an approved or active design."""
    require_role(proposed_by, study.lab, EDITORS, action="propose amendments")
    if study.status not in AMENDABLE:
        raise ValidationError(
            "Only an approved or active design is amended; edit a draft directly."
        )
    if not reason.strip():
        raise ValidationError({"reason": "Say why the design changes."})
    if scope not in AmendmentScope.values:
        raise ValidationError({"scope": f"'{scope}' is not a scope (runs, arms or animals)."})
    normalized, needs_ethics = _normalized_changes(study, changes)
    if needs_ethics and not ethics_amendment_reference.strip():
        raise ValidationError(
            {
                "ethics_amendment_reference": (
                    "Changing endpoints, animal numbers or procedures needs the ethics "
                    "committee's amendment number."
                )
            }
        )
    with transaction.atomic(), audited_change(reason=reason, required=True):
        Study.objects.select_for_update().get(pk=study.pk)
        number = (study.amendments.aggregate(top=Max("number"))["top"] or 0) + 1
        amendment = Amendment(
            study=study,
            number=number,
            reason=reason.strip(),
            effective_date=effective_date,
            scope=scope,
            ethics_amendment_reference=ethics_amendment_reference.strip(),
            changes=normalized,
            proposed_by=proposed_by,
        )
        amendment.full_clean()
        amendment.save()
    return amendment


def approve_amendment(*, amendment: Amendment, approved_by: User) -> Amendment:
    """Approve (study director) and apply an amendment to the design."""
    study = amendment.study
    require_role(approved_by, study.lab, (Role.STUDY_DIRECTOR,), action="approve amendments")
    with transaction.atomic():
        current = Amendment.objects.select_for_update().get(pk=amendment.pk)
        if current.status != AmendmentStatus.PROPOSED:
            raise ValidationError(f"Amendment {current.number} was already {current.status}.")
        locked = Study.objects.select_for_update().get(pk=study.pk)
        if locked.status not in AMENDABLE:
            raise ValidationError("The study is no longer approved or active.")
        reason = f"amendment {current.number}: {current.reason}"
        with audited_change(reason=reason, required=True):
            _apply(locked, current.changes, current.ethics_amendment_reference)
            Amendment.objects.filter(pk=current.pk).update(
                status=AmendmentStatus.APPROVED,
                decided_by=approved_by,
                decided_at=timezone.now(),
            )
            current.refresh_from_db()
            for listener in _APPROVAL_LISTENERS:
                listener(current, approved_by)
    return current


def _apply(study: Study, changes: Mapping[str, Any], ethics_reference: str) -> None:
    if "humane_endpoints" in changes:
        Study.objects.filter(pk=study.pk).update(
            humane_endpoints=changes["humane_endpoints"]["new"],
            ethics_amendment_reference=ethics_reference or study.ethics_amendment_reference,
            row_version=F("row_version") + 1,
        )
    for entry in changes.get("arms", []):
        Arm.objects.filter(study=study, code=entry["code"]).update(
            planned_n=entry["planned_n"], row_version=F("row_version") + 1
        )
    for entry in changes.get("regimen_items", []):
        values = {key: entry[key] for key in REGIMEN_FIELDS if key in entry}
        RegimenItem.objects.filter(arm__study=study, pk=entry["id"]).update(
            row_version=F("row_version") + 1, **values
        )
    for entry in changes.get("procedures", []):
        values = {key: entry[key] for key in PROCEDURE_FIELDS if key in entry}
        # Amendments proposed before procedures carried an id name the role (then unique).
        target = {"pk": entry["id"]} if "id" in entry else {"role": entry["role"]}
        StudyProcedure.objects.filter(study=study, **target).update(**values)


def reject_amendment(*, amendment: Amendment, rejected_by: User, reason: str | None) -> Amendment:
    """Reject a proposed amendment (study director); the design stays as it was."""
    require_role(
        rejected_by, amendment.study.lab, (Role.STUDY_DIRECTOR,), action="reject amendments"
    )
    with transaction.atomic(), audited_change(reason=reason, required=True):
        updated = Amendment.objects.filter(pk=amendment.pk, status=AmendmentStatus.PROPOSED).update(
            status=AmendmentStatus.REJECTED, decided_by=rejected_by, decided_at=timezone.now()
        )
        if not updated:
            raise ValidationError(f"Amendment {amendment.number} is not awaiting a decision.")
    amendment.refresh_from_db()
    return amendment


def planned_changes(
    *,
    amendment: Amendment,
    day0: dt.date,
    last_study_day: int,
    randomization_day: int | None = None,
) -> dict[str, OccurrenceChanges]:
    """For a run with day 0 ``day0``: each rescheduled item's occurrences that the amendment
    cancels or adds (only on or after its effective date), keyed ``regimen_item:<id>`` or
    ``procedure:<id>`` (``procedure:<role>`` for amendments stored before procedures carried
    an id). The runs regenerate exactly these tasks."""
    result: dict[str, OccurrenceChanges] = {}
    entries = [(f"regimen_item:{e['id']}", e) for e in amendment.changes.get("regimen_items", [])]
    entries += [
        (f"procedure:{e['id']}" if "id" in e else f"procedure:{e['role']}", e)
        for e in amendment.changes.get("procedures", [])
    ]
    for key, entry in entries:
        if "schedule" not in entry:
            continue
        old, new = (
            expand_schedule(
                schedule,
                day0=day0,
                randomization_day=randomization_day,
                last_study_day=last_study_day,
            )
            for schedule in (entry["previous"]["schedule"], entry["schedule"])
        )
        result[key] = occurrence_changes(old, new, effective_date=amendment.effective_date)
    return result
