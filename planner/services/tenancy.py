"""Labs, memberships and personal tokens."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from planner.api.authentication import hash_token
from planner.audit import audited_change
from planner.models import Lab, Membership, PersonalToken, Role


def create_lab(*, name: str, slug: str, time_zone: str = "UTC") -> Lab:
    """Create a tenant lab. Configuration, so no reason is required."""
    with transaction.atomic(), audited_change(reason=None, required=False):
        lab = Lab(name=name, slug=slug, time_zone=time_zone)
        lab.full_clean()
        lab.save()
    return lab


def add_member(*, lab: Lab, user: User, role: str, reason: str | None = None) -> Membership:
    """Give ``user`` a role in ``lab`` (or change it: a role change needs a reason)."""
    with transaction.atomic():
        existing = Membership.objects.select_for_update().filter(lab=lab, user=user).first()
        if existing is None:
            with audited_change(reason=reason, required=False):
                membership = Membership(lab=lab, user=user, role=Role(role))
                membership.full_clean()
                membership.save()
            return membership
        if existing.role == role:
            return existing
        with audited_change(reason=reason, required=True):
            existing.role = Role(role)
            existing.full_clean()
            existing.save(update_fields=["role"])
        return existing


def create_personal_token(
    *, user: User, name: str, valid_days: int | None = 90
) -> tuple[PersonalToken, str]:
    """Create an API token for a person; the raw token is returned once and never stored."""
    prefix = secrets.token_hex(4)
    raw = f"vl_{prefix}_{secrets.token_urlsafe(32)}"
    expires = timezone.now() + dt.timedelta(days=valid_days) if valid_days else None
    with transaction.atomic(), audited_change(reason=None, required=False):
        token = PersonalToken.objects.create(
            user=user, name=name, prefix=prefix, key_hash=hash_token(raw), expires_at=expires
        )
    return token, raw


def revoke_personal_token(*, token: PersonalToken, reason: str) -> PersonalToken:
    with transaction.atomic(), audited_change(reason=reason, required=True):
        PersonalToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    token.refresh_from_db()
    return token
