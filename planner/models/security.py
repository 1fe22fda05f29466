"""Security log and the hash chain over audit events.

Both tables are append-only: UPDATE and DELETE are refused by triggers, and the runtime
database role may only INSERT into (and SELECT from) ``SecurityEvent`` and only SELECT from
``AuditChainLink`` (links are written by a SECURITY DEFINER trigger function owned by the
owner role, see ``planner.security.audit_chain``). ``AuditChainPending`` holds, until its
transaction commits, which audit events a transaction inserted; only those functions write it.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now


class SecurityEventKind(models.TextChoices):
    LOGIN = "login", "Logged in"
    LOGIN_FAILED = "login_failed", "Login failed"
    LOCKOUT = "lockout", "Locked out after repeated failures"
    LOGOUT = "logout", "Logged out"
    SESSION_EXPIRED = "session_expired", "Session expired"
    OTP_ENROLLED = "otp_enrolled", "Second factor enrolled"
    OTP_VERIFIED = "otp_verified", "Second factor verified"
    OTP_FAILED = "otp_failed", "Second factor code refused"
    ROLE_GRANTED = "role_granted", "Role granted"
    ROLE_CHANGED = "role_changed", "Role changed"
    ROLE_REVOKED = "role_revoked", "Role revoked"
    TOKEN_CREATED = "token_created", "API token created"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    USER_DEACTIVATED = "user_deactivated", "User deactivated"
    UNBLINDED = "unblinded", "Allocation unblinded"
    AUDIT_VERIFIED = "audit_verified", "Audit trail verified"
    AUDIT_PROBLEM = "audit_problem", "Audit trail verification found problems"
    SIGNED = "signed", "Record signed"
    SIGNING_REFUSED = "signing_refused", "Signing refused (password or code)"
    RUN_LOCKED = "run_locked", "Run data locked"
    RUN_UNLOCK_STEP = "run_unlock_step", "Run unlock step signed"
    RUN_UNLOCKED = "run_unlocked", "Run data unlocked"


class SecurityEvent(models.Model):
    """One security-relevant event: who (if known), from where, when, what.

    ``username`` keeps the name typed at a failed login even when no such user exists.
    Role and token events are written by database triggers on Membership and PersonalToken,
    so every write path (pages, admin, API, shell) is logged.
    """

    kind = models.CharField(max_length=30, choices=SecurityEventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="security_events",
    )
    username = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="securityevent_user_created"),
            models.Index(fields=["kind", "created_at"], name="securityevent_kind_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[choice.value for choice in SecurityEventKind]),
                name="securityevent_kind_valid",
            )
        ]
        triggers = [
            pgtrigger.Protect(
                name="security_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind} {self.username}"


class AuditChainLink(models.Model):
    """Audit events sealed into the chain: ``hash = SHA-256(previous_hash|table|payload)``.

    A link seals one event, or (a *batch link*) every event one statement inserted, e.g. the
    5,000 readings of a bulk ingest. For one event, ``payload`` is PostgreSQL's canonical
    ``jsonb`` text of the event row at the time it was committed; keeping it makes the chain
    verifiable on its own and shows what an event said if the event row is later altered. For a
    batch, ``event_ids`` lists the events in the order written (``event_id`` is the first) and
    ``payload`` is the canonical ``jsonb`` text of ``{"events": n, "columns": [...],
    "digests": [...]}``: the event table's columns at sealing and the SHA-256 of each event
    row's text form, in that order. ``backfilled`` marks events that existed before the chain
    trigger was installed on their table (sealed by the installer, not at commit).
    """

    seq = models.BigIntegerField(primary_key=True)
    event_table = models.CharField(max_length=63)
    event_id = models.BigIntegerField()
    event_ids = ArrayField(models.BigIntegerField(), null=True, blank=True)
    payload = models.TextField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(db_default=Now())
    backfilled = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_table", "event_id"], name="auditchain_event_once"
            ),
            models.UniqueConstraint(fields=["hash"], name="auditchain_hash_unique"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="audit_chain_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_table}:{self.event_id} {self.hash[:12]}"


class AuditChainPending(models.Model):
    """Audit events a transaction inserted, not sealed yet: one row per INSERT statement on an
    event table, written by that table's ``vivolog_audit_chain`` statement trigger and deleted
    when the transaction's events are sealed at commit (``planner.security.audit_chain``).

    Outside a writing transaction the table is empty: a row a committed transaction left behind
    is an event that was never sealed. ``opens`` marks the transaction's first pending row, the
    one whose deferred ``vivolog_audit_chain_seal`` trigger seals them all.
    """

    txid = models.BigIntegerField()
    event_table = models.CharField(max_length=63)
    event_ids = ArrayField(models.BigIntegerField())
    opens = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["txid"], name="auditchainpending_txid")]

    def __str__(self) -> str:
        return f"{len(self.event_ids)} pending {self.event_table} events of transaction {self.txid}"
