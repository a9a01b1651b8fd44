"""DOCX parsing: Word auto-numbered and typed headings, parents, positions, tables, captions."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml

from agent.config import Settings
from agent.ingest import parse_file
from agent.ingest.docx import Numbering, format_number, table_cells

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = f'xmlns:w="{W_NS}"'


def _lvl(ilvl: int, text: str, fmt: str = "decimal", style: str = "", start: int = 1) -> str:
    pstyle = f'<w:pStyle w:val="{style}"/>' if style else ""
    return (
        f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/>{pstyle}<w:numFmt w:val="{fmt}"/>'
        f'<w:lvlText w:val="{text}"/></w:lvl>'
    )


def _add_numbering(document) -> None:
    """Outline list 90 (%1 … %1.%2.%3.%4, first level starting at 8) and a letter list 91 (a))."""
    root = document.part.numbering_part.element
    outline = parse_xml(
        f'<w:abstractNum {NS} w:abstractNumId="90"><w:multiLevelType w:val="multilevel"/>'
        + _lvl(0, "%1", start=1)
        + _lvl(1, "%1.%2")
        + _lvl(2, "%1.%2.%3", style="Heading3")
        + _lvl(3, "%1.%2.%3.%4")
        + "</w:abstractNum>"
    )
    letters = parse_xml(
        f'<w:abstractNum {NS} w:abstractNumId="91">{_lvl(0, "%1)", "lowerLetter")}</w:abstractNum>'
    )
    first_num = root.find(f"{{{W_NS}}}num")
    first_num.addprevious(outline)
    first_num.addprevious(letters)
    root.append(
        parse_xml(
            f'<w:num {NS} w:numId="90"><w:abstractNumId w:val="90"/>'
            '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="8"/></w:lvlOverride></w:num>'
        )
    )
    root.append(parse_xml(f'<w:num {NS} w:numId="91"><w:abstractNumId w:val="91"/></w:num>'))


def _link_style(document, name: str, ilvl: int | None) -> None:
    """Word's way: the heading style carries numPr (ilvl omitted: the level names the style)."""
    ilvl_xml = f'<w:ilvl w:val="{ilvl}"/>' if ilvl is not None else ""
    ppr = document.styles[name].element.get_or_add_pPr()
    ppr.insert(0, parse_xml(f'<w:numPr {NS}>{ilvl_xml}<w:numId w:val="90"/></w:numPr>'))


def _num(paragraph, num_id: int, ilvl: int = 0) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(
        parse_xml(f'<w:numPr {NS}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>')
    )


def _header_row(row) -> None:
    row._tr.get_or_add_trPr().append(parse_xml(f"<w:tblHeader {NS}/>"))


def _limits_table(document):
    table = document.add_table(rows=5, cols=3)
    table.cell(0, 1).merge(table.cell(0, 2))  # "Limit (dBµV)" spans two columns
    table.cell(0, 0).merge(table.cell(1, 0))  # "Frequency" spans two header rows
    table.cell(0, 0).text = "Frequency"
    table.cell(0, 1).text = "Limit (dBµV)"
    for col, text in ((1, "Peak"), (2, "Average")):
        table.cell(1, col).text = text
    for r, values in enumerate(
        (("0.15–0.5 MHz", "66", "56"), ("0.5–5 MHz", "56", ""), ("5–30 MHz", "60", "50"))
    ):
        for c, text in enumerate(values):
            table.cell(r + 2, c).text = text
    _header_row(table.rows[0])
    _header_row(table.rows[1])


def _plain_table(document, *rows: tuple[str, ...]) -> None:
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, values in enumerate(rows):
        for c, text in enumerate(values):
            table.cell(r, c).text = text


def build_spec(path: Path) -> Path:
    document = docx.Document()
    document.core_properties.title = ""
    _add_numbering(document)
    _link_style(document, "Heading 1", 0)
    _link_style(document, "Heading 2", 1)
    _link_style(document, "Heading 3", None)
    document.add_paragraph("Component EMC specification", style="Title")  # 0
    document.add_paragraph("Issued by the EMC department.")  # 1
    document.add_heading("Electromagnetic compatibility", level=1)  # 2 → 8
    document.add_paragraph("Requirements for all components.")  # 3
    document.add_heading("General", level=2)  # 4 → 8.1
    document.add_heading("Emissions", level=2)  # 5 → 8.2
    document.add_heading("Scope of emissions", level=3)  # 6 → 8.2.1
    document.add_heading("Conducted", level=3)  # 7 → 8.2.2
    _num(document.add_heading("Conducted emissions, voltage method", level=4), 90, 3)  # 8 → 8.2.2.1
    _num(document.add_paragraph("Use a LISN."), 91)  # 9 → a)
    _num(document.add_paragraph("Ground the DUT."), 91)  # 10 → b)
    document.add_paragraph("Table 3 – Limits for conducted emissions", style="Caption")  # 11
    _limits_table(document)  # 12
    document.add_paragraph("8.2.2.2 Conducted emissions, current method")  # 13 typed, Normal style
    document.add_paragraph("Measure with a current probe.")  # 14
    document.add_paragraph("Figure 5 – Current probe set-up", style="Caption")  # 15
    document.add_heading("Immunity", level=1)  # 16 → 9
    document.add_heading("General", level=2)  # 17 → 9.1
    _num(document.add_heading("9.2 Bulk current injection", level=2), 0)  # 18 typed, numbering off
    _plain_table(document, ("Level", "Current"), ("I", "60 mA"))  # 19: first row is the header
    document.add_paragraph("TABLE VIII. BCI test levels")  # 20: caption after the table
    document.add_paragraph("Figure 5 shows the probe position.")  # 21: a sentence, not a caption
    document.add_paragraph("")  # 22
    document.add_paragraph("TABLE VIII (continued)")  # 23
    _plain_table(document, ("Level", "Current"), ("II", "100 mA"))  # 24: rows join TABLE VIII
    _plain_table(document, ("Pin", "Signal"), ("1", "CAN-H"), ("2", "CAN-L"))  # 25: no caption
    document.save(path)
    return path


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    path = build_spec(tmp_path_factory.mktemp("docx") / "OEM-EMC-2024.docx")
    return parse_file(path, Settings())


def test_document_record(spec):
    assert (spec.name, spec.kind, spec.pages, spec.title) == (
        "OEM-EMC-2024",
        "docx",
        0,
        "Component EMC specification",
    )
    assert len(spec.sha256) == 64


def test_auto_numbered_and_typed_headings(spec):
    got = [(c.number, c.title, c.parents, c.position, c.page) for c in spec.clauses]
    assert got == [
        ("8", "Electromagnetic compatibility", (), 2, None),
        ("8.1", "General", ("8",), 4, None),
        ("8.2", "Emissions", ("8",), 5, None),
        ("8.2.1", "Scope of emissions", ("8", "8.2"), 6, None),
        ("8.2.2", "Conducted", ("8", "8.2"), 7, None),
        ("8.2.2.1", "Conducted emissions, voltage method", ("8", "8.2", "8.2.2"), 8, None),
        ("8.2.2.2", "Conducted emissions, current method", ("8", "8.2", "8.2.2"), 13, None),
        ("9", "Immunity", (), 16, None),
        ("9.1", "General", ("9",), 17, None),
        ("9.2", "Bulk current injection", ("9",), 18, None),
    ]


def test_clause_text_lists_figures_and_tables(spec):
    by_number = {c.number: c for c in spec.clauses}
    assert by_number["8"].text == "Requirements for all components."
    assert by_number["8.2.2.1"].text == "a) Use a LISN.\nb) Ground the DUT."
    assert by_number["8.2.2.1"].tables == ("Table 3",)
    assert (
        by_number["8.2.2.2"].text
        == "Measure with a current probe.\nFigure 5 – Current probe set-up"
    )
    assert by_number["8.2.2.2"].figures == ("Figure 5 – Current probe set-up",)
    assert by_number["9.2"].tables == ("TABLE VIII", "Table in 9.2")
    assert by_number["9.2"].figures == ()
    assert by_number["9.2"].text == "Figure 5 shows the probe position."
    assert {c.doc for c in spec.clauses} == {"OEM-EMC-2024"}


def test_tables_with_merged_and_empty_cells(spec):
    limits, bci, pins = spec.tables
    assert (limits.id, limits.caption, limits.clause, limits.page, limits.doc) == (
        "Table 3",
        "Limits for conducted emissions",
        "8.2.2.1",
        None,
        "OEM-EMC-2024",
    )
    assert limits.header == (("Frequency", "Limit (dBµV)", ""), ("", "Peak", "Average"))
    assert limits.rows == (
        ("0.15–0.5 MHz", "66", "56"),
        ("0.5–5 MHz", "56", ""),
        ("5–30 MHz", "60", "50"),
    )
    assert (bci.id, bci.caption, bci.clause) == ("TABLE VIII", "BCI test levels", "9.2")
    assert (bci.header, bci.rows) == ((("Level", "Current"),), (("I", "60 mA"), ("II", "100 mA")))
    assert (pins.id, pins.caption, pins.clause) == ("Table in 9.2", "", "9.2")
    assert (pins.header, pins.rows) == ((("Pin", "Signal"),), (("1", "CAN-H"), ("2", "CAN-L")))


def test_numbering_restart_override_and_formats():
    root = parse_xml(
        f'<w:numbering {NS}><w:abstractNum w:abstractNumId="1">'
        + _lvl(0, "Annex %1", "upperLetter")
        + _lvl(1, "%1.%2", "decimal")
        + '</w:abstractNum><w:num w:numId="5"><w:abstractNumId w:val="1"/></w:num>'
        '<w:num w:numId="6"><w:abstractNumId w:val="1"/>'
        '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="3"/></w:lvlOverride></w:num></w:numbering>'
    )
    numbering = Numbering(root)
    labels = [
        numbering.next_label(n, lvl)
        for n, lvl in (
            ("5", 0),
            ("5", 1),
            ("5", 1),
            ("5", 0),
            ("5", 1),
            ("6", 0),
            ("6", 1),
            ("7", 0),
        )
    ]
    assert labels == ["Annex A", "A.1", "A.2", "Annex B", "B.1", "Annex C", "C.1", None]


@pytest.mark.parametrize(
    ("value", "fmt", "shown"),
    [
        (4, "upperRoman", "IV"),
        (9, "lowerRoman", "ix"),
        (27, "upperLetter", "AA"),
        (3, "decimalZero", "03"),
    ],
)
def test_format_number(value, fmt, shown):
    assert format_number(value, fmt) == shown


def test_grid_before_pads_the_row():
    tbl = parse_xml(
        f"<w:tbl {NS}><w:tr><w:tc><w:p><w:r><w:t>A</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>B</w:t></w:r></w:p></w:tc></w:tr>"
        '<w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr><w:tc><w:p><w:r><w:t>c</w:t></w:r></w:p></w:tc></w:tr>'
        "</w:tbl>"
    )
    assert table_cells(tbl) == ((("A", "B"),), (("", "c"),))


def _body_xml(document, xml: str) -> None:
    body = document.element.body
    for el in parse_xml(f"<w:body {NS}>{xml}</w:body>"):
        body.insert(len(body) - 1, el)  # before the final w:sectPr


def test_localized_styles_toc_and_tracked_changes(tmp_path):
    document = docx.Document()
    styles = parse_xml(
        f'<w:style {NS} w:type="paragraph" w:styleId="berschrift1"><w:name w:val="Überschrift 1"/>'
        '<w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>'
    )
    document.styles.element.append(styles)
    _body_xml(
        document,
        '<w:sdt><w:sdtContent><w:p><w:pPr><w:pStyle w:val="TOC1"/></w:pPr>'
        "<w:r><w:t>4 Anforderungen</w:t></w:r><w:r><w:tab/></w:r><w:r><w:t>3</w:t></w:r></w:p>"
        "</w:sdtContent></w:sdt>"
        '<w:p><w:pPr><w:pStyle w:val="berschrift1"/></w:pPr><w:r><w:t>4 Anforderungen</w:t></w:r></w:p>'
        "<w:p><w:r><w:t>Der Prüfling </w:t></w:r><w:ins><w:r><w:t>muss</w:t></w:r></w:ins>"
        '<w:del><w:r><w:delText>soll</w:delText></w:r></w:del><w:r><w:t xml:space="preserve"> '
        "bestehen.</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>4.1 Leitungsgebundene Störaussendung</w:t></w:r></w:p>",
    )
    path = tmp_path / "LH-EMV.docx"
    document.save(path)
    got = parse_file(path, Settings())
    assert [(c.number, c.title, c.parents, c.position, c.text) for c in got.clauses] == [
        ("4", "Anforderungen", (), 1, "Der Prüfling muss bestehen."),
        ("4.1", "Leitungsgebundene Störaussendung", ("4",), 3, ""),
    ]
