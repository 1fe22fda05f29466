"""FlowJo exports: Table Editor tables (CSV/TSV) and ``.wsp`` workspaces → population statistics.

Tables. Accepted: comma- or tab-separated tables with one sample per line and one column per
population statistic, the first column naming the sample. Column headers in both styles FlowJo
has written:

* FlowJo 10: ``Lymphocytes/Single Cells/Live/CD3+ | Freq. of Parent`` (path, " | ", statistic);
* older FlowJo (v7-v9, Mac and PC): ``Lymphocytes/Single Cells/Live/CD3+,Freq. of Parent`` or
  ``…/CD3+/Freq. of Parent`` (the statistic glued on with a comma or a slash), and a bare
  ``Count`` for the whole sample.

Population names may contain commas and slashes themselves ("Q1: IL-17A-, IFNg+"), so the
statistic is found from the right: the last separator after which a known FlowJo statistic name
begins. Summary lines FlowJo appends (``Mean``, ``SD``, ``StdDev``…) are not samples and are
dropped. A ``12: `` row-number prefix on sample names (older FlowJo) is removed so that names
match the FCS files. Old Mac tables are MacRoman with CR-only line endings; a table with CR-only
line endings that is not UTF-8 is therefore decoded as MacRoman, any other non-UTF-8 table as
cp1252.

Workspaces. Accepted: FlowJo 10 workspaces (``Workspace version="20.0"`` and later,
Gating-ML 2.0 gate elements). For each sample (``SampleList/Sample``) the gating tree under its
``SampleNode`` is read: population names, paths and the event ``count`` FlowJo stored when the
workspace was saved; group templates (``Groups``) are not samples and are ignored. A count of -1
(FlowJo had not computed it) is kept as ``None``. The XML is parsed with defusedxml and DTDs are
refused: a workspace never needs one, and entity expansion is the classic XML bomb.
"""

from __future__ import annotations

import csv
import io
import math
import re
import xml.etree.ElementTree as ET  # types and ParseError only; parsing goes through defusedxml
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from labnotes.importers.errors import ImportFileError
from labnotes.importers.plates.text import decode_text

MAX_TABLE_BYTES = 20 * 1024 * 1024
MAX_WORKSPACE_BYTES = 256 * 1024 * 1024

# Rows FlowJo adds under the samples when "show summary statistics" is on.
SUMMARY_ROWS = frozenset(
    {"mean", "sd", "stddev", "std. dev.", "std dev", "median", "cv", "min", "max"}
)

# First words of FlowJo statistic names (Freq. of Parent/Grandparent/Total/<gate>, Count,
# Median/Mean/Geometric Mean/CV/Robust CV/SD/Robust SD/Mode/Percentile/Min/Max : <channel>).
_STATISTIC = re.compile(
    r"^\s*(freq\.?\s|frequency\b|count\b|#\s*cells|median\b|mean\b|geom|geo\.|cv\b|rcv\b|"
    r"robust\b|sd\b|rsd\b|mode\b|percentile\b|min\b|max\b|mad\b|rmad\b|sum\b|%)",
    re.IGNORECASE,
)
_ROW_NUMBER = re.compile(r"^\d+:\s+")


@dataclass(frozen=True)
class PopulationStatistic:
    """One table cell: ``statistic`` (as FlowJo names it) of the population at ``path``.

    ``path`` is the gating path without the sample, e.g. ``Lymphocytes/Single Cells/CD3+``;
    it is empty for statistics of the whole sample (a bare ``Count`` column).
    """

    path: str
    statistic: str
    value: float


@dataclass(frozen=True)
class FlowSampleStats:
    """One sample line of a table; ``line`` is its line in the file, for messages."""

    sample: str
    statistics: tuple[PopulationStatistic, ...]
    line: int

    def get(self, path: str, statistic: str) -> float:
        for item in self.statistics:
            if item.path == path and item.statistic == statistic:
                return item.value
        raise KeyError(f"{self.sample} has no '{statistic}' for '{path}'")


@dataclass(frozen=True)
class FlowTable:
    """A FlowJo table export: one entry per sample, summary rows left out."""

    rows: tuple[FlowSampleStats, ...]
    columns: tuple[tuple[str, str], ...]

    def sample(self, name: str) -> FlowSampleStats:
        for row in self.rows:
            if row.sample == name:
                return row
        raise KeyError(f"no sample '{name}' in the table")


def split_column_header(header: str) -> tuple[str, str]:
    """``(path, statistic)`` of a table column header, in either FlowJo style."""
    text = header.strip()
    if " | " in text:
        path, _, statistic = text.rpartition(" | ")
        return path.strip(), statistic.strip()
    if _STATISTIC.match(text) and "/" not in text:
        return "", text
    for index in range(len(text) - 1, 0, -1):
        if text[index] in ",/" and _STATISTIC.match(text[index + 1 :]):
            return text[:index].strip(), text[index + 1 :].strip()
    raise ImportFileError(
        "the column header names no statistic (expected 'path | statistic' or "
        "'path,statistic', e.g. 'Lymphocytes/CD3+ | Freq. of Parent')",
        line=1,
        field=text,
    )


def _decode_table(data: bytes) -> str:
    if not data.strip():
        raise ImportFileError("the file is empty")
    if len(data) > MAX_TABLE_BYTES:
        raise ImportFileError(
            f"the file is {len(data) / 1024 / 1024:.1f} MiB, over the "
            f"{MAX_TABLE_BYTES // 1024 // 1024} MiB limit for a FlowJo table"
        )
    cr_only = b"\r" in data and b"\n" not in data
    return decode_text(data, legacy_encoding="mac_roman" if cr_only else "cp1252")


def parse_flowjo_table(data: bytes) -> FlowTable:
    """Parse a FlowJo Table Editor export (CSV or TSV, any of the header styles above)."""
    text = _decode_table(data)
    if text.lstrip().startswith("<"):
        raise ImportFileError("this is XML (a FlowJo workspace?), not a table export")
    first_line = next((line for line in text.split("\n") if line.strip()), "")
    delimiter = "\t" if "\t" in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = [(reader.line_num, record) for record in reader]
    except csv.Error as exc:
        raise ImportFileError(
            f"the table structure is broken: {exc}", line=reader.line_num
        ) from None
    records = [(line, r) for line, r in records if any(cell.strip() for cell in r)]
    if not records:
        raise ImportFileError("the file is empty (only blank lines)")
    header_line, header = records[0]
    if len(header) < 2:
        raise ImportFileError(
            "the first line has a single column: not a FlowJo table (CSV or tab-separated)",
            line=header_line,
        )
    columns: list[tuple[str, str]] = []
    for position, name in enumerate(header[1:], start=2):
        if not name.strip():
            if position == len(header):  # a trailing separator
                continue
            raise ImportFileError(f"column {position} has no header", line=header_line)
        column = split_column_header(name)
        if column in columns:
            raise ImportFileError(
                "this column appears twice: which one holds the value?",
                line=header_line,
                field=name,
            )
        columns.append(column)
    rows: list[FlowSampleStats] = []
    seen: dict[str, int] = {}
    for line, record in records[1:]:
        label = record[0].strip()
        if label.lower() in SUMMARY_ROWS:
            continue
        sample = _ROW_NUMBER.sub("", label)
        if not sample:
            raise ImportFileError("the sample name is empty", line=line)
        if sample in seen:
            raise ImportFileError(
                f"sample '{sample}' appears twice (also on line {seen[sample]})", line=line
            )
        seen[sample] = line
        if len(record) - 1 < len(columns):
            raise ImportFileError(
                f"the line has {len(record) - 1} values for {len(columns)} columns: "
                "the file looks truncated",
                line=line,
            )
        statistics = []
        for (path, statistic), cell in zip(columns, record[1:], strict=False):
            value = _number(cell, line=line, field=f"{path} | {statistic}" if path else statistic)
            if value is not None:
                statistics.append(PopulationStatistic(path=path, statistic=statistic, value=value))
        rows.append(FlowSampleStats(sample=sample, statistics=tuple(statistics), line=line))
    if not rows:
        raise ImportFileError("the table has a header but no sample line", line=header_line)
    return FlowTable(rows=tuple(rows), columns=tuple(columns))


def _number(cell: str, *, line: int, field: str) -> float | None:
    """A statistic value; empty and "n/a" cells mean "not computed" and are left out."""
    text = cell.strip().rstrip("%")
    if text == "" or text.lower() in {"n/a", "na", "-"}:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ImportFileError(f"'{cell.strip()}' is not a number", line=line, field=field) from None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class WorkspacePopulation:
    """A gate in a sample's tree: ``path`` from the root (names joined by "/", as in tables)."""

    path: str
    names: tuple[str, ...]
    count: int | None
    parent_count: int | None

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def percent_of_parent(self) -> float | None:
        if self.count is None or not self.parent_count:
            return None
        return 100.0 * self.count / self.parent_count


@dataclass(frozen=True)
class WorkspaceSample:
    sample_id: str
    name: str
    uri: str
    event_count: int | None
    populations: tuple[WorkspacePopulation, ...]

    def population(self, path: str) -> WorkspacePopulation:
        for population in self.populations:
            if population.path == path:
                return population
        raise KeyError(f"no population '{path}' in sample '{self.name}'")


@dataclass(frozen=True)
class FlowJoWorkspace:
    version: str
    flowjo_version: str
    samples: tuple[WorkspaceSample, ...]


_GATE_NODES = {"Population", "NotNode", "OrNode", "AndNode"}


def parse_flowjo_workspace(data: bytes) -> FlowJoWorkspace:
    """Population counts per sample and gating path from a FlowJo 10 ``.wsp`` workspace."""
    if not data.strip():
        raise ImportFileError("the file is empty")
    if len(data) > MAX_WORKSPACE_BYTES:
        raise ImportFileError(
            f"the workspace is {len(data) / 1024 / 1024:.0f} MiB, over the "
            f"{MAX_WORKSPACE_BYTES // 1024 // 1024} MiB limit"
        )
    try:
        root: ET.Element = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ImportFileError(
            f"the workspace declares a DTD or entities ({type(exc).__name__}); FlowJo never "
            "writes these, so the file is refused as unsafe"
        ) from None
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise ImportFileError(
            f"the workspace is not well-formed XML ({exc}): is it truncated?",
            line=line,
        ) from None
    if root.tag != "Workspace":
        raise ImportFileError(f"the XML root is <{root.tag}>, not a FlowJo <Workspace>")
    samples = []
    sample_list = root.find("SampleList")
    for sample in sample_list.findall("Sample") if sample_list is not None else []:
        samples.append(_workspace_sample(sample))
    if not samples:
        raise ImportFileError("the workspace lists no sample")
    return FlowJoWorkspace(
        version=root.get("version", ""),
        flowjo_version=root.get("flowJoVersion", ""),
        samples=tuple(samples),
    )


def _workspace_sample(sample: ET.Element) -> WorkspaceSample:
    data_set = sample.find("DataSet")
    node = sample.find("SampleNode")
    if node is None:
        raise ImportFileError("a <Sample> has no <SampleNode>", field="SampleNode")
    name = node.get("name", "")
    event_count = _count(node, name)
    populations: list[WorkspacePopulation] = []
    _walk(node, (), event_count, populations, name)
    return WorkspaceSample(
        sample_id=node.get("sampleID", "")
        or (data_set.get("sampleID", "") if data_set is not None else ""),
        name=name,
        uri=data_set.get("uri", "") if data_set is not None else "",
        event_count=event_count,
        populations=tuple(populations),
    )


def _walk(
    node: ET.Element,
    names: tuple[str, ...],
    parent_count: int | None,
    out: list[WorkspacePopulation],
    sample: str,
) -> None:
    subpopulations = node.find("Subpopulations")
    if subpopulations is None:
        return
    for child in subpopulations:
        if child.tag not in _GATE_NODES:
            continue
        child_names = (*names, child.get("name", ""))
        count = _count(child, sample)
        out.append(
            WorkspacePopulation(
                path="/".join(child_names),
                names=child_names,
                count=count,
                parent_count=parent_count,
            )
        )
        _walk(child, child_names, count, out, sample)


def _count(element: ET.Element, sample: str) -> int | None:
    raw = element.get("count")
    if raw is None:
        return None
    try:
        count = int(raw)
    except ValueError:
        raise ImportFileError(
            f"count '{raw}' of '{element.get('name', '')}' in sample '{sample}' "
            "is not a whole number",
            field="count",
        ) from None
    return None if count < 0 else count
