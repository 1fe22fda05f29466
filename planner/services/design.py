"""A draft design's parts: arms (with blinded codes), satellites, regimen items, procedures.

Every write here needs a draft design and an editor (scientist, study director, lab admin);
an approved design changes only by amendment (``planner.services.amendments``).
"""

from __future__ import annotations

import math
import secrets
import string
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max

from planner.audit import audited_change
from planner.domain.errors import DomainError, ParameterErrors
from planner.domain.protocol_parameters import (
    DoseBasis,
    DosingParameters,
    ProtocolKind,
)
from planner.domain.schedule_notation import parse_schedule
from planner.domain.study_plan import (
    ArmSummary,
    default_analysis_plan,
    default_survival_definition,
)
from planner.domain.working_calendar import ShiftRule
from planner.models import (
    Arm,
    ProcedureRole,
    ProtocolVersion,
    RegimenItem,
    Role,
    SatelliteCohort,
    Study,
    StudyMember,
    StudyProcedure,
    StudyStatus,
)
from planner.services.permissions import EDITORS, require_role
from planner.services.studies import EDITABLE_FIELDS, StaleWrite, create_study

ARM_CODE_ALPHABET = string.ascii_uppercase


def _require_draft(study: Study, user: User, action: str) -> None:
    require_role(user, study.lab, EDITORS, action=action)
    status = Study.objects.values_list("status", flat=True).get(pk=study.pk)
    if status != StudyStatus.DRAFT:
        raise ValidationError(
            "Only a draft design can be changed; an approved design changes by amendment."
        )


def _sentence(message: str) -> str:
    message = message.strip()
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else f"{message}."


# -- arms -----------------------------------------------------------------------------------


def _random_unused_code(study: Study) -> str:
    used = set(Arm.objects.filter(study=study).values_list("code", flat=True))
    free = [letter for letter in ARM_CODE_ALPHABET if letter not in used]
    if not free:
        raise ValidationError("A design has at most 26 arms.")
    return secrets.choice(free)


def add_arm(
    *,
    study: Study,
    label: str,
    planned_n: int,
    created_by: User,
    is_control: bool = False,
) -> Arm:
    """Add an arm with a blinded code drawn at random from the unused letters A to Z.

    Drawn at random, so a code never tells the order arms were entered in (the control is
    not always "A").
    """
    _require_draft(study, created_by, "edit study designs")
    label = label.strip()
    with transaction.atomic(), audited_change(reason=None, required=False):
        Study.objects.select_for_update().get(pk=study.pk)
        if Arm.objects.filter(study=study, label=label).exists():
            raise ValidationError({"label": f"The design already has an arm '{label}'."})
        order = (Arm.objects.filter(study=study).aggregate(top=Max("order"))["top"] or 0) + 1
        arm = Arm(
            study=study,
            label=label,
            code=_random_unused_code(study),
            planned_n=planned_n,
            is_control=is_control,
            order=order,
        )
        arm.full_clean()
        arm.save()
    return arm


def update_arm(
    *,
    arm: Arm,
    changed_by: User,
    expected_version: int,
    reason: str | None,
    **changes: Any,
) -> Arm:
    """Change a draft's arm: label, planned n or control flag (a reason is required).

    Refuses a stale write with :class:`~planner.services.studies.StaleWrite`
    (``expected_version`` is the arm's ``row_version`` the writer read); the blinded code
    never changes here.
    """
    _require_draft(arm.study, changed_by, "edit study designs")
    unknown = set(changes) - {"label", "planned_n", "is_control"}
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    if isinstance(changes.get("label"), str):
        changes["label"] = changes["label"].strip()
    with transaction.atomic():
        current = Arm.objects.select_for_update().get(pk=arm.pk)
        if current.row_version != expected_version:
            raise StaleWrite(current)
        real = {k: v for k, v in changes.items() if getattr(current, k) != v}
        if not real:
            return current
        if (
            "label" in real
            and Arm.objects.filter(study_id=current.study_id, label=real["label"])
            .exclude(pk=current.pk)
            .exists()
        ):
            raise ValidationError({"label": f"The design already has an arm '{real['label']}'."})
        for name, value in real.items():
            setattr(current, name, value)
        current.full_clean()
        with audited_change(reason=reason, required=True):
            Arm.objects.filter(pk=current.pk).update(row_version=F("row_version") + 1, **real)
        current.refresh_from_db()
    return current


def remove_arm(*, arm: Arm, removed_by: User, reason: str | None) -> None:
    """Remove a draft's arm with its regimen and satellites (kept in the audit trail)."""
    _require_draft(arm.study, removed_by, "edit study designs")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        RegimenItem.objects.filter(arm=arm).delete()
        SatelliteCohort.objects.filter(arm=arm).delete()
        arm.delete()


def shuffle_arm_codes(*, study: Study, changed_by: User, reason: str | None) -> None:
    """Give every arm a fresh random code (A, B, C … in random order)."""
    _require_draft(study, changed_by, "edit study designs")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        arms = list(Arm.objects.select_for_update().filter(study=study))
        codes = list(ARM_CODE_ALPHABET[: len(arms)])
        secrets.SystemRandom().shuffle(codes)
        # Two steps: the unique (study, code) constraint holds after every statement.
        for arm in arms:
            Arm.objects.filter(pk=arm.pk).update(code=f"~{arm.pk}")
        for arm, code in zip(arms, codes, strict=True):
            Arm.objects.filter(pk=arm.pk).update(code=code, row_version=F("row_version") + 1)


# -- satellites -----------------------------------------------------------------------------


def add_satellite(
    *,
    arm: Arm,
    n: int,
    created_by: User,
    takedown_study_day: int | None = None,
    purpose: str = "",
) -> SatelliteCohort:
    """A satellite sub-cohort: animals taken down early for samples, not in efficacy analyses."""
    _require_draft(arm.study, created_by, "edit study designs")
    if n < 1:
        raise ValidationError({"n": "A satellite has at least one animal."})
    with transaction.atomic(), audited_change(reason=None, required=False):
        satellite = SatelliteCohort(
            arm=arm, n=n, takedown_study_day=takedown_study_day, purpose=purpose
        )
        satellite.full_clean()
        satellite.save()
    return satellite


def remove_satellite(*, satellite: SatelliteCohort, removed_by: User, reason: str | None) -> None:
    _require_draft(satellite.arm.study, removed_by, "edit study designs")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        satellite.delete()


# -- regimen items --------------------------------------------------------------------------


def _usable_version(version: ProtocolVersion, study: Study, kind: str, field: str) -> None:
    template = version.template
    if template.lab_id != study.lab_id:
        raise ValidationError({field: "Choose a protocol from this lab's library."})
    if template.kind != kind:
        raise ValidationError(
            {field: f"{version} is a {template.get_kind_display()} protocol, not {kind}."}
        )
    if template.retired_at is not None and not version.is_released:
        raise ValidationError({field: f"{template.name} is retired."})


def check_regimen_item(
    *,
    study: Study,
    protocol_version: ProtocolVersion,
    dose: Decimal,
    dose_basis: str,
    route: str,
    schedule: str,
    is_vehicle: bool,
    non_working_day_rule: str = ShiftRule.EARLIER.value,
) -> str:
    """Check an item against its dosing protocol version; returns the normalized schedule.

    The dose basis and route must be the protocol's; the schedule must parse; the volume the
    dose needs at the protocol's concentration must stay within the route's volume limit and
    match the protocol's volume. A vehicle injection has dose 0 and the protocol's volume.
    """
    _usable_version(protocol_version, study, ProtocolKind.DOSING.value, "protocol_version")
    try:
        parameters = DosingParameters.from_dict(protocol_version.parameters)
    except ParameterErrors as error:
        raise ValidationError(
            {"protocol_version": f"{protocol_version} has invalid parameters: {error}"}
        ) from None
    errors: dict[str, list[str]] = {}
    if dose_basis != parameters.dose_basis.value:
        errors["dose_basis"] = [
            f"{protocol_version} doses {parameters.dose_basis.value}, not {dose_basis}; choose "
            "the protocol's basis or another protocol."
        ]
    if route != parameters.route.value:
        errors["route"] = [
            f"{protocol_version} is given {parameters.route.value}, not {route}; choose the "
            "protocol's route or another protocol."
        ]
    if non_working_day_rule not in ShiftRule.__members__.values():
        errors["non_working_day_rule"] = [f"'{non_working_day_rule}' is not a rule."]
    normalized = schedule
    try:
        normalized = parse_schedule(schedule).notation
    except DomainError as error:
        errors["schedule"] = [_sentence(error.message)]
    try:
        dose_value = float(Decimal(dose))
    except (InvalidOperation, TypeError, ValueError):
        errors["dose"] = ["Give the dose as a number."]
        dose_value = math.nan
    if is_vehicle and dose_value not in (0.0,) and not math.isnan(dose_value):
        errors["dose"] = ["A vehicle injection carries no agent: its dose is 0."]
    elif not is_vehicle and dose_value == 0:
        errors["dose"] = ["Give the dose (tick 'vehicle' for a matching vehicle injection)."]
    concentration = parameters.concentration_mg_per_ml
    if not errors and not is_vehicle and concentration > 0:
        _check_volume(parameters, dose_value, errors)
    if errors:
        raise ValidationError(errors)
    return normalized


def _check_volume(parameters: DosingParameters, dose: float, errors: dict[str, list[str]]) -> None:
    concentration = parameters.concentration_mg_per_ml
    limit = parameters.volume_limit_ml_per_kg
    route = parameters.route.value
    if DoseBasis(parameters.dose_basis).is_per_kg:
        ml_per_kg = dose / concentration
        if limit is not None and ml_per_kg > limit:
            errors["dose"] = [
                f"{dose:g} mg/kg at {concentration:g} mg/mL needs {ml_per_kg:.3g} mL/kg, above the "
                f"{route} limit of {limit:g} mL/kg."
            ]
        elif parameters.volume_ml_per_kg is not None and not math.isclose(
            ml_per_kg, parameters.volume_ml_per_kg, rel_tol=1e-3
        ):
            errors["dose"] = [
                f"At {concentration:g} mg/mL the protocol's {parameters.volume_ml_per_kg:g} mL/kg "
                f"deliver {concentration * parameters.volume_ml_per_kg:g} mg/kg, not {dose:g}; "
                "change the dose or use a protocol version with another concentration."
            ]
        return
    volume_ul = dose / concentration  # µg ÷ mg/mL = µL
    per_kg = volume_ul / parameters.reference_body_weight_g
    if limit is not None and per_kg > limit:
        errors["dose"] = [
            f"{dose:g} µg at {concentration:g} mg/mL needs {volume_ul:.3g} µL, "
            f"{per_kg:.3g} mL/kg for a {parameters.reference_body_weight_g:g} g mouse: above "
            f"the {route} limit of {limit:g} mL/kg."
        ]
    elif parameters.volume_ul is not None and not math.isclose(
        volume_ul, parameters.volume_ul, rel_tol=1e-3
    ):
        errors["dose"] = [
            f"At {concentration:g} mg/mL the protocol's {parameters.volume_ul:g} µL deliver "
            f"{concentration * parameters.volume_ul:g} µg, not {dose:g} µg; change the dose or "
            "use a protocol version with another concentration."
        ]


def add_regimen_item(
    *,
    arm: Arm,
    protocol_version: ProtocolVersion,
    agent: str,
    dose: Decimal | float | str,
    dose_basis: str,
    route: str,
    schedule: str,
    created_by: User,
    is_vehicle: bool = False,
    window_days: int = 0,
    non_working_day_rule: str = ShiftRule.EARLIER.value,
) -> RegimenItem:
    """Add one agent (or a matching vehicle injection) to an arm's regimen."""
    study = arm.study
    _require_draft(study, created_by, "edit study designs")
    dose_decimal = Decimal(str(dose))
    normalized = check_regimen_item(
        study=study,
        protocol_version=protocol_version,
        dose=dose_decimal,
        dose_basis=dose_basis,
        route=route,
        schedule=schedule,
        is_vehicle=is_vehicle,
        non_working_day_rule=non_working_day_rule,
    )
    with transaction.atomic(), audited_change(reason=None, required=False):
        order = (arm.regimen_items.aggregate(top=Max("order"))["top"] or 0) + 1
        item = RegimenItem(
            arm=arm,
            protocol_version=protocol_version,
            agent=agent.strip(),
            is_vehicle=is_vehicle,
            dose=dose_decimal,
            dose_basis=dose_basis,
            route=route,
            schedule=normalized,
            window_days=window_days,
            non_working_day_rule=non_working_day_rule,
            order=order,
        )
        item.full_clean()
        item.save()
    return item


REGIMEN_ITEM_FIELDS = frozenset(
    {
        "protocol_version",
        "agent",
        "dose",
        "dose_basis",
        "route",
        "schedule",
        "is_vehicle",
        "window_days",
        "non_working_day_rule",
    }
)


def update_regimen_item(
    *,
    item: RegimenItem,
    changed_by: User,
    expected_version: int,
    reason: str | None,
    **changes: Any,
) -> RegimenItem:
    """Change a draft's regimen item (a reason is required); checked like a new item.

    The merged item (current values overlaid with ``changes``) must pass
    :func:`check_regimen_item`. When ``protocol_version`` changes and no ``dose_basis`` or
    ``route`` is given, they follow the new version. Refuses a stale write with
    :class:`~planner.services.studies.StaleWrite`.
    """
    study = item.arm.study
    _require_draft(study, changed_by, "edit study designs")
    unknown = set(changes) - REGIMEN_ITEM_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    with transaction.atomic():
        current = RegimenItem.objects.select_for_update().get(pk=item.pk)
        if current.row_version != expected_version:
            raise StaleWrite(current)
        version = changes.get("protocol_version", current.protocol_version)
        if version.pk != current.protocol_version_id:
            changes.setdefault("dose_basis", str(version.parameters.get("dose_basis", "")))
            changes.setdefault("route", str(version.parameters.get("route", "")))
        merged = {name: getattr(current, name) for name in REGIMEN_ITEM_FIELDS}
        merged.update(changes)
        if isinstance(merged["agent"], str):
            merged["agent"] = merged["agent"].strip()
        try:
            merged["dose"] = Decimal(str(merged["dose"]))
        except InvalidOperation:
            raise ValidationError({"dose": "Give the dose as a number."}) from None
        merged["schedule"] = check_regimen_item(
            study=study,
            protocol_version=version,
            dose=merged["dose"],
            dose_basis=str(merged["dose_basis"]),
            route=str(merged["route"]),
            schedule=str(merged["schedule"]),
            is_vehicle=bool(merged["is_vehicle"]),
            non_working_day_rule=str(merged["non_working_day_rule"]),
        )
        # Model instances compare by primary key, so a re-chosen version is no change.
        real = {name: value for name, value in merged.items() if getattr(current, name) != value}
        if not real:
            return current
        for name, value in real.items():
            setattr(current, name, value)
        current.full_clean()
        with audited_change(reason=reason, required=True):
            RegimenItem.objects.filter(pk=current.pk).update(
                row_version=F("row_version") + 1, **real
            )
        current.refresh_from_db()
    return current


def remove_regimen_item(*, item: RegimenItem, removed_by: User, reason: str | None) -> None:
    _require_draft(item.arm.study, removed_by, "edit study designs")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        item.delete()


# -- procedures -----------------------------------------------------------------------------


def set_procedure(
    *,
    study: Study,
    role: str,
    protocol_version: ProtocolVersion,
    changed_by: User,
    schedule: str = "",
    window_days: int = 0,
    non_working_day_rule: str = ShiftRule.EARLIER.value,
    reason: str | None = None,
) -> StudyProcedure:
    """Use ``protocol_version`` for ``role`` in the whole study (replacing any earlier choice).

    Sample collection is the exception: a design may collect several samples (serum, tumour,
    spleen), each by its own protocol, so a sample-collection version is added beside the
    others (setting the same version again changes its schedule). The schedule (for
    measurements, weights, observations) defaults to the protocol's own.
    """
    _require_draft(study, changed_by, "edit study designs")
    if role not in ProcedureRole.values:
        raise ValidationError({"role": f"'{role}' is not a procedure of a design."})
    _usable_version(protocol_version, study, role, "protocol_version")
    schedule = schedule.strip() or str(protocol_version.parameters.get("schedule") or "")
    if schedule:
        try:
            schedule = parse_schedule(schedule).notation
        except DomainError as error:
            raise ValidationError({"schedule": _sentence(error.message)}) from None
    with transaction.atomic():
        existing_rows = StudyProcedure.objects.select_for_update().filter(study=study, role=role)
        if role == ProcedureRole.SAMPLE_COLLECTION:
            existing_rows = existing_rows.filter(protocol_version=protocol_version)
        existing = existing_rows.first()
        if existing is None:
            with audited_change(reason=None, required=False):
                procedure = StudyProcedure(
                    study=study,
                    role=role,
                    protocol_version=protocol_version,
                    schedule=schedule,
                    window_days=window_days,
                    non_working_day_rule=non_working_day_rule,
                )
                procedure.full_clean()
                procedure.save()
            return procedure
        with audited_change(reason=reason, required=True):
            existing.protocol_version = protocol_version
            existing.schedule = schedule
            existing.window_days = window_days
            existing.non_working_day_rule = non_working_day_rule
            existing.full_clean()
            existing.save()
    return existing


def remove_procedure(*, procedure: StudyProcedure, removed_by: User, reason: str | None) -> None:
    _require_draft(procedure.study, removed_by, "edit study designs")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        procedure.delete()


# -- plans and clone ------------------------------------------------------------------------


def arm_summaries(study: Study) -> list[ArmSummary]:
    return [
        ArmSummary(
            label=arm.label,
            is_control=arm.is_control,
            agents=frozenset(item.agent for item in arm.regimen_items.all() if not item.is_vehicle),
        )
        for arm in study.arms.prefetch_related("regimen_items")
    ]


def default_plans(study: Study) -> dict[str, Mapping[str, object]]:
    """The default survival definition and analysis plan for the design's arms."""
    return {
        "survival_definition": default_survival_definition(),
        "analysis_plan": default_analysis_plan(arm_summaries(study)),
    }


def clone_study(*, study: Study, code: str, title: str, created_by: User) -> Study:
    """A new draft with the same design: fields, arms (new codes), regimens, satellites,
    procedures. Approval data and status are not copied."""
    fields = {name: getattr(study, name) for name in EDITABLE_FIELDS}
    fields.pop("title")
    objective = fields.pop("objective")
    blinded = fields.pop("blinded")
    # The plan names arms, which the clone does not have yet: set it once they exist.
    analysis_plan = fields.pop("analysis_plan")
    with transaction.atomic():
        clone = create_study(
            lab=study.lab,
            code=code,
            title=title,
            objective=objective,
            blinded=blinded,
            created_by=created_by,
            **fields,
        )
        with audited_change(reason=None, required=False):
            for procedure in study.procedures.all():
                StudyProcedure.objects.create(
                    study=clone,
                    role=procedure.role,
                    protocol_version=procedure.protocol_version,
                    schedule=procedure.schedule,
                    window_days=procedure.window_days,
                    non_working_day_rule=procedure.non_working_day_rule,
                )
            for arm in study.arms.all():
                new_arm = Arm.objects.create(
                    study=clone,
                    label=arm.label,
                    code=_random_unused_code(clone),
                    order=arm.order,
                    planned_n=arm.planned_n,
                    is_control=arm.is_control,
                )
                for item in arm.regimen_items.all():
                    RegimenItem.objects.create(
                        arm=new_arm,
                        protocol_version=item.protocol_version,
                        agent=item.agent,
                        is_vehicle=item.is_vehicle,
                        dose=item.dose,
                        dose_basis=item.dose_basis,
                        route=item.route,
                        schedule=item.schedule,
                        window_days=item.window_days,
                        non_working_day_rule=item.non_working_day_rule,
                        order=item.order,
                    )
                for satellite in arm.satellites.all():
                    SatelliteCohort.objects.create(
                        arm=new_arm,
                        n=satellite.n,
                        takedown_study_day=satellite.takedown_study_day,
                        purpose=satellite.purpose,
                    )
            Study.objects.filter(pk=clone.pk).update(analysis_plan=analysis_plan)
            for member in study.members.exclude(user=created_by):
                StudyMember.objects.create(
                    study=clone,
                    user=member.user,
                    unblinded=member.unblinded,
                    can_dose=member.can_dose,
                )
    return clone


def set_study_member(
    *,
    study: Study,
    user: User,
    changed_by: User,
    unblinded: bool = False,
    can_dose: bool = False,
    reason: str | None = None,
) -> StudyMember:
    """Give a lab member access to the study (blinded or not, allowed to dose or not).

    Once a blinded design is approved, unblinding a member reveals the allocation to them:
    only a study director may do that.
    """
    require_role(changed_by, study.lab, EDITORS, action="manage study members")
    require_role(user, study.lab, Role.values, action="be a member of this study")
    with transaction.atomic():
        member = StudyMember.objects.select_for_update().filter(study=study, user=user).first()
        if (
            unblinded
            and not (member is not None and member.unblinded)
            and study.blinded
            and study.status != StudyStatus.DRAFT
        ):
            require_role(
                changed_by,
                study.lab,
                (Role.STUDY_DIRECTOR,),
                action="unblind a member of an approved blinded study",
            )
        if member is None:
            with audited_change(reason=None, required=False):
                return StudyMember.objects.create(
                    study=study, user=user, unblinded=unblinded, can_dose=can_dose
                )
        if (member.unblinded, member.can_dose) == (unblinded, can_dose):
            return member
        with audited_change(reason=reason, required=True):
            member.unblinded = unblinded
            member.can_dose = can_dose
            member.save(update_fields=["unblinded", "can_dose"])
    return member
