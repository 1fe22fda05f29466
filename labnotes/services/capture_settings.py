"""A lab's capture settings (the measurement grid's tag recognition, order, repeats, ranges):
read with their defaults, changed by the lab's admins only, every change audited with a reason."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from labnotes.models import CaptureSettings, GridOrder, RepeatPolicy
from labnotes.services.common import StaleWrite
from planner.audit import audited_change
from planner.models import Lab, Role
from planner.services.permissions import require_role

#: Who may change a lab's capture settings.
CAPTURE_SETTINGS_EDITORS = (Role.LAB_ADMIN,)

#: The fields a lab admin sets, in the order the page shows them.
FIELDS = (
    "tag_prefix",
    "tag_suffix",
    "tag_pattern",
    "grid_order",
    "repeat_policy",
    "trend_max_fold_per_day",
    "axis_min_mm",
    "axis_max_mm",
    "weight_min_g",
    "weight_max_g",
)
_DECIMALS = ("trend_max_fold_per_day", "axis_min_mm", "axis_max_mm", "weight_min_g", "weight_max_g")


def capture_settings_for(lab: Lab) -> CaptureSettings:
    """The lab's settings; an unsaved row with the defaults when it has none yet."""
    found = CaptureSettings.objects.filter(lab=lab).first()
    return found if found is not None else CaptureSettings(lab=lab, row_version=0)


def _clean(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in FIELDS:
        if name not in values:
            continue
        value = values[name]
        if name in _DECIMALS:
            try:
                cleaned[name] = Decimal(str(value).strip().replace(",", "."))
            except (InvalidOperation, ValueError):
                errors[name] = f"'{value}' is not a number."
                continue
            if not cleaned[name].is_finite() or cleaned[name] <= 0:
                errors[name] = "Give a number above 0."
        else:
            cleaned[name] = str(value if value is not None else "").strip()
    if "grid_order" in cleaned and cleaned["grid_order"] not in GridOrder.values:
        errors["grid_order"] = f"Choose one of: {', '.join(GridOrder.values)}."
    if "repeat_policy" in cleaned and cleaned["repeat_policy"] not in RepeatPolicy.values:
        errors["repeat_policy"] = f"Choose one of: {', '.join(RepeatPolicy.values)}."
    pattern = cleaned.get("tag_pattern")
    if pattern:
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            errors["tag_pattern"] = f"Not a valid pattern: {error}."
        else:
            if compiled.match(""):
                errors["tag_pattern"] = (
                    "The pattern matches an empty scan: every Enter would be a tag."
                )
    return cleaned, errors


def save_capture_settings(
    *,
    lab: Lab,
    changed_by: User,
    reason: str,
    values: dict[str, Any],
    expected_version: int | None = None,
) -> CaptureSettings:
    """Set the lab's capture settings (``values``: any of :data:`FIELDS`) with a reason.

    Lab admins only. Refused with the field and why: a number that is not one or not above 0,
    a minimum above its maximum, a trend factor of 1 or less (it would flag every reading), a
    pattern that does not compile or matches an empty scan, an unknown order or repeat policy.
    ``expected_version`` (the version the page showed; 0 for the defaults) refuses a stale
    write with :class:`StaleWrite`. Nothing is written when nothing changes.
    """
    require_role(changed_by, lab, CAPTURE_SETTINGS_EDITORS, action="change the capture settings")
    cleaned, errors = _clean(values)
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = CaptureSettings.objects.select_for_update().filter(lab=lab).first()
        version = current.row_version if current is not None else 0
        if expected_version is not None and expected_version != version:
            raise StaleWrite(current if current is not None else capture_settings_for(lab))
        target = current if current is not None else CaptureSettings(lab=lab)
        before = {name: getattr(target, name) for name in FIELDS}
        for name, value in cleaned.items():
            if name not in errors:
                setattr(target, name, value)
        checks = (
            ("axis_max_mm", "axis_min_mm", "The largest axis must not be below the smallest"),
            ("weight_max_g", "weight_min_g", "The heaviest weight must not be below the lightest"),
        )
        for high, low, text in checks:
            if (
                high not in errors
                and low not in errors
                and getattr(target, high) < getattr(target, low)
            ):
                errors[high] = f"{text} ({getattr(target, low)})."
        if "trend_max_fold_per_day" not in errors and target.trend_max_fold_per_day <= 1:
            errors["trend_max_fold_per_day"] = (
                "The factor must be above 1 (1 would flag every reading that changes)."
            )
        if errors:
            raise ValidationError(errors)
        if current is not None and before == {name: getattr(target, name) for name in FIELDS}:
            return current
        if current is not None:
            target.row_version = version + 1
        target.full_clean()
        target.save()
    return target
