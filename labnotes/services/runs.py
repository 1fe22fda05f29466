"""Starting study runs (and re-challenge runs linked to their parent)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from labnotes.models import Animal, AnimalStatus, StudyRun
from labnotes.services.common import DECIDERS
from planner.audit import audited_change
from planner.models import Study, StudyStatus
from planner.services.lifecycle import RUNNERS, activate_study
from planner.services.permissions import require_role

RUNNABLE_STUDY_STATUSES = (StudyStatus.APPROVED, StudyStatus.ACTIVE)


def start_study_run(
    *,
    study: Study,
    code: str,
    day0: dt.date,
    started_by: User,
    last_study_day: int | None = None,
    parent_run: StudyRun | None = None,
) -> StudyRun:
    """Start a run (cohort) of an approved or active design with its day 0 (implantation date).

    Refused for a draft, completed or archived design, and for a design without an ethics
    protocol (animals could not be counted against it). Scientists, study directors and lab
    admins may start runs of an active design. The first run of an approved design makes it
    active through the planner's lifecycle service (audited, refused under an expired ethics
    protocol), so only those who may activate a study (study directors, lab admins) start it.
    """
    require_role(started_by, study.lab, DECIDERS, action="start study runs")
    if study.status == StudyStatus.APPROVED:
        require_role(
            started_by,
            study.lab,
            RUNNERS,
            action=f"start the first run of study {study.code} (it makes the study active)",
        )
    if study.status not in RUNNABLE_STUDY_STATUSES:
        raise ValidationError(
            f"Study {study.code} is {study.get_status_display().lower()}: only an approved or "
            "active design can be run."
        )
    if study.ethics_protocol_id is None:
        raise ValidationError(
            f"Study {study.code} names no ethics protocol: animals cannot be counted against "
            "approved numbers. Add the ethics protocol to the design first."
        )
    if parent_run is not None and parent_run.study_id != study.pk:
        raise ValidationError({"parent_run": "A re-challenge run belongs to its parent's study."})
    with transaction.atomic(), audited_change(reason=None, required=False):
        # Locked so that two first runs started at once activate the study once.
        status = (
            Study.objects.select_for_update(of=("self",))
            .values_list("status", flat=True)
            .get(pk=study.pk)
        )
        if status not in RUNNABLE_STUDY_STATUSES:
            raise ValidationError(f"Study {study.code} was closed meanwhile: it cannot be run.")
        run = StudyRun(
            study=study,
            code=code.strip(),
            day0=day0,
            created_by=started_by,
            parent_run=parent_run,
        )
        if last_study_day is not None:
            run.last_study_day = last_study_day
        run.full_clean()
        run.save()
        if status == StudyStatus.APPROVED:
            activate_study(
                study=study,
                changed_by=started_by,
                reason=f"first run {run.code} started (day 0 {day0.isoformat()})",
            )
            study.refresh_from_db()
    return run


def start_rechallenge_run(
    *,
    parent_run: StudyRun,
    code: str,
    day0: dt.date,
    animals: Sequence[Animal],
    started_by: User,
) -> StudyRun:
    """Start a re-challenge run and enrol cured animals of ``parent_run`` in it.

    Each animal gets a row in the new run that points at its parent-run row (``origin``), so
    its whole history stays reachable; the parent-run row becomes *transferred*. The same mouse
    is not counted twice against the ethics protocol. Age-matched naive controls are then
    registered in the new run like any animal (``register_animals``).
    """
    from labnotes.models import CageAssignment
    from labnotes.services.animals import current_cage

    run = start_study_run(
        study=parent_run.study,
        code=code,
        day0=day0,
        started_by=started_by,
        parent_run=parent_run,
    )
    problems = []
    for animal in animals:
        if animal.run_id != parent_run.pk:
            problems.append(f"{animal.tag} is not an animal of run {parent_run.code}")
        elif animal.status != AnimalStatus.ON_STUDY:
            problems.append(f"{animal.tag} is {animal.get_status_display().lower()}")
    if problems:
        raise ValidationError({"animals": problems})
    with (
        transaction.atomic(),
        audited_change(reason=f"re-challenge run {run.code}", required=False),
    ):
        for animal in animals:
            copy = Animal.objects.create(
                run=run,
                tag=animal.tag,
                rfid=animal.rfid,
                sex=animal.sex,
                date_of_birth=animal.date_of_birth,
                arrival_weight_g=animal.arrival_weight_g,
                received_on=animal.received_on,
                origin=animal,
                registered_by=started_by,
            )
            cage = current_cage(animal)
            Animal.objects.filter(pk=animal.pk).update(
                status=AnimalStatus.TRANSFERRED,
                status_reason=f"cured; re-challenged in run {run.code}",
                status_changed_at=timezone.now(),
                row_version=F("row_version") + 1,
            )
            if cage is not None:
                CageAssignment.objects.filter(animal=animal, to_date__isnull=True).update(
                    to_date=max(day0, animal.received_on)
                )
                CageAssignment.objects.create(
                    animal=copy,
                    cage=cage,
                    from_date=max(day0, animal.received_on),
                    reason="re-challenge",
                )
    return run
