"""EN-style layouts (tests/fixtures/layouts, drawn by make_layouts.py): every table under its
caption id with its cells, spanned cells given to every row they span, headings split over
lines, annex clauses, and no page furniture in clause text; then lookups by conditions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agent.config import Settings
from agent.ingest.pdf import parse_pdf
from agent.match.tables import describe_cell, lookup_table

LAYOUTS = Path(__file__).resolve().parents[1] / "fixtures" / "layouts"
GOLDEN = json.loads((LAYOUTS / "EN-layout-sample.golden.json").read_text(encoding="utf-8"))


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2009", " ")).strip()


@pytest.fixture(scope="module")
def doc():
    return parse_pdf(LAYOUTS / "EN-layout-sample.pdf", Settings())


def test_every_heading_with_its_title_and_page(doc):
    got = [(c.number, flat(c.title), c.page) for c in doc.clauses]
    assert got == [(c["number"], flat(c["title"]), c["page"]) for c in GOLDEN["clauses"]]


def test_every_table_under_its_caption_id_and_nothing_else(doc):
    assert [(t.id, flat(t.caption), t.page) for t in doc.tables] == [
        (t["id"], flat(t["caption"]), t["page"]) for t in GOLDEN["tables"]]


@pytest.mark.parametrize("golden", GOLDEN["tables"], ids=[t["id"] for t in GOLDEN["tables"]])
def test_table_cells_as_drawn_spans_repeated(doc, golden):
    table = next(t for t in doc.tables if t.id == golden["id"])
    assert [flat(c) for c in table.header[-1]] == [flat(c) for c in golden["header"]]
    body = [[flat(c) for c in row] for row in table.rows]
    assert [r for r in body if r != [flat(c) for c in golden["header"]]] == [
        [flat(c) for c in row] for row in golden["rows"]]


def test_continued_table_is_one_table_over_two_pages(doc):
    table = next(t for t in doc.tables if t.id == "Table 7")
    assert [row[0] for row in table.rows if row[0].startswith("7.")] == ["7.1", "7.2", "7.3", "7.4", "7.5", "7.6"]


def test_no_page_furniture_in_clause_text(doc):
    for furniture in GOLDEN["furniture"]:
        assert not [c.number for c in doc.clauses if flat(furniture) in flat(c.text)], furniture


def test_conditions_pick_the_one_row(doc):
    table = next(t for t in doc.tables if t.id == "Table B.1")
    found = lookup_table(table, at="500 MHz", terms=["3 m", "quasi-peak"])
    assert [r.cells["Table clause"].raw for r in found.rows] == ["B1.4"]
    assert found.rows[0].cells["Class A limits dB(µV/m)"].raw == "57"


def test_a_row_named_by_its_id(doc):
    table = next(t for t in doc.tables if t.id == "Table B.2")
    found = lookup_table(table, terms=["B2.3"])
    assert [(r.cells["Table clause"].raw, r.cells["Detector type/ bandwidth"].raw) for r in found.rows] == [
        ("B2.3", "Average / 9 kHz")]


def test_a_log_linear_limit_is_evaluated_and_shows_how(doc):
    table = next(t for t in doc.tables if t.id == "Table B.3")
    found = lookup_table(table, at="0,25 MHz", terms=["quasi-peak"])
    cell = found.rows[0].cells["Class B limits dB(µV)"]
    assert [r.cells["Table clause"].raw for r in found.rows] == ["B3.1"]
    assert describe_cell(cell) == ("61.8 dBµV (66 to 56 linear in lg f across 0.15–0.5 MHz: "
                                   "66 + (56 − 66)·lg(0.25/0.15)/lg(0.5/0.15))")


def test_a_detector_word_selects_its_row(doc):
    table = next(t for t in doc.tables if t.id == "Table B.2")
    rows = lookup_table(table, at="1 MHz", terms=["average"]).rows
    assert [r.cells["Table clause"].raw for r in rows] == ["B2.4"]
