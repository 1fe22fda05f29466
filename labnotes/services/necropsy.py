"""Necropsy records: terminal body weight, tumour and organ weights (with organ/body weight
ratios), metastasis counts, gross findings, and the samples taken."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from labnotes.models import Animal, AnimalStatus, GrossFinding, Necropsy, Sample
from labnotes.services.common import RECORDERS, StaleWrite
from labnotes.services.measurements import CLOCK_TOLERANCE
from planner.audit import audited_change
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import NecropsyParameters
from planner.models import ProcedureRole, ProtocolVersion
from planner.services.permissions import require_role

_TENTH = Decimal("0.1")
_RATIO_PLACES = Decimal("0.001")
_HUNDREDTH = Decimal("0.01")
#: The fields :func:`update_necropsy` may change (with a reason).
NECROPSY_FIELDS = (
    "performed_at",
    "terminal_body_weight_g",
    "tumour_weights",
    "organ_weights",
    "metastasis_counts",
    "gross_findings",
    "gross_notes",
    "samples",
)


@dataclass(frozen=True)
class OrganRatio:
    """An organ's weight and its share of the body weight, in percent.

    ``percent_of_body_weight`` = organ (mg) / (terminal body weight (g) × 1000) × 100;
    ``percent_of_tumour_free_body_weight`` uses the body weight minus the tumours' weights
    (tumour burden inflates the body weight late in a study; both are reported in the field).
    ``None`` where the weight it needs was not recorded.
    """

    organ: str
    weight_mg: Decimal
    percent_of_body_weight: Decimal | None
    percent_of_tumour_free_body_weight: Decimal | None


def organ_body_ratios(
    *,
    organ_weights: Iterable[Mapping[str, Any]],
    terminal_body_weight_g: Decimal | None,
    tumour_weights: Iterable[Mapping[str, Any]] = (),
) -> list[OrganRatio]:
    """Organ/body weight ratios (see :class:`OrganRatio`), rounded to 0.001 %."""
    tumour_mg = sum((Decimal(str(row["weight_mg"])) for row in tumour_weights), Decimal(0))
    body_mg = terminal_body_weight_g * 1000 if terminal_body_weight_g is not None else None
    tumour_free_mg = body_mg - tumour_mg if body_mg is not None else None
    ratios = []
    for row in organ_weights:
        weight = Decimal(str(row["weight_mg"]))
        ratios.append(
            OrganRatio(
                organ=str(row["organ"]),
                weight_mg=weight,
                percent_of_body_weight=_percent(weight, body_mg),
                percent_of_tumour_free_body_weight=_percent(weight, tumour_free_mg)
                if tumour_mg
                else None,
            )
        )
    return ratios


def _percent(part_mg: Decimal, whole_mg: Decimal | None) -> Decimal | None:
    if whole_mg is None or whole_mg <= 0:
        return None
    return (part_mg / whole_mg * 100).quantize(_RATIO_PLACES, rounding=ROUND_HALF_UP)


def necropsy_parameters(animal: Animal) -> tuple[ProtocolVersion | None, NecropsyParameters]:
    """The design's necropsy protocol version and parameters (defaults without one)."""
    procedure = (
        animal.run.study.procedures.filter(role=ProcedureRole.NECROPSY)
        .select_related("protocol_version")
        .first()
    )
    if procedure is None:
        return None, NecropsyParameters()
    try:
        return procedure.protocol_version, NecropsyParameters.from_dict(
            procedure.protocol_version.parameters
        )
    except ParameterErrors:
        return procedure.protocol_version, NecropsyParameters()


# -- parsing the lists (each error names the list, the row and the reason) -----------------------


def _number(value: object) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _weight_mg(
    field: str, row: int, label: str, value: object, *, maximum: Decimal, errors: list[str]
) -> Decimal | None:
    number = _number(value)
    if number is None:
        errors.append(f"row {row} ({label}): '{value}' is not a weight in mg.")
        return None
    if number < 0:
        errors.append(f"row {row} ({label}): a weight cannot be negative.")
        return None
    if number > maximum:
        errors.append(f"row {row} ({label}): {number} mg is implausibly heavy for a mouse.")
        return None
    return number.quantize(_TENTH, rounding=ROUND_HALF_UP)


def _clean_organ_weights(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    errors: list[str] = []
    cleaned: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows, start=1):
        organ = str(row.get("organ") or "").strip()
        if not organ:
            errors.append(f"row {index}: name the organ.")
            continue
        if organ.lower() in seen:
            errors.append(f"row {index} ({organ}): this organ is listed twice.")
            continue
        seen.add(organ.lower())
        weight = _weight_mg(
            "organ_weights",
            index,
            organ,
            row.get("weight_mg"),
            maximum=Decimal(10000),
            errors=errors,
        )
        if weight is not None and weight == 0:
            errors.append(f"row {index} ({organ}): an organ weighs more than 0 mg.")
        elif weight is not None:
            cleaned.append({"organ": organ[:80], "weight_mg": str(weight)})
    if errors:
        raise ValidationError({"organ_weights": errors})
    return cleaned


def _clean_tumour_weights(
    animal: Animal, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    tumours = {tumour.pk: tumour for tumour in animal.tumours.all()}
    errors: list[str] = []
    cleaned: list[dict[str, Any]] = []
    seen: set[int] = set()
    for index, row in enumerate(rows, start=1):
        raw = row.get("tumour")
        tumour_id = getattr(raw, "pk", raw)
        try:
            tumour = tumours.get(int(tumour_id))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            tumour = None
        if tumour is None:
            errors.append(f"row {index}: that tumour is not one of animal {animal.tag}'s.")
            continue
        if tumour.pk in seen:
            errors.append(f"row {index} ({tumour.site}): this tumour is listed twice.")
            continue
        seen.add(tumour.pk)
        # A tumour that regressed completely weighs 0 mg: recorded, not refused.
        weight = _weight_mg(
            "tumour_weights",
            index,
            tumour.site,
            row.get("weight_mg"),
            maximum=Decimal(10000),
            errors=errors,
        )
        if weight is not None:
            cleaned.append({"tumour": tumour.pk, "site": tumour.site, "weight_mg": str(weight)})
    if errors:
        raise ValidationError({"tumour_weights": errors})
    return cleaned


def _clean_metastasis_counts(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    errors: list[str] = []
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows, start=1):
        organ = str(row.get("organ") or "").strip()
        if not organ:
            errors.append(f"row {index}: name the organ.")
            continue
        if organ.lower() in seen:
            errors.append(f"row {index} ({organ}): this organ is listed twice.")
            continue
        seen.add(organ.lower())
        number = _number(row.get("count"))
        if number is None or number != number.to_integral_value() or number < 0:
            errors.append(
                f"row {index} ({organ}): '{row.get('count')}' is not a count (0 or more)."
            )
            continue
        if number > 10000:
            errors.append(f"row {index} ({organ}): {number} metastases is implausible.")
            continue
        cleaned.append({"organ": organ[:80], "count": int(number)})
    if errors:
        raise ValidationError({"metastasis_counts": errors})
    return cleaned


def _clean_findings(findings: Iterable[str], notes: str) -> list[str]:
    chosen = list(dict.fromkeys(str(code) for code in findings))
    unknown = [code for code in chosen if code not in GrossFinding.values]
    if unknown:
        raise ValidationError(
            {"gross_findings": f"Not on the list of findings: {', '.join(unknown)}."}
        )
    if GrossFinding.NONE in chosen and len(chosen) > 1:
        raise ValidationError(
            {
                "gross_findings": "'No abnormality detected' cannot go with other findings: "
                "choose one or the other."
            }
        )
    if GrossFinding.OTHER in chosen and not notes.strip():
        raise ValidationError({"gross_notes": "Describe the finding marked 'other'."})
    return [code for code in GrossFinding.values if code in chosen]


def _body_weight(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    number = _number(value)
    if number is None or number <= 0:
        raise ValidationError(
            {"terminal_body_weight_g": f"'{value}' is not a body weight above 0 g."}
        )
    if number > 100:
        raise ValidationError(
            {"terminal_body_weight_g": f"{number} g is implausibly heavy for a mouse."}
        )
    return number.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)


def _check_time(value: dt.datetime) -> None:
    if timezone.is_naive(value):
        raise ValidationError({"performed_at": "The time must carry its time zone."})
    if value > timezone.now() + CLOCK_TOLERANCE:
        raise ValidationError({"performed_at": "This time lies in the future."})


def _samples_to_link(
    animal: Animal, samples: Iterable[Sample], necropsy_pk: int | None
) -> list[int]:
    ids = []
    for sample in samples:
        if sample.animal_id != animal.pk:
            raise ValidationError(
                {"samples": f"Sample {sample.barcode} is not from animal {animal.tag}."}
            )
        if sample.necropsy_id not in (None, necropsy_pk):
            raise ValidationError(
                {"samples": f"Sample {sample.barcode} belongs to another necropsy."}
            )
        if sample.is_voided:
            raise ValidationError({"samples": f"Sample {sample.barcode} is voided."})
        ids.append(sample.pk)
    return ids


def _cleaned(
    animal: Animal, data: Mapping[str, Any], parameters: NecropsyParameters
) -> dict[str, Any]:
    """Every field checked, all errors at once (a form shows each next to its field)."""
    values: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    cleaners: dict[str, Callable[[], Any]] = {
        "terminal_body_weight_g": lambda: _body_weight(data.get("terminal_body_weight_g")),
        "tumour_weights": lambda: _clean_tumour_weights(animal, data.get("tumour_weights") or []),
        "organ_weights": lambda: _clean_organ_weights(data.get("organ_weights") or []),
        "metastasis_counts": lambda: _clean_metastasis_counts(data.get("metastasis_counts") or []),
        "gross_findings": lambda: _clean_findings(
            data.get("gross_findings") or [], str(data.get("gross_notes") or "")
        ),
    }
    for name, cleaner in cleaners.items():
        try:
            values[name] = cleaner()
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                problems.setdefault(field, []).extend(messages)
    if (
        "terminal_body_weight_g" in values
        and values["terminal_body_weight_g"] is None
        and (parameters.terminal_body_weight)
    ):
        problems.setdefault("terminal_body_weight_g", []).append(
            "The necropsy protocol records the terminal body weight."
        )
    if problems:
        raise ValidationError(problems)
    values["gross_notes"] = str(data.get("gross_notes") or "").strip()
    return values


def record_necropsy(
    *,
    animal: Animal,
    performed_at: dt.datetime,
    performed_by: User,
    recorded_by: User | None = None,
    terminal_body_weight_g: Decimal | float | str | None = None,
    tumour_weights: Sequence[Mapping[str, Any]] = (),
    organ_weights: Sequence[Mapping[str, Any]] = (),
    metastasis_counts: Sequence[Mapping[str, Any]] = (),
    gross_findings: Sequence[str] = (),
    gross_notes: str = "",
    samples: Sequence[Sample] = (),
) -> Necropsy:
    """Record the necropsy of ``animal`` (one per animal; correct it with :func:`update_necropsy`).

    Weights: body in g, tumours and organs in mg (0.1 mg); counts are whole numbers ≥ 0.
    ``tumour_weights`` rows are ``{"tumour": id, "weight_mg": …}``, organ rows ``{"organ",
    "weight_mg"}``, metastasis rows ``{"organ", "count"}``; ``gross_findings`` are
    :class:`GrossFinding` codes. ``samples`` (the animal's, not yet linked) are marked taken at
    this necropsy. Refused: an animal still on study (record its endpoint first), a future time,
    and any bad row — the error names the list, row and reason, and nothing is written.
    """
    recorder = recorded_by or performed_by
    lab = animal.run.study.lab
    require_role(recorder, lab, RECORDERS, action="record necropsies")
    if recorder != performed_by:
        require_role(performed_by, lab, RECORDERS, action="perform necropsies")
    if animal.status == AnimalStatus.ON_STUDY:
        raise ValidationError(
            f"Animal {animal.tag} is still on study: record its endpoint or takedown first."
        )
    _check_time(performed_at)
    version, parameters = necropsy_parameters(animal)
    values = _cleaned(
        animal,
        {
            "terminal_body_weight_g": terminal_body_weight_g,
            "tumour_weights": tumour_weights,
            "organ_weights": organ_weights,
            "metastasis_counts": metastasis_counts,
            "gross_findings": gross_findings,
            "gross_notes": gross_notes,
        },
        parameters,
    )
    sample_ids = _samples_to_link(animal, samples, None)
    with transaction.atomic(), audited_change(reason=None, required=False):
        if Necropsy.objects.filter(animal=animal, voided_at__isnull=True).exists():
            raise ValidationError(
                f"Animal {animal.tag} has a necropsy record already: correct that one."
            )
        necropsy = Necropsy(
            animal=animal,
            performed_at=performed_at,
            study_day=lab.study_day(animal.run.day0, performed_at),
            protocol_version=version,
            performed_by=performed_by,
            recorded_by=recorder,
            **values,
        )
        necropsy.full_clean()
        try:
            with transaction.atomic():
                necropsy.save()
        except IntegrityError:
            raise ValidationError(
                f"Animal {animal.tag} has a necropsy record already: correct that one."
            ) from None
        if sample_ids:
            Sample.objects.filter(pk__in=sample_ids).update(
                necropsy=necropsy, row_version=F("row_version") + 1
            )
    return necropsy


def update_necropsy(
    *,
    necropsy: Necropsy,
    changed_by: User,
    reason: str,
    expected_version: int | None = None,
    **changes: Any,
) -> Necropsy:
    """Correct a necropsy record after the fact (a reason is required; the audit trail keeps the
    old values). ``changes`` take the fields of :func:`record_necropsy`; the whole record is
    checked again. ``samples`` adds links to more of the animal's samples."""
    unknown = sorted(set(changes) - set(NECROPSY_FIELDS))
    if unknown:
        raise ValidationError({name: "This cannot be changed here." for name in unknown})
    require_role(changed_by, necropsy.animal.run.study.lab, RECORDERS, action="correct necropsies")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = (
            Necropsy.objects.select_for_update()
            .select_related("animal__run__study__lab")
            .get(pk=necropsy.pk)
        )
        if expected_version is not None and current.row_version != expected_version:
            raise StaleWrite(current)
        if current.is_voided:
            raise ValidationError("This necropsy record is voided: it cannot be changed.")
        animal = current.animal
        _, parameters = necropsy_parameters(animal)
        merged = {
            name: changes.get(name, getattr(current, name))
            for name in (
                "terminal_body_weight_g",
                "tumour_weights",
                "organ_weights",
                "metastasis_counts",
                "gross_findings",
                "gross_notes",
            )
        }
        values = _cleaned(animal, merged, parameters)
        if "performed_at" in changes:
            _check_time(changes["performed_at"])
            values["performed_at"] = changes["performed_at"]
            values["study_day"] = animal.run.study.lab.study_day(
                animal.run.day0, changes["performed_at"]
            )
        sample_ids = _samples_to_link(animal, changes.get("samples") or [], current.pk)
        for name, value in values.items():
            setattr(current, name, value)
        current.full_clean()
        Necropsy.objects.filter(pk=current.pk).update(**values, row_version=F("row_version") + 1)
        if sample_ids:
            Sample.objects.filter(pk__in=sample_ids, necropsy__isnull=True).update(
                necropsy=current, row_version=F("row_version") + 1
            )
        current.refresh_from_db()
    return current


def void_necropsy(
    *, necropsy: Necropsy, voided_by: User, reason: str, expected_version: int | None = None
) -> Necropsy:
    """Void a necropsy record (entered for the wrong animal, say). Its samples keep their link."""
    require_role(voided_by, necropsy.animal.run.study.lab, RECORDERS, action="void necropsies")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = Necropsy.objects.select_for_update().get(pk=necropsy.pk)
        if expected_version is not None and current.row_version != expected_version:
            raise StaleWrite(current)
        if current.is_voided:
            raise ValidationError("This necropsy record is voided already.")
        Necropsy.objects.filter(pk=current.pk).update(
            voided_at=timezone.now(),
            voided_by=voided_by,
            void_reason=reason.strip(),
            row_version=F("row_version") + 1,
        )
        current.refresh_from_db()
    return current
