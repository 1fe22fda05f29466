"""One registry of "which rows of this model may this user see", for every tracked model.

Pages (history), the admin and the tenancy tests use it, so a model without a scope cannot be
shown by accident. labnotes registers its own models in ``LabnotesConfig.ready`` (planner never
imports labnotes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.db.models import Model, QuerySet

from planner import selectors
from planner.models import (
    Lab,
    Membership,
    OutboundMessage,
    PersonalToken,
    Role,
    SecurityEvent,
    Study,
    StudyMember,
)

ScopeFunction = Callable[[Any], QuerySet[Any]]
_SCOPES: dict[type[Model], ScopeFunction] = {}


def register_scope(model: type[Model], scope: ScopeFunction) -> None:
    _SCOPES[model] = scope


def scoped_queryset(model: type[Model], user: Any) -> QuerySet[Any] | None:
    scope = _SCOPES.get(model)
    return scope(user) if scope is not None else None


def registered_models() -> list[type[Model]]:
    return list(_SCOPES)


register_scope(Lab, selectors.list_labs_for_user)
register_scope(Study, selectors.list_studies_for_user)
register_scope(
    Membership,
    lambda user: Membership.objects.filter(lab__in=selectors.list_labs_for_user(user)),
)
register_scope(
    StudyMember,
    lambda user: StudyMember.objects.filter(study__in=selectors.list_studies_for_user(user)),
)
register_scope(OutboundMessage, selectors.list_outbound_messages_for_user)
register_scope(
    PersonalToken,
    lambda user: (
        PersonalToken.objects.filter(user=user)
        if user.is_authenticated
        else PersonalToken.objects.none()
    ),
)


def _security_events_for_user(user: Any) -> QuerySet[Any]:
    """QA and lab admins see the security events of their labs' members; others their own."""
    if not user.is_authenticated:
        return SecurityEvent.objects.none()
    overseen_labs = Membership.objects.filter(user=user, role__in=[Role.QA, Role.LAB_ADMIN]).values(
        "lab"
    )
    members = Membership.objects.filter(lab__in=overseen_labs).values("user")
    return SecurityEvent.objects.filter(models.Q(user=user) | models.Q(user__in=members))


register_scope(SecurityEvent, _security_events_for_user)


def _register_design_scopes() -> None:
    """The protocol library, ethics, calendar and design parts (arms only where the user
    sees the allocation: their labels and regimens are the allocation)."""
    from planner.models import (
        Amendment,
        Arm,
        Closure,
        EthicsApproval,
        EthicsProtocol,
        Holiday,
        ProtocolTemplate,
        ProtocolVersion,
        RegimenItem,
        SatelliteCohort,
        StudyProcedure,
    )

    register_scope(ProtocolTemplate, selectors.list_protocol_templates_for_user)
    register_scope(ProtocolVersion, selectors.list_protocol_versions_for_user)
    register_scope(EthicsProtocol, selectors.list_ethics_protocols_for_user)
    register_scope(
        EthicsApproval,
        lambda user: EthicsApproval.objects.filter(
            protocol__in=selectors.list_ethics_protocols_for_user(user)
        ),
    )
    register_scope(Holiday, selectors.list_holidays_for_user)
    register_scope(Closure, selectors.list_closures_for_user)
    register_scope(StudyProcedure, selectors.list_procedures_for_user)
    register_scope(Arm, selectors.list_arms_for_user)
    register_scope(RegimenItem, selectors.list_regimen_items_for_user)
    register_scope(
        SatelliteCohort,
        lambda user: SatelliteCohort.objects.filter(arm__in=selectors.list_arms_for_user(user)),
    )
    register_scope(Amendment, selectors.list_amendments_for_user)


_register_design_scopes()
