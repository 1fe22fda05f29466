"""Flow cytometry writes: a run's panel from its flow-panel protocol version, FCS uploads
(file kept by SHA-256, metadata read with flowio), FlowJo table and workspace imports through a
sample-name mapping saved per lab, and voiding.

Every import is all or nothing: the file is parsed, every sample name mapped to a collected
sample of the run and every panel population found in the file before anything is written; any
problem (empty, truncated or foreign file, over the size limit, a name that matches no sample)
raises one ``ValidationError`` that lists each problem with its line or name, and nothing is
stored — not even the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from labnotes.analysis.flow_statistics import (
    DERIVED_KINDS,
    DerivedStatistic,
    check_derived_statistic,
    default_derived_statistics,
)
from labnotes.importers.errors import ImportFileError
from labnotes.importers.fcs import FcsMetadata, read_fcs_metadata
from labnotes.importers.flowjo import (
    FlowJoWorkspace,
    FlowTable,
    parse_flowjo_table,
    parse_flowjo_workspace,
)
from labnotes.models import (
    FlowAcquisition,
    FlowImport,
    FlowImportKind,
    FlowPanel,
    FlowPopulationValue,
    FlowSampleMapping,
    FlowStatisticKind,
    Sample,
    SampleTissue,
    StudyRun,
)
from labnotes.services.common import RECORDERS
from labnotes.services.files import _human_size, max_file_bytes, store_file
from planner.audit import audited_change
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import FlowPanelParameters
from planner.models import ProcedureRole, ProtocolVersion
from planner.services.permissions import require_role

#: The mapping offered when a lab has none: the sample name is the tube's barcode
#: (``VS-000123.fcs`` or ``VS-000123``).
DEFAULT_PATTERN = r"^(?P<barcode>[A-Za-z0-9._\-/]+?)(?:\.fcs)?$"
#: Problems listed in one message before "and n more".
MAX_LISTED_PROBLEMS = 20

_STATISTICS: tuple[tuple[re.Pattern[str], FlowStatisticKind], ...] = (
    (re.compile(r"^(count|#\s*cells)$", re.I), FlowStatisticKind.COUNT),
    (re.compile(r"^freq(\.|uency)?\s+of\s+parent", re.I), FlowStatisticKind.FREQUENCY_OF_PARENT),
    (re.compile(r"^freq(\.|uency)?\s+of\s+total", re.I), FlowStatisticKind.FREQUENCY_OF_TOTAL),
)


# -- the panel ---------------------------------------------------------------------------------


def _derived_from(
    items: Sequence[Mapping[str, Any]], populations: Sequence[str]
) -> list[DerivedStatistic]:
    derived: list[DerivedStatistic] = []
    problems: list[str] = []
    for index, raw in enumerate(items):
        kind = str(raw.get("kind", ""))
        population = str(raw.get("population", "")).strip()
        denominator = str(raw.get("denominator", "") or "").strip()
        if kind not in DERIVED_KINDS:
            problems.append(
                f"derived statistic {index + 1}: '{kind}' is not one of {', '.join(DERIVED_KINDS)}"
            )
            continue
        key = f"{population}|{kind}" + (f"|{denominator}" if denominator else "")
        item = DerivedStatistic(
            key=key,
            label=str(raw.get("label", "") or "").strip()[:120] or key,
            kind=kind,  # type: ignore[arg-type]
            population=population,
            denominator=denominator,
        )
        problem = check_derived_statistic(item, populations)
        if problem is not None:
            problems.append(f"derived statistic {index + 1}: {problem}")
        elif any(other.key == key for other in derived):
            problems.append(f"derived statistic {index + 1}: listed twice")
        else:
            derived.append(item)
    if problems:
        raise ValidationError({"derived_statistics": problems})
    return derived


def create_flow_panel(
    *,
    run: StudyRun,
    protocol_version: ProtocolVersion,
    created_by: User,
    derived_statistics: Sequence[Mapping[str, Any]] | None = None,
) -> FlowPanel:
    """The flow panel of ``run`` from a released flow-panel protocol version that the run's
    study uses. ``derived_statistics`` (``[{"kind", "population", "denominator", "label"}]``)
    default to :func:`default_derived_statistics` of the panel's populations. Creating it again
    returns the existing panel."""
    lab = run.study.lab
    require_role(created_by, lab, RECORDERS, action="set up flow panels")
    if protocol_version.template.kind != "flow_panel":
        raise ValidationError({"protocol_version": "That protocol is not a flow cytometry panel."})
    if protocol_version.status != "released":
        raise ValidationError({"protocol_version": "Only a released panel version can be used."})
    if not run.study.procedures.filter(
        role=ProcedureRole.FLOW_PANEL, protocol_version=protocol_version
    ).exists():
        raise ValidationError(
            {"protocol_version": f"Study {run.study.code} does not use this flow panel."}
        )
    existing = FlowPanel.objects.filter(run=run, protocol_version=protocol_version).first()
    if existing is not None:
        return existing
    try:
        parameters = FlowPanelParameters.from_dict(protocol_version.parameters)
    except ParameterErrors as error:
        raise ValidationError(
            {"protocol_version": f"The panel's parameters are invalid: {error}"}
        ) from None
    populations = list(parameters.populations)
    if not populations:
        raise ValidationError({"protocol_version": "The panel names no population to report."})
    derived = (
        _derived_from(derived_statistics, populations)
        if derived_statistics is not None
        else list(default_derived_statistics(populations))
    )
    with transaction.atomic(), audited_change(reason=None, required=False):
        panel = FlowPanel(
            run=run,
            protocol_version=protocol_version,
            populations=populations,
            derived_statistics=[item.as_dict() for item in derived],
            created_by=created_by,
        )
        panel.full_clean()
        try:
            with transaction.atomic():
                panel.save()
        except IntegrityError:
            return FlowPanel.objects.get(run=run, protocol_version=protocol_version)
    return panel


def panel_derived_statistics(panel: FlowPanel) -> tuple[DerivedStatistic, ...]:
    return tuple(
        DerivedStatistic(
            key=item["key"],
            label=item["label"],
            kind=item["kind"],
            population=item["population"],
            denominator=item.get("denominator", ""),
        )
        for item in panel.derived_statistics
    )


# -- sample-name mapping -----------------------------------------------------------------------


@dataclass(frozen=True)
class MappingSpec:
    """A mapping as applied: the regular expression, tissue aliases and population columns."""

    pattern: str = DEFAULT_PATTERN
    tissue_aliases: Mapping[str, str] = field(default_factory=dict)
    population_columns: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, mapping: FlowSampleMapping) -> MappingSpec:
        return cls(
            pattern=mapping.pattern,
            tissue_aliases=dict(mapping.tissue_aliases),
            population_columns=dict(mapping.population_columns),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "tissue_aliases": dict(self.tissue_aliases),
            "population_columns": dict(self.population_columns),
        }


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The mapping's expression, checked: it must compile and name ``barcode`` or ``animal``."""
    text = (pattern or "").strip()
    if not text:
        raise ValidationError({"pattern": "Give the pattern that reads a sample name."})
    if len(text) > 300:
        raise ValidationError({"pattern": "The pattern is longer than 300 characters."})
    try:
        compiled = re.compile(text)
    except re.error as error:
        raise ValidationError(
            {"pattern": f"The pattern is not a valid regular expression: {error}."}
        ) from None
    groups = set(compiled.groupindex)
    if "barcode" not in groups and "animal" not in groups:
        raise ValidationError(
            {
                "pattern": "The pattern must name the sample: a group (?P<barcode>…), or "
                "(?P<animal>…) with the animal's tag and (?P<tissue>…) for the tissue."
            }
        )
    return compiled


def _clean_aliases(aliases: Mapping[str, Any]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for alias, tissue in (aliases or {}).items():
        name, value = str(alias).strip(), str(tissue).strip().lower()
        if not name:
            continue
        if value not in SampleTissue.values:
            raise ValidationError(
                {
                    "tissue_aliases": f"'{name}' → '{tissue}': '{tissue}' is not one of the "
                    f"tissues we know ({', '.join(SampleTissue.values)})."
                }
            )
        cleaned[name.lower()] = value
    return cleaned


def save_flow_mapping(
    *,
    lab: Any,
    name: str,
    spec: MappingSpec,
    saved_by: User,
    reason: str | None = None,
) -> FlowSampleMapping:
    """Save (or update, with a reason) the lab's mapping called ``name``."""
    require_role(saved_by, lab, RECORDERS, action="save flow sample mappings")
    label = (name or "").strip()
    if not label:
        raise ValidationError({"mapping_name": "Give the mapping a name to save it."})
    compile_pattern(spec.pattern)
    aliases = _clean_aliases(spec.tissue_aliases)
    columns = {str(k): str(v) for k, v in spec.population_columns.items() if str(v).strip()}
    existing = FlowSampleMapping.objects.filter(lab=lab, name=label).first()
    if existing is not None:
        unchanged = (
            existing.pattern == spec.pattern.strip()
            and existing.tissue_aliases == aliases
            and existing.population_columns == columns
        )
        if unchanged:
            return existing
        with (
            transaction.atomic(),
            audited_change(
                reason=reason or f"mapping '{label}' changed at an import", required=True
            ),
        ):
            FlowSampleMapping.objects.filter(pk=existing.pk).update(
                pattern=spec.pattern.strip(),
                tissue_aliases=aliases,
                population_columns=columns,
                row_version=F("row_version") + 1,
            )
            existing.refresh_from_db()
        return existing
    with transaction.atomic(), audited_change(reason=None, required=False):
        mapping = FlowSampleMapping(
            lab=lab,
            name=label[:120],
            pattern=spec.pattern.strip(),
            tissue_aliases=aliases,
            population_columns=columns,
            created_by=saved_by,
        )
        mapping.full_clean(exclude=["lab"])
        mapping.save()
    return mapping


@dataclass(frozen=True)
class NameMatch:
    """One sample name of a file and the sample it maps to (or why it maps to none)."""

    name: str
    line: int | None
    sample: Sample | None
    problem: str

    @property
    def where(self) -> str:
        return f"line {self.line}, sample '{self.name}'" if self.line else f"sample '{self.name}'"


def _run_samples(run: StudyRun) -> list[Sample]:
    return list(
        Sample.objects.filter(animal__run=run, voided_at__isnull=True).select_related("animal")
    )


def match_sample_names(
    run: StudyRun, names: Sequence[tuple[str, int | None]], spec: MappingSpec
) -> list[NameMatch]:
    """Map each ``(name, line)`` to one non-voided sample of ``run`` with ``spec``."""
    compiled = compile_pattern(spec.pattern)
    aliases = _clean_aliases(spec.tissue_aliases)
    samples = _run_samples(run)
    by_barcode = {sample.barcode.lower(): sample for sample in samples}
    matches: list[NameMatch] = []
    for name, line in names:
        found = compiled.search(name)
        if found is None:
            matches.append(NameMatch(name, line, None, "the name does not fit the pattern"))
            continue
        groups = found.groupdict()
        if groups.get("barcode"):
            sample = by_barcode.get(groups["barcode"].strip().lower())
            problem = "" if sample else f"no sample of this run has barcode {groups['barcode']}"
            matches.append(NameMatch(name, line, sample, problem))
            continue
        tag = (groups.get("animal") or "").strip()
        candidates = [s for s in samples if s.animal.tag == tag]
        if not candidates:
            matches.append(NameMatch(name, line, None, f"no animal of this run has tag '{tag}'"))
            continue
        raw_tissue = (groups.get("tissue") or "").strip()
        if raw_tissue:
            tissue = aliases.get(raw_tissue.lower(), raw_tissue.lower())
            if tissue not in SampleTissue.values:
                matches.append(
                    NameMatch(
                        name,
                        line,
                        None,
                        f"'{raw_tissue}' is no tissue (add it to the tissue aliases)",
                    )
                )
                continue
            candidates = [s for s in candidates if s.tissue == tissue]
            if not candidates:
                matches.append(NameMatch(name, line, None, f"animal {tag} has no {tissue} sample"))
                continue
        day = (groups.get("day") or "").strip()
        if day:
            candidates = [s for s in candidates if s.study_day == _int(day)]
        if len(candidates) == 1:
            matches.append(NameMatch(name, line, candidates[0], ""))
        elif not candidates:
            matches.append(
                NameMatch(name, line, None, f"animal {tag} has no such sample on day {day}")
            )
        else:
            barcodes = ", ".join(s.barcode for s in candidates)
            matches.append(
                NameMatch(
                    name,
                    line,
                    None,
                    f"animal {tag} has {len(candidates)} such samples ({barcodes}): "
                    "add the tissue or day to the pattern",
                )
            )
    seen: dict[int, str] = {}
    final: list[NameMatch] = []
    for match in matches:
        sample = match.sample
        if sample is not None:
            other = seen.get(sample.pk)
            if other is not None:
                match = NameMatch(
                    match.name,
                    match.line,
                    None,
                    f"maps to sample {sample.barcode}, as does '{other}'",
                )
            else:
                seen[sample.pk] = match.name
        final.append(match)
    return final


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


# -- population columns ------------------------------------------------------------------------


def _steps(path: str) -> list[str]:
    return [step.strip().lower() for step in path.split("/") if step.strip()]


def match_populations(
    panel_populations: Sequence[str], file_paths: Sequence[str], chosen: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """``(panel population → file path, problems)``: a chosen path where the mapping names one
    (it must be in the file), else the one file path that ends with the population's steps."""
    mapped: dict[str, str] = {}
    problems: list[str] = []
    available = list(dict.fromkeys(file_paths))
    for population in panel_populations:
        picked = (chosen.get(population) or "").strip()
        if picked:
            if picked not in available:
                problems.append(f"population '{population}': the file has no gate '{picked}'")
            else:
                mapped[population] = picked
            continue
        want = _steps(population)
        candidates = [p for p in available if _steps(p)[-len(want) :] == want]
        if len(candidates) == 1:
            mapped[population] = candidates[0]
        elif len(candidates) > 1:
            problems.append(
                f"population '{population}': several gates of the file fit "
                f"({'; '.join(candidates)}): choose one"
            )
    if not mapped and not problems:
        problems.append(
            "no gate of the file matches a population of the panel "
            f"({', '.join(panel_populations)}): map them in the column mapping"
        )
    return mapped, problems


def statistic_kind(name: str) -> FlowStatisticKind | None:
    text = name.strip()
    for pattern, kind in _STATISTICS:
        if pattern.match(text):
            return kind
    return None


# -- reading a statistics file -----------------------------------------------------------------


@dataclass(frozen=True)
class FileSample:
    name: str
    line: int | None
    #: (file path, statistic kind) → value; path "" is the whole sample.
    values: dict[tuple[str, FlowStatisticKind], float]


@dataclass(frozen=True)
class ParsedStatistics:
    kind: FlowImportKind
    samples: tuple[FileSample, ...]
    paths: tuple[str, ...]


def detect_kind(content: bytes) -> FlowImportKind:
    """A workspace is XML; anything else is read as a table."""
    head = content[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
    return FlowImportKind.WORKSPACE if head.startswith(b"<") else FlowImportKind.TABLE


def read_statistics_file(content: bytes) -> ParsedStatistics:
    """Parse a FlowJo table or workspace (detected from the content)."""
    kind = detect_kind(content)
    if kind == FlowImportKind.WORKSPACE:
        workspace: FlowJoWorkspace = parse_flowjo_workspace(content)
        samples = []
        paths: list[str] = []
        for sample in workspace.samples:
            values: dict[tuple[str, FlowStatisticKind], float] = {}
            if sample.event_count is not None:
                values[("", FlowStatisticKind.COUNT)] = float(sample.event_count)
            for population in sample.populations:
                paths.append(population.path)
                if population.count is not None:
                    values[(population.path, FlowStatisticKind.COUNT)] = float(population.count)
            samples.append(FileSample(sample.name, None, values))
        return ParsedStatistics(kind, tuple(samples), tuple(dict.fromkeys(paths)))
    table: FlowTable = parse_flowjo_table(content)
    samples = []
    for row in table.rows:
        values = {}
        for item in row.statistics:
            stat = statistic_kind(item.statistic)
            if stat is not None:
                values[(item.path, stat)] = item.value
        samples.append(FileSample(row.sample, row.line, values))
    paths = [path for path, statistic in table.columns if path and statistic_kind(statistic)]
    return ParsedStatistics(kind, tuple(samples), tuple(dict.fromkeys(paths)))


@dataclass(frozen=True)
class FlowImportPreview:
    """What an import would write: every name's sample, the population columns, problems."""

    kind: FlowImportKind
    matches: tuple[NameMatch, ...]
    populations: dict[str, str]
    file_paths: tuple[str, ...]
    problems: tuple[str, ...]
    values: dict[str, list[tuple[str, str, FlowStatisticKind, float]]]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def matched(self) -> int:
        return sum(1 for match in self.matches if match.sample is not None)


def _file_error(error: ImportFileError, filename: str) -> ValidationError:
    return ValidationError({"file": f"{filename or 'The file'}: {error.describe()}"})


def _check_size(content: bytes, filename: str) -> None:
    if not content:
        raise ValidationError({"file": f"{filename or 'The file'}: the file is empty."})
    limit = max_file_bytes()
    if len(content) > limit:
        raise ValidationError(
            {
                "file": f"{filename or 'The file'} is {_human_size(len(content))}, over the "
                f"{_human_size(limit)} limit for uploads: nothing was imported."
            }
        )


def preview_flow_import(
    *, panel: FlowPanel, content: bytes, filename: str, spec: MappingSpec
) -> FlowImportPreview:
    """Parse the file and apply the mapping without writing anything. Raises
    ``ValidationError`` only for a file that cannot be read or a malformed pattern; name and
    population problems are returned in ``problems`` for the mapping step to show."""
    _check_size(content, filename)
    try:
        parsed = read_statistics_file(content)
    except ImportFileError as error:
        raise _file_error(error, filename) from None
    compile_pattern(spec.pattern)
    matches = match_sample_names(
        panel.run, [(sample.name, sample.line) for sample in parsed.samples], spec
    )
    populations, problems = match_populations(
        panel.populations, parsed.paths, spec.population_columns
    )
    all_problems = [f"{match.where}: {match.problem}" for match in matches if match.problem]
    all_problems.extend(problems)
    values: dict[str, list[tuple[str, str, FlowStatisticKind, float]]] = {}
    for file_sample, match in zip(parsed.samples, matches, strict=True):
        rows: list[tuple[str, str, FlowStatisticKind, float]] = []
        for population, path in [("", ""), *populations.items()]:
            for statistic in FlowStatisticKind:
                value = file_sample.values.get((path, statistic))
                if value is None:
                    continue
                if value < 0:
                    all_problems.append(
                        f"{match.where}: {path or 'all events'} {statistic.label} "
                        f"is negative ({value})"
                    )
                    continue
                rows.append((population, path, statistic, value))
        if match.sample is not None and not any(row[0] for row in rows):
            all_problems.append(f"{match.where}: no value for any panel population")
        values[file_sample.name] = rows
    return FlowImportPreview(
        kind=parsed.kind,
        matches=tuple(matches),
        populations=populations,
        file_paths=parsed.paths,
        problems=tuple(all_problems),
        values=values,
    )


def _problems_error(problems: Sequence[str]) -> ValidationError:
    listed = list(problems[:MAX_LISTED_PROBLEMS])
    if len(problems) > MAX_LISTED_PROBLEMS:
        listed.append(f"… and {len(problems) - MAX_LISTED_PROBLEMS} more.")
    return ValidationError({"file": listed})


def import_flow_statistics(
    *,
    panel: FlowPanel,
    content: bytes,
    filename: str,
    spec: MappingSpec,
    imported_by: User,
    mapping: FlowSampleMapping | None = None,
    save_mapping_as: str = "",
) -> FlowImport:
    """Import population statistics from a FlowJo table (CSV/TSV) or ``.wsp`` workspace.

    Each file sample becomes (or joins) the acquisition of its mapped sample; counts, % of
    parent and % of total of the mapped panel populations are stored, and the file is kept by
    SHA-256. Refused as a whole, nothing written: an unreadable file, any name matching no
    sample (or two names one sample), no panel population in the file, a sample that already
    has values from another import that is not voided. ``save_mapping_as`` saves the mapping
    for the lab under that name (the lab's mapping is reused by later imports).
    """
    lab = panel.run.study.lab
    require_role(imported_by, lab, RECORDERS, action="import flow cytometry results")
    preview = preview_flow_import(panel=panel, content=content, filename=filename, spec=spec)
    problems = list(preview.problems)
    samples = [match.sample for match in preview.matches if match.sample is not None]
    already = {
        value["acquisition__sample_id"]: value["flow_import_id"]
        for value in FlowPopulationValue.objects.filter(
            acquisition__panel=panel,
            acquisition__voided_at__isnull=True,
            acquisition__sample__in=samples,
            flow_import__voided_at__isnull=True,
        ).values("acquisition__sample_id", "flow_import_id")
    }
    for match in preview.matches:
        if match.sample is not None and match.sample.pk in already:
            problems.append(
                f"{match.where}: sample {match.sample.barcode} already has values from import "
                f"#{already[match.sample.pk]}; void that import first"
            )
    if problems:
        raise _problems_error(problems)
    with transaction.atomic(), audited_change(reason=None, required=False):
        if save_mapping_as.strip():
            mapping = save_flow_mapping(
                lab=lab, name=save_mapping_as, spec=spec, saved_by=imported_by
            )
        stored = store_file(
            content=content,
            filename=filename,
            content_type="application/xml"
            if preview.kind == FlowImportKind.WORKSPACE
            else "text/csv",
            stored_by=imported_by,
            lab=lab,
        )
        flow_import = FlowImport(
            panel=panel,
            kind=preview.kind,
            stored_file=stored,
            mapping=mapping,
            mapping_snapshot={
                **spec.as_dict(),
                "populations": preview.populations,
                "samples": {m.name: m.sample.barcode for m in preview.matches if m.sample},
            },
            sample_count=len(samples),
            value_count=sum(len(v) for v in preview.values.values()),
            imported_by=imported_by,
        )
        flow_import.full_clean(exclude=["panel", "stored_file", "mapping"])
        flow_import.save()
        rows: list[FlowPopulationValue] = []
        for match in preview.matches:
            assert match.sample is not None
            acquisition = _acquisition_for(panel, match.sample, match.name, imported_by)
            for population, path, statistic, value in preview.values[match.name]:
                rows.append(
                    FlowPopulationValue(
                        acquisition=acquisition,
                        flow_import=flow_import,
                        population=population,
                        source_path=path[:500],
                        statistic=statistic,
                        value=value,
                    )
                )
        FlowPopulationValue.objects.bulk_create(rows)
        if mapping is not None:
            FlowSampleMapping.objects.filter(pk=mapping.pk).update(last_used_at=timezone.now())
    return flow_import


def _acquisition_for(panel: FlowPanel, sample: Sample, name: str, user: User) -> FlowAcquisition:
    existing = FlowAcquisition.objects.filter(
        panel=panel, sample=sample, voided_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    acquisition = FlowAcquisition(
        panel=panel, sample=sample, source_name=name[:255], created_by=user
    )
    acquisition.save()
    return acquisition


def void_flow_import(*, flow_import: FlowImport, voided_by: User, reason: str) -> FlowImport:
    """Void an import: its values leave the results; the rows and the file stay."""
    require_role(voided_by, flow_import.panel.run.study.lab, RECORDERS, action="void flow imports")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = FlowImport.objects.select_for_update().get(pk=flow_import.pk)
        if current.is_voided:
            raise ValidationError("This import is voided already.")
        FlowImport.objects.filter(pk=current.pk).update(
            voided_at=timezone.now(), voided_by=voided_by, void_reason=reason.strip()
        )
        current.refresh_from_db()
    return current


# -- FCS files ---------------------------------------------------------------------------------


def _metadata_fields(meta: FcsMetadata) -> dict[str, Any]:
    return {
        "fcs_version": meta.version[:10],
        "cytometer": (meta.cytometer or "")[:200],
        "acquisition_date": meta.acquisition_date,
        "start_time_text": (meta.start_time_text or "")[:40],
        "event_count": meta.event_count,
        "channels": [
            {"number": c.number, "name": c.name, "marker": c.marker} for c in meta.channels
        ],
        "spillover": (
            {
                "keyword": meta.spillover.keyword,
                "channels": list(meta.spillover.channels),
                "matrix": [list(row) for row in meta.spillover.matrix],
            }
            if meta.spillover is not None
            else None
        ),
    }


def upload_fcs_file(
    *,
    panel: FlowPanel,
    content: bytes,
    filename: str,
    uploaded_by: User,
    sample: Sample | None = None,
    spec: MappingSpec | None = None,
) -> FlowAcquisition:
    """Keep an FCS file (by SHA-256) as the acquisition of ``sample`` on ``panel``, with its
    metadata (cytometer, date, channels, $PnS markers, event count, spillover).

    Without ``sample`` the file name (else the file's ``$FIL``) is mapped with ``spec``.
    An acquisition that has values but no file gets the file; one that has a file already is
    refused (void it first). Refused, nothing stored: an empty, truncated or non-FCS file, one
    over the size limit, a name matching no sample of the run.
    """
    lab = panel.run.study.lab
    require_role(uploaded_by, lab, RECORDERS, action="upload FCS files")
    _check_size(content, filename)
    try:
        meta = read_fcs_metadata(content)
    except ImportFileError as error:
        raise _file_error(error, filename) from None
    name = filename or meta.file_name or ""
    if sample is None:
        (match,) = match_sample_names(panel.run, [(name, None)], spec or MappingSpec())
        if match.sample is None:
            raise ValidationError({"sample": f"{match.where}: {match.problem}."})
        sample = match.sample
    if sample.animal.run_id != panel.run_id:
        raise ValidationError(
            {"sample": f"Sample {sample.barcode} is not from run {panel.run.code}."}
        )
    if sample.is_voided:
        raise ValidationError({"sample": f"Sample {sample.barcode} is voided."})
    fields = _metadata_fields(meta)
    with transaction.atomic(), audited_change(reason=None, required=False):
        existing = (
            FlowAcquisition.objects.select_for_update()
            .filter(panel=panel, sample=sample, voided_at__isnull=True)
            .first()
        )
        if existing is not None and existing.fcs_file is not None:
            raise ValidationError(
                {
                    "file": f"Sample {sample.barcode} already has the FCS file "
                    f"{existing.fcs_file.original_filename}; void that acquisition first."
                }
            )
        stored = store_file(
            content=content,
            filename=filename or meta.file_name or "acquisition.fcs",
            content_type="application/vnd.isac.fcs",
            stored_by=uploaded_by,
            lab=lab,
        )
        if existing is not None:
            with audited_change(reason="FCS file attached to the acquisition", required=True):
                FlowAcquisition.objects.filter(pk=existing.pk).update(
                    fcs_file=stored, row_version=F("row_version") + 1, **fields
                )
            existing.refresh_from_db()
            return existing
        acquisition = FlowAcquisition(
            panel=panel,
            sample=sample,
            source_name=name[:255],
            fcs_file=stored,
            created_by=uploaded_by,
            **fields,
        )
        acquisition.full_clean(exclude=["panel", "sample", "fcs_file"])
        acquisition.save()
    return acquisition


def void_flow_acquisition(
    *, acquisition: FlowAcquisition, voided_by: User, reason: str
) -> FlowAcquisition:
    """Void an acquisition (wrong sample, bad tube): it and its values leave the results."""
    require_role(voided_by, acquisition.panel.run.study.lab, RECORDERS, action="void acquisitions")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = FlowAcquisition.objects.select_for_update().get(pk=acquisition.pk)
        if current.is_voided:
            raise ValidationError("This acquisition is voided already.")
        FlowAcquisition.objects.filter(pk=current.pk).update(
            voided_at=timezone.now(),
            voided_by=voided_by,
            void_reason=reason.strip(),
            row_version=F("row_version") + 1,
        )
        current.refresh_from_db()
    return current
