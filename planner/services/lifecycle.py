"""Study status transitions: draft → approved → active → completed → archived.

Approval is the study director's sign-off: it fixes the design, the survival definition and
the analysis plan, so every rule that protects the animals or the analysis is checked here and
all problems are reported at once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from planner.audit import audited_change
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import HumaneEndpoints, endpoint_limits_loosened
from planner.domain.schedule_notation import parse_schedule
from planner.domain.study_plan import parse_analysis_plan, parse_survival_definition
from planner.models import ProtocolVersion, Role, Study, StudyStatus
from planner.services.design import default_plans
from planner.services.permissions import require_role
from planner.services.studies import StaleWrite

APPROVERS = (Role.STUDY_DIRECTOR,)
RUNNERS = (Role.STUDY_DIRECTOR, Role.LAB_ADMIN)


def _lab_today(study: Study) -> dt.date:
    return study.lab.local_date(timezone.now())


def _locked(study: Study, expected_version: int | None, status: str, action: str) -> Study:
    current = (
        Study.objects.select_for_update(of=("self",))
        .select_related("lab", "ethics_protocol")
        .get(pk=study.pk)
    )
    if expected_version is not None and current.row_version != expected_version:
        raise StaleWrite(current)
    if current.status != status:
        raise ValidationError(
            f"Only a {StudyStatus(status).label.lower()} design can be {action}; this one is "
            f"{current.get_status_display().lower()}."
        )
    return current


def approval_problems(study: Study, *, today: dt.date) -> list[str]:
    """Everything that stops ``study`` from being approved, as sentences (empty: approvable)."""
    problems: list[str] = []
    arms = list(study.arms.prefetch_related("regimen_items__protocol_version__template"))
    if len(arms) < 2:
        problems.append("A design needs at least two arms (a control and a treatment).")
    if arms and not any(arm.is_control for arm in arms):
        problems.append("Mark one arm as the control.")
    ethics = study.ethics_protocol
    if ethics is None:
        problems.append("Choose the ethics protocol the study runs under.")
    elif ethics.expires_on < today:
        problems.append(f"Ethics protocol {ethics.number} expired on {ethics.expires_on:%Y-%m-%d}.")
    versions: dict[int, ProtocolVersion] = {}
    for procedure in study.procedures.select_related("protocol_version__template"):
        versions[procedure.protocol_version_id] = procedure.protocol_version
    for arm in arms:
        for item in arm.regimen_items.all():
            versions[item.protocol_version_id] = item.protocol_version
    for version in versions.values():
        if not version.is_released:
            problems.append(f"{version} is a draft: release it, or choose a released version.")
    if ethics is not None and ethics.endpoint_limits:
        proposed = HumaneEndpoints.from_dict(study.humane_endpoints or ethics.endpoint_limits)
        loosened = endpoint_limits_loosened(
            HumaneEndpoints.from_dict(ethics.endpoint_limits), proposed
        )
        if loosened and not study.ethics_amendment_reference.strip():
            problems.append(
                f"The humane endpoints are looser than ethics protocol {ethics.number} "
                f"approved ({'; '.join(loosened)}) and no ethics amendment reference is given."
            )
    if study.blinded and len(arms) >= 2:
        problems += _unmatched_injections(arms)
    try:
        parse_survival_definition(study.survival_definition or None)
    except ParameterErrors as error:
        problems.append(f"Survival definition: {error}")
    try:
        parse_analysis_plan(study.analysis_plan or None, [arm.label for arm in arms])
    except ParameterErrors as error:
        problems.append(f"Analysis plan: {error}")
    return problems


def _unmatched_injections(arms: list) -> list[str]:  # type: ignore[type-arg]
    """Blinded designs give every arm the same injections (route and schedule), vehicles
    included, so that who gets injected when does not reveal the arm."""
    signatures: dict[str, Counter[tuple[str, str]]] = {}
    for arm in arms:
        counter: Counter[tuple[str, str]] = Counter()
        for item in arm.regimen_items.all():
            counter[(item.route, parse_schedule(item.schedule).notation)] += 1
        signatures[arm.code] = counter
    union: Counter[tuple[str, str]] = Counter()
    for counter in signatures.values():
        union |= counter
    problems = []
    for arm in arms:
        missing = union - signatures[arm.code]
        for (route, schedule), count in sorted(missing.items()):
            problems.append(
                f"Blinded design: arm {arm.label} ({arm.code}) lacks {count} {route} injection"
                f"{'s' if count > 1 else ''} on '{schedule}' that other arms get; add a matching "
                "vehicle injection so that who is injected does not reveal the arm."
            )
    return problems


def approve_study(
    *,
    study: Study,
    approved_by: User,
    expected_version: int | None = None,
    reason: str | None = None,
) -> Study:
    """Approve a draft design (study director only), fixing the survival definition and the
    analysis plan (their defaults are filled in when the design left them empty)."""
    require_role(approved_by, study.lab, APPROVERS, action="approve study designs")
    with transaction.atomic():
        current = _locked(study, expected_version, StudyStatus.DRAFT, "approved")
        if not current.survival_definition or not current.analysis_plan:
            defaults = default_plans(current)
            current.survival_definition = current.survival_definition or dict(
                defaults["survival_definition"]
            )
            current.analysis_plan = current.analysis_plan or dict(defaults["analysis_plan"])
        if not current.humane_endpoints and current.ethics_protocol is not None:
            current.humane_endpoints = dict(current.ethics_protocol.endpoint_limits)
        problems = approval_problems(current, today=_lab_today(current))
        if problems:
            raise ValidationError(problems)
        with audited_change(reason=reason or "design approved", required=True):
            Study.objects.filter(pk=current.pk).update(
                status=StudyStatus.APPROVED,
                approved_by=approved_by,
                approved_at=timezone.now(),
                survival_definition=parse_survival_definition(current.survival_definition),
                analysis_plan=parse_analysis_plan(
                    current.analysis_plan, list(current.arms.values_list("label", flat=True))
                ),
                humane_endpoints=current.humane_endpoints,
                row_version=F("row_version") + 1,
            )
        current.refresh_from_db()
    return current


def _transition(
    study: Study,
    user: User,
    *,
    source: str,
    target: str,
    verb: str,
    expected_version: int | None,
    reason: str | None,
) -> Study:
    require_role(user, study.lab, RUNNERS, action=f"mark studies {verb}")
    with transaction.atomic():
        current = _locked(study, expected_version, source, verb)
        if target == StudyStatus.ACTIVE and current.ethics_protocol is not None:
            if current.ethics_protocol.expires_on < _lab_today(current):
                raise ValidationError(
                    f"Ethics protocol {current.ethics_protocol.number} expired on "
                    f"{current.ethics_protocol.expires_on:%Y-%m-%d}: no study can start under it."
                )
        with audited_change(reason=reason or f"study {verb}", required=True):
            Study.objects.filter(pk=current.pk).update(
                status=target, row_version=F("row_version") + 1
            )
        current.refresh_from_db()
    return current


def activate_study(
    *,
    study: Study,
    changed_by: User,
    expected_version: int | None = None,
    reason: str | None = None,
) -> Study:
    """Approved → active: the first run may start."""
    return _transition(
        study,
        changed_by,
        source=StudyStatus.APPROVED,
        target=StudyStatus.ACTIVE,
        verb="activated",
        expected_version=expected_version,
        reason=reason,
    )


def complete_study(
    *,
    study: Study,
    changed_by: User,
    expected_version: int | None = None,
    reason: str | None = None,
) -> Study:
    """Active → completed: no more animals on study."""
    return _transition(
        study,
        changed_by,
        source=StudyStatus.ACTIVE,
        target=StudyStatus.COMPLETED,
        verb="completed",
        expected_version=expected_version,
        reason=reason,
    )


def archive_study(
    *,
    study: Study,
    changed_by: User,
    expected_version: int | None = None,
    reason: str | None = None,
) -> Study:
    """Completed → archived: read-only for good."""
    return _transition(
        study,
        changed_by,
        source=StudyStatus.COMPLETED,
        target=StudyStatus.ARCHIVED,
        verb="archived",
        expected_version=expected_version,
        reason=reason,
    )


TRANSITIONS: dict[str, Callable[..., Study]] = {
    "approve": approve_study,
    "activate": activate_study,
    "complete": complete_study,
    "archive": archive_study,
}
