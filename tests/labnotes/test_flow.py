"""Flow cytometry services: the panel and its derived statistics, FlowJo table (both header
styles) and workspace imports through the sample-name mapping, FCS uploads from the five
cytometers, bad files refused with nothing saved, voiding, and the report rows."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError

from labnotes.models import (
    FlowAcquisition,
    FlowImport,
    FlowPopulationValue,
    FlowSampleMapping,
    StoredFile,
)
from labnotes.selectors_flow import flow_report_rows, flow_results
from labnotes.services.files import read_file
from labnotes.services.flow import (
    MappingSpec,
    create_flow_panel,
    import_flow_statistics,
    preview_flow_import,
    upload_fcs_file,
    void_flow_acquisition,
    void_flow_import,
)
from tests.labnotes.flow_support import (
    CD3,
    CD4,
    CD8,
    CD45,
    TREG,
    FlowRun,
    counts_row,
    flow_run,
    flowjo10_table,
    legacy_table,
    workspace,
)
from tests.support.requirements import require_shared

pytestmark = pytest.mark.django_db

TAG_TISSUE = MappingSpec(
    pattern=r"^(?P<animal>\d{4})[ _-](?P<tissue>[A-Za-z]+)",
    tissue_aliases={"T": "tumour", "S": "spleen", "Tum": "tumour", "Spl": "spleen"},
)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def flow(lab: Any) -> FlowRun:
    return flow_run(lab)


def _written() -> tuple[int, int, int, int]:
    return (
        FlowImport.objects.count(),
        FlowPopulationValue.objects.count(),
        FlowAcquisition.objects.count(),
        StoredFile.objects.count(),
    )


def _by_label(flow: FlowRun, values: dict[str, float | None]) -> dict[str, float | None]:
    labels = {item["key"]: item["label"] for item in flow.panel.derived_statistics}
    return {labels[key]: value for key, value in values.items()}


# -- the panel ---------------------------------------------------------------------------------


def test_panel_reports_percent_of_parent_percent_of_cd45_and_cd8_treg_ratio_by_default(
    flow: FlowRun,
) -> None:
    labels = [item["label"] for item in flow.panel.derived_statistics]
    assert flow.panel.populations == [CD45, CD3, CD4, CD8, TREG]
    assert labels == [
        "CD45+ % of parent (Live)",
        "CD3+ % of parent (CD45+)",
        "CD4+ % of parent (CD3+)",
        "CD8+ % of parent (CD3+)",
        "CD25+Foxp3+ % of parent (CD4+)",
        "CD3+ % of CD45+",
        "CD4+ % of CD45+",
        "CD8+ % of CD45+",
        "CD25+Foxp3+ % of CD45+",
        "CD8/Treg ratio",
    ]


def test_panel_refuses_derived_statistic_when_denominator_is_not_above_the_population(
    flow: FlowRun,
) -> None:
    # A second run of the same study, so the panel is new.
    from labnotes.services.runs import start_study_run

    run = start_study_run(
        study=flow.small.design.study,
        code="RUN-2",
        day0=flow.small.run.day0,
        started_by=flow.small.design.director,
    )
    with pytest.raises(ValidationError) as error:
        create_flow_panel(
            run=run,
            protocol_version=flow.panel.protocol_version,
            created_by=flow.scientist,
            derived_statistics=[{"kind": "percent_of", "population": CD8, "denominator": CD4}],
        )
    assert f"'{CD4}' is not a gate above '{CD8}'" in str(error.value)
    assert run.flow_panels.count() == 0


# -- FlowJo 10 table, derived statistics by hand ----------------------------------------------


def test_flowjo10_table_import_maps_barcodes_and_computes_derived_statistics(
    flow: FlowRun,
) -> None:
    table = flowjo10_table(
        {
            "FL-0001-T.fcs": counts_row(cd8=800, treg=200),
            "FL-0001-S.fcs": counts_row(cd8=300, treg=150),
        }
    )
    flow_import = import_flow_statistics(
        panel=flow.panel,
        content=table,
        filename="treg_table.csv",
        spec=MappingSpec(),
        imported_by=flow.technician,
    )
    assert (flow_import.kind, flow_import.sample_count) == ("flowjo_table", 2)
    # 2 samples x (bare Count + 5 populations x (count, freq. of parent)) = 2 x 11.
    assert flow_import.value_count == 22
    assert FlowPopulationValue.objects.filter(flow_import=flow_import).count() == 22
    assert flow_import.stored_file.sha256 == hashlib.sha256(table).hexdigest()
    assert read_file(flow_import.stored_file) == table
    results = {r.sample.barcode: r for r in flow_results(flow.panel)}
    assert set(results) == {"FL-0001-T", "FL-0001-S"}
    tumour = _by_label(flow, results["FL-0001-T"].values)
    # By hand: CD45+ 4000 of Live 10000 = 40 %; CD8+ 800 of CD3+ 2000 = 40 %; of CD45+ 4000 =
    # 20 %; Tregs 200 of CD4+ 1000 = 20 %, of CD45+ = 5 %; CD8/Treg = 800 / 200 = 4.
    assert tumour["CD45+ % of parent (Live)"] == pytest.approx(40.0)
    assert tumour["CD8+ % of parent (CD3+)"] == pytest.approx(40.0)
    assert tumour["CD8+ % of CD45+"] == pytest.approx(20.0)
    assert tumour["CD25+Foxp3+ % of parent (CD4+)"] == pytest.approx(20.0)
    assert tumour["CD25+Foxp3+ % of CD45+"] == pytest.approx(5.0)
    assert tumour["CD3+ % of CD45+"] == pytest.approx(50.0)
    assert tumour["CD8/Treg ratio"] == pytest.approx(4.0)
    spleen = _by_label(flow, results["FL-0001-S"].values)
    # 300 / 4000 = 7.5 %; 150 / 1000 = 15 %; 300 / 150 = 2.
    assert spleen["CD8+ % of CD45+"] == pytest.approx(7.5)
    assert spleen["CD25+Foxp3+ % of parent (CD4+)"] == pytest.approx(15.0)
    assert spleen["CD8/Treg ratio"] == pytest.approx(2.0)
    # The other animals' samples got no acquisition.
    assert FlowAcquisition.objects.filter(panel=flow.panel).count() == 2


def test_tsv_table_with_tag_and_tissue_names_maps_through_aliases(flow: FlowRun) -> None:
    table = flowjo10_table(
        {"0002_T.fcs": counts_row(), "0002_S.fcs": counts_row(), "0003 Tum": counts_row()},
        delimiter="\t",
    )
    import_flow_statistics(
        panel=flow.panel,
        content=table,
        filename="t.tsv",
        spec=TAG_TISSUE,
        imported_by=flow.technician,
    )
    mapped = set(
        FlowAcquisition.objects.filter(panel=flow.panel).values_list("sample__barcode", flat=True)
    )
    assert mapped == {"FL-0002-T", "FL-0002-S", "FL-0003-T"}


# -- legacy table: MacRoman, CR-only, "path,Freq. of Parent", Mean/SD ------------------------


def test_legacy_macroman_table_computes_percent_of_cd45_from_frequencies_of_parent(
    flow: FlowRun,
) -> None:
    frequencies = {CD45: 40.0, CD3: 50.0, CD4: 50.0, CD8: 40.0, TREG: 20.0}
    table = legacy_table({"0004_S.fcs": frequencies})
    assert b"\n" not in table and b"\r" in table
    flow_import = import_flow_statistics(
        panel=flow.panel,
        content=table,
        filename="old_mac.txt",
        spec=TAG_TISSUE,
        imported_by=flow.technician,
    )
    assert flow_import.sample_count == 1  # Mean and SD lines are not samples
    assert flow_import.value_count == 5  # the µ-gate column is not a panel population
    (result,) = flow_results(flow.panel)
    values = _by_label(flow, result.values)
    # By hand from frequencies: CD8+ of CD45+ = 0.5 x 0.4 = 20 %; Tregs of CD45+ =
    # 0.5 x 0.5 x 0.2 = 5 %; CD8/Treg below CD3+: 0.4 / (0.5 x 0.2) = 4.
    assert values["CD8+ % of CD45+"] == pytest.approx(20.0)
    assert values["CD25+Foxp3+ % of CD45+"] == pytest.approx(5.0)
    assert values["CD8/Treg ratio"] == pytest.approx(4.0)
    assert values["CD45+ % of parent (Live)"] == pytest.approx(40.0)


def test_real_legacy_macroman_table_reads_and_names_each_unmatched_sample(
    flow: FlowRun,
) -> None:
    data = (
        require_shared("data/instruments/flow_cytometry")
        / "flowjo_table_export_legacy_macroman_CR.tsv"
    ).read_bytes()
    preview = preview_flow_import(
        panel=flow.panel, content=data, filename="legacy.tsv", spec=TAG_TISSUE
    )
    assert preview.kind == "flowjo_table"
    assert len(preview.matches) == 15
    assert preview.matches[0].name == "Specimen_003_Spleen_001_045.fcs"
    assert (
        "line 2, sample 'Specimen_003_Spleen_001_045.fcs': the name does not fit"
        in (preview.problems[0])
    )
    # MacRoman 0xD0 is an en dash: "IL-17A–" reads as FlowJo showed it on the Mac.
    assert "Cells/Singlets/Live/TCRb+CD4+/Q1: IL-17A\u2013, IFNg+" in preview.file_paths
    before = _written()
    with pytest.raises(ValidationError):
        import_flow_statistics(
            panel=flow.panel,
            content=data,
            filename="legacy.tsv",
            spec=TAG_TISSUE,
            imported_by=flow.technician,
        )
    assert _written() == before


# -- workspace ---------------------------------------------------------------------------------


def test_workspace_import_stores_counts_and_derives_percentages(flow: FlowRun) -> None:
    counts = {**counts_row(cd8=600, treg=300), "all": 20000}
    data = workspace({"FL-0003-S.fcs": counts})
    flow_import = import_flow_statistics(
        panel=flow.panel,
        content=data,
        filename="panel.wsp",
        spec=MappingSpec(),
        imported_by=flow.technician,
    )
    assert flow_import.kind == "flowjo_workspace"
    assert flow_import.value_count == 6  # all events + five panel populations, counts only
    (result,) = flow_results(flow.panel)
    assert result.counts == {"": 20000, CD45: 4000, CD3: 2000, CD4: 1000, CD8: 600, TREG: 300}
    values = _by_label(flow, result.values)
    # 600 / 4000 = 15 %; 300 / 1000 = 30 %; 600 / 300 = 2. CD45+ of Live needs Live (not a
    # panel population, and a workspace has no frequencies): undefined, not 0.
    assert values["CD8+ % of CD45+"] == pytest.approx(15.0)
    assert values["CD25+Foxp3+ % of parent (CD4+)"] == pytest.approx(30.0)
    assert values["CD8/Treg ratio"] == pytest.approx(2.0)
    assert values["CD45+ % of parent (Live)"] is None


def test_real_workspace_previews_samples_and_gates(flow: FlowRun) -> None:
    data = (
        require_shared("data/instruments/flow_cytometry") / "flowjo_10.10_workspace_splenocytes.wsp"
    ).read_bytes()
    preview = preview_flow_import(
        panel=flow.panel, content=data, filename="splenocytes.wsp", spec=MappingSpec()
    )
    assert preview.kind == "flowjo_workspace"
    assert preview.matches and all(m.sample is None for m in preview.matches)
    assert any("no sample of this run has barcode" in p for p in preview.problems)


# -- the mapping is saved per lab and reused --------------------------------------------------


def test_mapping_saved_at_import_is_reused_by_the_next_import(flow: FlowRun) -> None:
    first = import_flow_statistics(
        panel=flow.panel,
        content=flowjo10_table({"0001_T.fcs": counts_row()}),
        filename="a.csv",
        spec=TAG_TISSUE,
        imported_by=flow.technician,
        save_mapping_as="tag_tissue",
    )
    mapping = FlowSampleMapping.objects.get(lab=flow.small.design.lab, name="tag_tissue")
    assert first.mapping == mapping
    assert mapping.tissue_aliases["spl"] == "spleen"
    second = import_flow_statistics(
        panel=flow.panel,
        content=flowjo10_table({"0001_S.fcs": counts_row()}),
        filename="b.csv",
        spec=MappingSpec.of(mapping),
        mapping=mapping,
        imported_by=flow.technician,
    )
    assert second.mapping_snapshot["samples"] == {"0001_S.fcs": "FL-0001-S"}
    assert FlowSampleMapping.objects.count() == 1
    mapping.refresh_from_db()
    assert mapping.last_used_at is not None


def test_population_column_mapping_overrides_the_automatic_match(flow: FlowRun) -> None:
    table = b"Sample,Live/Leukocytes | Count,Live/Leukocytes/T | Count\nFL-0001-T.fcs,4000,2000\n"
    spec = MappingSpec(population_columns={CD45: "Live/Leukocytes", CD3: "Live/Leukocytes/T"})
    import_flow_statistics(
        panel=flow.panel, content=table, filename="x.csv", spec=spec, imported_by=flow.technician
    )
    (result,) = flow_results(flow.panel)
    assert result.counts == {CD45: 4000, CD3: 2000}
    assert _by_label(flow, result.values)["CD3+ % of CD45+"] == pytest.approx(50.0)


# -- bad files: clear message, nothing saved --------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "the file is binary"),
        (
            b"Sample,Live/CD45+ | Count,Live/CD45+/CD3+ | Count\nFL-0001-T.fcs,4000\n",
            "line 2: the line has 1 values for 2 columns: the file looks truncated",
        ),
        (b'<?xml version="1.0"?><Workspace><SampleList><Sample>', "not well-formed"),
    ],
    ids=["empty", "wrong-format", "truncated-table", "truncated-workspace"],
)
def test_bad_file_is_refused_with_its_reason_and_nothing_saved(
    flow: FlowRun, content: bytes, expected: str
) -> None:
    before = _written()
    with pytest.raises(ValidationError) as error:
        import_flow_statistics(
            panel=flow.panel,
            content=content,
            filename="bad.csv",
            spec=MappingSpec(),
            imported_by=flow.technician,
        )
    assert expected in str(error.value)
    assert _written() == before


def test_upload_over_the_size_limit_is_refused_naming_both_sizes(
    flow: FlowRun, settings: Any
) -> None:
    settings.VIVOLOG_MAX_FILE_BYTES = 1024
    table = flowjo10_table({f"FL-0001-T-{n}.fcs": counts_row() for n in range(20)})
    assert len(table) > 1024
    before = _written()
    with pytest.raises(ValidationError) as error:
        import_flow_statistics(
            panel=flow.panel,
            content=table,
            filename="big.csv",
            spec=MappingSpec(),
            imported_by=flow.technician,
        )
    assert f"big.csv is {len(table) / 1024:.0f} kB, over the 1 kB limit" in str(error.value)
    assert _written() == before


def test_names_matching_no_sample_are_listed_by_line_and_nothing_is_saved(
    flow: FlowRun,
) -> None:
    table = flowjo10_table(
        {
            "FL-0001-T.fcs": counts_row(),
            "0009_T.fcs": counts_row(),
            "0002_X.fcs": counts_row(),
            "blank well.fcs": counts_row(),
        }
    )
    before = _written()
    with pytest.raises(ValidationError) as error:
        import_flow_statistics(
            panel=flow.panel,
            content=table,
            filename="t.csv",
            spec=TAG_TISSUE,
            imported_by=flow.technician,
        )
    messages = error.value.message_dict["file"]
    assert messages == [
        "line 2, sample 'FL-0001-T.fcs': the name does not fit the pattern",
        "line 3, sample '0009_T.fcs': no animal of this run has tag '0009'",
        "line 4, sample '0002_X.fcs': 'X' is no tissue (add it to the tissue aliases)",
        "line 5, sample 'blank well.fcs': the name does not fit the pattern",
    ]
    assert _written() == before


def test_two_names_for_one_sample_are_refused(flow: FlowRun) -> None:
    table = flowjo10_table({"0001_T.fcs": counts_row(), "0001_Tum.fcs": counts_row()})
    with pytest.raises(ValidationError) as error:
        import_flow_statistics(
            panel=flow.panel,
            content=table,
            filename="t.csv",
            spec=TAG_TISSUE,
            imported_by=flow.technician,
        )
    assert "maps to sample FL-0001-T, as does '0001_T.fcs'" in str(error.value)
    assert FlowImport.objects.count() == 0


def test_table_without_panel_gates_is_refused(flow: FlowRun) -> None:
    table = b"Sample,Cells/B220+ | Count\nFL-0001-T.fcs,100\n"
    with pytest.raises(ValidationError) as error:
        import_flow_statistics(
            panel=flow.panel,
            content=table,
            filename="t.csv",
            spec=MappingSpec(),
            imported_by=flow.technician,
        )
    assert "no gate of the file matches a population of the panel" in str(error.value)
    assert FlowImport.objects.count() == 0


def test_invalid_pattern_is_refused_with_the_regex_error(flow: FlowRun) -> None:
    with pytest.raises(ValidationError) as error:
        preview_flow_import(
            panel=flow.panel,
            content=flowjo10_table({"a": counts_row()}),
            filename="t.csv",
            spec=MappingSpec(pattern="(?P<tag>\\d+"),
        )
    assert "not a valid regular expression" in str(error.value)


def test_viewer_may_not_import(flow: FlowRun) -> None:
    with pytest.raises(PermissionDenied):
        import_flow_statistics(
            panel=flow.panel,
            content=flowjo10_table({"FL-0001-T.fcs": counts_row()}),
            filename="t.csv",
            spec=MappingSpec(),
            imported_by=flow.small.design.viewer,
        )
    assert FlowImport.objects.count() == 0


# -- re-import, voiding and the audit trail ---------------------------------------------------


def test_second_import_for_a_sample_is_refused_until_the_first_is_voided(flow: FlowRun) -> None:
    first = import_flow_statistics(
        panel=flow.panel,
        content=flowjo10_table({"FL-0001-T.fcs": counts_row(cd8=800)}),
        filename="a.csv",
        spec=MappingSpec(),
        imported_by=flow.technician,
    )
    again = flowjo10_table({"FL-0001-T.fcs": counts_row(cd8=400)})
    with pytest.raises(ValidationError) as error:
        import_flow_statistics(
            panel=flow.panel,
            content=again,
            filename="b.csv",
            spec=MappingSpec(),
            imported_by=flow.technician,
        )
    assert f"already has values from import #{first.pk}; void that import first" in str(error.value)
    with pytest.raises(ValidationError):
        void_flow_import(flow_import=first, voided_by=flow.scientist, reason=" ")
    void_flow_import(flow_import=first, voided_by=flow.scientist, reason="wrong compensation")
    import_flow_statistics(
        panel=flow.panel,
        content=again,
        filename="b.csv",
        spec=MappingSpec(),
        imported_by=flow.technician,
    )
    (result,) = flow_results(flow.panel)
    assert _by_label(flow, result.values)["CD8+ % of CD45+"] == pytest.approx(10.0)
    # Nothing lost: the voided import's values stay, marked by their import.
    assert FlowPopulationValue.objects.filter(flow_import=first).count() == 11
    events = apps.get_model("labnotes", "FlowImportEvent").objects.filter(pgh_obj_id=first.pk)
    update = events.get(pgh_label="update")
    assert update.pgh_context["reason"] == "wrong compensation"
    assert update.voided_by_id == flow.scientist.pk


# -- FCS files from the five cytometers --------------------------------------------------------

FCS_FILES = [
    ("fcs3.0_bd_facsdiva6_fortessa_A01.fcs", "LSRII", 11585, "2013-02-28", 11, "SPILL"),
    (
        "fcs3.0_bd_facsdiva8_aria_mouse_spleen_indexsort.fcs",
        "FACSAria-3 (FACSAriaIII)",
        384,
        "2017-06-08",
        None,
        "SPILL",
    ),
    ("fcs3.0_sysmex_cyflow_cube8.fcs", "Cube_15", 725, "2017-11-02", 10, None),
    ("fcs3.1_attune_nxt_G11.fcs", None, 5785, None, None, "$SPILLOVER"),
    (
        "fcs3.1_bd_accuri_c6plus_B01.fcs",
        "BD Accuri C6 Plus",
        1589,
        "2019-02-19",
        None,
        "$SPILLOVER",
    ),
]


@pytest.mark.parametrize(
    ("name", "cytometer", "events", "date", "channel_count", "spill"),
    FCS_FILES,
    ids=[row[0] for row in FCS_FILES],
)
def test_fcs_upload_keeps_file_and_metadata_for_each_cytometer(
    flow: FlowRun,
    name: str,
    cytometer: str | None,
    events: int,
    date: str | None,
    channel_count: int | None,
    spill: str | None,
) -> None:
    content = (require_shared("data/instruments/flow_cytometry") / name).read_bytes()
    sample = flow.samples[("0002", "spleen")]
    acquisition = upload_fcs_file(
        panel=flow.panel,
        content=content,
        filename=name,
        uploaded_by=flow.technician,
        sample=sample,
    )
    acquisition.refresh_from_db()
    assert acquisition.event_count == events
    assert acquisition.fcs_file is not None
    assert acquisition.fcs_file.sha256 == hashlib.sha256(content).hexdigest()
    assert acquisition.fcs_file.size_bytes == len(content)
    if cytometer is not None:
        assert acquisition.cytometer == cytometer
    else:
        assert "Attune NxT" in acquisition.cytometer
    if date is not None:
        assert acquisition.acquisition_date is not None
        assert acquisition.acquisition_date.isoformat() == date
    if channel_count is not None:
        assert len(acquisition.channels) == channel_count
    if spill is None:
        assert acquisition.spillover is None
    else:
        assert acquisition.spillover is not None
        assert acquisition.spillover["keyword"] == spill
        size = len(acquisition.spillover["channels"])
        assert len(acquisition.spillover["matrix"]) == size
    if name.startswith("fcs3.0_bd_facsdiva8"):
        markers = {c["name"]: c["marker"] for c in acquisition.channels}
        assert markers["RL 780/60-A"] == "CD19;APC-H7;780/60@640/A"
    if name.startswith("fcs3.1_attune"):
        markers = {c["name"]: c["marker"] for c in acquisition.channels}
        assert markers["VL1-A"] == "Alexa Fluor\u2122 405-A"


def test_fcs_file_name_is_mapped_to_its_sample_and_joins_the_imported_values(
    flow: FlowRun,
) -> None:
    import_flow_statistics(
        panel=flow.panel,
        content=flowjo10_table({"FL-0003-T.fcs": counts_row()}),
        filename="a.csv",
        spec=MappingSpec(),
        imported_by=flow.technician,
    )
    content = (
        require_shared("data/instruments/flow_cytometry") / "fcs3.1_bd_accuri_c6plus_B01.fcs"
    ).read_bytes()
    acquisition = upload_fcs_file(
        panel=flow.panel, content=content, filename="FL-0003-T.fcs", uploaded_by=flow.technician
    )
    assert FlowAcquisition.objects.filter(panel=flow.panel).count() == 1
    assert acquisition.sample == flow.samples[("0003", "tumour")]
    assert acquisition.cytometer == "BD Accuri C6 Plus"
    assert acquisition.row_version == 2
    with pytest.raises(ValidationError) as error:
        upload_fcs_file(
            panel=flow.panel, content=content, filename="FL-0003-T.fcs", uploaded_by=flow.technician
        )
    assert "already has the FCS file FL-0003-T.fcs" in str(error.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"PK\x03\x04 this is a zip file" * 4, "not an FCS file"),
        (b"FCS3.0    ", "shorter than 58 bytes"),
    ],
    ids=["empty", "wrong-format", "truncated-header"],
)
def test_bad_fcs_file_is_refused_and_nothing_saved(
    flow: FlowRun, content: bytes, expected: str
) -> None:
    before = _written()
    with pytest.raises(ValidationError) as error:
        upload_fcs_file(
            panel=flow.panel,
            content=content,
            filename="x.fcs",
            uploaded_by=flow.technician,
            sample=flow.samples[("0001", "tumour")],
        )
    assert expected in str(error.value)
    assert _written() == before


def test_truncated_real_fcs_file_is_refused(flow: FlowRun) -> None:
    content = (
        require_shared("data/instruments/flow_cytometry") / "fcs3.0_bd_facsdiva6_fortessa_A01.fcs"
    ).read_bytes()
    before = _written()
    with pytest.raises(ValidationError) as error:
        upload_fcs_file(
            panel=flow.panel,
            content=content[:1000],
            filename="cut.fcs",
            uploaded_by=flow.technician,
            sample=flow.samples[("0001", "tumour")],
        )
    assert "truncated" in str(error.value) or "cannot be read" in str(error.value)
    assert _written() == before


def test_fcs_name_matching_no_sample_is_refused(flow: FlowRun) -> None:
    content = (
        require_shared("data/instruments/flow_cytometry") / "fcs3.1_bd_accuri_c6plus_B01.fcs"
    ).read_bytes()
    with pytest.raises(ValidationError) as error:
        upload_fcs_file(
            panel=flow.panel, content=content, filename="B01.fcs", uploaded_by=flow.technician
        )
    assert "sample 'B01.fcs': no sample of this run has barcode B01" in str(error.value)
    assert _written()[2:] == (0, 0)


def test_voided_acquisition_leaves_the_results(flow: FlowRun) -> None:
    import_flow_statistics(
        panel=flow.panel,
        content=flowjo10_table({"FL-0001-T.fcs": counts_row(), "FL-0002-T.fcs": counts_row()}),
        filename="a.csv",
        spec=MappingSpec(),
        imported_by=flow.technician,
    )
    acquisition = FlowAcquisition.objects.get(sample__barcode="FL-0001-T")
    void_flow_acquisition(acquisition=acquisition, voided_by=flow.scientist, reason="tube mix-up")
    assert [r.sample.barcode for r in flow_results(flow.panel)] == ["FL-0002-T"]


# -- report rows -------------------------------------------------------------------------------


def test_report_rows_carry_arm_day_timing_tissue_and_sample(flow: FlowRun) -> None:
    import_flow_statistics(
        panel=flow.panel,
        content=flowjo10_table({"FL-0001-T.fcs": counts_row(), "FL-0001-S.fcs": counts_row()}),
        filename="a.csv",
        spec=MappingSpec(),
        imported_by=flow.technician,
    )
    rows = flow_report_rows(flow.small.run)
    animal = flow.small.animals[0]
    assert animal.arm is not None
    assert len(rows) == 2 * 10
    ratio = [r for r in rows if r.analyte == "CD8/Treg ratio"]
    assert [(r.tissue, r.sample, r.value, r.unit) for r in ratio] == [
        ("spleen", "FL-0001-S", 4.0, "ratio"),
        ("tumour", "FL-0001-T", 4.0, "ratio"),
    ]
    row = ratio[0]
    assert (row.assay, row.animal, row.group) == ("flow", "0001", animal.arm.label)
    assert row.study_day == flow.samples[("0001", "spleen")].study_day
    assert row.timing == "scheduled"
