"""``{% signatures_block record %}``: a record's signatures (valid or not) and its Sign button."""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models
from django.urls import reverse

from planner.services.signatures import signable_kind, signatures_for

register = template.Library()


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
        "lab_time_zone": context.get("lab_time_zone"),
    }
