"""Table lookups on MIL-STD-461G as the PDF parser extracts it (Tables II, VIII, XII)."""

from __future__ import annotations

import pytest
from conftest import shared_path

from agent.config import Settings
from agent.match.tables import find_tables, lookup_table
from agent.match.units import Quantity
from agent.schema import Document, Table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mil461g_doc() -> Document:
    try:
        from agent.ingest.pdf import parse_pdf
    except ImportError as err:  # the PDF parser is another module's work
        pytest.skip(f"agent.ingest.pdf is not available: {err}")
    return parse_pdf(shared_path("corpus", "MIL-STD-461G.pdf"), Settings())


def _table(doc: Document, table_id: str) -> Table:
    found = [t for t in doc.tables if t.id.upper() == table_id]
    assert found, f"{table_id} not extracted; tables: {[t.id for t in doc.tables]}"
    return found[0]


def test_table_ii_bandwidths(mil461g_doc: Document) -> None:
    table = _table(mil461g_doc, "TABLE II")
    wide = lookup_table(table, where={"Frequency": "30 MHz - 1 GHz"})
    assert wide.cell("6 dB").value == Quantity(100, "kHz")
    assert (wide.doc, wide.table, wide.clause, wide.page) == ("MIL-STD-461G", "TABLE II", "4.3.10.3.1", 28)
    assert lookup_table(table, where={"Frequency": "150 kHz - 10 MHz"}).cell("6 dB").raw == "10 kHz"
    at = lookup_table(table, at="100 MHz")
    assert [v.cells["Frequency Range"].raw for v in at.rows] == ["30 MHz - 1 GHz"]
    assert at.cell("6 dB Resolution Bandwidth").value == Quantity(100, "kHz")
    assert lookup_table(table, at="2 GHz").cell("6 dB").raw == "1 MHz"


def test_table_viii_esd_level_3(mil461g_doc: Document) -> None:
    table = _table(mil461g_doc, "TABLE VIII")
    for where in ({"Test level": "3"}, {"Level": "3"}):
        result = lookup_table(table, where=where)
        voltage = result.cell("Test Voltage")
        assert (voltage.raw, voltage.value, voltage.plus_minus) == ("\u00b18", Quantity(8, "kV"), True)
        assert result.cell("Method").raw == "Contact/Air"


def test_table_xii_tuner_positions(mil461g_doc: Document) -> None:
    table = _table(mil461g_doc, "TABLE XII")
    assert lookup_table(table, where={"Frequency": "300 - 400 MHz"}).cell("Tuner Positions").raw == "20"
    at = lookup_table(table, at="350 MHz")
    assert [(v.cells["Frequency Range (MHz)"].raw, v.cells["Tuner Positions"].raw) for v in at.rows] == [
        ("300 - 400", "20")]
    assert at.cell("Tuner").value == Quantity(20, "")


def test_find_tables_on_the_real_document(mil461g_doc: Document) -> None:
    assert [t.id for t in find_tables(mil461g_doc.tables, "Table XII")][:1] == ["TABLE XII"]
    assert [t.id for t in find_tables(mil461g_doc.tables, "ESD test levels")][:1] == ["TABLE VIII"]
    assert [t.id for t in find_tables(mil461g_doc.tables, "tuner positions for a reverberation chamber")][:1] == [
        "TABLE XII"]
