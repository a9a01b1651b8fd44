"""parse_pdf on the real MIL-STD-461G and MIL-STD-461F (../shared/corpus)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from agent.config import Settings
from agent.ingest.clauses import is_toc_line
from agent.ingest.pdf import parse_pdf
from agent.schema import Document

pytestmark = pytest.mark.slow


@lru_cache(maxsize=2)
def _parse(path: Path) -> Document:
    return parse_pdf(path, Settings())


@pytest.fixture
def g(mil461g) -> Document:
    return _parse(mil461g)


@pytest.fixture
def f(mil461f) -> Document:
    return _parse(mil461f)


def _clause(doc: Document, number: str):
    (found,) = [c for c in doc.clauses if c.number == number]
    return found


def _table(doc: Document, table_id: str):
    (found,) = [t for t in doc.tables if t.id == table_id]
    return found


def test_g_document(g):
    assert (g.name, g.kind, g.pages) == ("MIL-STD-461G", "pdf", 280)
    assert [c.number for c in g.clauses[:4]] == ["1", "1.1", "1.2", "1.2.1"]
    assert len({c.number for c in g.clauses}) == len(g.clauses)


def test_g_cs114_clause(g):
    cs114 = _clause(g, "5.12")
    assert (cs114.title, cs114.page, cs114.page_label, cs114.parents) == (
        "CS114, conducted susceptibility, bulk cable injection", 77, "63", ("5",))
    child = _clause(g, "5.12.1")
    assert (child.title, child.parents, child.page) == ("CS114 applicability", ("5", "5.12"), 77)
    assert child.text.startswith("This requirement is applicable from 10 kHz to 200 MHz for all interconnecting")
    assert "FIGURE CS114-1. CS114 calibration limits." in _clause(g, "5.12.3.5").figures


def test_g_parents_deep_and_appendix(g):
    assert _clause(g, "5.16.3.1").parents == ("5", "5.16", "5.16.3")
    assert _clause(g, "5.16").title == "CS118, personnel borne electrostatic discharge"
    appendix = _clause(g, "Appendix A")
    assert (appendix.title, appendix.page, appendix.page_label) == ("APPLICATION GUIDE", 174, "160")
    assert _clause(g, "A.2.1").parents == ("Appendix A", "A.2")
    assert _clause(g, "A.4.1").title == "(4.1) General"
    assert _clause(g, "5.21").title == "RS103, radiated susceptibility, electric field"


def test_g_table_viii_esd_levels(g):
    table = _table(g, "TABLE VIII")
    assert (table.caption, table.clause, table.page, table.page_label) == ("ESD test levels", "5.16.3.5", 113, "99")
    assert table.header == (("Level", "Test Voltage (kV)", "Method"),)
    assert table.rows == (("1", "±2", "Air"), ("2", "±4", "Air"), ("3", "±8", "Contact/Air"), ("4", "±15", "Air"))
    assert "TABLE VIII" in _clause(g, "5.16.3.5").tables


def test_g_table_v_keeps_blank_cells(g):
    table = _table(g, "TABLE V")
    assert (table.caption, table.clause, table.page) == ("Requirement matrix", "5.3", 40)
    assert table.header[1][:4] == ("", "CE101", "CE102", "CE106")
    assert table.header[1][-1] == "RS105"
    ground_army = next(r for r in table.rows if r[0] == "Ground, Army")
    assert ground_army == ("Ground, Army", "", "A", "L", "A", "S", "S", "S", "", "A", "A", "A", "S", "A", "",
                           "A", "L", "L", "A", "")


def test_g_no_toc_and_no_watermark_in_clauses(g):
    for clause in g.clauses:
        assert "Downloaded from" not in clause.text, clause.number
        assert "everyspec" not in clause.text, clause.number
        assert not any(is_toc_line(line) for line in clause.text.splitlines()), clause.number
        assert "MIL-STD-461G" != clause.text.splitlines()[0] if clause.text else True


def test_g_cross_references_are_not_headings(g):
    # "in accordance with 4.3" style references in 4.1 stay body text of 4.1
    general = _clause(g, "4.1")
    assert "applicable general interface requirements in 4.2." in general.text
    numbers = [c.number for c in g.clauses]
    assert numbers.index("4.3") < numbers.index("5") < numbers.index("5.12") < numbers.index("6")


def test_f_rs103_is_5_20(f, g):
    assert f.name == "MIL-STD-461F"
    assert _clause(f, "5.20").title == "RS103, radiated susceptibility, electric field, 2 MHz to 40 GHz"
    assert _clause(g, "5.21").title.startswith("RS103")
    assert (_clause(f, "5.20").page, _clause(f, "5.20").page_label) == (141, "127")  # footer "127   10 December 2007"
    assert _clause(f, "5.20.1").parents == ("5", "5.20")
    assert (_clause(f, "A.4.1").title, _clause(f, "A.4.1").parents) == ("(4.1) General", ("A.4",))
    assert _table(f, "TABLE V").caption == "Requirement matrix"
