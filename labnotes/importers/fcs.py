"""FCS file metadata (cytometer, date, channels, markers, event count, spillover) via flowio.

Accepted: FCS 2.0, 3.0 and 3.1 list-mode files, single data set (for a file with several data
sets the first is read and ``more_data_sets`` is set). Only the HEADER and TEXT segments are
read (flowio ``only_text=True``): event data is never decoded, so a 1 GB file costs as much as
a small one, and a stream can be passed instead of bytes to avoid loading the file at all.

Keywords as cytometers really write them:

* ``$SPILLOVER`` (FCS 3.1) is preferred; BD FACSDiva's pre-3.1 ``SPILL`` has the same layout
  (``n, n channel names, n x n values`` row by row) and is read when ``$SPILLOVER`` is absent.
  ``$COMP`` (FCS 3.0, no channel names) is not read.
* ``$TOT`` is often space-padded (FACSDiva); padding is ignored.
* ``$DATE`` is ``dd-mmm-yyyy`` (FCS 2.0 files also ``dd-mmm-yy``); ``$BTIM`` is ``hh:mm:ss``
  with an optional fraction (``:tt`` sixtieths in FCS 3.0, ``.cc`` hundredths in 3.1; some
  instruments write milliseconds after a colon, which is read as milliseconds). A value that
  does not parse leaves the date/time ``None`` and the raw text is kept.
* ``$PnS`` is kept verbatim as the marker ("CD19;APC-H7;780/60@640/A" from FACSDiva 8,
  "Alexa Fluor™ 405-A" in UTF-8 from the Attune); an absent ``$PnS`` gives ``None``.

flowio lower-cases keywords and drops ``$``; ``keywords`` is exposed in that form.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from typing import BinaryIO

import flowio
from flowio.exceptions import FlowIOException

from labnotes.importers.errors import ImportFileError


@dataclass(frozen=True)
class FcsChannel:
    """Parameter ``number`` (1-based, as in ``$PnN``): detector ``name`` and stained ``marker``."""

    number: int
    name: str
    marker: str | None


@dataclass(frozen=True)
class Spillover:
    """A spillover matrix: ``matrix[i][j]`` is the spill of ``channels[i]`` into ``channels[j]``."""

    channels: tuple[str, ...]
    matrix: tuple[tuple[float, ...], ...]
    keyword: str


@dataclass(frozen=True)
class FcsMetadata:
    version: str
    cytometer: str | None
    acquisition_date: dt.date | None
    started_at: dt.datetime | None
    date_text: str | None
    start_time_text: str | None
    event_count: int
    channels: tuple[FcsChannel, ...]
    spillover: Spillover | None
    file_name: str | None
    more_data_sets: bool
    keywords: dict[str, str]

    @property
    def channel_names(self) -> tuple[str, ...]:
        return tuple(channel.name for channel in self.channels)

    @property
    def markers(self) -> dict[str, str]:
        """Channel name → marker, for channels that have one."""
        return {c.name: c.marker for c in self.channels if c.marker is not None}


def read_fcs_metadata(source: bytes | BinaryIO) -> FcsMetadata:
    """Read an FCS file's metadata from its bytes or from a binary stream positioned at 0."""
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else source
    head = stream.read(58)
    stream.seek(0)
    if not head.strip():
        raise ImportFileError("the file is empty")
    if not head.startswith(b"FCS"):
        raise ImportFileError(
            "not an FCS file: it does not start with 'FCS2.0', 'FCS3.0' or 'FCS3.1'"
        )
    if len(head) < 58:
        raise ImportFileError("the FCS header is shorter than 58 bytes: the file is truncated")
    try:
        # nextdata_offset=0 reads the first data set even when $NEXTDATA points to more.
        flow = flowio.FlowData(stream, only_text=True, nextdata_offset=0)
    except (FlowIOException, EOFError, ValueError, KeyError, IndexError) as exc:
        raise ImportFileError(_flowio_reason(exc)) from None
    text: dict[str, str] = {str(k): str(v) for k, v in flow.text.items()}
    event_count = _event_count(text)
    channels = tuple(
        FcsChannel(number=number, name=name, marker=_marker(text, number))
        for number, name in enumerate(flow.pnn_labels, start=1)
    )
    date_text = text.get("date", "").strip() or None
    start_text = text.get("btim", "").strip() or None
    date = _parse_date(date_text)
    return FcsMetadata(
        version=str(flow.version),
        cytometer=text.get("cyt", "").strip() or None,
        acquisition_date=date,
        started_at=_parse_start(date, start_text, str(flow.version)),
        date_text=date_text,
        start_time_text=start_text,
        event_count=event_count,
        channels=channels,
        spillover=_spillover(text),
        file_name=text.get("fil", "").strip() or None,
        more_data_sets=_more_data_sets(text),
        keywords=text,
    )


def _flowio_reason(exc: Exception) -> str:
    if isinstance(exc, EOFError) or "greater than file size" in str(exc):
        return "the FCS file is shorter than its header says: the file is truncated"
    if isinstance(exc, KeyError):
        return f"the FCS TEXT segment lacks the required keyword ${str(exc).strip(chr(39)).upper()}"
    return f"the FCS file cannot be read ({type(exc).__name__}: {exc})"


def _more_data_sets(text: dict[str, str]) -> bool:
    raw = text.get("nextdata", "0").strip() or "0"
    return not raw.isdigit() or int(raw) != 0


def _event_count(text: dict[str, str]) -> int:
    raw = text.get("tot", "").strip()
    try:
        count = int(raw)
    except ValueError:
        raise ImportFileError(f"$TOT '{raw}' is not a whole number", field="$TOT") from None
    if count < 0:
        raise ImportFileError(f"$TOT is negative ({count})", field="$TOT")
    return count


def _marker(text: dict[str, str], number: int) -> str | None:
    marker = text.get(f"p{number}s", "").strip()
    return marker or None


def _spillover(text: dict[str, str]) -> Spillover | None:
    for keyword in ("spillover", "spill"):
        raw = text.get(keyword, "").strip()
        if raw:
            return parse_spillover(
                raw, keyword=f"${keyword.upper()}" if keyword == "spillover" else "SPILL"
            )
    return None


def parse_spillover(raw: str, *, keyword: str = "$SPILLOVER") -> Spillover:
    """Parse ``n,name1,…,namen,v11,v12,…,vnn`` into channel names and matrix rows."""
    parts = [p.strip() for p in raw.replace("\n", "").split(",")]
    try:
        size = int(parts[0])
    except ValueError:
        raise ImportFileError(
            f"the matrix should start with its size, found '{parts[0]}'", field=keyword
        ) from None
    if size <= 0 or len(parts) != 1 + size + size * size:
        raise ImportFileError(
            f"a {size}-channel matrix needs {1 + size + size * size} values, found {len(parts)}",
            field=keyword,
        )
    channels = tuple(parts[1 : 1 + size])
    if len(set(channels)) != size:
        raise ImportFileError("the matrix names a channel twice", field=keyword)
    values: list[float] = []
    for cell in parts[1 + size :]:
        try:
            value = float(cell)
        except ValueError:
            raise ImportFileError(
                f"'{cell}' in the matrix is not a number", field=keyword
            ) from None
        if not math.isfinite(value):
            raise ImportFileError(f"'{cell}' in the matrix is not a finite number", field=keyword)
        values.append(value)
    matrix = tuple(tuple(values[row * size : (row + 1) * size]) for row in range(size))
    return Spillover(channels=channels, matrix=matrix, keyword=keyword)


def _parse_date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    for pattern in ("%d-%b-%Y", "%d-%b-%y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


_TIME = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})(?:([.:])(\d+))?$")


def _parse_start(date: dt.date | None, text: str | None, version: str) -> dt.datetime | None:
    if date is None or text is None:
        return None
    match = _TIME.match(text)
    if match is None:
        return None
    hours, minutes, seconds = (int(match.group(i)) for i in (1, 2, 3))
    microseconds = 0
    separator, fraction = match.group(4), match.group(5)
    if fraction:
        if separator == ".":
            microseconds = round(float(f"0.{fraction}") * 1_000_000)
        elif version.startswith("3.0") and len(fraction) <= 2 and int(fraction) < 60:
            microseconds = round(int(fraction) / 60 * 1_000_000)
        elif len(fraction) == 3:
            microseconds = int(fraction) * 1000
    try:
        return dt.datetime.combine(
            date, dt.time(hours, minutes, seconds, min(microseconds, 999_999))
        )
    except ValueError:
        return None
