"""Ruled tables whose body rows stack several logical rows with no ruling between them."""

import pymupdf

from agent.ingest.pdf_tables import page_tables

def _stacked_table_pdf() -> pymupdf.Page:
    """A 3-column table: a header row, then two ruled rows with no rulings inside. Each holds a
    group title in the first column above its levels (the second has outdented sub-groups),
    the levels' names and their values one above the other, and a note column with one line."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    xs, rules = [60, 260, 380, 540], [100, 124, 184, 268]
    for x in xs:
        page.draw_line((x, rules[0]), (x, rules[-1]))
    for y in rules:
        page.draw_line((xs[0], y), (xs[-1], y))
    lines = [  # (x, baseline, text)
        (64, 116, "Line class"), (264, 116, "Peak current (A)"), (384, 116, "Note"),
        (64, 136, "Power lines"),
        (72, 148, "Short pulse"), (264, 148, "5,000"),
        (72, 160, "Long pulse"), (264, 160, "1,000"), (384, 154, "none"),
        (64, 196, "Signal lines"),
        (68, 208, "Unrestricted"),
        (72, 220, "Short pulse"), (264, 220, "800"), (384, 226, "A"),
        (68, 232, "Restricted"),
        (72, 244, "Short pulse"), (264, 244, "500"),
    ]
    for x, y, text in lines:
        page.insert_text((x, y), text, fontsize=9)
    return page


def test_stacked_levels_become_rows_headed_by_their_group_titles():
    page = _stacked_table_pdf()
    [table] = page_tables(page, page.get_text("words"))
    assert table.rows[0] == ["Line class", "Peak current (A)", "Note"]
    assert table.body == [
        ["Power lines Short pulse", "5,000", "none"],
        ["Power lines Long pulse", "1,000", "none"],
        ["Signal lines Unrestricted Short pulse", "800", "A"],
        ["Signal lines Restricted Short pulse", "500", "A"],
    ]


def test_a_wrapped_cell_beside_single_values_stays_one_row():
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    xs, ys = [60, 260, 380], [100, 124, 170]
    for x in xs:
        page.draw_line((x, ys[0]), (x, ys[-1]))
    for y in ys:
        page.draw_line((xs[0], y), (xs[-1], y))
    page.insert_text((64, 116), "Band", fontsize=9)
    page.insert_text((264, 116), "Limit (dBµV)", fontsize=9)
    page.insert_text((64, 136), "Broadcast band, long wave and", fontsize=9)
    page.insert_text((64, 148), "medium wave receivers", fontsize=9)
    page.insert_text((264, 136), "66", fontsize=9)
    [table] = page_tables(page, page.get_text("words"))
    assert table.body == [["Broadcast band, long wave and medium wave receivers", "66"]]
