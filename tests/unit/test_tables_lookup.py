"""Typed tables and lookups (agent.match.tables, agent.match.csv_tables, `spec-agent table`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import typer
from conftest import shared_path
from typer.testing import CliRunner

from agent.errors import NotFound, SpecAgentError
from agent.match.csv_tables import read_csv_table
from agent.match.tables import TypedTable, find_tables, join_fragments, lookup_table
from agent.match.units import Quantity
from agent.schema import Table

DBUV = "dB\u00b5V"

TABLE_II = Table(
    id="TABLE II", caption="Bandwidth and measurement time", clause="4.3.10.3.1", page=28,
    header=(("Frequency Range", "6 dB Bandwidth", "Dwell Time (Seconds)"),),
    rows=(("30 Hz - 1 kHz", "10 Hz", "0.15"), ("1 kHz - 10 kHz", "100 Hz", "0.015"),
          ("10 kHz - 150 kHz", "1 kHz", "0.015"), ("150 kHz - 10 MHz", "10 kHz", "0.015"),
          ("10 MHz - 30 MHz", "10 kHz", "0.015"), ("30 MHz - 1 GHz", "100 kHz", "0.015"),
          ("Above 1 GHz", "1 MHz", "0.015")),
    doc="MIL-STD-461G",
)
TABLE_VIII = Table(
    id="TABLE VIII", caption="ESD test levels", clause="5.16.3.5", page=113,
    header=(("Level", "Test Voltage\n(kV)", "Method"),),
    rows=(("1", "\u00b12", "Air"), ("2", "\u00b14", "Air"), ("3", "\u00b18", "Contact/Air"), ("4", "\u00b115", "Air")),
    doc="MIL-STD-461G",
)
TABLE_XII = Table(
    id="TABLE XII", caption="Required number of tuner positions for a reverberation chamber",
    clause="5.21.4.5", page=160, header=(("Frequency Range (MHz)", "Tuner Positions"),),
    rows=(("200 - 300", "50"), ("300 - 400", "20"), ("400 - 600", "16"), ("Above 600", "12")),
    doc="MIL-STD-461G",
)
# A FAW-style ragged extraction: header split over rows, words broken, sections, a formula over lines.
RAGGED = Table(
    id="Table 5", caption="RE limits", clause="6.3", page=12, header=(),
    rows=(
        ("N Band name", "Frequency", "PK", "", "AV"),
        ("o.", "", "Limits", "Bandwi", "Limit"),
        ("", "", "", "dth", "s"),
        ("", "MHz", "dB(\u03bcV)", "KHz", "dB(\u03bc"),
        ("", "", "", "", "V)"),
        ("Basic Limits", "", "", "", ""),
        ("B", "0.28~30", "72", "120", "62"),
        ("5", "", "", "", ""),
        ("B", "30~75", "68 \u2013", "1000", "58 \u2013"),
        ("6", "", "25.13", "", "25.13"),
        ("", "", "\u00b7 lg(f/", "", "\u00b7 lg(f/"),
        ("", "", "30)", "", "30)"),
        ("Other limits", "", "", "", ""),
        ("15 USW", "76~108", "32", "120", "12"),
        ("17 DAB(L-Ban", "1452~1492", "45", "1000", "35"),
        ("d)", "", "", "", ""),
    ),
)


def _raw(result, row: int) -> dict[str, str]:
    view = next(v for v in result.rows if v.row == row)
    return {k: c.raw for k, c in view.cells.items()}


# ---------------------------------------------------------------- fragments and headers
@pytest.mark.parametrize(
    "a, b, header, joined",
    [
        ("Bandwi", "dth", True, "Bandwidth"), ("Limit", "s", True, "Limits"), ("dB(\u03bc", "V)", True, "dB(\u03bcV)"),
        ("N Band name", "o.", True, "No. Band name"), ("PK", "Limits", True, "PK Limits"),
        ("Frequency", "range", True, "Frequency range"), ("B", "5", False, "B5"),
        ("17 DAB(L-Ban", "d)", False, "17 DAB(L-Band)"), ("68 \u2013", "25.13", False, "68 \u2013 25.13"),
        ("68 \u2013 25.13", "\u00b7 lg(f/", False, "68 \u2013 25.13 \u00b7 lg(f/"),
        ("68 \u2013 25.13 \u00b7 lg(f/", "30)", False, "68 \u2013 25.13 \u00b7 lg(f/30)"),
        ("84.015~", "87.255", False, "84.015~87.255"), ("Stepped-", "Tuned", True, "Stepped-Tuned"),
        ("", "Level", True, "Level"),
    ],
)
def test_join_fragments(a: str, b: str, header: bool, joined: str) -> None:
    assert join_fragments(a, b, header) == joined


def test_ragged_header_rows_merge_into_one_label_per_column() -> None:
    typed = TypedTable.from_table(RAGGED)
    assert typed.labels == ("No. Band name", "Frequency MHz", "PK Limits dB(\u00b5V)", "PK Bandwidth kHz",
                            "AV Limits dB(\u00b5V)")
    assert [c.unit for c in typed.columns] == [None, "MHz", DBUV, "kHz", DBUV]
    assert typed.header_lines == 5
    assert typed.key == 1


def test_sections_and_continuation_rows() -> None:
    typed = TypedTable.from_table(RAGGED)
    got = [(r.index, r.section, r.lines, tuple(c.raw for c in r.cells)) for r in typed.rows]
    assert got == [
        (6, "Basic Limits", (6, 7), ("B5", "0.28~30", "72", "120", "62")),
        (8, "Basic Limits", (8, 9, 10, 11),
         ("B6", "30~75", "68 \u2013 25.13 \u00b7 lg(f/30)", "1000", "58 \u2013 25.13 \u00b7 lg(f/30)")),
        (13, "Other limits", (13,), ("15 USW", "76~108", "32", "120", "12")),
        (14, "Other limits", (14, 15), ("17 DAB(L-Band)", "1452~1492", "45", "1000", "35")),
    ]
    b6 = typed.rows[1].cells
    assert (b6[2].formula, b6[4].formula) == ("68 \u2013 25.13\u00b7lg(f/30)", "58 \u2013 25.13\u00b7lg(f/30)")


# ---------------------------------------------------------------- lookups on hand-built tables
def test_ragged_lookup_evaluates_the_formula_at_the_frequency() -> None:
    result = lookup_table(RAGGED, at="50 MHz")
    assert [(v.row, v.section) for v in result.rows] == [(8, "Basic Limits")]
    pk = result.cell("PK Limits")
    assert pk.formula == "68 \u2013 25.13\u00b7lg(f/30)"
    assert pk.value == Quantity(62.4, DBUV) == Quantity(round(68 - 25.13 * math.log10(50 / 30), 1), DBUV)
    assert result.cell("AV Limits").value == Quantity(52.4, DBUV)
    assert (result.table, result.clause, result.page) == ("Table 5", "6.3", 12)


def test_bandwidth_by_band_value_and_by_frequency() -> None:
    by_band = lookup_table(TABLE_II, where={"Frequency": "30 MHz - 1 GHz"})
    assert [v.row for v in by_band.rows] == [5]
    assert by_band.cell("6 dB bandwidth").value == Quantity(100, "kHz")
    assert lookup_table(TABLE_II, where={"frequency range": "150 kHz to 10 MHz"}).cell("bandwidth").raw == "10 kHz"
    at = lookup_table(TABLE_II, at="100 MHz")
    assert [(s.column, s.cell.raw) for s in at.cells] == [("6 dB Bandwidth", "100 kHz"),
                                                          ("Dwell Time (Seconds)", "0.015")]
    assert at.cell("Dwell").value == Quantity(0.015, "s")


def test_band_edges_and_open_ended_bands() -> None:
    assert [v.row for v in lookup_table(TABLE_II, at="1 GHz").rows] == [5]
    assert [v.row for v in lookup_table(TABLE_II, at="1.5 GHz").rows] == [6]
    assert [v.row for v in lookup_table(TABLE_II, at="150 kHz").rows] == [2, 3]
    assert lookup_table(TABLE_II, at="10 Hz").rows == ()


def test_esd_level_by_fuzzy_column_and_plus_minus_value() -> None:
    for where in ({"Test level": "3"}, {"Level": "3"}, {"level": " 3 "}):
        result = lookup_table(TABLE_VIII, where=where)
        assert [v.row for v in result.rows] == [2]
        voltage = result.cell("Test Voltage")
        assert (voltage.raw, voltage.value, voltage.plus_minus) == ("\u00b18", Quantity(8, "kV"), True)
        assert result.cell("Method").raw == "Contact/Air"
    assert [v.row for v in lookup_table(TABLE_VIII, where={"Test voltage": "8 kV"}).rows] == [2]
    assert [v.row for v in lookup_table(TABLE_VIII, where={"Voltage": "\u00b115 kV"}).rows] == [3]
    assert [v.row for v in lookup_table(TABLE_VIII, where={"Method": "air"}).rows] == [0, 1, 3]
    assert [v.row for v in lookup_table(TABLE_VIII, where={"Method": "contact"}).rows] == [2]


def test_tuner_positions_with_a_column_unit() -> None:
    assert lookup_table(TABLE_XII, at="350 MHz").cell("Tuner").value == Quantity(20, "")
    assert [v.row for v in lookup_table(TABLE_XII, at="300 MHz").rows] == [0, 1]
    assert lookup_table(TABLE_XII, at="2 GHz").cell("Tuner").raw == "12"
    assert [v.row for v in lookup_table(TABLE_XII, where={"Frequency": "300 - 400 MHz"}).rows] == [1]


def test_single_frequencies_pick_the_nearest() -> None:
    table = Table(id="T1", caption="", clause=None, page=None,
                  header=(("Frequency (MHz)", "Level (V/m)"),), rows=(("1", "10"), ("10", "30"), ("100", "50")))
    assert [v.row for v in lookup_table(table, at="30 MHz").rows] == [1]
    assert lookup_table(table, at="100 MHz").cell("Level").value == Quantity(50, "V/m")
    assert [v.row for v in lookup_table(table, at="0.1 GHz").rows] == [2]


def test_where_and_at_combine() -> None:
    result = lookup_table(RAGGED, where={"band": "USW"}, at="100 MHz")
    assert [v.row for v in result.rows] == [13]
    assert [(s.column, s.cell.raw) for s in result.cells] == [
        ("PK Limits dB(\u00b5V)", "32"), ("PK Bandwidth kHz", "120"), ("AV Limits dB(\u00b5V)", "12")]


def test_lookup_errors_say_what_to_do() -> None:
    with pytest.raises(NotFound, match=r"TABLE VIII: no column like 'Polarity'; columns are Level, "
                                       r"Test Voltage \(kV\), Method\."):
        lookup_table(TABLE_VIII, where={"Polarity": "+"})
    with pytest.raises(SpecAgentError, match="not a quantity"):
        lookup_table(TABLE_II, at="lots")
    with pytest.raises(NotFound, match="no column of values comparable with 3 kV"):
        lookup_table(TABLE_XII, at="3 kV")


def test_result_as_json() -> None:
    data = lookup_table(TABLE_VIII, where={"Level": "3"}).to_json()
    assert data == {
        "doc": "MIL-STD-461G", "table": "TABLE VIII", "clause": "5.16.3.5", "page": 113,
        "rows": [{"row": 2, "section": None,
                  "cells": {"Level": "3", "Test Voltage (kV)": "\u00b18", "Method": "Contact/Air"}}],
        "cells": [
            {"row": 2, "column": "Test Voltage (kV)", "raw": "\u00b18", "value": 8.0, "unit": "kV", "formula": None},
            {"row": 2, "column": "Method", "raw": "Contact/Air", "value": None, "unit": None, "formula": None},
        ],
    }


def test_find_tables_by_id_and_caption() -> None:
    tables = [TABLE_II, TABLE_VIII, TABLE_XII]
    assert [t.id for t in find_tables(tables, "what does Table 2 say about bandwidth")][:1] == ["TABLE II"]
    assert [t.id for t in find_tables(tables, "table XII")] == ["TABLE XII"]
    assert [t.id for t in find_tables(tables, "ESD test levels")][:1] == ["TABLE VIII"]
    assert [t.id for t in find_tables(tables, "how many tuner positions")] == ["TABLE XII"]
    assert find_tables(tables, "weather tomorrow") == []


# ---------------------------------------------------------------- FAW CSV extractions
def _faw_re() -> Table:
    folder = shared_path("seed", "faw_excerpts", "Radiated_Emission")
    return read_csv_table([folder / "0_0table.csv", folder / "0_1table.csv"], table_id="RE limits")


def test_faw_csv_reads_the_continuation_and_undoes_pandas_artefacts() -> None:
    typed = TypedTable.from_table(_faw_re())
    assert typed.labels == ("No. Band name", "Frequency MHz", "PK Limits dB(\u00b5V)", "PK Bandwidth kHz",
                            "QP Limits dB(\u00b5V)", "QP Bandwidth kHz", "AV Limits dB(\u00b5V)", "AV Bandwidth kHz")
    rows = {r.cells[0].raw: (r.index, r.section, tuple(c.raw for c in r.cells[1:])) for r in typed.rows}
    assert rows["20 TV II"] == (41, "Other limits", ("90~108", "37", "1000", "-", "-", "22", "1000"))
    assert rows["25 4m/BOS"] == (46, "Mobile service", ("84.015~87.255", "35", "120", "-", "-", "2", "9"))
    assert rows["34 PDC.D-AMPS"][2] == ("851~894", "51", "120", "-", "-", "31", "120")
    assert rows["17 DAB(L-Band)"][:2] == (37, "Other limits")
    assert rows["43 Bluetooth. WLAN"][:2] == (64, "Mobile service")
    assert len(typed.rows) == 48  # B5-B8, bands 1-23 and 25-45 (the spec has no band 24)


def test_faw_radiated_emission_at_50_mhz() -> None:
    result = lookup_table(_faw_re(), at="50 MHz")
    assert [(v.row, v.section, v.cells["No. Band name"].raw) for v in result.rows] == [
        (8, "Basic Limits", "B6"), (40, "Other limits", "19 TV I")]
    assert _raw(result, 8)["Frequency MHz"] == "30~75"
    pk, av = result.cell("PK Limits", row=8), result.cell("AV Limits", row=8)
    assert pk.formula == "68 \u2013 25.13\u00b7lg(f/30)" and pk.footnotes == ("1",)
    assert pk.value == Quantity(round(68 - 25.13 * math.log10(50 / 30), 1), DBUV) == Quantity(62.4, DBUV)
    assert av.formula == "58 \u2013 25.13\u00b7lg(f/30)"
    assert av.value == Quantity(round(58 - 25.13 * math.log10(50 / 30), 1), DBUV) == Quantity(52.4, DBUV)
    assert result.cell("PK Limits", row=40).value == Quantity(38, DBUV)


def test_faw_radiated_emission_at_100_mhz_returns_every_band() -> None:
    result = lookup_table(_faw_re(), at="100 MHz")
    assert [(v.row, v.section, v.cells["No. Band name"].raw, v.cells["Frequency MHz"].raw) for v in result.rows] == [
        (13, "Basic Limits", "B7", "75~400"), (35, "Other limits", "15 USW", "76~108"),
        (41, "Other limits", "20 TV II", "90~108")]
    b7 = result.cell("PK Limits", row=13)
    assert (b7.formula, b7.value) == ("58 + 15.13\u00b7lg(f/75)", Quantity(59.9, DBUV))
    assert round(58 + 15.13 * math.log10(100 / 75), 1) == 59.9
    assert result.cell("PK Limits", row=35).value == Quantity(32, DBUV)
    assert result.cell("QP Limits", row=35).value == Quantity(19, DBUV)
    assert result.cell("PK Bandwidth", row=35).value == Quantity(120, "kHz")


def test_faw_radiated_emission_at_1000_mhz() -> None:
    result = lookup_table(_faw_re(), at="1000 MHz")
    assert [(v.row, v.cells["No. Band name"].raw) for v in result.rows] == [(18, "B8")]
    assert result.cell("PK Limits").value == Quantity(69, DBUV)
    assert result.cell("AV Limits").value == Quantity(59, DBUV)
    assert lookup_table(_faw_re(), at="1 GHz").rows == result.rows


def test_faw_conducted_emission_current_tables() -> None:
    folder = shared_path("seed", "faw_excerpts", "Conducted_Emission_Current_Method")
    limits = read_csv_table(folder / "0_1table.csv")
    b1 = lookup_table(limits, at="0.4 MHz")
    assert [(v.row, v.section) for v in b1.rows] == [(4, "Basic Limits")]
    pk = b1.cell("PK Limits")
    assert (pk.formula, pk.value) == ("100 \u2013 59.51\u00b7lg(f/0.28)", Quantity(90.8, DBUV))
    assert round(100 - 59.51 * math.log10(0.4 / 0.28), 1) == 90.8
    bos = lookup_table(limits, where={"Band": "4m/BOS"})
    assert [_raw(bos, 27)] == [{
        "No. Band name": "25 4m/BOS", "Frequency MHz": "84.015~87.255", "PK Limits dB(\u00b5V)": "41",
        "PK Bandwidth kHz": "120", "QP Limits dB(\u00b5V)": "-", "QP Bandwidth kHz": "-",
        "AV Limits dB(\u00b5V)": "8", "AV Bandwidth kHz": "9"}]
    usw = lookup_table(read_csv_table(folder / "2_0table.csv"), where={"band name": "USW"})
    assert usw.cell("PK Limits").value == Quantity(-2, DBUV)
    assert usw.cell("QP Limits").value == Quantity(-15, DBUV)


def test_faw_alse_levels_with_header_and_rows_in_two_files() -> None:
    folder = shared_path("seed", "faw_excerpts", "ALSE_Immunity")
    table = read_csv_table([folder / "0_0table.csv", folder / "0_1table.csv"])
    result = lookup_table(table, at="900 MHz")
    assert result.cell("Field strength").value == Quantity(140, "V/m")
    assert result.cell("Residence").value == Quantity(3, "s")


# ---------------------------------------------------------------- the `table` command
def _app() -> typer.Typer:
    from agent.commands.tables import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app)
    return app


def test_cli_json_from_csv() -> None:
    folder = shared_path("seed", "faw_excerpts", "Radiated_Emission")
    result = CliRunner().invoke(_app(), ["table", "RE limits", "--csv", str(folder / "0_0table.csv"),
                                         "--csv", str(folder / "0_1table.csv"), "--at", "50 MHz", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["table"], data["doc"]) == ("RE limits", "")
    assert [(r["row"], r["section"], r["cells"]["No. Band name"]) for r in data["rows"]] == [
        (8, "Basic Limits", "B6"), (40, "Other limits", "19 TV I")]
    pk = next(c for c in data["cells"] if c["row"] == 8 and c["column"] == "PK Limits dB(\u00b5V)")
    assert pk == {"row": 8, "column": "PK Limits dB(\u00b5V)", "raw": "68 \u2013 25.13 \u00b7 lg(f/30) 1)",
                  "value": 62.4, "unit": DBUV, "formula": "68 \u2013 25.13\u00b7lg(f/30)"}


def test_cli_human_output_shows_the_value(tmp_path: Path) -> None:
    csv_file = tmp_path / "esd.csv"
    csv_file.write_text("Level,Test Voltage (kV),Method\n1,\u00b12,Air\n3,\u00b18,Contact/Air\n", encoding="utf-8")
    result = CliRunner().invoke(_app(), ["table", "ESD", "--csv", str(csv_file), "--where", "Level=3"])
    assert result.exit_code == 0, result.output
    assert "\u00b18 kV" in result.stdout and "Contact/Air" in result.stdout


def test_cli_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(_app(), ["table", "X", "--csv", str(tmp_path / "none.csv")])
    assert (missing.exit_code, missing.stderr) == (1, "none.csv: no such CSV file; check the path.\n")
    csv_file = tmp_path / "t.csv"
    csv_file.write_text("Level,Method\n1,Air\n", encoding="utf-8")
    bad = runner.invoke(_app(), ["table", "X", "--csv", str(csv_file), "--where", "Level"])
    assert (bad.exit_code, bad.stderr) == (1, "--where 'Level' is not COLUMN=VALUE; write e.g. --where \"Level=3\".\n")
    assert "Traceback" not in bad.output


# A limit table whose unit is in its caption, detectors abbreviated, classes as columns.
ALSE = Table(
    id="Table 5", caption="Limits for radiated emissions, ALSE method, dB\u00b5V/m", clause="5.4.2", page=6,
    header=(("Band", "Frequency MHz", "Detector", "Class 3", "Class 5"),),
    rows=(("FM", "76 \u2013 108", "Peak", "50", "38"), ("FM", "76 \u2013 108", "AV", "30", "18"),
          ("5G n78", "3 400 \u2013 3 800", "AV", "50", "38"), ("SW", "5.9 \u2013 6.2", "AV", "32", "20")),
    doc="VEN",
)


def test_a_detector_written_out_finds_its_abbreviation_and_a_class_number_no_digit() -> None:
    result = lookup_table(ALSE, terms=["FM", "average", "3", "Class"])
    assert [r.row for r in result.rows] == [1]
    assert lookup_table(ALSE, terms=["quasi-peak", "QP"]).rows == lookup_table(ALSE).rows  # no row says it


def test_the_caption_gives_its_unit_to_columns_without_one() -> None:
    typed = TypedTable.from_table(ALSE)
    assert [c.unit for c in typed.columns] == [None, "MHz", None, f"{DBUV}/m", f"{DBUV}/m"]
