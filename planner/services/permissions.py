"""Role rules used by every service (pages, API and admin all pass through services)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

from planner.models import Lab, Membership, Role


def require_role(user: User, lab: Lab, roles: Iterable[str], *, action: str) -> Membership:
    """Return the user's membership of ``lab`` if its role is one of ``roles``.

    A user outside the lab gets the same refusal as one with the wrong role, so the message
    reveals nothing about the lab's contents.
    """
    allowed = set(roles)
    membership = Membership.objects.filter(user=user, lab=lab).first()
    if membership is None or membership.role not in allowed:
        names = ", ".join(sorted(Role(role).label for role in allowed))
        raise PermissionDenied(f"Only {names} may {action}.")
    return membership


EDITORS = (Role.SCIENTIST, Role.STUDY_DIRECTOR, Role.LAB_ADMIN)
