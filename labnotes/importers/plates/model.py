"""What a plate-reader export becomes, whatever the instrument: plates of wells with readings."""

from __future__ import annotations

import enum
import hashlib
import math
import re
from dataclasses import dataclass

from labnotes.importers.errors import ImportFileError


class PlateFormat(enum.StrEnum):
    """The export formats :func:`~labnotes.importers.plates.detect_plate_format` tells apart."""

    GEN5 = "agilent_gen5"
    SOFTMAX_PRO = "softmax_pro"
    BMG_MARS = "bmg_mars"
    ENVISION = "perkinelmer_envision"
    MAGELLAN = "tecan_magellan"
    GENERIC_GRID = "generic_grid"
    GENERIC_WELL_LIST = "generic_well_list"


@dataclass(frozen=True)
class WellValue:
    """One well's reading: a finite number, or the instrument's flag kept verbatim.

    Flags (``OVRFLW``, ``MISSED``, ``Range?``, ``*``, ``NaN``) are kept instead of being turned
    into NaN or dropped because they mean different things to a scientist: a saturated well is
    above the curve, a missed well was never read. Exactly one of ``value`` and ``flag`` is set.
    """

    value: float | None = None
    flag: str | None = None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.flag is None):
            raise ValueError("a WellValue holds either a value or a flag")

    @property
    def is_numeric(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class PlateGrid:
    """One read of one plate.

    ``plate`` is the plate's name in the file ("Plate 1", "Plate01", a barcode, or "1");
    ``label`` names the read as the instrument does ("abs450:450", "Raw Data (450 1)",
    "[Concentration]"), so that a file holding raw, blanked and computed grids keeps them apart.
    ``wavelength_nm`` is ``None`` when the read is not a single wavelength (a computed grid, a
    dual-wavelength reduction, luminescence). Wells not read (empty cells) are absent from
    ``wells``; keys are normalised to "A1".."H12" (no leading zeros).
    """

    plate: str
    label: str
    wavelength_nm: float | None
    wells: dict[str, WellValue]

    @property
    def numeric_values(self) -> dict[str, float]:
        return {well: v.value for well, v in self.wells.items() if v.value is not None}

    @property
    def flags(self) -> dict[str, str]:
        return {well: v.flag for well, v in self.wells.items() if v.flag is not None}


@dataclass(frozen=True)
class PlateReading:
    """A parsed export: its detected ``format``, every grid in file order, and the header fields.

    ``metadata`` keeps the instrument's own header fields as text (software version, reader
    serial, read date, method file); nothing in it is interpreted, so the import record can show
    it as found.
    """

    format: str
    plates: tuple[PlateGrid, ...]
    metadata: dict[str, str]

    def grid(self, label: str, *, plate: str | None = None) -> PlateGrid:
        """The grid with this ``label`` (and ``plate`` when the file holds several plates)."""
        found = [g for g in self.plates if g.label == label and (plate is None or g.plate == plate)]
        if len(found) != 1:
            available = ", ".join(f"{g.plate}/{g.label}" for g in self.plates)
            raise KeyError(f"{len(found)} grids match {label!r} (available: {available})")
        return found[0]


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of the file as uploaded, kept with the import so the original can be proven."""
    return hashlib.sha256(data).hexdigest()


# Plate geometries by number of columns: SBS plates of 6 to 384 wells. 1536-well plates need
# two-letter rows and are not supported.
ROWS_FOR_COLUMNS = {3: 2, 4: 3, 6: 4, 8: 6, 12: 8, 24: 16}
ROW_LETTERS = "ABCDEFGHIJKLMNOP"
MAX_COLUMNS = 24

_WELL = re.compile(r"^\s*([A-Pa-p])\s*0*([1-9][0-9]?)\s*$")
_EXCEL_TEXT = re.compile(r'^="(.*)"$')
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+(?:[eE][+-]?\d+)?$")
_MAX_FLAG_LENGTH = 40


def normalise_well(text: str, *, line: int | None = None, field: str | None = None) -> str:
    """ "A01", "a1" and " A1 " all become "A1"; anything outside A1..P24 is an error."""
    match = _WELL.match(text)
    if match is None or int(match.group(2)) > MAX_COLUMNS:
        raise ImportFileError(
            f"'{text}' is not a well position (expected A1 to P24)", line=line, field=field
        )
    return f"{match.group(1).upper()}{int(match.group(2))}"


def is_well(text: str) -> bool:
    match = _WELL.match(text)
    return match is not None and int(match.group(2)) <= MAX_COLUMNS


def unescape_cell(text: str) -> str:
    """Strip surrounding blanks and Excel's text escape ``="0012"`` (written by EnVision)."""
    text = text.strip()
    match = _EXCEL_TEXT.match(text)
    return match.group(1).strip() if match else text


def parse_well_value(
    text: str, *, decimal_comma: bool = False, line: int | None = None, field: str | None = None
) -> WellValue | None:
    """A cell as a reading: ``None`` for an empty cell (well not read), else a value or a flag.

    ``decimal_comma`` accepts "0,073" for files written with a European locale (possible only
    when the field separator is not a comma). Non-finite numbers ("NaN", "inf") are flags, not
    values, so that a downstream fit never sees them as numbers.
    """
    cell = unescape_cell(text)
    if cell == "":
        return None
    candidate = cell.replace(",", ".") if decimal_comma and _DECIMAL_COMMA.match(cell) else cell
    try:
        number = float(candidate)
    except ValueError:
        if len(cell) > _MAX_FLAG_LENGTH:
            raise ImportFileError(
                f"'{cell[:_MAX_FLAG_LENGTH]}…' is neither a reading nor an instrument flag",
                line=line,
                field=field,
            ) from None
        return WellValue(flag=cell)
    if not math.isfinite(number):
        return WellValue(flag=cell)
    return WellValue(value=number)


_WAVELENGTH = re.compile(r"(?<![\d./])(\d{3,4})(?:\.\d+)?\s*(?:nm)?(?![\d./])")


def wavelength_from_label(label: str) -> float | None:
    """The wavelength named in a read label: "abs450:450", "A450(1)", "Raw Data (450 1)" → 450.

    Only 3-4 digit numbers count (200-1000 nm covers every absorbance reader), and a number
    beside "/" is half of an excitation/emission pair, which is not one wavelength.
    """
    for match in _WAVELENGTH.finditer(label):
        number = float(match.group(1))
        if 200 <= number <= 1000:
            return number
    return None
