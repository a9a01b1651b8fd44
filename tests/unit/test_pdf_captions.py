"""Table captions as translated specifications print them: "Tabelle 7:", "Tableau 2 -"; a reference
in running text is no caption; a caption set below a table that fills its page opens the next page."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from pdf_draw import ruled_table

from agent.config import Settings
from agent.evaluate.table_recall import key
from agent.index.refs import table_key
from agent.ingest.pdf import parse_pdf
from agent.ingest.pdf_tables import split_caption


@pytest.mark.parametrize("text, expected", [
    ("Tabelle 7: Grenzwerte für Klasse 5", ("Tabelle 7", "Grenzwerte für Klasse 5", False)),
    ("TABELLE 3", ("TABELLE 3", "", False)),
    ("Tableau 2 - Limites", ("Tableau 2", "Limites", False)),
    ("Tabla 4 – Límites (continued)", ("Tabla 4", "Límites", True)),
    ("Tabelle 3, the operating modes and the monitoring", None),  # running text
    ("Table 5 gives the limits", None),
    ("tabelle 5 zeigt die Grenzwerte", None),
])
def test_caption_words_of_other_languages(text, expected):
    assert split_caption(text) == expected


def test_a_table_is_the_same_table_whatever_its_caption_word():
    assert table_key("Tabelle 7") == table_key("Table 7") == "7"
    assert key("Tabelle 12") == key("TABLE 12") == "TABLE 12"


def _ruled(page: pymupdf.Page, top: float, rows: list[list[str]]) -> float:
    return ruled_table(page, top, rows, [60, 220, 380, 540], row_height=20, fontsize=9)


def test_a_caption_pushed_to_the_next_page_names_the_table_that_ends_the_page(tmp_path: Path):
    doc = pymupdf.open()
    first = doc.new_page(width=595, height=842)
    first.insert_text((60, 80), "4.5 Test plan", fontsize=11)
    first.insert_text((60, 100), "The applicability of each test is given in the test matrix below.", fontsize=9)
    matrix = [["Test case", "K1", "K2"]] + [[f"EMV-{n:02d}", "-", "X"] for n in range(1, 33)]
    _ruled(first, 130, matrix)  # fills the page to its foot
    second = doc.new_page(width=595, height=842)
    second.insert_text((60, 70), "Tabelle 3: Test matrix - applicability of test cases", fontsize=9)
    second.insert_text((60, 100), "5 Emissions", fontsize=11)
    bottom = _ruled(second, 130, [["Band", "Peak", "Average"], ["LW", "86", "66"], ["FM", "62", "42"]])
    second.insert_text((60, bottom + 16), "Tabelle 4: Limits for conducted emissions", fontsize=9)
    path = tmp_path / "pushed.pdf"
    doc.save(path)

    parsed = parse_pdf(path, Settings())
    assert [(t.id, t.caption, t.page, len(t.rows)) for t in parsed.tables] == [
        ("Tabelle 3", "Test matrix - applicability of test cases", 1, 32),
        ("Tabelle 4", "Limits for conducted emissions", 2, 2),
    ]
