"""parse_pdf on real layouts it was not first written for (../shared/corpus): MIL-STD-188-125-1
(change bars beside headings, run-in titles, spaces set by position, a table printed in parts
under one caption, TABLE A-I style ids) and UNECE R171 (Table A4/1 with its title on the next line)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from agent.config import Settings
from agent.evaluate.baseline import document_pages
from agent.evaluate.table_recall import table_recall
from agent.ingest.pdf import parse_pdf
from agent.schema import Document
from conftest import shared_path

pytestmark = pytest.mark.slow


@lru_cache(maxsize=2)
def _parse(path: Path) -> Document:
    return parse_pdf(path, Settings())


@pytest.fixture
def hemp() -> Document:
    return _parse(shared_path("corpus", "MIL-STD-188-125-1.pdf"))


def _clause(doc: Document, number: str):
    (found,) = [c for c in doc.clauses if c.number == number]
    return found


def test_headings_beside_change_bars_and_run_in_titles(hemp):
    c = _clause(hemp, "5.3.2")  # a revision bar "|" stands in the margin beside this heading
    assert (c.title, c.page) == ("Shield configuration", 28)
    assert c.text.startswith("The facility HEMP shield, exclusive of its POEs, shall be a")
    assert _clause(hemp, "5.4.1").title == "HEMP protection for architectural POEs"


def test_heading_whose_space_is_only_a_gap(hemp):
    assert (_clause(hemp, "A.4").title, _clause(hemp, "A.4").page) == ("GENERAL REQUIREMENTS", 58)
    assert _clause(hemp, "A.4.1").parents == ("Appendix A", "A.4")


def test_a_table_printed_in_parts_under_one_caption_is_one_table(hemp):
    ids = [t.id for t in hemp.tables]
    assert ids == ["TABLE I", "TABLE II", "TABLE A-I", "TABLE B-I", "TABLE B-II", "TABLE B-III",
                   "TABLE B-IV", "TABLE C-I"]
    table_i = hemp.tables[0]
    assert (table_i.page, table_i.clause) == (37, "5.7.2.1")
    assert sum(row[0].startswith("Class of Electrical POE") for row in table_i.rows) >= 2  # later parts' headers


def test_table_recall_on_real_documents(hemp):
    pdf = shared_path("corpus", "MIL-STD-188-125-1.pdf")
    recall = table_recall(hemp.name, document_pages(pdf), [t.id for t in hemp.tables])
    assert (len(recall.printed), recall.missing) == (8, ())


def test_un_table_with_its_title_on_the_next_line():
    r171 = _parse(shared_path("corpus", "UNECE-R171.pdf"))
    table = next(t for t in r171.tables if t.id == "Table A4/1")
    assert (table.caption, table.page) == ("Requirements and system aspects to be tested", 55)
    assert table.header[0][:2] == ("Requirements or system aspect to be assessed", "Physical test scenario or audit")
    assert _clause(r171, "5.3.6").title == "Controllability"
