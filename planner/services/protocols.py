"""The protocol library: templates, their numbered versions, release, clone, retire, diff.

A version is a draft until released; a released version never changes (the database refuses
it, see ``released_protocol_version_immutable``), so editing a released template makes version
n + 1. Parameters are validated per kind by :mod:`planner.domain.protocol_parameters` and
stored in their normalized form (``to_dict``), so two equal protocols store equal JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from planner.audit import audited_change
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import (
    ParameterChange,
    ProtocolKind,
    diff_parameters,
    parse_parameters,
)
from planner.models import Lab, ProtocolTemplate, ProtocolVersion, ProtocolVersionStatus
from planner.services.permissions import EDITORS, require_role


class StaleVersion(Exception):
    """The draft changed since the writer read it. Carries the current row for display."""

    def __init__(self, current: ProtocolVersion) -> None:
        self.current = current
        super().__init__("This draft was changed by someone else after you opened it.")


def validated_parameters(kind: str, parameters: Mapping[str, Any]) -> dict[str, object]:
    """``parameters`` checked for ``kind`` and normalized; ``ValidationError`` keyed by field.

    The domain's messages are keyed by parameter path (``cell_line.rrid``) and passed through
    unchanged, so the scientist sees every mistake at once, next to the name they typed.
    """
    try:
        return parse_parameters(kind, parameters).to_dict()
    except ParameterErrors as errors:
        raise ValidationError(errors.errors) from None


def _check_kind(kind: str) -> None:
    try:
        ProtocolKind(kind)
    except ValueError:
        raise ValidationError({"kind": f"'{kind}' is not a protocol kind."}) from None


def create_template(
    *,
    lab: Lab,
    name: str,
    kind: str,
    parameters: Mapping[str, Any],
    created_by: User,
    description: str = "",
    change_note: str = "",
) -> ProtocolVersion:
    """Create a template with its first version, a draft holding ``parameters``."""
    require_role(created_by, lab, EDITORS, action="create protocol templates")
    _check_kind(kind)
    cleaned = validated_parameters(kind, parameters)
    with transaction.atomic(), audited_change(reason=None, required=False):
        if ProtocolTemplate.objects.filter(lab=lab, name=name.strip()).exists():
            raise ValidationError({"name": f"The library already has a template named '{name}'."})
        template = ProtocolTemplate(
            lab=lab, name=name.strip(), kind=kind, description=description, created_by=created_by
        )
        template.full_clean()
        template.save()
        version = ProtocolVersion.objects.create(
            template=template,
            number=1,
            parameters=cleaned,
            change_note=change_note or "First version.",
            created_by=created_by,
        )
    return version


def update_template(
    *,
    template: ProtocolTemplate,
    changed_by: User,
    expected_version: int,
    reason: str | None,
    name: str | None = None,
    description: str | None = None,
) -> ProtocolTemplate:
    """Rename a template or change its description (its versions keep their parameters)."""
    require_role(changed_by, template.lab, EDITORS, action="edit protocol templates")
    with transaction.atomic():
        current = ProtocolTemplate.objects.select_for_update().get(pk=template.pk)
        if current.row_version != expected_version:
            raise ValidationError(
                "This template was changed by someone else after you opened it; reload it."
            )
        changes: dict[str, object] = {}
        if name is not None and name.strip() != current.name:
            if ProtocolTemplate.objects.filter(lab=current.lab, name=name.strip()).exists():
                raise ValidationError(
                    {"name": f"The library already has a template named '{name}'."}
                )
            changes["name"] = name.strip()
        if description is not None and description != current.description:
            changes["description"] = description
        if not changes:
            return current
        with audited_change(reason=reason, required=True):
            ProtocolTemplate.objects.filter(pk=current.pk).update(
                row_version=F("row_version") + 1, **changes
            )
        current.refresh_from_db()
    return current


def update_draft(
    *,
    version: ProtocolVersion,
    parameters: Mapping[str, Any],
    changed_by: User,
    expected_version: int,
    reason: str | None,
    change_note: str | None = None,
) -> ProtocolVersion:
    """Replace a draft's parameters. A released version is refused: make a new version."""
    template = version.template
    require_role(changed_by, template.lab, EDITORS, action="edit protocol drafts")
    cleaned = validated_parameters(template.kind, parameters)
    with transaction.atomic():
        current = ProtocolVersion.objects.select_for_update().get(pk=version.pk)
        if current.status != ProtocolVersionStatus.DRAFT:
            raise ValidationError(
                f"Version {current.number} is released and cannot change; create version "
                f"{_next_number(template)} from it instead."
            )
        if current.row_version != expected_version:
            raise StaleVersion(current)
        changes: dict[str, object] = {}
        if cleaned != current.parameters:
            changes["parameters"] = cleaned
        if change_note is not None and change_note != current.change_note:
            changes["change_note"] = change_note
        if not changes:
            return current
        with audited_change(reason=reason, required=True):
            ProtocolVersion.objects.filter(pk=current.pk).update(
                row_version=F("row_version") + 1, **changes
            )
        current.refresh_from_db()
    return current


def release_version(*, version: ProtocolVersion, released_by: User) -> ProtocolVersion:
    """Release a draft: from now on it is immutable and designs may use it."""
    template = version.template
    require_role(released_by, template.lab, EDITORS, action="release protocol versions")
    if template.retired_at is not None:
        raise ValidationError("This template is retired; its drafts cannot be released.")
    validated_parameters(template.kind, version.parameters)
    with transaction.atomic():
        current = ProtocolVersion.objects.select_for_update().get(pk=version.pk)
        if current.status == ProtocolVersionStatus.RELEASED:
            raise ValidationError(f"Version {current.number} is already released.")
        with audited_change(reason=f"released version {current.number}", required=False):
            ProtocolVersion.objects.filter(pk=current.pk).update(
                status=ProtocolVersionStatus.RELEASED,
                released_by=released_by,
                released_at=timezone.now(),
                row_version=F("row_version") + 1,
            )
        current.refresh_from_db()
    return current


def _next_number(template: ProtocolTemplate) -> int:
    highest = template.versions.aggregate(highest=Max("number"))["highest"] or 0
    return int(highest) + 1


def new_version(
    *,
    template: ProtocolTemplate,
    created_by: User,
    parameters: Mapping[str, Any] | None = None,
    change_note: str = "",
) -> ProtocolVersion:
    """Start version n + 1 as a draft, from ``parameters`` or a copy of the latest version.

    Refused while the template already has a draft: finish or release that one first.
    """
    require_role(created_by, template.lab, EDITORS, action="create protocol versions")
    if template.retired_at is not None:
        raise ValidationError("This template is retired; un-retire it or clone it instead.")
    with transaction.atomic():
        locked = ProtocolTemplate.objects.select_for_update().get(pk=template.pk)
        draft = locked.versions.filter(status=ProtocolVersionStatus.DRAFT).first()
        if draft is not None:
            raise ValidationError(
                f"Version {draft.number} is still a draft: edit or release it before starting "
                "another version."
            )
        latest = locked.versions.order_by("-number").first()
        source = parameters if parameters is not None else (latest.parameters if latest else {})
        cleaned = validated_parameters(locked.kind, source)
        number = _next_number(locked)
        with audited_change(reason=None, required=False):
            version = ProtocolVersion.objects.create(
                template=locked,
                number=number,
                parameters=cleaned,
                change_note=change_note or f"Started from version {number - 1}.",
                created_by=created_by,
            )
    return version


def clone_template(*, template: ProtocolTemplate, name: str, created_by: User) -> ProtocolVersion:
    """Copy a template's latest version into a new template (version 1, a draft)."""
    latest = template.versions.order_by("-number").first()
    return create_template(
        lab=template.lab,
        name=name,
        kind=template.kind,
        parameters=latest.parameters if latest else {},
        description=template.description,
        created_by=created_by,
        change_note=f"Cloned from {template.name} v{latest.number if latest else 0}.",
    )


def retire_template(
    *, template: ProtocolTemplate, retired_by: User, reason: str | None
) -> ProtocolTemplate:
    """Retire a template: it stays readable, existing designs keep it, new designs cannot use it."""
    require_role(retired_by, template.lab, EDITORS, action="retire protocol templates")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        updated = ProtocolTemplate.objects.filter(pk=template.pk, retired_at__isnull=True).update(
            retired_at=timezone.now(), row_version=F("row_version") + 1
        )
        if not updated:
            raise ValidationError("This template is already retired.")
    template.refresh_from_db()
    return template


def diff_versions(*, old: ProtocolVersion, new: ProtocolVersion) -> list[ParameterChange]:
    """Field-by-field changes from ``old`` to ``new`` (versions of one template)."""
    if old.template_id != new.template_id:
        raise ValidationError("Only versions of the same template can be compared.")
    return diff_parameters(old.parameters, new.parameters)
