"""Animals: bulk registration (pasted tags, CSV, XLSX) within ethics limits, cages and their
dated history, tumours with their implantation, exclusion."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from labnotes.models import (
    Animal,
    AnimalSex,
    AnimalStatus,
    Cage,
    CageAssignment,
    Implantation,
    StudyRun,
    Tumour,
    TumourRole,
)
from labnotes.services.common import DECIDERS, RECORDERS, lab_today
from planner.audit import audited_change
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import ImplantationParameters
from planner.models import EthicsApproval, EthicsProtocol, Lab, ProcedureRole, Sex
from planner.services.permissions import require_role

COLUMNS = ("tag", "rfid", "sex", "date_of_birth", "arrival_weight_g", "cage")
_SEX_WORDS = {
    "f": AnimalSex.FEMALE,
    "female": AnimalSex.FEMALE,
    "m": AnimalSex.MALE,
    "male": AnimalSex.MALE,
}
_HEADER_ALIASES = {
    "tag": "tag",
    "ear tag": "tag",
    "ear_tag": "tag",
    "animal": "tag",
    "id": "tag",
    "rfid": "rfid",
    "sex": "sex",
    "dob": "date_of_birth",
    "date of birth": "date_of_birth",
    "date_of_birth": "date_of_birth",
    "birth date": "date_of_birth",
    "arrival_weight_g": "arrival_weight_g",
    "arrival weight (g)": "arrival_weight_g",
    "weight_g": "arrival_weight_g",
    "weight (g)": "arrival_weight_g",
    "cage": "cage",
}


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row: its number as the person sees it, the field and why."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.reason}"


@dataclass(frozen=True)
class AnimalRow:
    row: int
    tag: str
    rfid: str
    sex: str
    date_of_birth: dt.date | None
    arrival_weight_g: Decimal | None
    cage: Cage | None


@dataclass
class AnimalRowsPreview:
    """Every row checked: the cleaned rows and every error found (empty when all are valid)."""

    rows: list[AnimalRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ethics_remaining: int | None = None

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.rows)


# -- reading input ---------------------------------------------------------------------------


def parse_pasted_animals(text: str) -> list[dict[str, Any]]:
    """One animal per non-empty line: ``tag`` or ``tag<TAB or comma>rfid`` (a scanner's output).

    Tags stay strings exactly as typed (leading zeros kept); ``row`` is the line number.
    """
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in re.split(r"[\t,;]", line)]
        rows.append({"row": number, "tag": parts[0], "rfid": parts[1] if len(parts) > 1 else ""})
    return rows


def read_animal_file(*, content: bytes, filename: str) -> list[dict[str, Any]]:
    """Rows of a CSV or XLSX file with a header (tag, rfid, sex, date_of_birth,
    arrival_weight_g, cage; common spellings accepted). ``row`` is the line in the file.

    XLSX numbers formatted with leading zeros (e.g. ``0000``) are read back with their zeros.
    """
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        table = _xlsx_rows(content)
    elif name.endswith((".csv", ".txt", ".tsv")):
        text = content.decode("utf-8-sig")
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
        table = [list(row) for row in csv.reader(io.StringIO(text), dialect)]
    else:
        raise ValidationError({"file": f"'{filename}' is neither a .csv nor an .xlsx file."})
    if not table:
        raise ValidationError({"file": "The file is empty."})
    header = [_HEADER_ALIASES.get(str(cell or "").strip().lower(), "") for cell in table[0]]
    if "tag" not in header:
        raise ValidationError({"file": "The first row must be a header with a 'tag' column."})
    rows: list[dict[str, Any]] = []
    for number, values in enumerate(table[1:], start=2):
        if all(str(value or "").strip() == "" for value in values):
            continue
        row: dict[str, Any] = {"row": number}
        for column, value in zip(header, values, strict=False):
            if column:
                row[column] = value
        rows.append(row)
    return rows


def _xlsx_rows(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ValidationError({"file": f"The XLSX file cannot be read ({error})."}) from None
    sheet = workbook.worksheets[0]
    table: list[list[Any]] = []
    for cells in sheet.iter_rows():
        row: list[Any] = []
        for cell in cells:
            value = cell.value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                number_format = getattr(cell, "number_format", "") or ""
                if float(value).is_integer():
                    value = str(int(value))
                    if re.fullmatch(r"0+", number_format):
                        value = value.zfill(len(number_format))
            row.append(value)
        table.append(row)
    workbook.close()
    return table


# -- ethics numbers --------------------------------------------------------------------------


@dataclass(frozen=True)
class EthicsAllowance:
    protocol: EthicsProtocol
    strain: str
    approved: int
    used: int

    @property
    def remaining(self) -> int:
        return max(self.approved - self.used, 0)


def ethics_allowance(run: StudyRun, *, lock: bool = False) -> EthicsAllowance:
    """Approved and used animals of the run's strain under its study's ethics protocol.

    Every animal received counts — excluded ones and extras never enrolled too; a re-challenged
    mouse (``origin`` set) is the same mouse and is not counted again.
    """
    study = run.study
    if study.ethics_protocol_id is None:
        raise ValidationError("The study names no ethics protocol.")
    protocols = EthicsProtocol.objects.filter(pk=study.ethics_protocol_id)
    if lock:
        protocols = protocols.select_for_update()
    protocol = protocols.get()
    approved = sum(
        EthicsApproval.objects.filter(
            protocol=protocol, strain__iexact=study.strain.strip()
        ).values_list("approved_animals", flat=True)
    )
    used = Animal.objects.filter(
        run__study__ethics_protocol=protocol,
        run__study__strain__iexact=study.strain.strip(),
        origin__isnull=True,
    ).count()
    return EthicsAllowance(protocol=protocol, strain=study.strain, approved=approved, used=used)


# -- registration ----------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: object) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date (use YYYY-MM-DD)")


def preview_animal_rows(
    *,
    run: StudyRun,
    rows: Sequence[Mapping[str, Any]],
    received_on: dt.date | None = None,
) -> AnimalRowsPreview:
    """Check every row (nothing is written) and return all errors, each naming row and field.

    Rules: a tag is required, unique in the file and in the run; an RFID likewise when given;
    sex female/male (f/m), defaulting to the study's sex; date of birth a past date; arrival
    weight a number of grams above 0 and below 100; a cage named must exist for the run or the
    lab and have room. The ethics protocol must be in force on ``received_on`` and have enough
    animals left for the strain: the first row beyond the remaining number is named.
    """
    study = run.study
    lab = study.lab
    received = received_on or lab_today(lab)
    preview = AnimalRowsPreview()
    errors = preview.errors
    existing_tags = set(Animal.objects.filter(run=run).values_list("tag", flat=True))
    existing_rfids = set(
        Animal.objects.filter(run=run).exclude(rfid="").values_list("rfid", flat=True)
    )
    cages = {
        cage.label: cage
        for cage in Cage.objects.filter(lab=lab)
        .filter(Q(run=run) | Q(run__isnull=True))
        .annotate(occupants=Count("assignments", filter=Q(assignments__to_date__isnull=True)))
    }
    new_in_cage: dict[str, int] = {}
    seen_tags: dict[str, int] = {}
    seen_rfids: dict[str, int] = {}
    default_sex = study.sex if study.sex != Sex.MIXED else ""
    for index, raw in enumerate(rows, start=1):
        number = int(raw.get("row") or index)
        unknown = sorted(set(raw) - set(COLUMNS) - {"row"})
        for name in unknown:
            errors.append(RowError(number, name, "unknown column"))
        tag = _text(raw.get("tag"))
        rfid = _text(raw.get("rfid"))
        if not tag:
            errors.append(RowError(number, "tag", "a tag is required"))
        elif len(tag) > 40:
            errors.append(RowError(number, "tag", "at most 40 characters"))
        elif tag in seen_tags:
            errors.append(RowError(number, "tag", f"'{tag}' is also on row {seen_tags[tag]}"))
        elif tag in existing_tags:
            errors.append(RowError(number, "tag", f"'{tag}' is already registered in this run"))
        if tag:
            seen_tags.setdefault(tag, number)
        if rfid:
            if rfid in seen_rfids:
                errors.append(
                    RowError(number, "rfid", f"'{rfid}' is also on row {seen_rfids[rfid]}")
                )
            elif rfid in existing_rfids:
                errors.append(
                    RowError(number, "rfid", f"'{rfid}' is already registered in this run")
                )
            seen_rfids.setdefault(rfid, number)
        sex_text = _text(raw.get("sex")).lower()
        sex = _SEX_WORDS.get(sex_text, "") if sex_text else default_sex
        if not sex:
            errors.append(
                RowError(
                    number,
                    "sex",
                    f"'{sex_text}' is not a sex; use female or male (f/m)"
                    if sex_text
                    else "required (the study has both sexes)",
                )
            )
        date_of_birth = None
        try:
            date_of_birth = _date(raw.get("date_of_birth"))
        except ValueError as error:
            errors.append(RowError(number, "date_of_birth", str(error)))
        if date_of_birth is not None and date_of_birth > received:
            errors.append(RowError(number, "date_of_birth", "lies after the day of arrival"))
        weight = None
        weight_text = _text(raw.get("arrival_weight_g"))
        if weight_text:
            try:
                weight = Decimal(weight_text.replace(",", "."))
            except InvalidOperation:
                errors.append(
                    RowError(number, "arrival_weight_g", f"'{weight_text}' is not a number")
                )
            else:
                if not (Decimal(0) < weight < Decimal(100)):
                    errors.append(
                        RowError(
                            number,
                            "arrival_weight_g",
                            f"{weight_text} g is not a mouse's weight (0-100 g)",
                        )
                    )
                    weight = None
                else:
                    weight = weight.quantize(Decimal("0.01"))
        cage = None
        cage_label = _text(raw.get("cage"))
        if cage_label:
            cage = cages.get(cage_label)
            if cage is None:
                errors.append(
                    RowError(number, "cage", f"no cage '{cage_label}' in this run or lab")
                )
            else:
                new_in_cage[cage_label] = new_in_cage.get(cage_label, 0) + 1
                if cage.occupants + new_in_cage[cage_label] > cage.capacity:
                    errors.append(
                        RowError(
                            number,
                            "cage",
                            f"cage '{cage_label}' is full (capacity {cage.capacity})",
                        )
                    )
        preview.rows.append(AnimalRow(number, tag, rfid, sex, date_of_birth, weight, cage))
    if not rows:
        errors.append(RowError(0, "rows", "no animals given"))
        return preview
    _check_ethics(run, preview, received)
    errors.sort(
        key=lambda error: (error.row, COLUMNS.index(error.field) if error.field in COLUMNS else 99)
    )
    return preview


def _check_ethics(run: StudyRun, preview: AnimalRowsPreview, received: dt.date) -> None:
    try:
        allowance = ethics_allowance(run)
    except ValidationError as error:
        preview.errors.append(RowError(0, "ethics_protocol", error.messages[0]))
        return
    protocol = allowance.protocol
    preview.ethics_remaining = allowance.remaining
    first_row = preview.rows[0].row
    if received > protocol.expires_on:
        preview.errors.append(
            RowError(
                first_row,
                "ethics_protocol",
                f"ethics protocol {protocol.number} expired on {protocol.expires_on}: "
                "no animals may be received under it",
            )
        )
    elif received < protocol.approved_on:
        preview.errors.append(
            RowError(
                first_row,
                "ethics_protocol",
                f"ethics protocol {protocol.number} is approved from {protocol.approved_on} only",
            )
        )
    if len(preview.rows) > allowance.remaining:
        beyond = preview.rows[allowance.remaining]
        preview.errors.append(
            RowError(
                beyond.row,
                "tag",
                f"beyond the ethics protocol's approved numbers: {protocol.number} approves "
                f"{allowance.approved} {allowance.strain or 'animals'}, {allowance.used} already "
                f"received, {allowance.remaining} left; this file has {len(preview.rows)}",
            )
        )


def register_animals(
    *,
    run: StudyRun,
    rows: Sequence[Mapping[str, Any]],
    registered_by: User,
    received_on: dt.date | None = None,
) -> list[Animal]:
    """Register every row as an animal of ``run`` — or none: any invalid row refuses them all.

    Raises ``ValidationError`` whose messages are the row errors of :func:`preview_animal_rows`
    (``rows`` key). The ethics protocol row is locked while counting, so two registrations at
    once cannot together exceed the approved numbers.
    """
    lab = run.study.lab
    require_role(registered_by, lab, RECORDERS, action="register animals")
    received = received_on or lab_today(lab)
    with transaction.atomic(), audited_change(reason=None, required=False):
        ethics_allowance(run, lock=True)
        preview = preview_animal_rows(run=run, rows=rows, received_on=received)
        if not preview.is_valid:
            raise ValidationError({"rows": [str(error) for error in preview.errors]})
        animals = Animal.objects.bulk_create(
            [
                Animal(
                    run=run,
                    tag=row.tag,
                    rfid=row.rfid,
                    sex=row.sex,
                    date_of_birth=row.date_of_birth,
                    arrival_weight_g=row.arrival_weight_g,
                    received_on=received,
                    registered_by=registered_by,
                )
                for row in preview.rows
            ]
        )
        CageAssignment.objects.bulk_create(
            [
                CageAssignment(animal=animal, cage=row.cage, from_date=received, reason="arrival")
                for animal, row in zip(animals, preview.rows, strict=True)
                if row.cage is not None
            ]
        )
    return animals


# -- cages -----------------------------------------------------------------------------------


def create_cage(
    *,
    lab: Lab,
    label: str,
    created_by: User,
    run: StudyRun | None = None,
    capacity: int = 5,
    room: str = "",
    rack: str = "",
    position: str = "",
) -> Cage:
    """Create a cage for a run (or the whole lab when ``run`` is empty)."""
    require_role(created_by, lab, RECORDERS, action="create cages")
    if run is not None and run.study.lab_id != lab.pk:
        raise ValidationError({"run": "The run belongs to another lab."})
    with transaction.atomic(), audited_change(reason=None, required=False):
        cage = Cage(
            lab=lab,
            run=run,
            label=label.strip(),
            capacity=capacity,
            room=room.strip(),
            rack=rack.strip(),
            position=position.strip(),
        )
        cage.full_clean(validate_constraints=False)
        if Cage.objects.filter(lab=lab, run=run, label=cage.label).exists():
            raise ValidationError({"label": f"Cage '{cage.label}' exists already."})
        cage.save()
    return cage


def current_cage(animal: Animal) -> Cage | None:
    assignment = _current_assignment(animal)
    return assignment.cage if assignment else None


def _current_assignment(animal: Animal) -> CageAssignment | None:
    return (
        CageAssignment.objects.select_related("cage")
        .filter(animal=animal, to_date__isnull=True)
        .first()
    )


def _open_assignment(animal: Animal, cage: Cage, on: dt.date, reason: str) -> CageAssignment:
    """Close the animal's current stay (if any) on ``on`` and open one in ``cage``."""
    current = (
        CageAssignment.objects.select_for_update()
        .filter(animal=animal, to_date__isnull=True)
        .first()
    )
    if current is not None:
        if current.from_date > on:
            raise ValidationError(
                {"moved_on": f"{animal.tag} entered its current cage on {current.from_date}."}
            )
        CageAssignment.objects.filter(pk=current.pk).update(to_date=on)
    return CageAssignment.objects.create(animal=animal, cage=cage, from_date=on, reason=reason)


def _check_room(cage: Cage, incoming: int) -> None:
    occupants = CageAssignment.objects.filter(cage=cage, to_date__isnull=True).count()
    if occupants + incoming > cage.capacity:
        raise ValidationError(
            {
                "cage": f"Cage '{cage.label}' holds {occupants} of {cage.capacity}: no room for "
                f"{incoming} more."
            }
        )


def move_animals(
    *,
    animals: Sequence[Animal],
    cage: Cage,
    moved_by: User,
    reason: str = "",
    moved_on: dt.date | None = None,
) -> list[CageAssignment]:
    """Move animals to ``cage`` on ``moved_on`` (lab-local today by default), keeping their
    dated cage history. Refused when the cage is full or belongs to another run or lab."""
    if not animals:
        raise ValidationError({"animals": "Choose at least one animal."})
    lab = animals[0].run.study.lab
    require_role(moved_by, lab, RECORDERS, action="move animals")
    on = moved_on or lab_today(lab)
    for animal in animals:
        if cage.lab_id != lab.pk or (cage.run_id is not None and cage.run_id != animal.run_id):
            raise ValidationError({"cage": f"Cage '{cage.label}' is not a cage of this run."})
    with transaction.atomic(), audited_change(reason=reason or None, required=False):
        Cage.objects.select_for_update().filter(pk=cage.pk).first()
        moving = [a for a in animals if getattr(current_cage(a), "pk", None) != cage.pk]
        _check_room(cage, len(moving))
        return [_open_assignment(animal, cage, on, reason) for animal in moving]


def split_cage(
    *,
    cage: Cage,
    animals: Sequence[Animal],
    new_label: str,
    moved_by: User,
    reason: str,
    moved_on: dt.date | None = None,
    capacity: int | None = None,
) -> Cage:
    """Split a cage (e.g. after fighting): a new cage next to it takes ``animals``."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the cage is split (e.g. fighting)."})
    for animal in animals:
        if getattr(current_cage(animal), "pk", None) != cage.pk:
            raise ValidationError({"animals": f"{animal.tag} is not in cage '{cage.label}'."})
    with transaction.atomic():
        new_cage = create_cage(
            lab=cage.lab,
            run=cage.run,
            label=new_label,
            created_by=moved_by,
            capacity=capacity or cage.capacity,
            room=cage.room,
            rack=cage.rack,
        )
        move_animals(
            animals=animals, cage=new_cage, moved_by=moved_by, reason=reason, moved_on=moved_on
        )
    return new_cage


# -- tumours and implantation ----------------------------------------------------------------


def _implantation_parameters(run: StudyRun) -> tuple[Any, ImplantationParameters | None]:
    procedure = (
        run.study.procedures.filter(role=ProcedureRole.IMPLANTATION)
        .select_related("protocol_version")
        .first()
    )
    if procedure is None:
        return None, None
    try:
        parameters = ImplantationParameters.from_dict(procedure.protocol_version.parameters)
    except ParameterErrors:
        return procedure.protocol_version, None
    return procedure.protocol_version, parameters


def record_implantation(
    *,
    animal: Animal,
    site: str,
    implanted_on: dt.date,
    cells: int,
    operator: User,
    recorded_by: User | None = None,
    role: str = TumourRole.INJECTED,
    viability_percent: Decimal | float | None = None,
    passage: int | None = None,
    deviations: str = "",
) -> Implantation:
    """Record a tumour of ``animal`` at ``site`` and how it was implanted.

    A viability below the implantation protocol's minimum, or a passage above its limit, is a
    deviation: it is refused unless ``deviations`` describes it. The date may not lie in the
    future (lab-local).
    """
    recorder = recorded_by or operator
    lab = animal.run.study.lab
    require_role(recorder, lab, RECORDERS, action="record implantations")
    if implanted_on > lab_today(lab):
        raise ValidationError({"implanted_on": "The implantation date lies in the future."})
    protocol_version, parameters = _implantation_parameters(animal.run)
    viability = Decimal(str(viability_percent)) if viability_percent is not None else None
    problems = implantation_deviations(parameters, viability_percent=viability, passage=passage)
    if problems and not deviations.strip():
        raise ValidationError({"deviations": "; ".join(problems) + ": describe the deviation."})
    with transaction.atomic(), audited_change(reason=None, required=False):
        tumour = Tumour(animal=animal, site=site.strip(), role=role)
        tumour.full_clean()
        tumour.save()
        implantation = Implantation(
            tumour=tumour,
            implanted_on=implanted_on,
            cells=cells,
            viability_percent=viability,
            passage=passage,
            operator=operator,
            protocol_version=protocol_version,
            deviations=deviations.strip(),
            recorded_by=recorder,
        )
        implantation.full_clean()
        implantation.save()
    return implantation


def implantation_protocol(run: StudyRun) -> ImplantationParameters | None:
    """The design's implantation protocol parameters (None without a valid one)."""
    return _implantation_parameters(run)[1]


def implantation_deviations(
    parameters: ImplantationParameters | None,
    *,
    viability_percent: Decimal | float | None,
    passage: int | None,
) -> list[str]:
    """What departs from the implantation protocol, as phrases (empty: per protocol)."""
    if parameters is None:
        return []
    found: list[str] = []
    if viability_percent is not None and Decimal(str(viability_percent)) < Decimal(
        str(parameters.viability_min_percent)
    ):
        found.append(
            f"viability {viability_percent} % is below the protocol's minimum of "
            f"{parameters.viability_min_percent:g} %"
        )
    if (
        passage is not None
        and parameters.passage_limit is not None
        and passage > parameters.passage_limit
    ):
        found.append(
            f"passage {passage} is above the protocol's limit of {parameters.passage_limit}"
        )
    return found


@dataclass(frozen=True)
class ImplantationSite:
    """One site implanted in every chosen animal, with the tumour's role and its cells."""

    site: str
    role: str = TumourRole.INJECTED
    cells: int | None = None


def record_implantations(
    *,
    run: StudyRun,
    animals: Sequence[Animal],
    sites: Sequence[ImplantationSite],
    implanted_on: dt.date,
    cells: int,
    operator: User,
    recorded_by: User,
    viability_percent: Decimal | float | None = None,
    passage: int | None = None,
    deviations: str = "",
) -> list[Implantation]:
    """Record the implantation of many animals of ``run`` at once (one or two sites each: a
    bilateral design implants both flanks), all or nothing.

    Every animal must belong to the run and be on study, and have no tumour at a chosen site
    yet; every problem is reported at once, naming the animal and the site. A site without its
    own cell number gets ``cells``. Deviations from the protocol (viability, passage) need a
    description, as for a single implantation (:func:`record_implantation`).
    """
    require_role(recorded_by, run.study.lab, RECORDERS, action="record implantations")
    if not animals:
        raise ValidationError({"animals": "Choose at least one animal."})
    if not sites:
        raise ValidationError({"sites": "Name at least one site."})
    names = [site.site.strip() for site in sites]
    if any(not name for name in names) or len(set(names)) != len(names):
        raise ValidationError({"sites": "Give each site once, by name (e.g. right flank)."})
    problems: list[str] = []
    existing = set(
        Tumour.objects.filter(animal__in=list(animals), site__in=names).values_list(
            "animal_id", "site"
        )
    )
    for animal in animals:
        if animal.run_id != run.pk:
            problems.append(f"{animal.tag}: not an animal of run {run.code}")
        elif animal.status != AnimalStatus.ON_STUDY:
            problems.append(f"{animal.tag}: {animal.get_status_display().lower()}")
        for name in names:
            if (animal.pk, name) in existing:
                problems.append(f"{animal.tag}: already has a tumour at the {name}")
    if len({animal.pk for animal in animals}) != len(animals):
        problems.append("An animal is listed twice.")
    if problems:
        raise ValidationError({"animals": problems})
    with transaction.atomic():
        return [
            record_implantation(
                animal=animal,
                site=site.site,
                role=site.role,
                implanted_on=implanted_on,
                cells=site.cells or cells,
                operator=operator,
                recorded_by=recorded_by,
                viability_percent=viability_percent,
                passage=passage,
                deviations=deviations,
            )
            for animal in animals
            for site in sites
        ]


# -- exclusion -------------------------------------------------------------------------------


def exclude_animal(*, animal: Animal, reason: str, excluded_by: User) -> Animal:
    """Exclude an animal from the study with a reason. It is kept and counted (ethics numbers,
    reports), only no longer eligible for randomization or tasks; its future due tasks end."""
    require_role(excluded_by, animal.run.study.lab, DECIDERS, action="exclude animals")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the animal is excluded."})
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = Animal.objects.select_for_update().get(pk=animal.pk)
        if current.status != AnimalStatus.ON_STUDY:
            raise ValidationError(
                f"Animal {current.tag} is {current.get_status_display().lower()} already."
            )
        Animal.objects.filter(pk=current.pk).update(
            status=AnimalStatus.EXCLUDED,
            status_reason=reason.strip(),
            status_changed_at=timezone.now(),
            row_version=F("row_version") + 1,
        )
        from labnotes.services.schedule import cancel_future_tasks

        cancel_future_tasks(animals=[current], today=lab_today(current.run.study.lab))
        current.refresh_from_db()
    return current


def tags_of(animals: Iterable[Animal]) -> str:
    return ", ".join(sorted(animal.tag for animal in animals))
