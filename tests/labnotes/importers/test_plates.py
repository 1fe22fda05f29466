"""Plate-reader exports: the real files in ../shared and fixtures composed here.

Values asserted for the real files were read off the files by eye (``cat -A`` / ``iconv``), not
produced by the parser.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labnotes.importers.errors import ImportFileError
from labnotes.importers.plates import (
    MAX_PLATE_EXPORT_BYTES,
    PlateFormat,
    PlateReading,
    WellValue,
    detect_plate_format,
    parse_generic_well_list,
    parse_plate_export,
    sha256_hex,
)
from labnotes.importers.plates.text import decode_text
from tests.support.requirements import require_shared

ROWS = "ABCDEFGH"
ALL_WELLS = {f"{r}{c}" for r in ROWS for c in range(1, 13)}


def real(name: str) -> bytes:
    return (require_shared("data/instruments/plate_readers") / name).read_bytes()


def value(reading: PlateReading, label: str, well: str, *, plate: str | None = None) -> float:
    found = reading.grid(label, plate=plate).wells[well].value
    assert found is not None, f"{well} is a flag"
    return found


# --- real exports -------------------------------------------------------------------------


def test_gen5_real_export_reads_raw_blank_and_concentration_when_stdcurve_file():
    data = real("biotek_gen5_endpoint_stdcurve_singleplate.txt")
    assert detect_plate_format(data) == "agilent_gen5"
    reading = parse_plate_export(data)
    assert [g.label for g in reading.plates] == [
        "630nmAbsRead:630",
        "Blank 630nmAbsRead:630",
        "[Concentration]",
    ]
    raw = reading.grid("630nmAbsRead:630")
    assert set(raw.wells) == ALL_WELLS
    assert raw.wavelength_nm == 630
    assert value(reading, "630nmAbsRead:630", "A1") == 3.337
    assert value(reading, "630nmAbsRead:630", "H12") == 0.194
    assert value(reading, "Blank 630nmAbsRead:630", "H1") == -0.0
    assert value(reading, "[Concentration]", "E7") == 1628.811
    assert reading.grid("[Concentration]").wavelength_nm is None
    assert reading.metadata["Software Version"] == "3.12.08"
    assert reading.metadata["Date"] == "10/10/2022"
    assert reading.metadata["Read"] == "630nmAbsRead"


def test_gen5_real_export_keeps_ovrflw_and_missed_as_flags_when_non_numeric_cells():
    reading = parse_plate_export(real("biotek_gen5_abs450_96well_OVRFLW_MISSED.txt"))
    (grid,) = reading.plates
    assert grid.label == "abs450:450" and grid.wavelength_nm == 450
    assert len(grid.wells) == 96
    assert grid.flags == {
        **{w: "OVRFLW" for w in ("A8", "B7", "C6", "D5", "E4", "F3", "G2", "H1")},
        **{w: "MISSED" for w in ("D12", "E11", "F10", "G9", "H8")},
    }
    assert grid.wells["A1"] == WellValue(value=2.1)
    assert grid.wells["H12"] == WellValue(value=2.5)
    assert reading.metadata["Reader Type"] == "Synergy H1"


def test_softmax_real_utf16_export_reads_two_plates_when_plate_format():
    data = real("softmaxpro_abs450_elisa_standards_UTF16LE.txt")
    assert data[:2] == b"\xff\xfe"
    assert detect_plate_format(data) == "softmax_pro"
    reading = parse_plate_export(data)
    assert [(g.plate, g.label) for g in reading.plates] == [
        ("Plate01", "Raw 450 nm"),
        ("Plate01", "Reduced"),
        ("Plate02", "Raw 450 nm"),
        ("Plate02", "Reduced"),
    ]
    assert all(set(g.wells) == ALL_WELLS for g in reading.plates)
    assert value(reading, "Raw 450 nm", "A1", plate="Plate01") == 3.41797666666667
    assert value(reading, "Raw 450 nm", "H2", plate="Plate01") == -0.000243333333333333
    assert value(reading, "Reduced", "A1", plate="Plate01") == 3.4179766666666667
    assert value(reading, "Raw 450 nm", "D10", plate="Plate02") == 0.351934519433333
    assert reading.metadata["Export format"] == "PlateFormat"
    assert reading.metadata["Groups"] == "Standards, UnknownsNoDiln"
    assert reading.metadata["Date Last Saved"] == "11/27/2023 10:43:25 AM"


def test_softmax_real_ascii_export_reads_reduced_well_list_when_time_format():
    reading = parse_plate_export(real("softmaxpro_elisa_groups_spike_recovery_reduced.txt"))
    assert reading.format == PlateFormat.SOFTMAX_PRO
    (grid,) = reading.plates
    assert (grid.plate, grid.label) == ("Plate1", "Reduced")
    # 450 - 650 nm reduction: not one wavelength.
    assert grid.wavelength_nm is None
    assert set(grid.wells) == ALL_WELLS
    assert value(reading, "Reduced", "A1") == 1.8565999999999998
    assert value(reading, "Reduced", "B3") == 2.0092000000000003
    assert value(reading, "Reduced", "A12") == 0
    assert reading.metadata["Wavelengths"] == "450 650"
    assert reading.metadata["Original Filename"] == "HCP for GB_JB 17JAN2025"


def test_bmg_mars_real_export_reads_raw_grid_when_csv():
    data = real("bmg_mars_abs450_96well.csv")
    assert detect_plate_format(data) == "bmg_mars"
    reading = parse_plate_export(data)
    (grid,) = reading.plates
    assert grid.label == "Raw Data (450 1)" and grid.wavelength_nm == 450
    assert set(grid.wells) == ALL_WELLS
    assert grid.wells["A1"].value == 0.073
    assert grid.wells["D11"].value == 0.149
    assert grid.wells["H12"].value == 0.207
    assert reading.metadata["Test run no."] == "445"
    assert reading.metadata["Date"] == "5/14/2021"
    assert reading.metadata["Measurement type"] == "Absorbance"


def test_envision_real_export_reads_two_plates_and_ignores_platemap_when_csv():
    data = real("perkinelmer_envision_A450_2plates.csv")
    assert detect_plate_format(data) == "perkinelmer_envision"
    reading = parse_plate_export(data)
    assert [(g.plate, g.label) for g in reading.plates] == [
        ("1", "A450(1) - channel 1 (A)"),
        ("2", "A450(1) - channel 1 (A)"),
    ]
    first, second = reading.plates
    assert first.wavelength_nm == 450
    assert set(first.wells) == set(second.wells) == ALL_WELLS
    assert first.wells["A4"].value == 1.85
    assert first.wells["H1"].value == 0.18
    assert second.wells["C6"].value == 2.1
    assert reading.metadata["Serial#"] == "1050242"
    assert reading.metadata["Plate 2 measurement date"] == "1/15/2024 10:31:35 AM"


def test_magellan_real_xlsx_reads_well_list_and_wavelength_when_well_positions_column():
    data = real("tecan_magellan_SLA01P01_OD_wellist.xlsx")
    assert detect_plate_format(data) == "tecan_magellan"
    reading = parse_plate_export(data)
    (grid,) = reading.plates
    assert (grid.plate, grid.label, grid.wavelength_nm) == ("96WEL008", "Raw data", 595)
    assert set(grid.wells) == ALL_WELLS
    assert grid.wells["A1"].value == 0.1462
    assert grid.wells["B1"].value == 0.2118
    assert grid.wells["H12"].value == 0.0461
    assert reading.metadata["Instrument serial number"] == "12901000069"
    assert reading.metadata["Plate definition file"] == "GRE96ft.pdf"


def test_sha256_hex_matches_published_prefix_when_real_file():
    data = real("bmg_mars_abs450_96well.csv")
    assert sha256_hex(data).startswith("eea76c6c7fea18e2")
    assert len(sha256_hex(data)) == 64


# --- fixtures composed here ------------------------------------------------------------------


def grid_lines(
    values: dict[str, str], *, sep: str, corner: str = "", trailing: str = ""
) -> list[str]:
    header = sep.join([corner, *[str(c) for c in range(1, 13)]])
    lines = [header]
    for r in ROWS:
        cells = [values.get(f"{r}{c}", f"0.{ord(r) - 64}{c:02d}") for c in range(1, 13)]
        lines.append(sep.join([r, *cells]) + (sep + trailing if trailing else ""))
    return lines


def gen5_text(*, plates: int = 1) -> str:
    parts = ["", "Software Version\t3.11.19", ""]
    for plate in range(1, plates + 1):
        parts += [
            f"Plate Number\tPlate {plate}",
            "Date\t3/1/2025",
            "Reader Type:\tSynergy HTX",
            "",
            "Procedure Details",
            "",
            "Read\tIFNg",
            "\tWavelengths:  450",
            "",
            "Results",
        ]
        results = ["\t" + "\t".join(str(c) for c in range(1, 13))]
        for r in ROWS:
            raw = [f"{plate}.{ord(r) - 64}{c:02d}" for c in range(1, 13)]
            conc = [f"{10 * plate + c}" for c in range(1, 13)]
            results.append("\t".join([r, *raw, "IFNg:450"]))
            results.append("\t".join(["", *conc, "[Concentration]"]))
        parts += [*results, ""]
    return "\r\n".join(parts) + "\r\n"


def test_gen5_fixture_reads_every_plate_and_label_when_two_plates():
    reading = parse_plate_export(gen5_text(plates=2).encode())
    assert reading.format == "agilent_gen5"
    assert [(g.plate, g.label) for g in reading.plates] == [
        ("Plate 1", "IFNg:450"),
        ("Plate 1", "[Concentration]"),
        ("Plate 2", "IFNg:450"),
        ("Plate 2", "[Concentration]"),
    ]
    assert value(reading, "IFNg:450", "C5", plate="Plate 2") == 2.305
    assert value(reading, "[Concentration]", "H12", plate="Plate 1") == 22
    assert reading.metadata["Reader Type"] == "Synergy HTX"


def test_gen5_fixture_parses_when_cp1252_with_micro_sign():
    text = gen5_text().replace(
        "Software Version\t3.11.19", "Software Version\t3.11.19\r\nUnit\tµg/mL"
    )
    reading = parse_plate_export(text.encode("cp1252"))
    assert reading.metadata["Unit"] == "µg/mL"
    assert value(reading, "IFNg:450", "A1") == 1.101


def test_gen5_fixture_reports_truncation_when_last_rows_missing():
    text = gen5_text()
    cut = text[: text.index("\r\nF\t")]
    with pytest.raises(ImportFileError, match=r"stops after row E.*truncated"):
        parse_plate_export(cut.encode())


def test_gen5_fixture_reports_truncation_when_cut_mid_row():
    text = gen5_text()
    cut = text[: text.index("\r\nH\t") + 20]
    with pytest.raises(ImportFileError, match=r"row H has 3 of 12 columns.*truncated") as info:
        parse_plate_export(cut.encode())
    assert info.value.line is not None


def test_gen5_fixture_reports_duplicate_wells_when_row_repeated():
    text = gen5_text()
    row_b = next(line for line in text.split("\r\n") if line.startswith("B\t"))
    duplicated = text.replace(row_b, row_b + "\r\n" + row_b.replace("B\t", "A\t", 1), 1)
    with pytest.raises(ImportFileError, match=r"row A of plate 'Plate 1'.*twice.*duplicate"):
        parse_plate_export(duplicated.encode())


def softmax_plate_format(*, wavelengths: tuple[int, ...] = (450,), plates: int = 1) -> str:
    lines = [f"##BLOCKS= {plates}"]
    for plate in range(1, plates + 1):
        wl_text = " ".join(str(w) for w in wavelengths) + " "
        lines.append(
            "\t".join(
                [
                    "Plate:",
                    f"P{plate}",
                    "1.3",
                    "PlateFormat",
                    "Endpoint",
                    "Absorbance",
                    "Raw",
                    "FALSE",
                    "1",
                    "",
                    "",
                    "",
                    "",
                    "",
                    str(len(wavelengths)),
                    wl_text,
                    "1",
                    "12",
                    "96",
                    "1",
                    "8",
                    "",
                    "",
                ]
            )
        )
        numbers = "\t".join(str(c) for c in range(1, 13))
        lines.append("\tTemperature(°C)\t" + "\t\t".join([numbers] * len(wavelengths)) + "\t\t")
        for i, r in enumerate(ROWS):
            blocks = [
                "\t".join(
                    f"{w / 1000 + plate + (ord(r) - 64) / 10 + c / 1000:.4f}" for c in range(1, 13)
                )
                for w in wavelengths
            ]
            lines.append(("\t22.5\t" if i == 0 else "\t\t") + "\t\t".join(blocks) + "\t\t")
        lines.append("")
        lines.append("\t\t" + numbers + "\t")
        for r in ROWS:
            lines.append(
                "\t\t"
                + "\t".join("Range?" if (r, c) == ("A", 1) else "1.5" for c in range(1, 13))
                + "\t"
            )
        lines.append("~End")
    lines.append("Original Filename: fixture; Date Last Saved: 3/1/2025 9:00:00 AM")
    return "\r\n".join(lines) + "\r\n"


def test_softmax_fixture_reads_side_by_side_wavelengths_when_utf16_plate_format():
    data = softmax_plate_format(wavelengths=(450, 570)).encode("utf-16")
    reading = parse_plate_export(data)
    assert reading.format == "softmax_pro"
    assert [g.label for g in reading.plates] == ["Raw 450 nm", "Raw 570 nm", "Reduced"]
    assert value(reading, "Raw 450 nm", "B3") == pytest.approx(0.45 + 1 + 0.2 + 0.003)
    assert value(reading, "Raw 570 nm", "B3") == pytest.approx(0.57 + 1 + 0.2 + 0.003)
    reduced = reading.grid("Reduced")
    assert reduced.wavelength_nm is None
    assert reduced.wells["A1"] == WellValue(flag="Range?")
    assert reduced.wells["H12"] == WellValue(value=1.5)


def test_softmax_fixture_parses_when_utf16_big_endian_without_bom():
    data = softmax_plate_format().encode("utf-16-be")
    reading = parse_plate_export(data)
    assert value(reading, "Raw 450 nm", "H12") == pytest.approx(0.45 + 1 + 0.8 + 0.012)


def test_softmax_fixture_reads_well_list_when_time_format_ascii():
    wells = [f"{r}{c}" for r in ROWS for c in range(1, 13)]
    header = "\t".join(
        [
            "Plate:",
            "Plate1",
            "1.3",
            "TimeFormat",
            "Endpoint",
            "Absorbance",
            "Raw",
            "FALSE",
            "1",
            "",
            "",
            "",
            "",
            "",
            "1",
            "450 ",
            "1",
            "12",
            "96",
            "1",
            "8",
        ]
    )
    text = "\r\n".join(
        [
            "##BLOCKS= 1",
            header,
            "\tTemperature(°C)\t" + "\t".join(wells),
            "\t23.1\t" + "\t".join(f"{i / 100:.2f}" for i in range(96)),
            "~End",
        ]
    )
    reading = parse_plate_export(text.encode("ascii", errors="replace"))
    (grid,) = reading.plates
    assert grid.label == "Raw 450 nm" and len(grid.wells) == 96
    assert grid.wells["B1"].value == 0.12
    assert grid.wells["H12"].value == 0.95


def test_softmax_fixture_reports_truncation_when_blocks_missing():
    text = softmax_plate_format(plates=2)
    cut = text[: text.index("Plate:\tP2")]
    with pytest.raises(ImportFileError, match=r"declares 2 blocks but only 1.*truncated"):
        parse_plate_export(cut.encode("utf-16"))


def test_softmax_fixture_reports_truncation_when_end_marker_missing():
    text = softmax_plate_format()
    cut = text[: text.index("~End")]
    with pytest.raises(ImportFileError, match=r"has no '~End'.*truncated"):
        parse_plate_export(cut.encode())


def test_softmax_fixture_reports_duplicate_wells_when_plate_repeated():
    text = softmax_plate_format(plates=2).replace("Plate:\tP2", "Plate:\tP1")
    with pytest.raises(ImportFileError, match="plate 'P1' appears twice: duplicate wells"):
        parse_plate_export(text.encode())


def test_bmg_fixture_reads_semicolon_and_decimal_comma_when_european_locale():
    lines = [
        "User: USER;Path: C:\\Data;Test run no.: 7",
        "Test name: IFNG;Date: 01.03.2025;Time: 09:00:00",
        "",
        "Absorbance",
        "",
        "Raw Data (450)",
        "",
        *grid_lines({"A1": "0,125", "H12": "OVER"}, sep=";"),
    ]
    reading = parse_plate_export("\r\n".join(lines).encode("cp1252"))
    assert reading.format == "bmg_mars"
    (grid,) = reading.plates
    assert grid.wells["A1"].value == 0.125
    assert grid.wells["H12"] == WellValue(flag="OVER")
    assert grid.wavelength_nm == 450


def test_envision_fixture_reads_excel_escapes_when_plate_barcode():
    lines = [
        "Plate information",
        "Plate,Repeat,Barcode,Measurement date,",
        '1,1,="PL-0042",3/1/2025 9:00:00 AM,',
        "",
        "Results for A450(1) - channel 1 (A)",
        *grid_lines({"D4": '="1.2500"'}, sep=",", trailing=""),
        "",
        "Exported with EnVision Workstation version 1.14",
    ]
    reading = parse_plate_export("\n".join(lines).encode())
    assert reading.format == "perkinelmer_envision"
    assert reading.plates[0].wells["D4"].value == 1.25
    assert reading.metadata["Plate 1 barcode"] == "PL-0042"


def magellan_workbook(*, duplicate: str | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Magellan Sheet 1"
    sheet.append(["Raw data", "Well positions", "Plate"])
    for index, well in enumerate(sorted(ALL_WELLS, key=lambda w: (int(w[1:]), w[0]))):
        sheet.append([0.1 + index / 1000, well, "PLATE-7" if index == 0 else None])
    if duplicate:
        sheet.append([9.9, duplicate, None])
    sheet.append(["Date of measurement: 2025-03-01/Time of measurement: 09:00:00"])
    sheet.append(["Measurement wavelength: 450 nm"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_magellan_fixture_reads_well_list_when_openpyxl_workbook():
    reading = parse_plate_export(magellan_workbook())
    assert reading.format == "tecan_magellan"
    (grid,) = reading.plates
    assert (grid.plate, grid.wavelength_nm, len(grid.wells)) == ("PLATE-7", 450, 96)
    assert grid.wells["A1"].value == 0.1
    assert grid.wells["B1"].value == pytest.approx(0.101)
    assert grid.wells["H12"].value == pytest.approx(0.195)
    assert reading.metadata["Time of measurement"] == "09:00:00"


def test_magellan_fixture_reports_duplicate_wells_when_well_listed_twice():
    with pytest.raises(ImportFileError, match="well C3 of plate 'PLATE-7' appears twice"):
        parse_plate_export(magellan_workbook(duplicate="C03"))


def test_magellan_fixture_reports_damage_when_xlsx_truncated():
    data = magellan_workbook()
    with pytest.raises(ImportFileError, match=r"XLSX workbook cannot be opened.*truncated"):
        parse_plate_export(data[: len(data) // 2])


def test_generic_grid_reads_grid_and_flag_when_plain_csv():
    lines = [
        "Plate reader: home-made",
        "",
        "OD450",
        *grid_lines({"E5": "*", "A12": ""}, sep=",", corner="<>"),
    ]
    data = "\n".join(lines).encode("utf-8-sig")
    assert detect_plate_format(data) == "generic_grid"
    reading = parse_plate_export(data)
    (grid,) = reading.plates
    assert grid.label == "OD450" and grid.wavelength_nm == 450
    assert len(grid.wells) == 95 and "A12" not in grid.wells
    assert grid.wells["E5"] == WellValue(flag="*")
    assert grid.wells["C7"].value == 0.307
    assert reading.metadata["Plate reader"] == "home-made"


def test_generic_grid_reads_xlsx_when_not_magellan():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["", *range(1, 13)])
    for r in ROWS:
        sheet.append([r, *[float(c) / 10 for c in range(1, 13)]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    reading = parse_plate_export(buffer.getvalue())
    assert reading.format == "generic_grid"
    assert reading.plates[0].wells["G10"].value == 1.0


def test_generic_well_list_uses_mapping_when_several_columns(tmp_path: Path):
    lines = ["Sample,Well,OD450,OD570"] + [
        f"S{i},{w},{0.5 + i / 100:.3f},{0.1:.3f}" for i, w in enumerate(["A01", "A02", "B01"])
    ]
    path = tmp_path / "well_list.csv"
    path.write_text("\n".join(lines), encoding="latin-1")
    data = path.read_bytes()
    assert detect_plate_format(data) == "generic_well_list"
    with pytest.raises(ImportFileError, match=r"Sample, OD450, OD570.*column-mapping"):
        parse_plate_export(data)
    reading = parse_generic_well_list(data, well_column="well", value_column="OD450")
    (grid,) = reading.plates
    assert grid.wells == {"A1": WellValue(0.5), "A2": WellValue(0.51), "B1": WellValue(0.52)}
    assert grid.wavelength_nm == 450


def test_generic_well_list_splits_plates_when_plate_column_given():
    data = b"Plate\tWell\tSignal\nP1\tA1\t1.5\nP2\tA1\t2,5\n"
    reading = parse_generic_well_list(
        data, well_column="Well", value_column="Signal", plate_column="Plate"
    )
    assert [(g.plate, g.wells["A1"].value) for g in reading.plates] == [("P1", 1.5), ("P2", 2.5)]


def test_generic_well_list_reports_duplicate_wells_when_well_repeated():
    data = b"Well,OD\nA1,0.1\nB2,0.2\nA01,0.3\n"
    with pytest.raises(ImportFileError, match=r"well A1 appears twice \(also on line 2\)") as info:
        parse_generic_well_list(data, well_column="Well", value_column="OD")
    assert info.value.line == 4


def test_generic_well_list_reports_missing_column_when_mapping_wrong():
    with pytest.raises(
        ImportFileError, match="no column 'OD450' in the header \\(found: Well, OD\\)"
    ):
        parse_generic_well_list(b"Well,OD\nA1,0.1\n", well_column="Well", value_column="OD450")


def test_generic_well_list_reports_bad_well_when_position_invalid():
    with pytest.raises(ImportFileError, match="'Z9' is not a well position") as info:
        parse_generic_well_list(b"Well,OD\nA1,0.1\nZ9,0.2\n", well_column="Well", value_column="OD")
    assert info.value.line == 3


# --- encodings and a round-trip property ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("\ufeffOD µ\r\n".encode(), "OD µ\n"),
        ("OD µ\r".encode(), "OD µ\n"),
        ("\ufeffOD µ".encode("utf-16-be"), "OD µ"),
        ("OD µ\r\n".encode("utf-16-le"), "OD µ\n"),
        ("OD µ \u2013 5 °C".encode("cp1252"), "OD µ \u2013 5 °C"),
        (b"J\x81rg \xb5", "J\x81rg µ"),  # 0x81 is undefined in cp1252: Latin-1 takes over
    ],
)
def test_decode_text_recovers_text_when_encoding_varies(data: bytes, expected: str):
    assert decode_text(data) == expected


def test_decode_text_reports_damage_when_utf16_bom_with_odd_bytes():
    with pytest.raises(ImportFileError, match=r"claims to be UTF-16.*truncated or damaged"):
        decode_text(b"\xff\xfe" + "Plate:".encode("utf-16-le") + b"\x00\xd8")


readings = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(WellValue),
    st.sampled_from(["OVRFLW", "MISSED", "*", "Range?"]).map(lambda f: WellValue(flag=f)),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(readings, min_size=96, max_size=96), st.sampled_from([",", ";", "\t"]))
def test_generic_grid_round_trips_every_reading_when_written_as_text(
    values: list[WellValue], sep: str
):
    wells = [f"{r}{c}" for r in ROWS for c in range(1, 13)]
    cells = {
        w: repr(v.value) if v.value is not None else str(v.flag)
        for w, v in zip(wells, values, strict=True)
    }
    if not any(v.is_numeric for v in values):
        cells["A1"], values[0] = "1.0", WellValue(1.0)
    reading = parse_plate_export("\n".join(grid_lines(cells, sep=sep)).encode())
    assert reading.plates[0].wells == dict(zip(wells, values, strict=True))


# --- bad files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n  \n", b"\xef\xbb\xbf", "\r\n".encode("utf-16")])
def test_parse_reports_empty_file_when_no_content(data: bytes):
    with pytest.raises(ImportFileError, match="the file is empty"):
        parse_plate_export(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Animal,Weight\nM1,20.1\nM2,21.0\n", "not a plate-reader export we recognise"),
        (b"FCS3.1    " + b"0" * 60, "FCS flow cytometry file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "legacy Excel .xls"),
        (b"PK\x03\x04not really a zip", "XLSX workbook cannot be opened"),
        (b"%PDF-1.7\n", "a PDF document"),
    ],
)
def test_parse_reports_wrong_format_when_not_a_plate_export(data: bytes, message: str):
    with pytest.raises(ImportFileError, match=message):
        parse_plate_export(data)


def test_parse_names_the_file_when_filename_given():
    with pytest.raises(ImportFileError, match=r"^run7.csv: this file is not a plate-reader export"):
        parse_plate_export(b"a,b\n1,2\n", filename="run7.csv")


def test_parse_refuses_upload_when_over_size_limit():
    with pytest.raises(ImportFileError, match=r"MiB.*limit 20 MiB"):
        parse_plate_export(b"x" * (MAX_PLATE_EXPORT_BYTES + 1))


def test_grid_reports_no_readings_when_every_cell_is_text():
    lines = grid_lines({f"{r}{c}": "n/a" for r in ROWS for c in range(1, 13)}, sep=",")
    with pytest.raises(ImportFileError, match="holds no numeric reading"):
        parse_plate_export("\n".join(lines).encode())


def test_grid_reports_out_of_order_rows_when_row_letters_skip():
    lines = grid_lines({}, sep=",")
    del lines[3]  # row C
    with pytest.raises(ImportFileError, match="rows of grid 'Grid 1' are A, B, D, E, F, G, H; "):
        parse_plate_export("\n".join(lines).encode())
