"""Ethics protocols: what the committee approved, recorded by study directors and lab admins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from planner.audit import audited_change
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import HumaneEndpoints
from planner.models import EthicsApproval, EthicsProtocol, Lab, Role, Severity
from planner.services.permissions import require_role
from planner.services.studies import StaleWrite

ETHICS_EDITORS = (Role.STUDY_DIRECTOR, Role.LAB_ADMIN)


def validated_endpoint_limits(limits: Mapping[str, Any] | None) -> dict[str, object]:
    """Humane endpoint limits checked and normalized (the science defaults fill the gaps)."""
    try:
        return HumaneEndpoints.from_dict(limits or {}).to_dict()
    except ParameterErrors as errors:
        raise ValidationError(errors.errors) from None


def _approvals(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, int]]:
    cleaned: list[tuple[str, str, int]] = []
    seen: set[tuple[str, str]] = set()
    errors: dict[str, list[str]] = {}
    for index, row in enumerate(rows):
        strain = str(row.get("strain", "")).strip()
        severity = str(row.get("severity", "")).strip()
        animals = row.get("approved_animals")
        where = f"approvals[{index}]"
        if not strain:
            errors.setdefault(f"{where}.strain", []).append("Give the strain, e.g. BALB/c.")
        if severity not in Severity.values:
            errors.setdefault(f"{where}.severity", []).append(
                f"'{severity}' is not a severity category ({', '.join(Severity.values)})."
            )
        try:
            count = int(animals)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            errors.setdefault(f"{where}.approved_animals", []).append(
                "Give the number of animals approved."
            )
            continue
        if count < 1:
            errors.setdefault(f"{where}.approved_animals", []).append("Must be at least 1.")
        if (strain, severity) in seen:
            errors.setdefault(where, []).append(f"{strain}, {severity} is listed twice.")
        seen.add((strain, severity))
        cleaned.append((strain, severity, count))
    if errors:
        raise ValidationError(errors)
    return cleaned


def create_ethics_protocol(
    *,
    lab: Lab,
    number: str,
    title: str,
    approved_on: dt.date,
    expires_on: dt.date,
    created_by: User,
    endpoint_limits: Mapping[str, Any] | None = None,
    approvals: Sequence[Mapping[str, Any]] = (),
) -> EthicsProtocol:
    """Record an approved ethics protocol with its animal numbers per strain and severity."""
    require_role(created_by, lab, ETHICS_EDITORS, action="record ethics protocols")
    errors: dict[str, list[str]] = {}
    limits: dict[str, object] = {}
    rows: list[tuple[str, str, int]] = []
    try:
        limits = validated_endpoint_limits(endpoint_limits)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        rows = _approvals(approvals)
    except ValidationError as error:
        errors.update(error.message_dict)
    if expires_on <= approved_on:
        errors["expires_on"] = ["The expiry date must be after the approval date."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audited_change(reason=None, required=False):
        if EthicsProtocol.objects.filter(lab=lab, number=number.strip()).exists():
            raise ValidationError({"number": f"Ethics protocol {number} is already recorded."})
        protocol = EthicsProtocol(
            lab=lab,
            number=number.strip(),
            title=title.strip(),
            approved_on=approved_on,
            expires_on=expires_on,
            endpoint_limits=limits,
        )
        protocol.full_clean()
        protocol.save()
        for strain, severity, count in rows:
            EthicsApproval.objects.create(
                protocol=protocol, strain=strain, severity=severity, approved_animals=count
            )
    return protocol


def update_ethics_protocol(
    *,
    protocol: EthicsProtocol,
    changed_by: User,
    expected_version: int,
    reason: str | None,
    approvals: Sequence[Mapping[str, Any]] | None = None,
    **changes: Any,
) -> EthicsProtocol:
    """Change a protocol's dates, title or limits (e.g. after a committee amendment).

    ``approvals`` (when given) replaces the animal numbers per strain and severity. Refuses a
    stale write with :class:`~planner.services.studies.StaleWrite`.
    """
    require_role(changed_by, protocol.lab, ETHICS_EDITORS, action="change ethics protocols")
    allowed = {"title", "approved_on", "expires_on", "endpoint_limits"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    if "endpoint_limits" in changes:
        changes["endpoint_limits"] = validated_endpoint_limits(changes["endpoint_limits"])
    rows = _approvals(approvals) if approvals is not None else None
    with transaction.atomic():
        current = EthicsProtocol.objects.select_for_update().get(pk=protocol.pk)
        if current.row_version != expected_version:
            raise StaleWrite(current)
        real = {k: v for k, v in changes.items() if getattr(current, k) != v}
        for name, value in real.items():
            setattr(current, name, value)
        if current.expires_on <= current.approved_on:
            raise ValidationError(
                {"expires_on": "The expiry date must be after the approval date."}
            )
        current.full_clean()
        with audited_change(reason=reason, required=True):
            if real:
                EthicsProtocol.objects.filter(pk=current.pk).update(
                    row_version=F("row_version") + 1, **real
                )
            if rows is not None:
                existing = {(a.strain, a.severity): a for a in current.approvals.all()}
                for strain, severity, count in rows:
                    approval = existing.pop((strain, severity), None)
                    if approval is None:
                        EthicsApproval.objects.create(
                            protocol=current,
                            strain=strain,
                            severity=severity,
                            approved_animals=count,
                        )
                    elif approval.approved_animals != count:
                        approval.approved_animals = count
                        approval.save(update_fields=["approved_animals"])
                for approval in existing.values():
                    approval.delete()
        current.refresh_from_db()
    return current


def is_expired(protocol: EthicsProtocol, *, on: dt.date) -> bool:
    """True when ``on`` is after the protocol's expiry date."""
    return on > protocol.expires_on
