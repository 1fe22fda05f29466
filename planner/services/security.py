"""Security writes: the security log, deactivating people, the second factor, audit checks."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from planner.audit import audited_change
from planner.models import Membership, Role, SecurityEvent, SecurityEventKind
from planner.security.audit_chain import AuditReport, verify_audit_trail

logger = logging.getLogger("vivolog.security")

# Members of a lab with one of these roles must use a second factor (see settings
# VIVOLOG_OTP_REQUIRED_ROLES, which may narrow it for development).
SECOND_FACTOR_ROLES = (Role.STUDY_DIRECTOR, Role.QA, Role.LAB_ADMIN)


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address (``REMOTE_ADDR``): client-sent forwarding headers are not trusted."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record_security_event(
    *,
    kind: SecurityEventKind | str,
    user: User | None = None,
    username: str = "",
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> SecurityEvent:
    """Append one row to the security log and the ``vivolog.security`` logger.

    Never raises for a missing user: failed logins name whatever was typed.
    """
    name = username or (user.get_username() if user is not None else "")
    event = SecurityEvent.objects.create(
        kind=SecurityEventKind(kind),
        user=user if user is not None and user.pk else None,
        username=name[:150],
        ip=client_ip(request),
        detail=detail or {},
    )
    logger.info("security event %s user=%s ip=%s %s", kind, name, event.ip, detail or "")
    return event


def second_factor_required(user: Any, required_roles: tuple[str, ...]) -> bool:
    """Whether ``user`` must pass a second factor: a lab role in ``required_roles``, or a
    superuser (who can do everything)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return bool(required_roles)
    if not required_roles:
        return False
    return Membership.objects.filter(user=user, role__in=required_roles).exists()


@transaction.atomic
def end_sessions_of(*, user: User) -> int:
    """Delete every database session of ``user``. Returns how many were ended."""
    ended = 0
    user_pk = str(user.pk)
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == user_pk:
            session.delete()
            ended += 1
    return ended


def deactivate_user(
    *,
    user: User,
    reason: str,
    by: User | None = None,
    request: HttpRequest | None = None,
) -> int:
    """Deactivate a person: they cannot log in, and every open session of theirs ends now.

    (Sessions of users deactivated some other way, e.g. in the admin, are ended by
    ``SessionSecurityMiddleware`` on their next request.) Returns the sessions ended.
    """
    with transaction.atomic(), audited_change(reason=reason, required=True):
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
        ended = end_sessions_of(user=user)
        record_security_event(
            kind=SecurityEventKind.USER_DEACTIVATED,
            user=user,
            request=request,
            detail={
                "reason": reason,
                "by": by.get_username() if by else None,
                "sessions_ended": ended,
            },
        )
    user.refresh_from_db()
    return ended


def run_audit_verification(*, log: bool = True) -> AuditReport:
    """Verify the audit trail; record the outcome (with the chain head) in the security log.

    The chain head hash goes to the ``vivolog.security`` logger too, outside the database:
    kept there, it lets a later check prove the chain was not rewritten as a whole.
    """
    report = verify_audit_trail()
    if log:
        record_security_event(
            kind=SecurityEventKind.AUDIT_VERIFIED if report.ok else SecurityEventKind.AUDIT_PROBLEM,
            detail={
                "head_seq": report.head_seq,
                "head_hash": report.head_hash,
                "links": report.links,
                "problems": report.problems[:20],
                "problem_count": len(report.problems),
            },
        )
    if not report.ok:
        logger.error("verify_audit: %d problem(s): %s", len(report.problems), report.problems[:5])
    return report


def second_factor_pending(user: Any) -> bool:
    """Signed in with the password but not yet with a required second factor.

    Required for members whose lab role is in ``VIVOLOG_OTP_REQUIRED_ROLES``, superusers,
    and anyone who has enrolled an authenticator (opting in is binding).
    """
    from django.conf import settings
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not user.is_authenticated or user.is_verified():
        return False
    if second_factor_required(user, settings.VIVOLOG_OTP_REQUIRED_ROLES):
        return True
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())
