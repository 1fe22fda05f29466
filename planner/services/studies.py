"""Study design writes. (Arms, regimens, approval and amendments grow here with the planner.)"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from planner.audit import audited_change
from planner.models import Lab, Study, StudyMember, StudyStatus
from planner.services.permissions import EDITORS, require_role


class StaleWrite(Exception):
    """The record changed since the writer read it. Carries the current row for display."""

    def __init__(self, current: Study) -> None:
        self.current = current
        super().__init__("This record was changed by someone else after you opened it.")


EDITABLE_FIELDS = ("title", "objective", "blinded")


def create_study(
    *, lab: Lab, code: str, title: str, created_by: AbstractBaseUser, objective: str = "",
    blinded: bool = True,
) -> Study:
    """Create a draft study design. Scientists, study directors and lab admins may."""
    require_role(created_by, lab, EDITORS, action="create studies")
    with transaction.atomic(), audited_change(reason=None, required=False):
        study = Study(
            lab=lab, code=code.strip(), title=title.strip(), objective=objective,
            blinded=blinded, created_by=created_by,
        )
        study.full_clean()
        study.save()
        StudyMember.objects.create(study=study, user=created_by, unblinded=True)
    return study


def update_study(
    *, study: Study, changed_by: AbstractBaseUser, expected_version: int, reason: str | None,
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
