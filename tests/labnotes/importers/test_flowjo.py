"""FlowJo tables and workspaces: the real exports in ../shared and fixtures composed here."""

from __future__ import annotations

import pytest

from labnotes.importers.errors import ImportFileError
from labnotes.importers.flowjo import (
    parse_flowjo_table,
    parse_flowjo_workspace,
    split_column_header,
)
from tests.support.requirements import require_shared

CD4 = "Cells/Singlets/Live/TCRb+CD4+"


def real(name: str) -> bytes:
    return (require_shared("data/instruments/flow_cytometry") / name).read_bytes()


# --- tables: real export ------------------------------------------------------------------------


def test_legacy_table_reads_15_samples_and_drops_summary_rows_when_macroman_cr_file():
    data = real("flowjo_table_export_legacy_macroman_CR.tsv")
    assert b"\n" not in data and b"\xd0" in data  # CR-only, MacRoman en dash
    table = parse_flowjo_table(data)
    assert len(table.rows) == 15
    assert table.rows[0].sample == "Specimen_003_Spleen_001_045.fcs"
    assert table.rows[-1].sample == "Specimen_003_coLP_005_059.fcs"
    assert all(row.sample not in {"Mean", "StdDev"} for row in table.rows)
    assert len(table.columns) == 10
    assert table.columns[1] == (f"{CD4}/Q1: IL-17A\u2013, IFNg+", "Freq. of Parent")
    spleen3 = table.sample("Specimen_003_Spleen_003_047.fcs")
    assert spleen3.line == 4
    assert spleen3.get(f"{CD4}/Q2: IL-17A+, IFNg+", "Freq. of Parent") == 6.73e-3
    assert spleen3.get(f"{CD4}/IL-2+", "Freq. of Parent") == 36.7
    colp1 = table.sample("Specimen_003_coLP_001_055.fcs")
    assert colp1.get(f"{CD4}/GM-CSF+", "Freq. of Parent") == 6.46
    assert colp1.get(f"{CD4}/Q8: IL-13\u2013, IL-4\u2013", "Freq. of Parent") == 87.3


# --- tables: fixtures -------------------------------------------------------------------------


def test_table_reads_pipe_headers_and_ignores_mean_sd_when_flowjo10_csv():
    lines = [
        ",Lymphocytes/Single Cells/Live/CD3+ | Freq. of Parent,"
        "Lymphocytes/Single Cells/Live/CD3+/CD8+ | Count,"
        '"Lymphocytes/Single Cells/Live/CD3+/CD4+/Foxp3+, CD25+ | Median (Comp-PE-A)",Count',
        "M01_tumour.fcs,41.2,1520,812.5,50000",
        "M02_tumour.fcs,38.9,,790,48000",
        "Mean,40.05,1520,801.25,49000",
        "SD,1.63,0,15.9,1414",
    ]
    table = parse_flowjo_table("\r\n".join(lines).encode("utf-8-sig"))
    assert table.columns == (
        ("Lymphocytes/Single Cells/Live/CD3+", "Freq. of Parent"),
        ("Lymphocytes/Single Cells/Live/CD3+/CD8+", "Count"),
        ("Lymphocytes/Single Cells/Live/CD3+/CD4+/Foxp3+, CD25+", "Median (Comp-PE-A)"),
        ("", "Count"),
    )
    assert [row.sample for row in table.rows] == ["M01_tumour.fcs", "M02_tumour.fcs"]
    first, second = table.rows
    assert (
        first.get("Lymphocytes/Single Cells/Live/CD3+/CD4+/Foxp3+, CD25+", "Median (Comp-PE-A)")
        == 812.5
    )
    assert first.get("", "Count") == 50000
    # An empty cell is "not computed": left out, not zero.
    assert len(second.statistics) == 3
    with pytest.raises(KeyError):
        second.get("Lymphocytes/Single Cells/Live/CD3+/CD8+", "Count")


def test_table_reads_slash_and_comma_legacy_headers_when_tsv_with_count_column():
    lines = [
        "Sample:\tLymphocytes/Single Cells/Live/CD3+/Freq. of Parent\tLymphocytes,Count\tCount",
        "1: Spleen_M01.fcs\t35.5\t20000\t30000",
    ]
    table = parse_flowjo_table("\n".join(lines).encode())
    (row,) = table.rows
    assert row.sample == "Spleen_M01.fcs"
    assert row.get("Lymphocytes/Single Cells/Live/CD3+", "Freq. of Parent") == 35.5
    assert row.get("Lymphocytes", "Count") == 20000
    assert row.get("", "Count") == 30000


def test_table_decodes_macroman_when_cr_only_line_endings():
    text = "Sample\tCD45+/CD3\u2013,Freq. of Parent\r1: A.fcs\t12.5\rMean\t12.5\r"
    data = text.encode("mac_roman")
    assert data.count(b"\xd0") == 1
    table = parse_flowjo_table(data)
    assert table.columns == (("CD45+/CD3\u2013", "Freq. of Parent"),)
    assert table.rows[0].get("CD45+/CD3\u2013", "Freq. of Parent") == 12.5


def test_table_decodes_utf16_when_windows_unicode_export():
    data = "\ufeffSample,CD8+ | Freq. of Parent\r\nM1.fcs,22\r\n".encode("utf-16-le")
    assert parse_flowjo_table(data).rows[0].get("CD8+", "Freq. of Parent") == 22


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Lymphocytes/CD3+ | Freq. of Parent", ("Lymphocytes/CD3+", "Freq. of Parent")),
        ("Lymphocytes/CD3+,Freq. of Grandparent", ("Lymphocytes/CD3+", "Freq. of Grandparent")),
        ("Lymphocytes/CD3+/Freq. of Total", ("Lymphocytes/CD3+", "Freq. of Total")),
        ("Q1: CD4+, CD8-,Count", ("Q1: CD4+, CD8-", "Count")),
        ("Beads/Counting beads,Count", ("Beads/Counting beads", "Count")),
        ("CD3+,Median,<FITC-A>", ("CD3+", "Median,<FITC-A>")),
        ("Count", ("", "Count")),
    ],
)
def test_split_column_header_finds_statistic_when_header_style_varies(header, expected):
    assert split_column_header(header) == expected


def test_table_reports_header_without_statistic_when_not_flowjo():
    with pytest.raises(ImportFileError, match="names no statistic") as info:
        parse_flowjo_table(b"Animal,Weight\nM1,20\n")
    assert info.value.field == "Weight"


def test_table_reports_truncation_when_last_line_cut():
    data = b"Sample,A | Count,B | Count\nM1.fcs,1,2\nM2.fcs,3"
    with pytest.raises(ImportFileError, match=r"1 values for 2 columns.*truncated") as info:
        parse_flowjo_table(data)
    assert info.value.line == 3


def test_table_reports_duplicate_sample_when_sample_repeated():
    data = b"Sample,A | Count\nM1.fcs,1\nM1.fcs,2\n"
    with pytest.raises(ImportFileError, match=r"sample 'M1.fcs' appears twice \(also on line 2\)"):
        parse_flowjo_table(data)


def test_table_reports_duplicate_column_when_statistic_repeated():
    with pytest.raises(ImportFileError, match="column appears twice"):
        parse_flowjo_table(b"Sample,A | Count,A | Count\nM1.fcs,1,2\n")


def test_table_reports_bad_value_when_cell_not_numeric():
    with pytest.raises(ImportFileError, match="'lots' is not a number") as info:
        parse_flowjo_table(b"Sample,A | Count\nM1.fcs,lots\n")
    assert (info.value.line, info.value.field) == (2, "A | Count")


@pytest.mark.parametrize("data", [b"", b"\r\r\r", b"  \n"])
def test_table_reports_empty_file_when_no_content(data: bytes):
    with pytest.raises(ImportFileError, match="empty"):
        parse_flowjo_table(data)


def test_table_reports_wrong_format_when_given_workspace_xml():
    with pytest.raises(ImportFileError, match=r"XML .*not a table"):
        parse_flowjo_table(b'<?xml version="1.0"?><Workspace/>')


# --- workspaces -----------------------------------------------------------------------------------


def test_workspace_reads_population_counts_when_flowjo_10_10_splenocytes():
    workspace = parse_flowjo_workspace(real("flowjo_10.10_workspace_splenocytes.wsp"))
    assert (workspace.version, workspace.flowjo_version) == ("20.0", "10.10.0")
    (sample,) = workspace.samples
    assert sample.name == "Spleenocytes_Tcells_Vaccinated_Saline_004.fcs"
    assert sample.sample_id == "33"
    assert sample.uri.endswith("/Spleenocytes_Tcells_Vaccinated_Saline_004.fcs")
    assert sample.event_count == 65121
    assert len(sample.populations) == 19
    live_cd3 = "Lymphocytes/Single Cells/Single Cells/Live cells/CD3+"
    assert sample.population("Lymphocytes").count == 39426
    assert sample.population("Lymphocytes/Single Cells").count == 37464
    cd3 = sample.population(live_cd3)
    assert (cd3.count, cd3.parent_count) == (6891, 34753)
    assert cd3.percent_of_parent == pytest.approx(100 * 6891 / 34753)
    q4 = f"{live_cd3}/Q4: Comp-PE-A- , Comp-BV786-A- (ellipsoid, spider)"
    assert sample.population(q4).count == 259
    curly = sample.population(f"{q4}/CD8, CD4 subset (Curly Gate)/Q2: CD8+ , CD4+")
    assert (curly.count, curly.parent_count) == (2, 13)
    assert sample.population(f"{q4}/CD8, CD4 subset (Curly Gate)/Q4: CD8- , CD4-").count == 0


def test_workspace_keeps_uncomputed_counts_as_none_when_simple_flowkit_example():
    workspace = parse_flowjo_workspace(real("flowjo_workspace_simple_poly_and_rect.wsp"))
    assert workspace.flowjo_version == "10.6.1"
    (sample,) = workspace.samples
    assert (sample.name, sample.event_count) == ("data_set_simple_line_100.fcs", 100)
    assert [(p.path, p.count) for p in sample.populations] == [("poly1", None), ("rect1", None)]
    assert sample.populations[0].percent_of_parent is None


def workspace_xml(*, extra: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Workspace version="20.0" flowJoVersion="10.9.0">
  <Groups><GroupNode name="All Samples"><Subpopulations>
    <Population name="Template" count="-1"/></Subpopulations></GroupNode></Groups>
  <SampleList>
    <Sample>
      <DataSet uri="file:/data/M01_tumour.fcs" sampleID="1"/>
      <SampleNode name="M01_tumour.fcs" count="50000" sampleID="1">
        <Subpopulations>
          <Population name="CD45+" count="20000">
            <Subpopulations>
              <Population name="CD3+" count="8000">
                <Subpopulations>
                  <Population name="CD8+" count="3000"/>
                  <NotNode name="not CD8" count="5000"/>
                </Subpopulations>
              </Population>
            </Subpopulations>
          </Population>
        </Subpopulations>
      </SampleNode>
    </Sample>{extra}
  </SampleList>
</Workspace>""".encode()


def test_workspace_reads_gating_tree_and_ignores_group_templates_when_fixture():
    workspace = parse_flowjo_workspace(workspace_xml())
    (sample,) = workspace.samples
    assert [(p.path, p.count, p.parent_count) for p in sample.populations] == [
        ("CD45+", 20000, 50000),
        ("CD45+/CD3+", 8000, 20000),
        ("CD45+/CD3+/CD8+", 3000, 8000),
        ("CD45+/CD3+/not CD8", 5000, 8000),
    ]
    assert sample.population("CD45+/CD3+/CD8+").percent_of_parent == 37.5


def test_workspace_refuses_entity_declarations_when_xml_bomb():
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Workspace version="20.0"><SampleList/></Workspace>"""
    with pytest.raises(ImportFileError, match=r"DTD or entities.*refused as unsafe"):
        parse_flowjo_workspace(bomb)


def test_workspace_refuses_external_entity_when_xxe():
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]><Workspace>&x;</Workspace>"""
    with pytest.raises(ImportFileError, match="refused as unsafe"):
        parse_flowjo_workspace(xxe)


def test_workspace_reports_truncation_when_xml_cut():
    data = workspace_xml()
    with pytest.raises(ImportFileError, match=r"not well-formed XML.*truncated") as info:
        parse_flowjo_workspace(data[: len(data) - 40])
    assert info.value.line is not None


def test_workspace_reports_wrong_format_when_root_is_not_workspace():
    with pytest.raises(ImportFileError, match="root is <Gating-ML>"):
        parse_flowjo_workspace(b"<Gating-ML/>")


def test_workspace_reports_empty_file_when_no_bytes():
    with pytest.raises(ImportFileError, match="the file is empty"):
        parse_flowjo_workspace(b"")


def test_workspace_reports_bad_count_when_count_not_integer():
    data = workspace_xml().replace(b'count="3000"', b'count="many"')
    with pytest.raises(ImportFileError, match="count 'many' of 'CD8\\+'"):
        parse_flowjo_workspace(data)


def test_workspace_percent_of_parent_is_none_when_parent_count_zero():
    data = workspace_xml().replace(b'count="8000"', b'count="0"').replace(b'"3000"', b'"0"')
    sample = parse_flowjo_workspace(data).samples[0]
    assert sample.population("CD45+/CD3+/CD8+").percent_of_parent is None
    assert sample.population("CD45+/CD3+").percent_of_parent == 0.0
