"""``{% signatures_block record %}``: a record's signatures (valid or not) and its Sign button."""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models
from django.urls import reverse

from planner.models import Membership
from planner.services.signatures import MEANING_ROLES, lab_of, signable_kind, signatures_for

register = template.Library()


def may_sign(user: Any, record: models.Model) -> bool:
    """Whether ``user``'s role in the record's lab may sign it with some meaning
    (``MEANING_ROLES``): a viewer, say, gets no Sign button."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    role = (
        Membership.objects.filter(user=user, lab=lab_of(record))
        .values_list("role", flat=True)
        .first()
    )
    return role is not None and any(role in roles for roles in MEANING_ROLES.values())


@register.inclusion_tag("planner/_signatures.html", takes_context=True)
def signatures_block(context: Any, record: models.Model | None) -> dict[str, Any]:
    if record is None or signable_kind(record) is None:
        return {"show": False}
    request = context.get("request")
    sign_url = reverse(
        "sign_record", args=[record._meta.app_label, record._meta.model_name, record.pk]
    )
    if request is not None:
        sign_url += f"?next={request.get_full_path()}"
    return {
        "show": True,
        "signatures": signatures_for(record),
        "sign_url": sign_url,
        "may_sign": may_sign(getattr(request, "user", None), record),
        "lab_time_zone": context.get("lab_time_zone"),
    }
