"""Test plan export on the sample spec: exact cells, CSV and XLSX with the same header, errors."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from conftest import copy_index
from typer.testing import CliRunner

from agent.cli import _register_commands, app
from agent.config import Settings
from agent.errors import NotFound
from agent.index import SpecIndex
from agent.match.matcher import Matcher
from agent.plan import HEADER, PlanRow, build_plan, display_unit, write_plan

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "agent" / "data" / "sample" / "ACME-EMC-CS-2026.pdf"
DOC = "ACME-EMC-CS-2026"

_register_commands()


@pytest.fixture(scope="module")
def index_dir(sample_index_master, tmp_path_factory) -> Path:
    return copy_index(sample_index_master, tmp_path_factory.mktemp("plan") / "index")


def settings(path: Path) -> Settings:
    return Settings(index_dir=path, embedder="lsa", offline=True, labels_dir="")


@pytest.fixture(scope="module")
def rows(index_dir) -> dict[str, PlanRow]:
    s = settings(index_dir)
    plan = build_plan(SpecIndex.open(s), Matcher.from_settings(s), DOC)
    assert [r.clause for r in plan][:5] == ["1", "2", "3", "4", "4.1"]  # document order
    assert len(plan) == 43
    return {r.clause: r for r in plan}


def test_voltage_method_row(rows):
    assert rows["8.2.2.1"] == PlanRow(
        clause="8.2.2.1", title="Conducted emissions – voltage method", page="5",
        tests="Conducted Emission - Voltage Method", test_ids="0", standards="CISPR 25",
        frequency_range="0.15–108 MHz", limits="dB(µV): 18–70", units="dB(µV)", tables="Table 8-1",
        evidence="keyword: 'voltage method'",
    )


def test_esd_unpowered_row(rows):
    r = rows["10.2"]
    assert (r.tests, r.test_ids, r.standards, r.page) == (
        "Electrostatic Discharge (ESD) - Unpowered Discharge", "13", "ISO 10605", "8")
    assert (r.frequency_range, r.limits, r.units, r.tables) == ("", "kV: ±4–±15", "kV", "Table 10-1")


def test_other_parameters_and_sub_clause_tables(rows):
    assert (rows["9.1"].frequency_range, rows["9.1"].limits) == ("1–400 MHz", "mA: 30–200")  # "Level 1 (mA)"
    assert (rows["9.4"].frequency_range, rows["9.4"].limits) == ("15 Hz–150 kHz", "A/m: 10–300")
    assert rows["9.5"].limits == "V: -150–+100"
    # A parent clause gathers its sub-clauses' tables; it abstains (a group heading).
    assert (rows["8.2"].tests, rows["8.2"].test_ids, rows["8.2"].tables) == ("no test", "", "Table 8-1; Table 8-2")
    assert (rows["8.2"].frequency_range, rows["8.2"].limits) == ("0.15–108 MHz", "dB(µV): 18–70; dB(µA): 0–50")
    assert (rows["1"].tests, rows["1"].limits, rows["1"].tables) == ("no test", "", "")


def test_display_unit():
    assert [display_unit(u) for u in ("dBµV", "dBµV/m", "kV")] == ["dB(µV)", "dB(µV/m)", "kV"]


def test_cli_writes_csv_and_xlsx_with_the_same_header(index_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SPEC_AGENT_LABELS", "")
    for name in ("plan.csv", "plan.xlsx"):
        result = CliRunner().invoke(app, ["--index", str(index_dir), "plan", "--doc", DOC, "--out",
                                          str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert result.stdout == f"wrote 43 clauses (12 with tests) to {tmp_path / name}\n"
    with (tmp_path / "plan.csv").open(encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    sheet = openpyxl.load_workbook(tmp_path / "plan.xlsx").active
    cells = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert table[0] == list(HEADER) == cells[0]
    esd = next(r for r in table if r[0] == "10.2")
    assert esd[:9] == ["10.2", "ESD – unpowered (handling)", "8",
                       "Electrostatic Discharge (ESD) - Unpowered Discharge", "13", "ISO 10605", "", "kV: ±4–±15", "kV"]
    assert cells[1:] == table[1:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.csv", "plan.xlsx"]  # no temp files left


def test_corrections_apply_to_the_plan(index_dir, tmp_path, monkeypatch):
    from agent.feedback.store import FeedbackStore

    monkeypatch.setenv("SPEC_AGENT_LABELS", "")
    store = FeedbackStore.open(settings(index_dir))
    c = store.add_correction("Bulk current injection", [6, 9], doc=DOC, clause="9.1", user="dave")
    try:
        out = tmp_path / "plan.csv"
        assert CliRunner().invoke(app, ["--index", str(index_dir), "plan", "--doc", DOC, "--out", str(out)]).exit_code == 0
        row = next(r for r in csv.reader(out.open(encoding="utf-8")) if r[0] == "9.1")
        assert row[3:6] == ["Bulk Current Injection: Immunity; Portable Transmitter Test", "6; 9",
                            "ISO 11452-4; ISO 11452-9"]
        assert row[10].startswith("engineer correction (dave, ")
    finally:
        store.remove_correction(c.id)


def test_unknown_doc_and_bad_suffix_are_one_line_errors(index_dir, tmp_path):
    result = CliRunner().invoke(app, ["--index", str(index_dir), "plan", "--doc", "NOPE", "--out",
                                      str(tmp_path / "p.csv")])
    assert (result.exit_code, result.output) == (
        1, f"error: no document 'NOPE' in the index; documents: {DOC}.\n")
    bad = CliRunner().invoke(app, ["--index", str(index_dir), "plan", "--doc", DOC, "--out", str(tmp_path / "p.txt")])
    assert (bad.exit_code, bad.output) == (1, "error: p.txt: give a .csv or .xlsx file name for --out\n")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match=r"p.ods: cannot write a plan as .ods"):
        write_plan([], tmp_path / "p.ods")
    with pytest.raises(NotFound):
        build_plan(SpecIndex.open(settings(index_dir)), Matcher.from_settings(settings(index_dir)), "NOPE")
