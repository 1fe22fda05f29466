"""Signing records (21 CFR Part 11 §11.50, §11.70, §11.200) and checking signatures later.

A signature binds a person, a meaning and the server's time to the SHA-256 of a canonical
serialization of the record exactly as it was signed. Re-authentication: the password every
time, and the TOTP code too when the signer has a confirmed device. Only people signed in
with a session can reach ``sign_record`` (the signing page; the API refuses tokens): device
and personal API tokens never sign.

What a later change does depends on the record type (``SIGNABLE``):

* ``refuse``: the database already refuses any change to the record once it is in the signed
  state (a verified transcription sheet is frozen by a trigger), so the signature stays valid;
* ``invalidate``: the record may still change in the ways GLP allows (a study design by an
  amendment, a randomization batch by voiding, a measurement by a correction or a void, a
  report by a rebuild on new data); the signature is then shown as "invalid — record changed
  after signing", because the record's hash no longer matches the one signed.

The registry names models by label (``app_label.model``) so that the planner app never
imports labnotes (labnotes may import planner, never the reverse).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django_otp import devices_for_user, match_token

from planner.audit import audited_change
from planner.models import (
    ChangePolicy,
    Lab,
    Membership,
    Role,
    SecurityEventKind,
    Signature,
    SignatureMeaning,
)
from planner.services.security import record_security_event


@dataclass(frozen=True)
class SignableKind:
    """How one record type is signed: its name, change policy, the path to its lab, the
    fields that make up "the version" (``None``: every concrete field but ``exclude``), the
    child rows that belong to it, and the state it must be in."""

    label: str
    policy: ChangePolicy
    lab_path: str
    fields: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    children: tuple[tuple[str, tuple[str, ...]], ...] = ()
    required_state: tuple[str, str, str] | None = None  # (field, value, message)
    #: How the record is named on the signature (``str.format`` with ``record``); default
    #: ``str(record)``. Set where ``__str__`` shows state that changes after signing.
    label_format: str = ""


_RECORD_EXCLUDE = ("row_version",)

SIGNABLE: dict[str, SignableKind] = {
    "planner.study": SignableKind(
        label="Study design",
        policy=ChangePolicy.INVALIDATE,
        lab_path="lab",
        # The design, not its life cycle: starting a run or archiving must not break the
        # director's signature; any change to what was designed does.
        exclude=("row_version", "status", "approved_at", "approved_by"),
        children=(
            ("arms", ("row_version",)),
            ("arms__regimen_items", ("row_version",)),
            ("procedures", ()),
        ),
    ),
    "labnotes.randomizationbatch": SignableKind(
        label="Randomization batch",
        policy=ChangePolicy.INVALIDATE,
        lab_path="run__study__lab",
        required_state=("status", "applied", "Only an applied randomization batch is signed."),
    ),
    "labnotes.transcriptionsheet": SignableKind(
        label="Transcription sheet",
        policy=ChangePolicy.REFUSE,
        lab_path="run__study__lab",
        required_state=(
            "status",
            "verified",
            "Only a transcription sheet verified by a second person is signed.",
        ),
    ),
    "labnotes.report": SignableKind(
        label="Report",
        policy=ChangePolicy.INVALIDATE,
        lab_path="lab",
        # What the report says is fixed by the data it was built from and the options asked
        # for; the job's progress fields change while it builds and are not part of it.
        fields=("id", "run_id", "kind", "variant", "options_key", "exploratory", "data_hash"),
        label_format="{record.kind} report #{record.pk} of {record.run}",
    ),
    "labnotes.measurement": SignableKind(
        label="Measurement",
        policy=ChangePolicy.INVALIDATE,
        lab_path="animal__run__study__lab",
        exclude=_RECORD_EXCLUDE,
    ),
    "labnotes.doserecord": SignableKind(
        label="Dose record",
        policy=ChangePolicy.INVALIDATE,
        lab_path="run__study__lab",
        exclude=_RECORD_EXCLUDE,
    ),
    "labnotes.observation": SignableKind(
        label="Clinical observation",
        policy=ChangePolicy.INVALIDATE,
        lab_path="animal__run__study__lab",
        exclude=_RECORD_EXCLUDE,
    ),
    "labnotes.endpointrecord": SignableKind(
        label="Endpoint record",
        policy=ChangePolicy.INVALIDATE,
        lab_path="animal__run__study__lab",
        exclude=_RECORD_EXCLUDE,
    ),
    "labnotes.sample": SignableKind(
        label="Sample",
        policy=ChangePolicy.INVALIDATE,
        lab_path="lab",
        exclude=_RECORD_EXCLUDE,
    ),
    "labnotes.necropsy": SignableKind(
        label="Necropsy",
        policy=ChangePolicy.INVALIDATE,
        lab_path="animal__run__study__lab",
        exclude=_RECORD_EXCLUDE,
    ),
    "labnotes.notebookentry": SignableKind(
        label="Notebook entry",
        policy=ChangePolicy.INVALIDATE,
        lab_path="lab",
        exclude=_RECORD_EXCLUDE,
    ),
}

#: Who may sign with which meaning (their role in the record's lab).
MEANING_ROLES: dict[str, tuple[str, ...]] = {
    SignatureMeaning.AUTHORED: (
        Role.TECHNICIAN,
        Role.SCIENTIST,
        Role.STUDY_DIRECTOR,
        Role.QA,
        Role.LAB_ADMIN,
        Role.VETERINARIAN,
    ),
    SignatureMeaning.REVIEWED: (Role.SCIENTIST, Role.STUDY_DIRECTOR, Role.QA, Role.LAB_ADMIN),
    SignatureMeaning.APPROVED: (Role.STUDY_DIRECTOR,),
    SignatureMeaning.QA_INSPECTED: (Role.QA,),
}

INVALID_TEXT = "invalid — record changed after signing"


def record_key(record: models.Model) -> str:
    return f"{record._meta.app_label}.{record._meta.model_name}"


def signable_kind(record: models.Model) -> SignableKind | None:
    return SIGNABLE.get(record_key(record))


def printed_name(user: User) -> str:
    return user.get_full_name().strip() or user.get_username()


def _follow(record: models.Model, path: str) -> Any:
    value: Any = record
    for part in path.split("__"):
        value = getattr(value, part)
    return value


def lab_of(record: models.Model) -> Lab:
    kind = signable_kind(record)
    if kind is None:
        raise ValidationError({"record": f"A {record._meta.verbose_name} cannot be signed."})
    lab = _follow(record, kind.lab_path)
    assert isinstance(lab, Lab)
    return lab


# -- canonical serialization ---------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return hashlib.sha256(bytes(value)).hexdigest()
    return value


def _row(
    instance: models.Model, fields: Iterable[str] | None, exclude: Iterable[str]
) -> dict[str, Any]:
    skipped = set(exclude)
    data: dict[str, Any] = {}
    for model_field in instance._meta.concrete_fields:
        names = {model_field.name, model_field.attname}
        if names & skipped:
            continue
        if fields is not None and not names & set(fields):
            continue
        data[model_field.attname] = _json_value(getattr(instance, model_field.attname))
    return data


def _children(record: models.Model, path: str, exclude: tuple[str, ...]) -> list[dict[str, Any]]:
    parts = path.split("__")
    rows: list[models.Model] = [record]
    for part in parts:
        rows = [child for row in rows for child in getattr(row, part).order_by("pk")]
    return [_row(child, None, exclude) for child in rows]


def canonical_serialization(record: models.Model) -> str:
    """The record (and its child rows) as canonical JSON: keys sorted, no spaces, UTC times,
    decimals in plain notation, foreign keys as ids. Same version, same text, same hash."""
    kind = signable_kind(record)
    if kind is None:
        raise ValidationError({"record": f"A {record._meta.verbose_name} cannot be signed."})
    document: dict[str, Any] = {
        "record": record_key(record),
        "pk": record.pk,
        "fields": _row(record, kind.fields, kind.exclude),
    }
    if kind.children:
        document["children"] = {
            path: _children(record, path, exclude) for path, exclude in kind.children
        }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(record: models.Model) -> str:
    return hashlib.sha256(canonical_serialization(record).encode("utf-8")).hexdigest()


# -- signing --------------------------------------------------------------------------------


def _refuse(
    *, signer: User, request: HttpRequest | None, record: models.Model, field_name: str, why: str
) -> ValidationError:
    record_security_event(
        kind=SecurityEventKind.SIGNING_REFUSED,
        user=signer,
        request=request,
        detail={"record": record_key(record), "id": record.pk, "field": field_name, "why": why},
    )
    return ValidationError({field_name: why})


def check_reauthentication(
    *,
    signer: User,
    password: str,
    otp_token: str,
    record: models.Model,
    request: HttpRequest | None = None,
) -> bool:
    """Re-authenticate ``signer``: the password, and the TOTP code when they have a confirmed
    device. Returns whether a second factor was checked; raises ``ValidationError`` on the
    field that failed (after logging the refusal in the security log)."""
    if not password or not signer.check_password(password):
        raise _refuse(
            signer=signer,
            request=request,
            record=record,
            field_name="password",
            why="The password is not correct: the record was not signed.",
        )
    has_device = any(True for _ in devices_for_user(signer, confirmed=True))
    if not has_device:
        return False
    token = (otp_token or "").strip().replace(" ", "")
    if not token or match_token(signer, token) is None:
        raise _refuse(
            signer=signer,
            request=request,
            record=record,
            field_name="otp_token",
            why="The authenticator code is not correct (or was already used): "
            "the record was not signed.",
        )
    return True


def sign_record(
    *,
    record: models.Model,
    meaning: str,
    signer: User,
    password: str,
    otp_token: str = "",
    request: HttpRequest | None = None,
) -> Signature:
    """Sign ``record`` as ``signer`` with ``meaning`` after re-authentication.

    Refused (``ValidationError`` naming the field, nothing written but the security log's
    refusal) when the record type cannot be signed, the record is not in its signable state,
    the signer's role does not allow the meaning, the password or code is wrong, or the same
    person already signed this version with this meaning. The signature's time is the
    database's clock.
    """
    kind = signable_kind(record)
    if kind is None:
        raise ValidationError({"record": f"A {record._meta.verbose_name} cannot be signed."})
    if meaning not in SignatureMeaning.values:
        raise ValidationError(
            {"meaning": f"'{meaning}' is not a signature meaning (authored, reviewed, approved, "
             "QA inspected)."}
        )  # fmt: skip
    lab = lab_of(record)
    membership = Membership.objects.filter(user=signer, lab=lab).first()
    allowed = MEANING_ROLES[meaning]
    if membership is None or membership.role not in allowed:
        names = ", ".join(sorted(str(Role(role).label) for role in allowed))
        raise ValidationError(
            {"meaning": f"Only {names} may sign with the meaning "
             f"'{SignatureMeaning(meaning).label}'."}
        )  # fmt: skip
    if kind.required_state is not None:
        state_field, value, message = kind.required_state
        if getattr(record, state_field) != value:
            raise ValidationError({"record": message})
    second_factor = check_reauthentication(
        signer=signer, password=password, otp_token=otp_token, record=record, request=request
    )
    name = kind.label_format.format(record=record) if kind.label_format else str(record)
    label = f"{kind.label}: {name}"
    with (
        transaction.atomic(),
        audited_change(reason=f"signed ({SignatureMeaning(meaning).label})", required=False),
    ):
        # Hold the row while hashing it, so the version hashed is the version signed.
        locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
        canonical = canonical_serialization(locked)
        signature = Signature(
            lab=lab,
            content_type=ContentType.objects.get_for_model(type(record)),
            object_id=record.pk,
            record_label=label[:300],
            meaning=meaning,
            signer=signer,
            signer_name=printed_name(signer)[:300],
            signer_role=membership.role,
            content_sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
            canonical=canonical,
            policy=kind.policy,
            second_factor=second_factor,
        )
        signature.full_clean(exclude=["signed_at"], validate_unique=False)
        try:
            with transaction.atomic():
                signature.save()
        except IntegrityError:
            raise ValidationError(
                {"meaning": "You have already signed this version of the record with this "
                 "meaning."}
            ) from None  # fmt: skip
        signature.refresh_from_db(fields=["signed_at"])
        record_security_event(
            kind=SecurityEventKind.SIGNED,
            user=signer,
            request=request,
            detail={
                "record": record_key(record),
                "id": record.pk,
                "meaning": SignatureMeaning(meaning).value,
                "sha256": signature.content_sha256,
                "signature": signature.pk,
            },
        )
    return signature


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureView:
    """A signature as shown and printed: who, when, meaning, and whether it still holds."""

    signature: Signature
    valid: bool
    status: str
    meaning: str = field(default="")

    @property
    def role(self) -> str:
        value = self.signature.signer_role
        return str(Role(value).label) if value in Role.values else value

    @property
    def signer_name(self) -> str:
        return self.signature.signer_name

    @property
    def signed_at(self) -> dt.datetime:
        return self.signature.signed_at


def signatures_for(record: models.Model) -> list[SignatureView]:
    """Every signature on ``record``, oldest first, each checked against the record as it is
    now (its hash recomputed)."""
    if signable_kind(record) is None:
        return []
    current = content_hash(record)
    rows = Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(type(record)), object_id=record.pk
    ).order_by("signed_at", "pk")
    return [
        SignatureView(
            signature=row,
            valid=row.content_sha256 == current,
            status="valid" if row.content_sha256 == current else INVALID_TEXT,
            meaning=row.get_meaning_display(),
        )
        for row in rows
    ]


def get_signable(app_label: str, model_name: str, pk: int) -> models.Model:
    """The record a signing URL names (unscoped: callers check the user may see it)."""
    key = f"{app_label}.{model_name}"
    if key not in SIGNABLE:
        raise ValidationError({"record": f"Records of type '{key}' cannot be signed."})
    content_type = ContentType.objects.get_by_natural_key(app_label, model_name)
    model = content_type.model_class()
    assert model is not None
    return model._default_manager.get(pk=pk)
