"""Reads shared by pages, API and reports, already scoped to what the user may see.

The one scoping rule: a user sees a lab's objects only through a membership of that lab, and a
blinded study's allocation only as an unblinded study member. Objects outside a user's scope
are simply absent from these querysets, so views answer 404 for them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import HttpRequest

from planner.models import (
    Amendment,
    Arm,
    Closure,
    EthicsProtocol,
    Holiday,
    Lab,
    Membership,
    OutboundMessage,
    ProtocolTemplate,
    ProtocolVersion,
    RegimenItem,
    Role,
    Study,
    StudyMember,
    StudyProcedure,
)

UserLike = User | AnonymousUser


def list_labs_for_user(user: UserLike) -> QuerySet[Lab]:
    if not user.is_authenticated:
        return Lab.objects.none()
    return Lab.objects.filter(memberships__user=user).distinct()


def get_membership(user: UserLike, lab: Lab) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, lab=lab).first()


def roles_in_lab(user: UserLike, lab: Lab) -> set[str]:
    membership = get_membership(user, lab)
    return {membership.role} if membership else set()


def get_current_lab(request: HttpRequest) -> Lab | None:
    """The lab the user works in now: the session's choice, else their first lab."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    cached: Any = getattr(request, "_vivolog_current_lab", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    labs = list_labs_for_user(user)
    chosen = request.session.get("lab_id")
    lab = labs.filter(pk=chosen).first() if chosen else None
    lab = lab or labs.order_by("name").first()
    request._vivolog_current_lab = lab  # type: ignore[attr-defined]
    return lab


def list_studies_for_user(user: UserLike) -> QuerySet[Study]:
    if not user.is_authenticated:
        return Study.objects.none()
    return Study.objects.filter(lab__memberships__user=user).select_related("lab").distinct()


def get_study_member(user: UserLike, study: Study) -> StudyMember | None:
    if not user.is_authenticated:
        return None
    return StudyMember.objects.filter(user=user, study=study).first()


def user_sees_allocation(user: UserLike, study: Study) -> bool:
    """True when the user may learn which animal is in which arm of ``study``."""
    if not study.blinded:
        return True
    member = get_study_member(user, study)
    return bool(member and member.unblinded)


def list_outbound_messages_for_user(user: UserLike) -> QuerySet[OutboundMessage]:
    """QA and lab admins see who was alerted of what; others see their own messages."""
    if not user.is_authenticated:
        return OutboundMessage.objects.none()
    overseen = Membership.objects.filter(user=user, role__in=[Role.QA, Role.LAB_ADMIN]).values(
        "lab_id"
    )
    from django.db.models import Q

    return OutboundMessage.objects.filter(
        Q(lab_id__in=overseen) | Q(recipient=user)
    ).select_related("recipient", "lab")


# -- protocol library, ethics, calendar and design parts ------------------------------------


def list_protocol_templates_for_user(user: UserLike) -> QuerySet[ProtocolTemplate]:
    if not user.is_authenticated:
        return ProtocolTemplate.objects.none()
    return ProtocolTemplate.objects.filter(lab__in=list_labs_for_user(user)).select_related("lab")


def list_protocol_versions_for_user(user: UserLike) -> QuerySet[ProtocolVersion]:
    if not user.is_authenticated:
        return ProtocolVersion.objects.none()
    return ProtocolVersion.objects.filter(
        template__lab__in=list_labs_for_user(user)
    ).select_related("template", "template__lab")


def list_ethics_protocols_for_user(user: UserLike) -> QuerySet[EthicsProtocol]:
    if not user.is_authenticated:
        return EthicsProtocol.objects.none()
    return EthicsProtocol.objects.filter(lab__in=list_labs_for_user(user)).prefetch_related(
        "approvals"
    )


def list_allocation_studies_for_user(user: UserLike) -> QuerySet[Study]:
    """Studies whose allocation (arm labels, regimens) the user may see: open studies of the
    user's labs, and blinded ones where the user is an unblinded member."""
    if not user.is_authenticated:
        return Study.objects.none()
    from django.db.models import Q

    unblinded = StudyMember.objects.filter(user=user, unblinded=True).values("study")
    return list_studies_for_user(user).filter(Q(blinded=False) | Q(pk__in=unblinded))


def list_arms_for_user(user: UserLike) -> QuerySet[Arm]:
    """Arms with their labels: only where the user sees the allocation."""
    return Arm.objects.filter(study__in=list_allocation_studies_for_user(user)).select_related(
        "study", "study__lab"
    )


def list_regimen_items_for_user(user: UserLike) -> QuerySet[RegimenItem]:
    return RegimenItem.objects.filter(
        arm__study__in=list_allocation_studies_for_user(user)
    ).select_related("arm", "arm__study", "protocol_version", "protocol_version__template")


def list_amendments_for_user(user: UserLike) -> QuerySet[Amendment]:
    return Amendment.objects.filter(study__in=list_studies_for_user(user)).select_related(
        "study", "study__lab"
    )


def arms_for_display(user: UserLike, study: Study) -> QuerySet[Arm]:
    """The study's arms in an order that reveals nothing to a blinded viewer (by code)."""
    arms = study.arms.prefetch_related("regimen_items__protocol_version__template", "satellites")
    return (
        arms.order_by("order", "pk") if user_sees_allocation(user, study) else arms.order_by("code")
    )


def list_procedures_for_user(user: UserLike) -> QuerySet[StudyProcedure]:
    return StudyProcedure.objects.filter(study__in=list_studies_for_user(user)).select_related(
        "study", "study__lab", "protocol_version__template"
    )


def list_holidays_for_user(user: UserLike) -> QuerySet[Holiday]:
    return Holiday.objects.filter(lab__in=list_labs_for_user(user)).select_related("lab")


def list_closures_for_user(user: UserLike) -> QuerySet[Closure]:
    return Closure.objects.filter(lab__in=list_labs_for_user(user)).select_related("lab")
