"""The security log: logins, failures, role changes, tokens; append-only; scoped."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.test import Client

from planner.audit import audit_context
from planner.models import SecurityEvent, SecurityEventKind
from planner.scoping import scoped_queryset
from planner.services import tenancy
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _kinds(**filters: Any) -> list[str]:
    return list(
        SecurityEvent.objects.filter(**filters).order_by("id").values_list("kind", flat=True)
    )


def test_logins_and_failures_are_logged_with_ip_when_people_log_in(scientist: Any) -> None:
    client = Client(REMOTE_ADDR="203.0.113.5")
    client.post("/accounts/login/", {"username": scientist.username, "password": "nope"})
    client.post("/accounts/login/", {"username": "no-such-person", "password": "nope"})
    client.post("/accounts/login/", {"username": scientist.username, "password": TEST_PASSWORD})
    client.post("/accounts/logout/")
    events = list(
        SecurityEvent.objects.filter(kind__in=["login", "login_failed", "logout"]).order_by("id")
    )
    assert [(e.kind, e.username, e.ip) for e in events] == [
        ("login_failed", scientist.username, "203.0.113.5"),
        ("login_failed", "no-such-person", "203.0.113.5"),
        ("login", scientist.username, "203.0.113.5"),
        ("logout", scientist.username, "203.0.113.5"),
    ]
    assert events[0].user is None and events[2].user == scientist


def test_role_changes_are_logged_with_who_and_why_whatever_the_write_path(lab: Any) -> None:
    person = UserFactory()
    admin = UserFactory()
    with audit_context(user_id=admin.pk, username=admin.username):
        tenancy.add_member(lab=lab, user=person, role="technician")
        tenancy.add_member(lab=lab, user=person, role="study_director", reason="promoted")
    assert _kinds(user=person) == ["role_granted", "role_changed"]  # no login yet
    change = SecurityEvent.objects.get(kind=SecurityEventKind.ROLE_CHANGED)
    assert change.detail["role"] == "study_director"
    assert change.detail["previous_role"] == "technician"
    assert change.detail["reason"] == "promoted"
    assert change.detail["by"] == admin.username
    # Raw SQL (the admin, a shell) is logged all the same.
    from planner.models import Membership

    Membership.objects.filter(user=person).delete()
    assert _kinds(user=person)[-1] == "role_revoked"


def test_token_creation_and_revocation_are_logged(scientist: Any) -> None:
    token, _raw = tenancy.create_personal_token(user=scientist, name="balance script")
    tenancy.revoke_personal_token(token=token, reason="script retired")
    assert _kinds(user=scientist, kind__startswith="token") == ["token_created", "token_revoked"]
    created = SecurityEvent.objects.get(kind=SecurityEventKind.TOKEN_CREATED)
    assert created.detail["prefix"] == token.prefix and "key_hash" not in created.detail


def test_security_events_cannot_be_changed_or_deleted(scientist: Any) -> None:
    tenancy.create_personal_token(user=scientist, name="x")
    event = SecurityEvent.objects.get(kind=SecurityEventKind.TOKEN_CREATED)
    with pytest.raises(DatabaseError), transaction.atomic():
        SecurityEvent.objects.filter(pk=event.pk).update(kind="login")
    with pytest.raises(DatabaseError), transaction.atomic():
        SecurityEvent.objects.filter(pk=event.pk).delete()


def test_qa_sees_their_labs_members_events_and_outsiders_see_none(
    lab: Any, scientist: Any, qa_user: Any, outsider: Any
) -> None:
    tenancy.create_personal_token(user=scientist, name="lab A script")
    tenancy.create_personal_token(user=outsider, name="lab B script")
    qa_sees = scoped_queryset(SecurityEvent, qa_user)
    assert qa_sees is not None
    assert set(qa_sees.values_list("user", flat=True)) >= {scientist.pk}
    assert outsider.pk not in set(qa_sees.values_list("user", flat=True))
    scientist_sees = scoped_queryset(SecurityEvent, scientist)
    assert set(scientist_sees.values_list("user", flat=True)) == {scientist.pk}
    outsider_sees = scoped_queryset(SecurityEvent, outsider)
    assert scientist.pk not in set(outsider_sees.values_list("user", flat=True))
