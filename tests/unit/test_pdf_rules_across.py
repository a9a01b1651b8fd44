"""Tables ruled only across: a rule under each row and none down, columns read from the text."""

import pymupdf

from agent.ingest.pdf_tables import page_tables

COLUMNS = [60, 200, 290, 380]  # left edges of the cells' text


def _page(rows: list[list[str]], *, footer_rule: bool = False, span_row: int | None = None) -> pymupdf.Page:
    """One table of `rows` (the first a header) with a full-width rule above, between and below
    the rows; `span_row`'s second cell runs over the third column (a cell spanning both)."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    y = 100.0
    page.draw_line((54, y), (540, y))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            if text:
                page.insert_text((COLUMNS[c], y + 13), text, fontsize=9)
        y += 20
        page.draw_line((54, y), (540, y))
    if footer_rule:  # a page footer's rule a little below the table, its text below the rule
        page.draw_line((54, y + 30), (540, y + 30))
        page.insert_text((60, y + 42), "Printed copies are uncontrolled", fontsize=8)
    page.insert_text((60, 60), "Table 3-3: Receiver settings", fontsize=10)
    return page


def test_columns_come_from_the_blanks_every_row_leaves():
    rows = [["Frequency range", "RBW", "Step size", "Dwell"],
            ["150 kHz - 30 MHz", "9 kHz", "5 kHz", "50 ms"],
            ["30 MHz - 1 GHz", "120 kHz", "50 kHz", "5 ms"],
            ["1 GHz - 6 GHz", "1 MHz", "500 kHz", "5 ms"]]
    page = _page(rows, footer_rule=True)
    [table] = page_tables(page, page.get_text("words"))
    assert table.rows == rows
    assert table.header_rows == 1


def test_a_cell_spanning_two_columns_fills_both():
    rows = [["Event", "Positive limit", "Negative limit", "Applies to"],
            ["Fast", "+75 V", "-100 V", "Types L, EM"],
            ["Slow", "+37 V", "-75 V", "Types L, EM"],
            ["Ringing", "decay to within 2 V of supply", "", "Type EM"]]
    page = _page(rows)
    [table] = page_tables(page, page.get_text("words"))
    assert table.rows[:3] == rows[:3]
    assert table.rows[3] == ["Ringing", "decay to within 2 V of supply", "decay to within 2 V of supply", "Type EM"]


def test_prose_between_rules_is_no_table():
    rows = [["This clause gives the general requirements for all tests of this specification."],
            ["The test plan shall name the operating modes and the monitoring of each output."],
            ["Deviations from this specification need the written agreement of the purchaser."]]
    page = _page(rows)
    assert page_tables(page, page.get_text("words")) == []
