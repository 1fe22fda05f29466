"""FCS metadata from all five cytometers' files in ../shared, and from files written with flowio."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import flowio
import pytest

from labnotes.importers.errors import ImportFileError
from labnotes.importers.fcs import parse_spillover, read_fcs_metadata
from tests.support.requirements import require_shared


def real(name: str) -> bytes:
    return (require_shared("data/instruments/flow_cytometry") / name).read_bytes()


# --- the five cytometers ------------------------------------------------------------------------


def test_fortessa_metadata_reads_spill_keyword_and_padded_tot_when_facsdiva6():
    meta = read_fcs_metadata(real("fcs3.0_bd_facsdiva6_fortessa_A01.fcs"))
    assert (meta.version, meta.cytometer) == ("3.0", "LSRII")
    assert meta.event_count == 11585
    assert meta.acquisition_date == dt.date(2013, 2, 28)
    assert meta.started_at == dt.datetime(2013, 2, 28, 15, 19, 53)
    assert len(meta.channels) == 11
    assert meta.channel_names[6:] == (
        "FITC-A",
        "PerCP-Cy5-5-A",
        "AmCyan-A",
        "PE-Texas Red-A",
        "Time",
    )
    assert meta.markers == {}
    assert meta.spillover is not None
    assert meta.spillover.keyword == "SPILL"
    assert meta.spillover.channels == ("FITC-A", "PerCP-Cy5-5-A", "AmCyan-A", "PE-Texas Red-A")
    assert meta.spillover.matrix[0] == (1.0, 0.0, 0.15999999430400005, 0.0)
    assert meta.spillover.matrix[2] == (0.015000003206999964, 0.0, 1.0, 0.0)
    assert meta.file_name == "Specimen_001_A1_A01.fcs"


def test_aria_metadata_keeps_marker_fluor_filter_when_facsdiva8_mouse_spleen():
    meta = read_fcs_metadata(real("fcs3.0_bd_facsdiva8_aria_mouse_spleen_indexsort.fcs"))
    assert meta.cytometer == "FACSAria-3 (FACSAriaIII)"
    assert meta.event_count == 384
    assert meta.acquisition_date == dt.date(2017, 6, 8)
    assert meta.markers["RL 780/60-A"] == "CD19;APC-H7;780/60@640/A"
    assert meta.markers["VL 525/50-A"] == "B220;V500;510/50@405/E"
    assert meta.markers["BL 695/40-A"] == "viability;7-AAD;695/40@488/A"
    assert meta.channels[0].marker is None
    assert meta.spillover is not None and len(meta.spillover.channels) == 6
    assert meta.spillover.matrix[0][1] == 0.05082635623959459


def test_cyflow_metadata_has_no_spillover_when_sysmex_cube8():
    meta = read_fcs_metadata(real("fcs3.0_sysmex_cyflow_cube8.fcs"))
    assert meta.cytometer == "Cube_15"
    assert meta.event_count == 725
    assert meta.channel_names == (
        "FSC",
        "SSC",
        "FL1",
        "FL2",
        "FL3",
        "FL4",
        "FL5",
        "FL6",
        "TIME",
        "DOUBLET",
    )
    assert meta.spillover is None
    assert meta.file_name == "Background 1.fcs"
    # "09:42:05:509": milliseconds after a colon, as this instrument writes them.
    assert meta.started_at == dt.datetime(2017, 11, 2, 9, 42, 5, 509000)


def test_accuri_metadata_reads_standard_spillover_when_fcs31():
    meta = read_fcs_metadata(real("fcs3.1_bd_accuri_c6plus_B01.fcs"))
    assert (meta.version, meta.cytometer) == ("3.1", "BD Accuri C6 Plus")
    assert meta.event_count == 1589
    assert meta.keywords["wellid"] == "B01"
    assert meta.started_at == dt.datetime(2019, 2, 19, 21, 28, 25, 560000)
    assert meta.markers["FL1-A"] == "FITC-A"
    assert meta.spillover is not None
    assert meta.spillover.keyword == "$SPILLOVER"
    assert meta.spillover.channels[:4] == ("FL1-A", "FL2-A", "FL3-A", "FL4-A")
    assert meta.spillover.matrix[0][:4] == (1.0, 0.1203, 0.024, 0.0001)
    assert meta.spillover.matrix[1][:3] == (0.0285, 1.0, 0.263)


def test_attune_metadata_decodes_utf8_markers_when_trademark_sign():
    meta = read_fcs_metadata(real("fcs3.1_attune_nxt_G11.fcs"))
    assert meta.cytometer is not None and "Attune NxT" in meta.cytometer
    assert meta.event_count == 5785
    assert meta.markers["VL1-A"] == "Alexa Fluor\u2122 405-A"
    assert meta.markers["BL1-A"] == "GFP-A"
    assert meta.spillover is not None
    assert meta.spillover.channels == ("BL1-A", "YL2-A", "VL1-A", "VL1-H", "VL1-W")
    assert meta.spillover.matrix[4] == (0.0, 0.0, 0.0, 0.0, 1.0)
    # $NEXTDATA is written as twelve zeros: still a single data set.
    assert meta.more_data_sets is False


def test_calibur_metadata_reads_two_digit_year_when_fcs20_reference_file():
    data = (require_shared("data/reference/flow") / "data1.fcs").read_bytes()
    meta = read_fcs_metadata(data)
    assert (meta.version, meta.cytometer, meta.event_count) == ("2.0", "FACSCalibur", 13367)
    assert meta.acquisition_date == dt.date(2002, 8, 23)
    assert meta.markers["FL1-H"] == "CD4 FITC"
    assert meta.channels[5].marker is None


def test_metadata_reads_from_stream_without_decoding_events_when_file_handle():
    path = (
        require_shared("data/instruments/flow_cytometry") / "fcs3.0_bd_facsdiva6_fortessa_A01.fcs"
    )
    with path.open("rb") as handle:
        meta = read_fcs_metadata(handle)
    assert meta.event_count == 11585


# --- fixtures written with flowio ----------------------------------------------------------------

SPILL = "3,FL1-A,FL2-A,FL3-A,1,0.12,0.01,0.05,1,0.2,0,0.03,1"


def write_fcs(path: Path, *, events: int = 10, metadata: dict[str, str] | None = None) -> bytes:
    channels = ["FSC-A", "SSC-A", "FL1-A", "FL2-A", "FL3-A"]
    markers = ["", "", "CD8", "Foxp3", "CD45"]
    data = [float(i % 97) for i in range(events * len(channels))]
    with path.open("wb") as handle:
        flowio.create_fcs(handle, data, channels, opt_channel_names=markers, metadata_dict=metadata)
    return path.read_bytes()


def test_fixture_metadata_reads_spillover_markers_and_start_when_written_by_flowio(tmp_path: Path):
    data = write_fcs(
        tmp_path / "m01.fcs",
        events=250,
        metadata={
            "$CYT": "Vivolog Test Cytometer",
            "$DATE": "01-MAR-2025",
            "$BTIM": "09:15:30.25",
            "$SPILLOVER": SPILL,
            "$FIL": "m01.fcs",
        },
    )
    meta = read_fcs_metadata(data)
    assert (meta.version, meta.cytometer, meta.event_count) == (
        "3.1",
        "Vivolog Test Cytometer",
        250,
    )
    assert meta.started_at == dt.datetime(2025, 3, 1, 9, 15, 30, 250000)
    assert meta.markers == {"FL1-A": "CD8", "FL2-A": "Foxp3", "FL3-A": "CD45"}
    assert meta.channels[0].marker is None
    assert meta.spillover is not None
    assert meta.spillover.channels == ("FL1-A", "FL2-A", "FL3-A")
    assert meta.spillover.matrix == ((1.0, 0.12, 0.01), (0.05, 1.0, 0.2), (0.0, 0.03, 1.0))
    assert meta.file_name == "m01.fcs"


def test_fixture_metadata_reads_bd_spill_when_no_spillover_keyword(tmp_path: Path):
    meta = read_fcs_metadata(write_fcs(tmp_path / "bd.fcs", metadata={"SPILL": SPILL}))
    assert meta.spillover is not None and meta.spillover.keyword == "SPILL"
    assert meta.acquisition_date is None and meta.started_at is None


def test_fixture_metadata_never_decodes_events_when_file_is_large(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    data = write_fcs(tmp_path / "big.fcs", events=100_000)
    assert len(data) > 1_900_000

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("event data was decoded")

    monkeypatch.setattr(flowio.FlowData, "_FlowData__parse_data", refuse)
    meta = read_fcs_metadata(data)
    assert meta.event_count == 100_000
    with pytest.raises(AssertionError, match="event data was decoded"):
        flowio.FlowData(io.BytesIO(data))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2,A,B,1,0,0", "2-channel matrix needs 7 values, found 6"),
        ("x,A,1", "should start with its size"),
        ("2,A,A,1,0,0,1", "names a channel twice"),
        ("1,A,zero", "'zero' in the matrix is not a number"),
    ],
)
def test_parse_spillover_reports_malformed_matrix_when_values_wrong(raw: str, message: str):
    with pytest.raises(ImportFileError, match=message):
        parse_spillover(raw)


def test_metadata_reports_bad_spillover_with_keyword_when_fixture_matrix_short(tmp_path: Path):
    data = write_fcs(tmp_path / "bad.fcs", metadata={"$SPILLOVER": "3,FL1-A,FL2-A,FL3-A,1,0,0"})
    with pytest.raises(ImportFileError, match="needs 13 values") as info:
        read_fcs_metadata(data)
    assert info.value.field == "$SPILLOVER"


# --- bad files ------------------------------------------------------------------------------------


def test_metadata_reports_empty_file_when_no_bytes():
    with pytest.raises(ImportFileError, match="the file is empty"):
        read_fcs_metadata(b"")


def test_metadata_reports_wrong_format_when_not_fcs():
    with pytest.raises(ImportFileError, match="not an FCS file"):
        read_fcs_metadata(b"Sample,CD3+ | Count\nM1,3\n" * 5)


def test_metadata_reports_truncation_when_data_segment_cut(tmp_path: Path):
    data = write_fcs(tmp_path / "cut.fcs", events=1000)
    with pytest.raises(
        ImportFileError, match="shorter than its header says: the file is truncated"
    ):
        read_fcs_metadata(data[: len(data) - 100])


def test_metadata_reports_truncation_when_text_segment_cut(tmp_path: Path):
    data = write_fcs(tmp_path / "cut_text.fcs")
    with pytest.raises(ImportFileError, match="truncated"):
        read_fcs_metadata(data[:300])


def test_metadata_reports_truncation_when_header_cut():
    with pytest.raises(ImportFileError, match="shorter than 58 bytes"):
        read_fcs_metadata(b"FCS3.1    " + b" " * 20)


def test_metadata_reads_from_bytesio_when_stream_given(tmp_path: Path):
    data = write_fcs(tmp_path / "stream.fcs", events=3)
    assert read_fcs_metadata(io.BytesIO(data)).event_count == 3
