"""What the printed documents of a run show to one reader: worksheet rows, cage cards, animal
labels and calendar entries, mapped onto the pure renderers' dataclasses.

Every function here decides what the reader may see *before* anything reaches a renderer: arm
codes instead of labels for blinded readers, no dose tasks for non-dosers, and dose volumes only
on a dosers' copy (DESIGN invariant 4). The renderers print what they are given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q

from labnotes.capture.checks import (
    EndpointLimits,
    EndpointReading,
    EndpointStatus,
    endpoint_findings,
)
from labnotes.documents import (
    AnimalLabel,
    CageCard,
    CalendarTask,
    CardAnimal,
    Worksheet,
    WorksheetRow,
)
from labnotes.models import (
    Animal,
    AnimalStatus,
    Cage,
    Measurement,
    MeasurementKind,
    StudyRun,
    Task,
    TaskKind,
    TumourRole,
)
from labnotes.selectors import blinding_for
from labnotes.services.dosing import worksheet_doses
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import DosingParameters, HumaneEndpoints
from planner.models import RegimenItem, Study
from planner.selectors import UserLike

_TENTH = Decimal("0.1")
_PER_KG_BASES = ("per_kg_own_weight", "per_kg_arm_mean_weight", "mg_per_kg")


# -- dose volume -------------------------------------------------------------------------------


def dose_volume_ul(
    *,
    dose: Decimal,
    dose_basis: str,
    weight_g: Decimal | None,
    concentration_mg_per_ml: float | None = None,
    volume_ml_per_kg: float | None = None,
    fixed_volume_ul: float | None = None,
) -> Decimal | None:
    """The volume to inject in µL, rounded to 0.1 µL; ``None`` when it cannot be computed.

    Per-kg bases: ``dose`` mg/kg × weight kg ÷ concentration mg/mL = mL (× 1000 for µL); when
    the protocol gives no concentration but a volume in mL/kg, that volume × weight kg. Fixed
    bases (per animal, per tumour): the protocol's fixed ``fixed_volume_ul``. A per-kg dose
    without a weight (or a weight ≤ 0), or a concentration ≤ 0, gives ``None``: the dosers'
    copy then shows an empty box rather than a wrong number.
    """
    if dose_basis in _PER_KG_BASES:
        if weight_g is None or weight_g <= 0:
            return None
        kg = Decimal(weight_g) / 1000
        if concentration_mg_per_ml:
            if concentration_mg_per_ml <= 0:
                return None
            millilitres = Decimal(dose) * kg / Decimal(str(concentration_mg_per_ml))
        elif volume_ml_per_kg:
            millilitres = Decimal(str(volume_ml_per_kg)) * kg
        else:
            return None
        return (millilitres * 1000).quantize(_TENTH, rounding=ROUND_HALF_UP)
    if fixed_volume_ul is None:
        return None
    return Decimal(str(fixed_volume_ul)).quantize(_TENTH, rounding=ROUND_HALF_UP)


def dose_volume_for(item: RegimenItem, weight_g: Decimal | None) -> Decimal | None:
    """:func:`dose_volume_ul` for a regimen item, with its dosing protocol's parameters."""
    try:
        parameters = DosingParameters.from_dict(item.protocol_version.parameters)
    except (ParameterErrors, TypeError, ValueError, KeyError):
        parameters = None
    return dose_volume_ul(
        dose=item.dose,
        dose_basis=item.dose_basis,
        weight_g=weight_g,
        concentration_mg_per_ml=getattr(parameters, "concentration_mg_per_ml", None),
        volume_ml_per_kg=getattr(parameters, "volume_ml_per_kg", None),
        fixed_volume_ul=getattr(parameters, "volume_ul", None),
    )


# -- latest readings and endpoints -------------------------------------------------------------


def endpoint_limits(study: Study) -> EndpointLimits:
    """The design's humane endpoint limits (the DESIGN defaults when it sets none)."""
    try:
        return EndpointLimits.from_humane_endpoints(
            HumaneEndpoints.from_dict(study.humane_endpoints or {})
        )
    except (ParameterErrors, TypeError, ValueError):
        return EndpointLimits()


def last_readings(animals: Sequence[Animal]) -> dict[int, dict[str, Any]]:
    """Per animal: the latest injected-tumour caliper reading (L, W, volume, date), the latest
    weight (and date) and the baseline weight (the earliest recorded, else arrival weight)."""
    found: dict[int, dict[str, Any]] = {animal.pk: {} for animal in animals}
    readings = (
        Measurement.objects.filter(animal__in=list(animals), voided_at__isnull=True)
        .filter(Q(kind=MeasurementKind.WEIGHT) | Q(tumour__role=TumourRole.INJECTED))
        .order_by("animal_id", "kind", "-taken_at", "-pk")
        .values("animal_id", "kind", "length_mm", "width_mm", "volume_mm3", "weight_g", "taken_at")
    )
    for row in readings:
        slot = found[row["animal_id"]]
        if row["kind"] == MeasurementKind.CALIPER and "caliper" not in slot:
            slot["caliper"] = row
        elif row["kind"] == MeasurementKind.WEIGHT:
            slot.setdefault("weight", row)
            slot["first_weight"] = row  # ordered newest first: the last one seen is the earliest
    for animal in animals:
        slot = found[animal.pk]
        baseline = slot.get("first_weight", {}).get("weight_g") or animal.arrival_weight_g
        slot["baseline_weight_g"] = baseline
    return found


def endpoint_status(slot: dict[str, Any], limits: EndpointLimits) -> str:
    """ok, approaching or reached from the latest volume, longest axis and weight loss."""
    caliper = slot.get("caliper") or {}
    weight = (slot.get("weight") or {}).get("weight_g")
    baseline = slot.get("baseline_weight_g")
    loss = None
    if weight is not None and baseline:
        loss = float((Decimal(baseline) - Decimal(weight)) / Decimal(baseline) * 100)
    reading = EndpointReading(
        volume_mm3=float(caliper["volume_mm3"]) if caliper.get("volume_mm3") is not None else None,
        diameter_mm=float(caliper["length_mm"]) if caliper.get("length_mm") is not None else None,
        weight_loss_percent=loss,
    )
    findings = endpoint_findings(reading, limits)
    if any(f.status is EndpointStatus.REACHED for f in findings):
        return "reached"
    if findings:
        return "approaching"
    return "ok"


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# -- worksheet -------------------------------------------------------------------------------


def task_label(task: Task, *, sees_dosing: bool, coded: str | None = None) -> str:
    """How a task reads on a list or worksheet. Dose tasks name the agent only for dosers;
    ``coded`` (``DoseTaskNames.coded``) is the vial code a blinded doser of a double-blind
    study sees instead of the agent and dose."""
    if task.kind == TaskKind.DOSE:
        if not sees_dosing or task.regimen_item is None:
            return "Dose"
        item = task.regimen_item
        if coded is not None:
            return f"Dose {coded} {item.route}"
        return f"Dose {item.agent} {item.dose.normalize():f} {item.dose_basis} {item.route}"
    return str(task.get_kind_display())


def build_worksheet(
    *,
    user: UserLike,
    run: StudyRun,
    tasks: Iterable[Task],
    day: dt.date,
    room: str,
    dosers_copy: bool,
) -> Worksheet:
    """The daily worksheet of ``run`` for ``user``: one row per animal on study in a cage of
    ``room`` (every room when empty) or with a task today, in rack/cage order.

    ``tasks`` must already be the tasks the user may see (``list_tasks_for_day``). A dosers'
    copy carries dose volumes; asking for it without being allowed to dose is the caller's
    error (``PermissionError``), never a silently blinded copy.
    """
    study = run.study
    blinding = blinding_for(user, study)
    if dosers_copy and not may_print_dosers_copy(user, study):
        raise PermissionError("Only members who may dose get the dosers' copy.")
    by_animal: dict[int, list[Task]] = {}
    for task in tasks:
        if task.run_id == run.pk:
            by_animal.setdefault(task.animal_id, []).append(task)
    from labnotes.selectors import list_animals_for_user

    animals = list(
        list_animals_for_user(user)
        .filter(run=run)
        .filter(Q(status=AnimalStatus.ON_STUDY) | Q(pk__in=list(by_animal)))
        .select_related("arm")
    )
    if room:
        animals = [a for a in animals if a.cage_room == room or a.pk in by_animal]  # type: ignore[attr-defined]
    readings = last_readings(animals)
    limits = endpoint_limits(study)
    # Volumes from the batch in use, and vial codes for blinded dosers (dosing's rules).
    doses = (
        worksheet_doses(
            user=user, run=run, day=day, tasks=[t for ts in by_animal.values() for t in ts]
        )
        if dosers_copy
        else {}
    )
    rows = []
    for animal in animals:
        slot = readings[animal.pk]
        caliper = slot.get("caliper") or {}
        weight = slot.get("weight") or {}
        dates = [r["taken_at"] for r in (caliper, weight) if r.get("taken_at")]
        last_on = run.study.lab.local_date(max(dates)) if dates else None
        own_tasks = by_animal.get(animal.pk, [])
        volume = None
        if dosers_copy:
            known = [doses[t.pk].volume_ul for t in own_tasks if t.pk in doses]
            present = [v for v in known if v is not None]
            volume = float(sum(present)) if present else None
        rows.append(
            WorksheetRow(
                rack=animal.cage_rack or "",  # type: ignore[attr-defined]
                cage_label=animal.cage_label or "—",  # type: ignore[attr-defined]
                tag=animal.tag,
                # Codes for everyone: the column is sized for codes, and a sheet left in the
                # animal room must not unblind whoever picks it up.
                arm_display=animal.arm.code if animal.arm_id else "—",  # type: ignore[union-attr]
                last_length_mm=_float(caliper.get("length_mm")),
                last_width_mm=_float(caliper.get("width_mm")),
                last_weight_g=_float(weight.get("weight_g")),
                last_measured_on=last_on,
                endpoint_status=endpoint_status(slot, limits),  # type: ignore[arg-type]
                tasks=tuple(
                    doses[t.pk].label
                    if t.pk in doses
                    else task_label(t, sees_dosing=blinding.sees_dosing and dosers_copy)
                    for t in own_tasks
                    if t.kind != TaskKind.DOSE or dosers_copy
                ),
                dose_volume_ul=volume,
            )
        )
    return Worksheet(
        lab_name=study.lab.name,
        study_code=study.code,
        run_code=run.code,
        day=day,
        study_day=(day - run.day0).days,
        room=room or "all rooms",
        prepared_for=str(getattr(user, "get_full_name", lambda: "")() or user.get_username()),
        dosers_copy=dosers_copy,
        rows=tuple(rows),
    )


def arm_display(animal: Animal, sees_allocation: bool) -> str:
    """The arm as this reader may see it: its label when unblinded, else its code."""
    if animal.arm_id is None:
        return "—"
    assert animal.arm is not None
    return animal.arm.label if sees_allocation else animal.arm.code


def may_print_dosers_copy(user: UserLike, study: Study) -> bool:
    """Dosers' copies (dose volumes, agents) go to study members allowed to dose only."""
    from planner.models import StudyMember

    if not user.is_authenticated:
        return False
    return StudyMember.objects.filter(study=study, user=user, can_dose=True).exists()


# -- cage cards and labels -------------------------------------------------------------------


def build_cage_cards(
    *,
    user: UserLike,
    run: StudyRun,
    cages: Sequence[Cage],
    url_for: Callable[[str, int], str],
) -> list[CageCard]:
    """One card per cage: study, run, cage, room/rack, the arm(s) as the reader may see them,
    ethics protocol number, animals (tag, sex, date of birth) and a QR code to the cage page.

    ``url_for(kind, pk)`` makes the absolute URL of a ``"cage"`` or ``"animal"`` page.
    """
    from labnotes.selectors import list_animals_for_user

    study = run.study
    sees = blinding_for(user, study).sees_allocation
    ethics = study.ethics_protocol.number if study.ethics_protocol_id else ""  # type: ignore[union-attr]
    animals = list(
        list_animals_for_user(user)
        .filter(run=run, status=AnimalStatus.ON_STUDY)
        .select_related("arm")
        .order_by("tag")
    )
    cards = []
    for cage in cages:
        inside = [a for a in animals if a.cage_label == cage.label]  # type: ignore[attr-defined]
        arms = sorted({arm_display(a, sees) for a in inside if a.arm_id is not None})
        cards.append(
            CageCard(
                study_code=study.code,
                run_code=run.code,
                cage_label=cage.label,
                room=cage.room,
                rack=" ".join(p for p in (cage.rack, cage.position) if p),
                arm_display=", ".join(arms) or "not randomized",
                ethics_protocol_number=ethics,
                animals=tuple(
                    CardAnimal(a.tag, "F" if a.sex == "female" else "M", a.date_of_birth)
                    for a in inside
                ),
                qr_url=url_for("cage", cage.pk),
            )
        )
    return cards


def build_animal_labels(
    *, user: UserLike, run: StudyRun, url_for: Callable[[str, int], str]
) -> list[AnimalLabel]:
    from labnotes.selectors import list_animals_for_user

    sees = blinding_for(user, run.study).sees_allocation
    animals = (
        list_animals_for_user(user)
        .filter(run=run, status=AnimalStatus.ON_STUDY)
        .select_related("arm")
        .order_by("tag")
    )
    return [
        AnimalLabel(
            study_code=run.study.code,
            run_code=run.code,
            tag=animal.tag,
            cage_label=animal.cage_label or "",  # type: ignore[attr-defined]
            arm_display=arm_display(animal, sees),
            qr_url=url_for("animal", animal.pk),
        )
        for animal in animals
    ]


# -- calendar ---------------------------------------------------------------------------------


def calendar_tasks(
    *, user: UserLike, tasks: Iterable[Task], host: str, url_for: Callable[[str, int], str]
) -> list[CalendarTask]:
    """Calendar entries for the tasks the user may see (``list_tasks_for_user``): summary
    "<task> <tag> (<study>/<run>)", the arm code when randomized, never a label or a dose."""
    entries = []
    dosing: dict[int, bool] = {}
    for task in tasks:
        study = task.run.study
        if study.pk not in dosing:
            dosing[study.pk] = may_print_dosers_copy(user, study)
        if task.kind == TaskKind.DOSE and not dosing[study.pk]:
            continue
        cage = getattr(task, "cage_label", None)
        details = [f"Study {study.code}, run {task.run.code}, study day {task.study_day}"]
        if cage:
            details.append(f"Cage {cage}")
        if task.animal.arm_id is not None:
            details.append(f"Arm {task.animal.arm.code}")  # type: ignore[union-attr]
        entries.append(
            CalendarTask(
                uid=f"task-{task.pk}@{host}",
                summary=(
                    f"{task.get_kind_display()} {task.animal.tag} ({study.code}/{task.run.code})"
                ),
                date=task.scheduled_date or task.nominal_date,
                description="; ".join(details),
                url=url_for("run", task.run_id),
            )
        )
    return entries


def issue_calendar_feed_token(*, user: Any) -> str:
    """Make a new calendar feed token for ``user``, revoking the older one; return it in clear
    (shown once: only its hash is stored)."""
    import secrets

    from labnotes.models.feeds import CalendarFeedToken, hash_feed_token

    token = secrets.token_urlsafe(32)
    CalendarFeedToken.objects.update_or_create(
        user=user, defaults={"token_hash": hash_feed_token(token)}
    )
    return token


def user_for_feed_token(token: str) -> Any | None:
    """The person whose feed ``token`` opens, or ``None`` (unknown or revoked token)."""
    from django.utils import timezone

    from labnotes.models.feeds import CalendarFeedToken, hash_feed_token

    found = (
        CalendarFeedToken.objects.select_related("user")
        .filter(token_hash=hash_feed_token(token), user__is_active=True)
        .first()
    )
    if found is None:
        return None
    CalendarFeedToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
    return found.user
