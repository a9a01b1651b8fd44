"""Layouts met on unseen specs: prose set in two columns (read column by column, never joined
across the gutter), a "Unit: mA" line beside a table, a caption between two tables (it heads
the one below), a requirements export (Req-ID | text | verification rows read as text), and
sloped limits written with an arrow ("54 → 44")."""

from __future__ import annotations

from pathlib import Path

import pymupdf

from pdf_draw import ruled_table

from agent.config import Settings
from agent.ingest.clauses import prose_rows
from agent.ingest.columns import find_gutter
from agent.ingest.pdf import parse_pdf
from agent.match.units import parse_range

LEFT = ("The DUT and its harness shall be placed on a ground plane of copper with a thickness of at least "
        "0.5 mm, bonded to the enclosure at intervals of no more than 300 mm. The harness shall be 1 500 mm "
        "long and run 100 mm from the edge of the ground plane over its whole length.")
RIGHT = ("The DUT shall be placed 50 mm above the ground plane on a support of low permittivity, unless it "
         "is grounded to the vehicle body, in which case it is bonded directly to the ground plane with a "
         "strap of less than 150 mm length and 20 mm width or more.")


def _two_columns(path: Path) -> None:
    """Two columns of wrapped prose, as a layout engine sets them, under a full-width heading."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((57, 60), "5. Emission requirements", fontsize=12, fontname="hebo")
    page.insert_text((57, 90), "5.1 Test setup", fontsize=10, fontname="hebo")
    page.insert_textbox(pymupdf.Rect(57, 100, 287, 300), LEFT, fontsize=8.6)
    page.insert_text((310, 90), "5.2 Position of the DUT", fontsize=10, fontname="hebo")
    page.insert_textbox(pymupdf.Rect(310, 100, 540, 300), RIGHT, fontsize=8.6)
    doc.save(path)


def test_two_columns_are_read_one_after_the_other(tmp_path: Path):
    path = tmp_path / "two.pdf"
    _two_columns(path)
    parsed = parse_pdf(path, Settings())
    assert [(c.number, c.title) for c in parsed.clauses] == [
        ("5", "Emission requirements"), ("5.1", "Test setup"), ("5.2", "Position of the DUT")]
    assert " ".join(parsed.clauses[1].text.split()) == LEFT
    assert " ".join(parsed.clauses[2].text.split()) == RIGHT


def test_a_table_with_a_value_column_at_mid_page_is_no_second_column():
    cells = [(57, y, 120, y + 10, 12) for y in range(100, 300, 20)]  # short names on the left
    values = [(300, y, 330, y + 10, 8) for y in range(100, 300, 20)]  # values at mid-page
    assert find_gutter(cells + values, 595) is None
    prose_left = [(57, y, 290, y + 10, 60) for y in range(100, 300, 12)]
    prose_right = [(310, y, 540, y + 10, 60) for y in range(100, 300, 12)]
    assert find_gutter(prose_left + prose_right, 595) == 308


def _ruled(page: pymupdf.Page, top: float, rows: list[list[str]], xs: list[float]) -> float:
    return ruled_table(page, top, rows, xs)


def test_requirement_rows_read_as_text_a_caption_between_tables_heads_the_lower_one_and_units_join(tmp_path: Path):
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((57, 40), "5 Immunity", fontsize=12, fontname="hebo")
    page.insert_text((57, 60), "5.1 Bulk current injection", fontsize=11, fontname="hebo")
    wide = [57, 150, 460, 540]
    bottom = _ruled(page, 80, [
        ["Req-ID", "Requirement text", "Verification"],
        ["EMC-REQ-0181", "The DUT shall withstand a BCI current of 100 mA from 1 MHz to 400 MHz.", "Test"],
        ["EMC-REQ-0182", "The DUT shall be monitored during the test with the load simulator on.", "Test"],
    ], wide)
    page.insert_text((57, bottom + 14), "Table 6: BCI test levels", fontsize=9)
    page.insert_text((57, bottom + 28), "Unit: mA", fontsize=8)
    end = _ruled(page, bottom + 34, [["Frequency range", "Level 1", "Level 2"], ["1 - 400 MHz", "60", "100"]],
                 [57, 200, 300, 400])
    page.insert_text((57, end + 30), "5.2 Magnetic field immunity", fontsize=11, fontname="hebo")
    page.insert_text((57, end + 46), "Magnetic field immunity is tested with a radiating loop.", fontsize=9)
    path = tmp_path / "req.pdf"
    doc.save(path)

    parsed = parse_pdf(path, Settings())
    assert [(t.id, t.caption, len(t.rows)) for t in parsed.tables] == [
        ("Table on page 1", "", 2), ("Table 6", "BCI test levels Unit: mA", 1)]
    assert [c.number for c in parsed.clauses] == ["5", "5.1", "5.2"]
    assert parsed.clauses[1].text.splitlines()[:2] == [
        "EMC-REQ-0181 — The DUT shall withstand a BCI current of 100 mA from 1 MHz to 400 MHz. — Verification: Test",
        "EMC-REQ-0182 — The DUT shall be monitored during the test with the load simulator on. — Verification: Test"]


def test_a_table_of_values_is_not_read_as_text():
    assert prose_rows([["Band", "Peak", "Average"]], [["LW", "86", "66"], ["FM", "62", "42"]]) == []


def test_a_limit_running_from_one_value_to_another_written_with_an_arrow():
    r = parse_range("54 → 44")
    assert (r.low.value, r.high.value) == (54.0, 44.0)


def test_a_table_under_the_next_heading_is_not_the_last_pages_table_continued(tmp_path: Path):
    doc = pymupdf.open()
    wide = [57, 150, 460, 540]
    first = doc.new_page(width=595, height=842)
    first.insert_text((57, 40), "5 Immunity", fontsize=12, fontname="hebo")
    first.insert_text((57, 700), "5.1 Bulk current injection", fontsize=11, fontname="hebo")
    _ruled(first, 720, [["Req-ID", "Requirement text", "Verification"],
                        ["EMC-REQ-0181", "The DUT shall withstand a BCI current of 100 mA from 1 MHz to 400 MHz.", "Test"],
                        ["EMC-REQ-0182", "The DUT shall be monitored during the test with the load simulator on.", "Test"]],
           wide)
    second = doc.new_page(width=595, height=842)
    second.insert_text((57, 60), "5.2 Magnetic field immunity", fontsize=11, fontname="hebo")
    _ruled(second, 80, [["Req-ID", "Requirement text", "Verification"],
                        ["EMC-REQ-0190", "Magnetically sensitive components shall be tested according to ISO 11452-8.",
                         "Test"],
                        ["EMC-REQ-0191", "The field shall be applied with the radiating loop at every face of the DUT.",
                         "Test"]], wide)
    path = tmp_path / "parts.pdf"
    doc.save(path)
    parsed = parse_pdf(path, Settings())
    assert [(t.clause, t.page, len(t.rows)) for t in parsed.tables] == [("5.1", 1, 2), ("5.2", 2, 2)]
    assert parsed.clauses[2].text.startswith("EMC-REQ-0190 — Magnetically sensitive components")


def test_a_test_sheet_header_opens_a_section_numbered_by_its_id():
    from agent.ingest.clauses import sheet_heading
    header = [["Test sheet EMC-P04", "Test: Conducted immunity, BCI", "Standard: ISO 11452-4:2020"],
              ["", "Applies to: component classes E2, E3", "Required function status: A"]]
    assert sheet_heading(header) == ("EMC-P04", "Conducted immunity, BCI", [
        "Test: Conducted immunity, BCI", "Standard: ISO 11452-4:2020", "Applies to: component classes E2, E3",
        "Required function status: A"])
    assert sheet_heading([["Prüfblatt P-12: Störfestigkeit BCI"]]) == ("P-12", "Störfestigkeit BCI", [])
    assert sheet_heading([["Test", "Standard"], ["BCI", "ISO 11452-4"]]) is None


def test_struck_through_text_is_not_read_and_underlined_text_is(tmp_path: Path):
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((57, 40), "7 Immunity", fontsize=12, fontname="hebo")
    page.insert_text((57, 70), "7.1 Transients on signal lines", fontsize=11, fontname="hebo")
    deleted = "The test shall be performed according to ISO 7637-3:2016."
    kept = "Signal lines longer than 3 m shall be tested with DBCI instead."
    page.insert_text((57, 100), deleted, fontsize=9)
    width = pymupdf.get_text_length(deleted, fontsize=9)
    page.draw_line((57, 100 - 3), (57 + width, 100 - 3))  # through the middle of the glyphs
    page.insert_text((57, 120), kept, fontsize=9)
    page.draw_line((57, 120 + 1.5), (57 + pymupdf.get_text_length(kept, fontsize=9), 120 + 1.5))  # underline
    page.insert_text((57, 150), "7.2 Electrostatic discharge", fontsize=11, fontname="hebo")
    page.insert_text((57, 170), "ESD is tested according to ISO 10605.", fontsize=9)
    path = tmp_path / "struck.pdf"
    doc.save(path)
    parsed = parse_pdf(path, Settings())
    assert [(c.number, c.text) for c in parsed.clauses] == [
        ("7", ""), ("7.1", kept), ("7.2", "ESD is tested according to ISO 10605.")]
