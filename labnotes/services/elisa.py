"""ELISA plates: create from a protocol version, lay out, import a reading, fit, accept or reject.

The science is :mod:`labnotes.analysis.elisa` (4PL/5PL fit, acceptance rule, LLOQ/ULOQ,
back-calculation); the parsing is :mod:`labnotes.importers.plates`. This module ties them to the
records: which well holds what, the stored export (by SHA-256), the per-well flags, the results
per sample and dilution, and the scientist's decision. Every write is audited with its reason.

Conventions of the fit on a plate:

- the mean OD of the blank wells (when there are any) is subtracted from every standard and
  sample well before the fit (DuoSet and most sandwich kits are read blank-corrected);
- a well whose export cell holds an instrument flag (``OVRFLW``, ``MISSED`` …) keeps the flag and
  stays out of the fit and its group's mean; a sample group with no numeric well but an overflow
  flag is ``above_uloq``, otherwise ``no_reading``;
- the plate's QC applies the protocol's limits (R², replicate CV, standard recovery); LLOQ and
  ULOQ follow the analysis engine's rule (recovery and CV within ±20 %, ±25 % at the curve ends).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from labnotes.analysis import elisa as analysis
from labnotes.importers.errors import ImportFileError
from labnotes.importers.plates import (
    PlateGrid,
    PlateReading,
    parse_generic_well_list,
    parse_plate_export,
)
from labnotes.models import (
    ElisaPlate,
    ElisaResult,
    PlateLayoutTemplate,
    PlateStatus,
    PlateWell,
    ResultFlag,
    Sample,
    StudyRun,
    WellFlag,
    WellRole,
)
from labnotes.services.common import DECIDERS, RECORDERS, StaleWrite
from labnotes.services.files import max_file_bytes, store_file
from planner.audit import audited_change
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import ElisaParameters
from planner.models import ProtocolVersion
from planner.services.permissions import require_role

ROWS = "ABCDEFGH"
COLUMNS = range(1, 13)
ALL_WELLS = tuple(f"{row}{column}" for row in ROWS for column in COLUMNS)
_WELL = re.compile(r"^\s*([A-Ha-h])\s*0*(1[0-2]|[1-9])\s*$")
_OVERFLOW = re.compile(r"ovr|over|sat|>|\+", re.IGNORECASE)
#: The usual absorbance read of a TMB ELISA (stopped with acid).
ELISA_WAVELENGTH_NM = 450.0


# -- protocol ------------------------------------------------------------------------------------


def elisa_parameters(version: ProtocolVersion) -> ElisaParameters:
    """The ELISA parameters of a protocol version, or a ValidationError naming what is wrong."""
    if version.template.kind != "elisa":
        raise ValidationError(
            {"protocol_version": f"'{version}' is not an ELISA protocol ({version.template.kind})."}
        )
    try:
        return ElisaParameters.from_dict(version.parameters)
    except ParameterErrors as error:
        raise ValidationError({"protocol_version": f"'{version}': {error}"}) from None


# -- layout --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WellSpec:
    """One well of a plate map as validated (``sample`` only for sample wells)."""

    well: str
    role: str
    concentration_pg_per_ml: float | None = None
    sample: Sample | None = None
    dilution: float = 1.0
    replicate_group: str = ""


def normalise_well(text: object) -> str | None:
    match = _WELL.match(str(text or ""))
    return f"{match.group(1).upper()}{int(match.group(2))}" if match else None


def _number(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(str(value).replace(",", ".").strip())
    except ValueError:
        return math.nan
    return number


def _default_group(spec: WellSpec) -> str:
    if spec.role == WellRole.STANDARD:
        return f"STD {spec.concentration_pg_per_ml:g}"
    if spec.role == WellRole.BLANK:
        return "BLANK"
    if spec.role == WellRole.SAMPLE and spec.sample is not None:
        return f"{spec.sample.barcode} 1:{spec.dilution:g}"
    return ""


def clean_layout(
    run: StudyRun, wells: Sequence[Mapping[str, Any]], *, require_samples: bool = True
) -> list[WellSpec]:
    """Validate a plate map given as ``[{"well", "role", "concentration_pg_per_ml", "sample"
    (barcode or id), "dilution", "replicate_group"}, …]``.

    Every problem is collected and raised together, each naming the well, the field and the
    reason. Refused: a position outside A1-H12, a well given twice, an unknown role, a standard
    without a concentration ≥ 0, a sample well whose sample is not a (non-voided) sample of an
    animal of this run, a dilution below 1, and a replicate group mixing roles, samples,
    dilutions or concentrations.
    """
    errors: list[str] = []
    seen: set[str] = set()
    specs: list[WellSpec] = []
    references = {
        str(item.get("sample")).strip()
        for item in wells
        if item.get("sample") not in (None, "") and item.get("role") == WellRole.SAMPLE
    }
    samples = Sample.objects.filter(animal__run=run, voided_at__isnull=True).select_related(
        "animal"
    )
    by_barcode = {s.barcode: s for s in samples.filter(barcode__in=references)}
    by_id = {str(s.pk): s for s in samples.filter(pk__in=[r for r in references if r.isdigit()])}
    for index, item in enumerate(wells, start=1):
        raw_well = item.get("well")
        well = normalise_well(raw_well)
        if well is None:
            errors.append(f"Entry {index}, field well: '{raw_well}' is not a well from A1 to H12.")
            continue
        if well in seen:
            errors.append(f"Well {well}: given twice in the layout (duplicate well).")
            continue
        seen.add(well)
        role = str(item.get("role") or "").strip().lower()
        if role not in WellRole.values:
            errors.append(
                f"Well {well}, field role: '{role}' is not standard, blank, sample or empty."
            )
            continue
        if role == WellRole.EMPTY:
            continue
        dilution = _number(item.get("dilution"))
        dilution = 1.0 if dilution is None else dilution
        if not math.isfinite(dilution) or dilution < 1:
            errors.append(
                f"Well {well}, field dilution: '{item.get('dilution')}' is not a dilution "
                "factor of 1 or more."
            )
            continue
        concentration: float | None = None
        sample: Sample | None = None
        if role == WellRole.STANDARD:
            concentration = _number(item.get("concentration_pg_per_ml"))
            if concentration is None or not math.isfinite(concentration) or concentration < 0:
                errors.append(
                    f"Well {well}, field concentration_pg_per_ml: a standard needs a "
                    f"concentration of 0 pg/mL or more "
                    f"(got '{item.get('concentration_pg_per_ml')}')."
                )
                continue
        if role == WellRole.SAMPLE:
            reference = str(item.get("sample") or "").strip()
            if reference:
                sample = by_barcode.get(reference) or by_id.get(reference)
                if sample is None:
                    errors.append(
                        f"Well {well}, field sample: '{reference}' matches no sample of an animal "
                        f"in run {run.code} (or that sample is voided)."
                    )
                    continue
            elif require_samples:
                errors.append(f"Well {well}, field sample: a sample well needs its sample.")
                continue
        spec = WellSpec(
            well=well,
            role=role,
            concentration_pg_per_ml=concentration,
            sample=sample,
            dilution=dilution,
            replicate_group=str(item.get("replicate_group") or "").strip()[:80],
        )
        if not spec.replicate_group:
            spec = WellSpec(**{**spec.__dict__, "replicate_group": _default_group(spec)})
        specs.append(spec)
    groups: dict[str, WellSpec] = {}
    for spec in specs:
        if not spec.replicate_group:
            continue
        first = groups.setdefault(spec.replicate_group, spec)
        if (first.role, first.sample, first.dilution, first.concentration_pg_per_ml) != (
            spec.role,
            spec.sample,
            spec.dilution,
            spec.concentration_pg_per_ml,
        ):
            errors.append(
                f"Well {spec.well}, field replicate_group: replicate group "
                f"'{spec.replicate_group}' already holds well {first.well} with a different "
                "role, sample, dilution or concentration."
            )
    if errors:
        raise ValidationError({"layout": errors})
    return specs


def _write_wells(plate: ElisaPlate, specs: Sequence[WellSpec]) -> None:
    plate.wells.all().delete()
    PlateWell.objects.bulk_create(
        PlateWell(
            plate=plate,
            well=spec.well,
            role=spec.role,
            concentration_pg_per_ml=spec.concentration_pg_per_ml,
            sample=spec.sample,
            dilution=spec.dilution,
            replicate_group=spec.replicate_group,
        )
        for spec in specs
    )


def layout_of(plate: ElisaPlate) -> list[dict[str, Any]]:
    """The plate map as the editor and the API exchange it (wells in A1…H12 order)."""
    wells = {w.well: w for w in plate.wells.select_related("sample")}
    return [_well_dict(wells[name]) for name in ALL_WELLS if name in wells]


def _well_dict(well: PlateWell) -> dict[str, Any]:
    return {
        "well": well.well,
        "role": well.role,
        "concentration_pg_per_ml": well.concentration_pg_per_ml,
        "sample": well.sample.barcode if well.sample is not None else "",
        "dilution": well.dilution,
        "replicate_group": well.replicate_group,
    }


def create_plate(
    *,
    run: StudyRun,
    protocol_version: ProtocolVersion,
    name: str,
    created_by: User,
    template: PlateLayoutTemplate | None = None,
) -> ElisaPlate:
    """A new plate (``draft``) of ``run`` following a released ELISA protocol version of the
    run's lab; with ``template``, its standards, blanks and sample slots are laid out."""
    lab = run.study.lab
    require_role(created_by, lab, RECORDERS, action="create ELISA plates")
    parameters = elisa_parameters(protocol_version)
    if protocol_version.template.lab_id != lab.pk or protocol_version.status != "released":
        raise ValidationError(
            {"protocol_version": "Choose a released ELISA protocol version of this lab."}
        )
    if template is not None and template.lab_id != lab.pk:
        raise ValidationError({"template": "That layout template belongs to another lab."})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the plate a name (e.g. its barcode)."})
    with transaction.atomic(), audited_change(reason=None, required=False):
        if ElisaPlate.objects.filter(run=run, name=name).exists():
            raise ValidationError({"name": f"Run {run.code} already has a plate named '{name}'."})
        plate = ElisaPlate(
            run=run,
            protocol_version=protocol_version,
            name=name,
            analyte=parameters.analyte,
            created_by=created_by,
        )
        plate.full_clean()
        plate.save()
        if template is not None:
            specs = clean_layout(run, template.wells, require_samples=False)
            _write_wells(plate, specs)
    return plate


def _locked(plate: ElisaPlate, expected_version: int | None) -> ElisaPlate:
    current = (
        ElisaPlate.objects.select_for_update()
        .select_related("run__study__lab", "protocol_version__template")
        .get(pk=plate.pk)
    )
    if expected_version is not None and current.row_version != expected_version:
        raise StaleWrite(current)
    return current


def _bump(plate: ElisaPlate, **values: Any) -> ElisaPlate:
    ElisaPlate.objects.filter(pk=plate.pk).update(**values, row_version=F("row_version") + 1)
    plate.refresh_from_db()
    return plate


def save_layout(
    *,
    plate: ElisaPlate,
    wells: Sequence[Mapping[str, Any]],
    changed_by: User,
    reason: str | None = None,
    expected_version: int | None = None,
) -> ElisaPlate:
    """Replace the plate map of a ``draft`` plate (see :func:`clean_layout` for what is refused).

    A reason is required once the plate has a layout (a change after first entry). Once read,
    the layout is fixed: the readings were taken against it.
    """
    require_role(changed_by, plate.run.study.lab, RECORDERS, action="lay out ELISA plates")
    with transaction.atomic():
        current = _locked(plate, expected_version)
        if current.status != PlateStatus.DRAFT:
            raise ValidationError(
                {"layout": "This plate has been read: its layout is fixed (make a new plate)."}
            )
        specs = clean_layout(current.run, wells)
        with audited_change(reason=reason, required=current.wells.exists()):
            _write_wells(current, specs)
            return _bump(current)


def save_layout_template(*, plate: ElisaPlate, name: str, created_by: User) -> PlateLayoutTemplate:
    """Keep the plate's map as a reusable template of the lab (sample wells without samples)."""
    lab = plate.run.study.lab
    require_role(created_by, lab, RECORDERS, action="save plate layouts")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the layout template."})
    wells = [{**item, "sample": ""} for item in layout_of(plate)]
    if not wells:
        raise ValidationError({"layout": "The plate has no layout to keep yet."})
    template = PlateLayoutTemplate(lab=lab, name=name[:120], wells=wells, created_by=created_by)
    with transaction.atomic(), audited_change(reason=None, required=False):
        try:
            with transaction.atomic():
                template.save()
        except IntegrityError:
            raise ValidationError(
                {"name": f"The lab already has a layout template named '{name}'."}
            ) from None
    return template


# -- reading and fit -----------------------------------------------------------------------------


def _file_error(filename: str, error: ImportFileError) -> ValidationError:
    return ValidationError({"file": f"{filename or 'The file'}: {error.describe()}"})


def read_export(
    content: bytes,
    *,
    filename: str = "",
    well_column: str | None = None,
    value_column: str | None = None,
    plate_column: str | None = None,
) -> PlateReading:
    """Parse an export (format detected; a generic well list through the column mapping)."""
    limit = max_file_bytes()
    if len(content) > limit:
        raise ValidationError(
            {
                "file": f"{filename or 'The file'} is {len(content) / 1024 / 1024:.1f} MiB; "
                f"uploads of at most {limit / 1024 / 1024:.1f} MiB are accepted."
            }
        )
    try:
        if well_column or value_column:
            if not (well_column and value_column):
                raise ValidationError(
                    {"value_column": "Map both the well column and the value column."}
                )
            return parse_generic_well_list(
                content,
                well_column=well_column,
                value_column=value_column,
                plate_column=plate_column or None,
            )
        return parse_plate_export(content)
    except ImportFileError as error:
        raise _file_error(filename, error) from None


def grid_key(grid: PlateGrid) -> str:
    return f"{grid.plate} / {grid.label}"


def choose_grid(reading: PlateReading, wanted: str | None = None) -> PlateGrid:
    """The read to use: ``wanted`` ("plate / label"), the only one, or the only 450 nm read."""
    grids = list(reading.plates)
    if not grids:
        raise ValidationError({"file": "The export holds no plate readings."})
    if wanted:
        found = [g for g in grids if grid_key(g) == wanted]
        if len(found) == 1:
            return found[0]
        raise ValidationError(
            {"grid": f"No read '{wanted}' in the file; it has: {_available(grids)}."}
        )
    if len(grids) == 1:
        return grids[0]
    at_450 = [g for g in grids if g.wavelength_nm == ELISA_WAVELENGTH_NM]
    if len(at_450) == 1:
        return at_450[0]
    raise ValidationError(
        {"grid": f"The file holds {len(grids)} reads ({_available(grids)}): choose one."}
    )


def _available(grids: Sequence[PlateGrid]) -> str:
    return "; ".join(grid_key(g) for g in grids)


@dataclass(frozen=True)
class GroupResult:
    replicate_group: str
    sample: Sample
    dilution: float
    n_wells: int
    mean_od: float | None
    cv_percent: float | None
    cv_exceeds_limit: bool
    concentration_in_well: float | None
    concentration: float | None
    flag: str


@dataclass(frozen=True)
class PlateFit:
    """What fitting a read plate gives: the JSON kept on the plate and the result rows."""

    summary: dict[str, Any]
    groups: tuple[GroupResult, ...]


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def fit_plate(wells: Sequence[PlateWell], parameters: ElisaParameters) -> PlateFit:
    """Fit the standards of read ``wells`` and quantify their sample groups (module docstring)."""
    numeric = [w for w in wells if w.od is not None and not w.flag]
    blanks = [w.od for w in numeric if w.role == WellRole.BLANK and w.od is not None]
    blank = float(np.mean(blanks)) if blanks else None
    offset = blank or 0.0
    standards = [w for w in numeric if w.role == WellRole.STANDARD]
    concentration = np.array([w.concentration_pg_per_ml for w in standards], dtype=np.float64)
    od = np.array([(w.od or 0.0) - offset for w in standards], dtype=np.float64)
    model = analysis.CurveModel(parameters.curve_model.value)
    summary: dict[str, Any] = {
        "model": model.value,
        "blank_od": blank,
        "n_standard_wells": len(standards),
        "warnings": [],
        "qc_failures": [],
    }
    fit: analysis.CurveFit | None = None
    if len(standards) == 0:
        summary["error"] = "the plate has no standard wells with a numeric reading"
    else:
        warning = analysis.monotonicity_warning(concentration, od)
        if warning:
            summary["warnings"].append(warning)
        try:
            fit = analysis.fit_curve(concentration, od, model=model)
        except (analysis.CurveFitError, ValueError) as error:
            summary["error"] = str(error)
    lloq = uloq = None
    if fit is not None:
        p = fit.parameters
        levels = analysis.standard_levels(concentration, od, p)
        lloq, uloq = analysis.quantification_limits(levels)
        summary.update(
            {
                "parameters": {
                    "bottom": float(p.bottom),
                    "top": float(p.top),
                    "ec50": float(p.ec50),
                    "hill": float(p.hill),
                    "s": float(p.s),
                },
                "r_squared": _finite(fit.r_squared),
                "rss": float(fit.rss),
                "df": int(fit.df),
                "lloq_pg_per_ml": _finite(lloq),
                "uloq_pg_per_ml": _finite(uloq),
                "levels": [
                    {
                        "concentration_pg_per_ml": float(level.concentration),
                        "n_wells": int(level.n_wells),
                        "mean_od": float(level.mean_od),
                        "cv_percent": _finite(level.cv_percent),
                        "back_calculated_pg_per_ml": _finite(level.back_calculated),
                        "recovery_percent": _finite(level.recovery_percent),
                        "passes": bool(level.passes),
                    }
                    for level in levels
                ],
            }
        )
        failures: list[str] = summary["qc_failures"]
        if not fit.r_squared >= parameters.min_r_squared:
            failures.append(f"R² {fit.r_squared:.4f} is below {parameters.min_r_squared:g}")
        for level in levels:
            if (
                level.cv_percent is not None
                and level.cv_percent > parameters.max_replicate_cv_percent
            ):
                failures.append(
                    f"standard {level.concentration:g} pg/mL: CV {level.cv_percent:.1f} % above "
                    f"{parameters.max_replicate_cv_percent:g} %"
                )
            recovery = level.recovery_percent
            if recovery is None or not (
                parameters.standard_recovery_min_percent
                <= recovery
                <= parameters.standard_recovery_max_percent
            ):
                shown = "no back-calculation" if recovery is None else f"recovery {recovery:.1f} %"
                failures.append(
                    f"standard {level.concentration:g} pg/mL: {shown} outside "
                    f"{parameters.standard_recovery_min_percent:g}–"
                    f"{parameters.standard_recovery_max_percent:g} %"
                )
        if lloq is None:
            summary["warnings"].append("no standard level meets the acceptance rule")
    else:
        summary["qc_failures"].append(f"no curve: {summary.get('error')}")
    groups: dict[str, list[PlateWell]] = {}
    for well in wells:
        if well.role == WellRole.SAMPLE and well.sample is not None:
            groups.setdefault(well.replicate_group, []).append(well)
    results: list[GroupResult] = []
    for name, members in groups.items():
        values = [(w.od or 0.0) - offset for w in members if w.od is not None and not w.flag]
        first = members[0]
        assert first.sample is not None
        if not values:
            overflow = any(_OVERFLOW.search(w.od_flag or "") for w in members)
            flag = ResultFlag.ABOVE_ULOQ if overflow else ResultFlag.NO_READING
            results.append(
                GroupResult(
                    name,
                    first.sample,
                    first.dilution,
                    len(members),
                    None,
                    None,
                    False,
                    None,
                    None,
                    flag,
                )
            )
            continue
        raw_cv = analysis.cv_percent([v + offset for v in values])
        if fit is None:
            results.append(
                GroupResult(
                    name,
                    first.sample,
                    first.dilution,
                    len(values),
                    float(np.mean(values)),
                    raw_cv,
                    False,
                    None,
                    None,
                    ResultFlag.NOT_QUANTIFIABLE,
                )
            )
            continue
        result = analysis.quantify_sample(name, values, first.dilution, fit.parameters, lloq, uloq)
        results.append(
            GroupResult(
                replicate_group=name,
                sample=first.sample,
                dilution=first.dilution,
                n_wells=result.n_wells,
                mean_od=result.mean_od + offset,
                cv_percent=raw_cv,
                cv_exceeds_limit=bool(
                    raw_cv is not None and raw_cv > parameters.max_replicate_cv_percent
                ),
                concentration_in_well=_finite(result.concentration_in_well),
                concentration=_finite(result.concentration),
                flag=ResultFlag(result.flag.value),
            )
        )
    summary["qc_passed"] = not summary["qc_failures"]
    summary["samples_cv_above_limit"] = int(sum(r.cv_exceeds_limit for r in results))
    return PlateFit(summary, tuple(results))


def import_reading(
    *,
    plate: ElisaPlate,
    content: bytes,
    filename: str,
    imported_by: User,
    content_type: str = "",
    well_column: str | None = None,
    value_column: str | None = None,
    plate_column: str | None = None,
    grid: str | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> ElisaPlate:
    """Import the plate's ODs from an instrument export, keep the file (SHA-256), fit and
    quantify; the plate becomes ``read`` (awaiting a scientist's decision).

    The format is detected from the content; a generic well list with more than one value
    column needs ``well_column`` and ``value_column`` (the column-mapping step). Refused, with
    nothing saved: an empty, truncated or unrecognised file, one above the upload limit,
    duplicate wells, a file with several reads and no ``grid`` chosen, a plate without standards
    in its layout, an export holding none of the layout's wells. Importing again (a corrected
    export) needs a reason; a decided plate cannot be read again.
    """
    lab = plate.run.study.lab
    require_role(imported_by, lab, RECORDERS, action="import plate readings")
    reading = read_export(
        content,
        filename=filename,
        well_column=well_column,
        value_column=value_column,
        plate_column=plate_column,
    )
    chosen = choose_grid(reading, grid)
    with transaction.atomic():
        current = _locked(plate, expected_version)
        if current.status in (PlateStatus.ACCEPTED, PlateStatus.REJECTED):
            raise ValidationError(
                {
                    "file": f"This plate is {current.get_status_display().lower()}: "
                    "it is not read again."
                }
            )
        parameters = elisa_parameters(current.protocol_version)
        wells = list(current.wells.select_related("sample__animal"))
        if not any(w.role == WellRole.STANDARD for w in wells):
            raise ValidationError(
                {"layout": "Lay out the standards before importing a reading: there is no curve."}
            )
        laid_out = [w for w in wells if w.role != WellRole.EMPTY]
        if not any(w.well in chosen.wells for w in laid_out):
            raise ValidationError(
                {
                    "file": f"{filename}: the read '{grid_key(chosen)}' has none of the wells "
                    "of this plate map: is it the right file?"
                }
            )
        for well in laid_out:
            value = chosen.wells.get(well.well)
            if value is None:
                well.od, well.od_flag, well.flag = None, "", WellFlag.NOT_READ
            elif value.value is not None:
                well.od, well.od_flag, well.flag = value.value, "", WellFlag.NONE
            else:
                well.od, well.od_flag, well.flag = (
                    None,
                    (value.flag or "")[:40],
                    WellFlag.INSTRUMENT,
                )
        fitted = fit_plate(laid_out, parameters)
        with audited_change(reason=reason, required=current.status == PlateStatus.READ):
            stored = store_file(
                content=content,
                filename=filename,
                content_type=content_type or "application/octet-stream",
                stored_by=imported_by,
                lab=lab,
            )
            PlateWell.objects.bulk_update(laid_out, ["od", "od_flag", "flag"])
            current.results.all().delete()
            ElisaResult.objects.bulk_create(
                ElisaResult(
                    plate=current,
                    sample=group.sample,
                    replicate_group=group.replicate_group,
                    dilution=group.dilution,
                    n_wells=group.n_wells,
                    mean_od=group.mean_od,
                    cv_percent=group.cv_percent,
                    cv_exceeds_limit=group.cv_exceeds_limit,
                    concentration_in_well_pg_per_ml=group.concentration_in_well,
                    concentration_pg_per_ml=group.concentration,
                    flag=group.flag,
                )
                for group in fitted.groups
            )
            return _bump(
                current,
                status=PlateStatus.READ,
                reading_file=stored,
                reading_format=reading.format,
                reading_grid=grid_key(chosen)[:200],
                reading_metadata={str(k): str(v) for k, v in reading.metadata.items()},
                read_by=imported_by,
                read_at=timezone.now(),
                fit=fitted.summary,
            )


def decide_plate(
    *,
    plate: ElisaPlate,
    accept: bool,
    decided_by: User,
    reason: str,
    expected_version: int | None = None,
) -> ElisaPlate:
    """Accept or reject a read plate (scientists, study directors, lab admins), with a reason.

    Accepting a plate whose QC failed is allowed — the scientist may know why a level is off —
    but the reason must then say so (it is kept with the decision and in the audit trail).
    """
    require_role(decided_by, plate.run.study.lab, DECIDERS, action="accept or reject ELISA plates")
    cleaned = (reason or "").strip()
    if not cleaned:
        raise ValidationError({"reason": "Say why the plate is accepted or rejected."})
    with transaction.atomic(), audited_change(reason=cleaned, required=True):
        current = _locked(plate, expected_version)
        if current.status != PlateStatus.READ:
            raise ValidationError(
                {"status": f"Only a read plate awaiting review can be decided (this one is "
                 f"{current.get_status_display().lower()})."}
            )  # fmt: skip
        return _bump(
            current,
            status=PlateStatus.ACCEPTED if accept else PlateStatus.REJECTED,
            decided_by=decided_by,
            decided_at=timezone.now(),
            decision_reason=cleaned,
        )


# -- results per sample --------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleConcentration:
    """A sample's concentration on a plate: the mean over its in-range dilutions."""

    sample: Sample
    concentration_pg_per_ml: float | None
    n_dilutions_in_range: int
    flags: tuple[str, ...]


def sample_concentrations(results: Sequence[ElisaResult]) -> list[SampleConcentration]:
    """Per sample, the mean of the back-calculated concentrations (× dilution) of its dilutions
    that fall in the quantification range; ``None`` when none does (the flags say why)."""
    by_sample: dict[int, list[ElisaResult]] = {}
    for result in results:
        by_sample.setdefault(result.sample_id, []).append(result)
    output: list[SampleConcentration] = []
    for rows in by_sample.values():
        in_range = [
            r.concentration_pg_per_ml
            for r in rows
            if r.flag == ResultFlag.OK and r.concentration_pg_per_ml is not None
        ]
        output.append(
            SampleConcentration(
                sample=rows[0].sample,
                concentration_pg_per_ml=float(np.mean(in_range)) if in_range else None,
                n_dilutions_in_range=len(in_range),
                flags=tuple(sorted({r.flag for r in rows})),
            )
        )
    return output
