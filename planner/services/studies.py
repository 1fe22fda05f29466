"""Study design writes: create and edit a draft's own fields.

Arms, regimens and procedures live in ``planner.services.design``; transitions in
``planner.services.lifecycle``; amendments in ``planner.services.amendments``.
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from planner.audit import audited_change
from planner.models import EthicsProtocol, Lab, Study, StudyMember, StudyStatus
from planner.models.base import VersionedModel
from planner.services.permissions import EDITORS, require_role


class StaleWrite(Exception):
    """The record changed since the writer read it. Carries the current row for display.

    Raised for every row-versioned design record (study, arm, regimen item, ethics protocol):
    pages answer 409 with the other writer's values, the API 412 with the current ETag.
    """

    def __init__(self, current: VersionedModel) -> None:
        self.current = current
        super().__init__("This record was changed by someone else after you opened it.")


EDITABLE_FIELDS = (
    "title",
    "objective",
    "hypothesis",
    "primary_outcome",
    "species",
    "strain",
    "substrain",
    "vendor",
    "sex",
    "age_weeks_min",
    "age_weeks_max",
    "cell_line",
    "cell_line_rrid",
    "ethics_protocol",
    "humane_endpoints",
    "survival_definition",
    "analysis_plan",
    "ethics_amendment_reference",
    "blinded",
)


def clean_design_fields(lab: Lab, study: Study | None, changes: dict[str, object]) -> None:
    """Validate and normalize design fields in place (JSON plans, RRID, ethics protocol)."""
    from planner.domain.errors import ParameterErrors
    from planner.domain.protocol_parameters import (
        RRID_PATTERN,
        HumaneEndpoints,
        endpoint_limits_loosened,
    )
    from planner.domain.study_plan import parse_analysis_plan, parse_survival_definition
    from planner.services.ethics import validated_endpoint_limits

    errors: dict[str, list[str]] = {}
    rrid = changes.get("cell_line_rrid")
    if isinstance(rrid, str) and rrid.strip():
        normalized = rrid.strip().upper().removeprefix("RRID:")
        if RRID_PATTERN.match(normalized):
            changes["cell_line_rrid"] = normalized
        else:
            errors["cell_line_rrid"] = [
                f"'{rrid}' is not a Cellosaurus RRID (CVCL_ followed by 4 characters, "
                "e.g. CVCL_7254)."
            ]
    ethics = cast(
        "EthicsProtocol | None",
        changes.get("ethics_protocol", study.ethics_protocol if study else None),
    )
    if ethics is not None and getattr(ethics, "lab_id", None) != lab.pk:
        errors["ethics_protocol"] = ["Choose an ethics protocol of this study's lab."]
    if changes.get("humane_endpoints"):
        try:
            changes["humane_endpoints"] = validated_endpoint_limits(changes["humane_endpoints"])  # type: ignore[arg-type]
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors[f"humane_endpoints.{field}"] = messages
    endpoints = changes.get("humane_endpoints", study.humane_endpoints if study else {})
    reference = changes.get(
        "ethics_amendment_reference", study.ethics_amendment_reference if study else ""
    )
    if ethics is not None and endpoints and not errors and ethics.endpoint_limits:
        loosened = endpoint_limits_loosened(
            HumaneEndpoints.from_dict(ethics.endpoint_limits),
            HumaneEndpoints.from_dict(endpoints),  # type: ignore[arg-type]
        )
        if loosened and not str(reference or "").strip():
            errors["humane_endpoints"] = [
                "These limits are looser than ethics protocol "
                f"{ethics.number} approved ({'; '.join(loosened)}). Tighten them, or give the "
                "ethics amendment reference that allows it."
            ]
    if changes.get("survival_definition"):
        try:
            changes["survival_definition"] = parse_survival_definition(
                changes["survival_definition"]  # type: ignore[arg-type]
            )
        except ParameterErrors as error:
            for field, messages in error.errors.items():
                errors[f"survival_definition.{field}"] = messages
    if changes.get("analysis_plan"):
        labels = list(study.arms.values_list("label", flat=True)) if study else []
        try:
            changes["analysis_plan"] = parse_analysis_plan(changes["analysis_plan"], labels)  # type: ignore[arg-type]
        except ParameterErrors as error:
            for field, messages in error.errors.items():
                errors[f"analysis_plan.{field}"] = messages
    if errors:
        raise ValidationError(errors)


def create_study(
    *,
    lab: Lab,
    code: str,
    title: str,
    created_by: User,
    objective: str = "",
    blinded: bool = True,
    **design: object,
) -> Study:
    """Create a draft study design. Scientists, study directors and lab admins may.

    ``design`` takes any of ``EDITABLE_FIELDS`` (strain, tumour model, ethics protocol …).
    """
    require_role(created_by, lab, EDITORS, action="create studies")
    unknown = set(design) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})
    clean_design_fields(lab, None, design)
    with transaction.atomic(), audited_change(reason=None, required=False):
        if Study.objects.filter(lab=lab, code=code.strip()).exists():
            raise ValidationError({"code": f"The lab already has a study coded {code.strip()}."})
        study = Study(
            lab=lab,
            code=code.strip(),
            title=title.strip(),
            objective=objective,
            blinded=blinded,
            created_by=created_by,
            **design,
        )
        study.full_clean()
        study.save()
        StudyMember.objects.create(study=study, user=created_by, unblinded=True)
    return study


def update_study(
    *,
    study: Study,
    changed_by: User,
    expected_version: int,
    reason: str | None,
    **changes: object,
) -> Study:
    """Change a draft design's fields. Refuses a stale write (``StaleWrite``).

    Only drafts change this way; an approved design changes by amendment.
    """
    require_role(changed_by, study.lab, EDITORS, action="edit studies")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    with transaction.atomic():
        current = Study.objects.select_for_update().get(pk=study.pk)
        if current.row_version != expected_version:
            raise StaleWrite(current)
        if current.status != StudyStatus.DRAFT:
            raise ValidationError(
                "Only a draft design can be edited; an approved design changes by amendment."
            )
        clean_design_fields(current.lab, current, changes)
        real_changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
        if not real_changes:
            return current
        for name, value in real_changes.items():
            setattr(current, name, value)
        current.full_clean()
        with audited_change(reason=reason, required=True):
            Study.objects.filter(pk=current.pk, row_version=expected_version).update(
                row_version=F("row_version") + 1, **real_changes
            )
        current.refresh_from_db()
    return current
