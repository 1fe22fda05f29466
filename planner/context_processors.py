from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from planner.models import Role
from planner.selectors import get_current_lab, roles_in_lab

AUDIT_ROLES = frozenset({Role.QA, Role.LAB_ADMIN, Role.STUDY_DIRECTOR})


def vivolog(request: HttpRequest) -> dict[str, object]:
    lab = get_current_lab(request)
    roles = roles_in_lab(request.user, lab) if lab is not None else set()
    return {
        "vivolog_version": settings.VIVOLOG_VERSION,
        "current_lab": lab,
        "can_audit": bool(roles & AUDIT_ROLES),
    }
