"""One registry of "which rows of this model may this user see", for every tracked model.

Pages (history), the admin and the tenancy tests use it, so a model without a scope cannot be
shown by accident. labnotes registers its own models in ``LabnotesConfig.ready`` (planner never
imports labnotes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet

from planner import selectors
from planner.models import Lab, Membership, OutboundMessage, PersonalToken, Study, StudyMember

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
