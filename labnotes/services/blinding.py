"""Unblinding: a study director's unblinding of a whole study, a vet's of one animal."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from labnotes.models import Animal, Unblinding, UnblindingScope
from planner.audit import audited_change
from planner.models import Membership, Role, Study
from planner.services.permissions import require_role

#: Who may unblind one animal in an emergency.
EMERGENCY_UNBLINDERS = (Role.VETERINARIAN, Role.STUDY_DIRECTOR)


def may_emergency_unblind(user: User, study: Study) -> bool:
    """Whether ``user`` may unblind one animal of ``study`` (to show the button)."""
    return Membership.objects.filter(
        user=user, lab=study.lab_id, role__in=EMERGENCY_UNBLINDERS
    ).exists()


@dataclass(frozen=True)
class EmergencyUnblinding:
    """What the vet is shown once: the animal's arm and regimen. Only the event is stored."""

    unblinding: Unblinding
    arm_code: str
    arm_label: str
    regimen: tuple[str, ...]


def unblind_study(
    *,
    study: Study,
    performed_by: User,
    password: str,
    reason: str,
) -> Unblinding:
    """Unblind a whole study (e.g. after the last measurement): from now on every member sees
    the allocation. A study director's action, confirmed by re-entering their password, with a
    reason; the event (who, when, why) appears in reports and the audit trail."""
    require_role(performed_by, study.lab, (Role.STUDY_DIRECTOR,), action="unblind a study")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the study is unblinded."})
    if not password or not performed_by.check_password(password):
        raise PermissionDenied("The password is not correct: the study stays blinded.")
    if not study.blinded:
        raise ValidationError("This study is not blinded.")
    if Unblinding.objects.filter(study=study, scope=UnblindingScope.STUDY).exists():
        raise ValidationError("This study is unblinded already.")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        return Unblinding.objects.create(
            study=study,
            scope=UnblindingScope.STUDY,
            performed_by=performed_by,
            reason=reason.strip(),
            password_confirmed=True,
        )


def emergency_unblind_animal(
    *,
    animal: Animal,
    performed_by: User,
    reason: str,
) -> EmergencyUnblinding:
    """A veterinarian's emergency unblinding of one animal (e.g. to treat an adverse event).

    Only the lab's veterinarians and study directors may do it (technicians and scientists call
    the vet: they must stay blinded); it is recorded with who, when and why, and shows the arm
    of this animal only, to this person, in the answer.
    """
    study = animal.run.study
    require_role(performed_by, study.lab, EMERGENCY_UNBLINDERS, action="unblind an animal")
    if not reason.strip():
        raise ValidationError({"reason": "Say why this animal must be unblinded."})
    if animal.arm_id is None:
        raise ValidationError(
            f"Animal {animal.tag} is not randomized: there is nothing to unblind."
        )
    with transaction.atomic(), audited_change(reason=reason, required=True):
        event = Unblinding.objects.create(
            study=study,
            scope=UnblindingScope.ANIMAL,
            animal=animal,
            performed_by=performed_by,
            reason=reason.strip(),
        )
    arm = animal.arm
    assert arm is not None
    regimen = tuple(
        f"{item.agent} {item.dose.normalize():f} {item.dose_basis} {item.route} {item.schedule}"
        for item in arm.regimen_items.all()
    )
    return EmergencyUnblinding(event, arm.code, arm.label, regimen)
