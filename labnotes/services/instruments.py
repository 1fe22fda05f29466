"""The instrument register and device tokens: registering instruments, calibrations and daily
checks, the lab's rule for unqualified instruments, and the credentials instruments post with.

An instrument is *qualified* on a lab-local day when its calibration is not past due that day
and (if it needs one) a daily check on that day passed. :func:`instrument_issues` says why it
is not; the ingest API and the measurement grid flag or refuse its readings as the lab's
:class:`InstrumentSettings` say (``unqualified_readings``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from labnotes.models import (
    DeviceAction,
    DeviceToken,
    Instrument,
    InstrumentCheck,
    InstrumentIssue,
    InstrumentKind,
    InstrumentSettings,
    Measurement,
    ReadingFlag,
    StudyRun,
    UnqualifiedReadingPolicy,
)
from labnotes.services.common import RECORDERS, StaleWrite, lab_today
from planner.api.authentication import hash_token
from planner.audit import audited_change
from planner.models import Lab, Role, SecurityEventKind, Study
from planner.services.permissions import require_role
from planner.services.security import record_security_event

#: Who may register instruments and record calibrations.
INSTRUMENT_MANAGERS = (Role.SCIENTIST, Role.STUDY_DIRECTOR, Role.LAB_ADMIN)
#: Who may create and revoke device tokens (issue 11: a lab admin or a study director).
TOKEN_ISSUERS = (Role.STUDY_DIRECTOR, Role.LAB_ADMIN)
#: The reading kinds each instrument kind can produce.
READING_KINDS: dict[str, tuple[str, ...]] = {
    InstrumentKind.CALIPER: ("caliper",),
    InstrumentKind.BALANCE: ("weight",),
    InstrumentKind.PLATE_READER: (),
    InstrumentKind.CYTOMETER: (),
}
TOKEN_PREFIX = "vd_"  # noqa: S105 (a prefix, not a secret)


# -- the register ------------------------------------------------------------------------------


def create_instrument(
    *,
    lab: Lab,
    kind: str,
    name: str,
    serial_number: str,
    created_by: User,
    manufacturer: str = "",
    model_name: str = "",
    location: str = "",
    calibration_due_on: dt.date | None = None,
    last_calibrated_on: dt.date | None = None,
    daily_check_required: bool = True,
    check_expected: Decimal | None = None,
    check_tolerance: Decimal | None = None,
    check_unit: str = "",
) -> Instrument:
    """Register an instrument of ``lab``. ``serial_number`` (unique in the lab) is what devices
    send as their ``instrument``; the check standard (expected value, tolerance, unit) is the
    default of :func:`record_daily_check`."""
    require_role(created_by, lab, INSTRUMENT_MANAGERS, action="register instruments")
    serial_number = serial_number.strip()
    if Instrument.objects.filter(lab=lab, serial_number=serial_number).exists():
        raise ValidationError(
            {"serial_number": f"An instrument with serial number {serial_number} is registered."}
        )
    instrument = Instrument(
        lab=lab,
        kind=kind,
        name=name.strip(),
        serial_number=serial_number,
        manufacturer=manufacturer.strip(),
        model_name=model_name.strip(),
        location=location.strip(),
        calibration_due_on=calibration_due_on,
        last_calibrated_on=last_calibrated_on,
        daily_check_required=daily_check_required,
        check_expected=check_expected,
        check_tolerance=check_tolerance,
        check_unit=check_unit.strip(),
        created_by=created_by,
    )
    if (check_expected is None) != (check_tolerance is None):
        raise ValidationError(
            {"check_tolerance": "Give the check standard's value and its tolerance together."}
        )
    instrument.full_clean()
    with transaction.atomic(), audited_change(reason=None, required=False):
        instrument.save()
    return instrument


def record_calibration(
    *,
    instrument: Instrument,
    calibrated_on: dt.date,
    next_due_on: dt.date,
    recorded_by: User,
    expected_version: int,
    reason: str = "Calibrated",
) -> Instrument:
    """Record a calibration: the date it was done and the next due date (after it)."""
    require_role(recorded_by, instrument.lab, INSTRUMENT_MANAGERS, action="record calibrations")
    if next_due_on <= calibrated_on:
        raise ValidationError(
            {"calibration_due_on": "The next due date must come after the calibration date."}
        )
    with transaction.atomic(), audited_change(reason=reason):
        updated = Instrument.objects.filter(pk=instrument.pk, row_version=expected_version).update(
            last_calibrated_on=calibrated_on,
            calibration_due_on=next_due_on,
            row_version=expected_version + 1,
        )
        if updated != 1:
            raise StaleWrite(Instrument.objects.get(pk=instrument.pk))
    instrument.refresh_from_db()
    return instrument


def retire_instrument(
    *, instrument: Instrument, retired_by: User, reason: str, expected_version: int
) -> Instrument:
    """Take an instrument out of use (kept, with the reason); its readings are refused after."""
    require_role(retired_by, instrument.lab, INSTRUMENT_MANAGERS, action="retire instruments")
    with transaction.atomic(), audited_change(reason=reason):
        updated = Instrument.objects.filter(
            pk=instrument.pk, row_version=expected_version, retired_at__isnull=True
        ).update(
            retired_at=timezone.now(),
            retire_reason=reason.strip(),
            row_version=expected_version + 1,
        )
        if updated != 1:
            raise StaleWrite(Instrument.objects.get(pk=instrument.pk))
    instrument.refresh_from_db()
    return instrument


def record_daily_check(
    *,
    instrument: Instrument,
    observed_value: Decimal,
    checked_by: User,
    expected_value: Decimal | None = None,
    tolerance: Decimal | None = None,
    unit: str = "",
    checked_at: dt.datetime | None = None,
    note: str = "",
) -> InstrumentCheck:
    """Record a daily check (e.g. a 20 g check weight read as 20.003 g): passed when
    |observed - expected| ≤ tolerance. ``expected_value``, ``tolerance`` and ``unit`` default
    to the instrument's check standard. A failed check is stored too (and qualifies nothing)."""
    require_role(checked_by, instrument.lab, RECORDERS, action="record instrument checks")
    expected = expected_value if expected_value is not None else instrument.check_expected
    allowed = tolerance if tolerance is not None else instrument.check_tolerance
    errors: dict[str, str] = {}
    if expected is None:
        errors["expected_value"] = "Give the check standard's value (the instrument has none)."
    if allowed is None:
        errors["tolerance"] = "Give the tolerance (the instrument has none)."
    elif allowed < 0:
        errors["tolerance"] = "The tolerance cannot be negative."
    if errors:
        raise ValidationError(errors)
    assert expected is not None and allowed is not None
    when = checked_at or timezone.now()
    if timezone.is_naive(when):
        raise ValidationError({"checked_at": "The time must carry its time zone."})
    if when - timezone.now() > dt.timedelta(minutes=2):
        raise ValidationError({"checked_at": "This time lies in the future."})
    check = InstrumentCheck(
        instrument=instrument,
        checked_on=instrument.lab.local_date(when),
        checked_at=when,
        checked_by=checked_by,
        expected_value=expected,
        observed_value=Decimal(observed_value),
        tolerance=allowed,
        unit=(unit or instrument.check_unit or "").strip() or "-",
        passed=abs(Decimal(observed_value) - expected) <= allowed,
        note=note.strip(),
    )
    check.full_clean()
    with transaction.atomic(), audited_change(reason=None, required=False):
        check.save()
    return check


#: Who may change the lab's instrument rules.
POLICY_EDITORS = (Role.LAB_ADMIN,)


def set_unqualified_policy(
    *,
    lab: Lab,
    policy: str,
    require_registered: bool,
    changed_by: User,
    reason: str,
    expected_version: int | None = None,
) -> InstrumentSettings:
    """Set whether readings from unqualified instruments are flagged or refused in ``lab``
    (lab admins only), audited with ``reason`` (required).

    ``expected_version`` is the ``row_version`` the writer saw (0: the defaults, nothing saved
    yet); a different current version raises :class:`StaleWrite` and writes nothing."""
    require_role(changed_by, lab, POLICY_EDITORS, action="change the instrument rules")
    if policy not in UnqualifiedReadingPolicy.values:
        raise ValidationError(
            {"unqualified_readings": f"One of {', '.join(UnqualifiedReadingPolicy.values)}."}
        )
    if not reason.strip():
        raise ValidationError({"reason": "Say why the instrument rules change."})
    chosen = UnqualifiedReadingPolicy(policy)
    with transaction.atomic(), audited_change(reason=reason.strip()):
        current = InstrumentSettings.objects.select_for_update().filter(lab=lab).first()
        seen = current.row_version if current is not None else 0
        if expected_version is not None and expected_version != seen:
            raise StaleWrite(current or instrument_settings(lab))
        if current is None:
            current = InstrumentSettings.objects.create(
                lab=lab,
                unqualified_readings=chosen,
                require_registered_instrument=require_registered,
            )
        else:
            current.unqualified_readings = chosen
            current.require_registered_instrument = require_registered
            current.row_version += 1
            current.save()
    return current


def instrument_settings(lab: Lab) -> InstrumentSettings:
    """The lab's rules (the defaults, unsaved with ``row_version`` 0, when it has set none)."""
    found = InstrumentSettings.objects.filter(lab=lab).first()
    return found or InstrumentSettings(lab=lab, row_version=0)


# -- qualification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InstrumentStatus:
    """Whether an instrument's readings of ``day`` pass: ``issues`` empty, or why not, and
    whether the lab refuses them (``refused``) or records them flagged."""

    instrument: Instrument
    day: dt.date
    issues: tuple[str, ...]
    refused: bool

    @property
    def qualified(self) -> bool:
        return not self.issues

    @property
    def message(self) -> str:
        if not self.issues:
            return f"{self.instrument.name} is qualified on {self.day}."
        labels = "; ".join(InstrumentIssue(issue).label.lower() for issue in self.issues)
        verb = "refused" if self.refused else "flagged"
        return f"Readings from {self.instrument.name} are {verb}: {labels}."

    @property
    def flag_text(self) -> str:
        """The flag shown with a reading: the instrument and why (empty when qualified)."""
        if not self.issues:
            return ""
        labels = "; ".join(InstrumentIssue(issue).label.lower() for issue in self.issues)
        return f"{self.instrument.name}: {labels}."


def passed_check_days(instruments: Iterable[Instrument], days: Iterable[dt.date]) -> set[Any]:
    """``{(instrument_id, day)}`` with a passed check: one query for all instruments and days."""
    ids = [instrument.pk for instrument in instruments]
    wanted = sorted(set(days))
    if not ids or not wanted:
        return set()
    return set(
        InstrumentCheck.objects.filter(
            instrument_id__in=ids, checked_on__in=wanted, passed=True
        ).values_list("instrument_id", "checked_on")
    )


def instrument_issues(
    instrument: Instrument, day: dt.date, passed: set[Any] | None = None
) -> tuple[str, ...]:
    """Why readings of ``instrument`` on the lab-local ``day`` are not qualified (empty: they
    are). ``passed`` (from :func:`passed_check_days`) saves the query for the daily check."""
    issues: list[str] = []
    if instrument.retired_at is not None:
        issues.append(InstrumentIssue.RETIRED)
    if instrument.calibration_overdue_on(day):
        issues.append(InstrumentIssue.CALIBRATION_OVERDUE)
    if instrument.daily_check_required:
        if passed is None:
            passed = passed_check_days([instrument], [day])
        if (instrument.pk, day) not in passed:
            issues.append(InstrumentIssue.NO_DAILY_CHECK)
    return tuple(issues)


def instrument_status(
    *, lab: Lab, identifier: str, at: dt.datetime | None = None
) -> InstrumentStatus | None:
    """The status of the lab's instrument with serial number ``identifier`` at ``at`` (now):
    what the grid calls before saving a reading from a USB instrument. ``None`` when no such
    instrument is registered. A retired instrument is always refused."""
    instrument = Instrument.objects.filter(lab=lab, serial_number=identifier.strip()).first()
    if instrument is None:
        return None
    day = lab.local_date(at) if at is not None else lab_today(lab)
    issues = instrument_issues(instrument, day)
    policy = instrument_settings(lab).unqualified_readings
    refused = bool(issues) and (
        policy == UnqualifiedReadingPolicy.REFUSE or InstrumentIssue.RETIRED in issues
    )
    return InstrumentStatus(instrument=instrument, day=day, issues=issues, refused=refused)


# -- device tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: DeviceToken
    secret: str  # shown once; only its SHA-256 is stored


def create_device_token(
    *,
    created_by: User,
    name: str,
    actions: Sequence[str],
    run: StudyRun | None = None,
    study: Study | None = None,
    expires_at: dt.datetime | None = None,
    instrument: Instrument | None = None,
    rate_limit_per_minute: int | None = None,
    request: Any = None,
) -> IssuedToken:
    """A device token for one run or one study and ``actions``; the secret is returned once
    (``vd_<prefix>_<secret>``) and only its hash kept. Expires after ``expires_at`` (default:
    ``VIVOLOG_DEVICE_TOKEN_DAYS`` days). A security event records the creation."""
    if (run is None) == (study is None):
        raise ValidationError("A device token is for one run or one study: give exactly one.")
    scope_study = run.study if run is not None else study
    assert scope_study is not None
    lab = scope_study.lab
    require_role(created_by, lab, TOKEN_ISSUERS, action="create device tokens")
    chosen = sorted({str(action) for action in actions})
    unknown = [action for action in chosen if action not in DeviceAction.values]
    if not chosen or unknown:
        raise ValidationError(
            {
                "actions": f"Choose one or more of {', '.join(DeviceAction.values)}"
                + (f"; not {', '.join(unknown)}." if unknown else ".")
            }
        )
    if not name.strip():
        raise ValidationError({"name": "Name the token after the instrument or script using it."})
    now = timezone.now()
    expiry = expires_at or now + dt.timedelta(days=settings.VIVOLOG_DEVICE_TOKEN_DAYS)
    if expiry <= now:
        raise ValidationError({"expires_at": "The expiry must lie in the future."})
    if instrument is not None and instrument.lab_id != lab.pk:
        raise ValidationError({"instrument": "That instrument belongs to another lab."})
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = DeviceToken(
        lab=lab,
        name=name.strip(),
        run=run,
        study=study if run is None else None,
        actions=chosen,
        instrument=instrument,
        prefix=prefix,
        key_hash=hash_token(raw),
        created_by=created_by,
        expires_at=expiry,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    token.full_clean(exclude=["key_hash"])
    with transaction.atomic(), audited_change(reason=None, required=False):
        token.save()
        record_security_event(
            kind=SecurityEventKind.TOKEN_CREATED,
            user=created_by,
            request=request,
            detail={
                "device_token": prefix,
                "name": token.name,
                "run": run.pk if run is not None else None,
                "study": scope_study.pk if run is None else None,
                "actions": chosen,
                "expires_at": expiry.isoformat(),
            },
        )
    return IssuedToken(token=token, secret=raw)


def revoke_device_token(
    *, token: DeviceToken, revoked_by: User, reason: str, request: Any = None
) -> DeviceToken:
    """Revoke a device token now (kept, with who and why); it answers 401 from then on."""
    require_role(revoked_by, token.lab, TOKEN_ISSUERS, action="revoke device tokens")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the token is revoked."})
    with transaction.atomic(), audited_change(reason=reason):
        updated = DeviceToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=revoked_by, revoke_reason=reason.strip()
        )
        if updated != 1:
            raise ValidationError("This token is revoked already.")
        record_security_event(
            kind=SecurityEventKind.TOKEN_REVOKED,
            user=revoked_by,
            request=request,
            detail={"device_token": token.prefix, "name": token.name, "reason": reason.strip()},
        )
    token.refresh_from_db()
    return token


def token_covers_run(token: DeviceToken, run: StudyRun) -> bool:
    """Whether ``token`` may act on ``run`` (its own run, or a run of its study)."""
    if token.run_id is not None:
        return token.run_id == run.pk
    return token.study_id == run.study_id


def qualify_instrument(*, instrument: Instrument, taken_at: dt.datetime) -> InstrumentStatus:
    """For a caller about to save one reading from ``instrument`` taken at ``taken_at``: raise
    ``ValidationError`` (field ``instrument``, naming the instrument and why) when the lab
    refuses its readings, else return its status for :func:`flag_reading` after the save.
    Two queries (the day's passed checks, the lab's rule), none when the instrument was read
    with them (``last_passed_check_on`` and ``lab_unqualified_readings`` annotated, as the
    grid's ``grid_instruments_in_use`` does)."""
    lab = instrument.lab
    day = lab.local_date(taken_at)
    issues = instrument_issues(instrument, day, _annotated_passed_checks(instrument, day))
    refused = bool(issues) and (
        InstrumentIssue.RETIRED in issues
        or _unqualified_rule(instrument) == UnqualifiedReadingPolicy.REFUSE
    )
    status = InstrumentStatus(instrument=instrument, day=day, issues=issues, refused=refused)
    if refused:
        raise ValidationError({"instrument": status.message + " Nothing was saved."})
    return status


_NOT_READ = object()


def _annotated_passed_checks(instrument: Instrument, day: dt.date) -> set[Any] | None:
    """``passed_check_days`` for ``day`` from the instrument's annotated latest passed check,
    or ``None`` (ask the database) when it was not read with it or that check is later."""
    last = getattr(instrument, "last_passed_check_on", _NOT_READ)
    if last is _NOT_READ or (isinstance(last, dt.date) and last > day):
        return None
    return {(instrument.pk, day)} if last == day else set()


def _unqualified_rule(instrument: Instrument) -> str:
    """The lab's rule for unqualified readings, from the instrument's annotation if read."""
    rule = getattr(instrument, "lab_unqualified_readings", _NOT_READ)
    if rule is _NOT_READ:
        return str(instrument_settings(instrument.lab).unqualified_readings)
    # None: the lab has set no rule, so the model's default applies (as instrument_settings).
    return str(rule or InstrumentSettings(lab=instrument.lab).unqualified_readings)


def qualify_reading(*, lab: Lab, identifier: str, taken_at: dt.datetime) -> InstrumentStatus | None:
    """:func:`qualify_instrument` for the lab's instrument with serial number ``identifier``
    (``None``: no such instrument registered)."""
    if not identifier:
        return None
    instrument = Instrument.objects.filter(lab=lab, serial_number=identifier.strip()).first()
    if instrument is None:
        return None
    instrument.lab = lab
    return qualify_instrument(instrument=instrument, taken_at=taken_at)


def flag_reading(
    *, measurement: Measurement, status: InstrumentStatus | None
) -> ReadingFlag | None:
    """Store why ``measurement`` came from an unqualified instrument (nothing when qualified)."""
    if status is None or status.qualified:
        return None
    # Part of the reading's own transaction (no savepoint: a failure fails the reading too).
    with transaction.atomic(savepoint=False), audited_change(reason=None, required=False):
        return ReadingFlag.objects.create(
            measurement=measurement, instrument=status.instrument, issues=list(status.issues)
        )
