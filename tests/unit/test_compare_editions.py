"""`spec-agent diff` on two generated editions of a small spec (tests/fixtures/editions): renumbered
clauses, one changed limit cell, one deleted and one new clause; the exact JSON and report."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest
from conftest import FIXTURES
from typer.testing import CliRunner

from agent.cli import _register_commands, app
from agent.config import Settings
from agent.index import SpecIndex

if not any(c.name == "diff" for c in app.registered_commands):
    _register_commands()

_spec = importlib.util.spec_from_file_location("make_editions", FIXTURES / "editions" / "make_editions.py")
assert _spec and _spec.loader
make_editions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_editions)

A, B = make_editions.NAME_A, make_editions.NAME_B


def _same(old: str, new: str, title: str, reason: str, score: float = 1.0) -> dict:
    return {"old": old, "new": new, "title": title, "score": score, "reason": reason,
            "renumbered": old != new, "changed": False, "values": {"removed": [], "added": []},
            "diff": "", "tables": []}


EXPECTED = {
    "old": A, "new": B,
    "pairs": [
        _same("1", "1", "Scope", "same heading, body 1.00"),
        _same("2", "2", "Normative references", "same heading, body 1.00"),
        _same("3", "3", "Terms and definitions", "same heading, body 1.00"),
        _same("4", "4", "General test conditions", "same heading, body 1.00"),
        _same("4.1", "4.1", "Temperature", "same heading, body 1.00"),
        _same("4.3", "4.2", "Supply voltage", "same heading, body 1.00", 0.95),
        _same("5", "6", "RE 310 Radiated emissions", "test code RE310"),
        _same("5.1", "6.1", "Test set-up", "same heading, body 1.00", 0.95),
        {"old": "5.2", "new": "6.2", "title": "Limits", "score": 0.944, "reason": "same heading, body 0.89",
         "renumbered": True, "changed": True, "values": {"removed": [], "added": []},
         "diff": "shall not exceed the {+peak+} limits of Table [-5-1.-]{+6-1.+}",
         "tables": [{"old": "Table 5-1", "new": "Table 6-1", "caption": "Limits for radiated emissions",
                     "old_clause": "5.2", "new_clause": "6.2", "old_page": None, "new_page": None,
                     "rows_removed": [], "rows_added": [], "columns_removed": [], "columns_added": [],
                     "cells": [{"row": "30 - 230 MHz", "column": "Limit (dBµV/m)", "old": "34", "new": "32"}]}]},
    ],
    "removed": [{"clause": "4.2", "title": "Humidity"}],
    "added": [{"clause": "5", "title": "RI 112 Bulk current injection"}, {"clause": "5.1", "title": "Test levels"}],
    "tables_removed": [], "tables_added": [],
}

REPORT = f"""\
{A} → {B}: 9 clauses paired (4 renumbered, 1 changed: 1 limits or levels, 0 other values), 1 removed, 2 added

Limits and levels changed (1):
  5.2 → 6.2  Limits
      Table 5-1 → Table 6-1, row '30 - 230 MHz', column 'Limit (dBµV/m)': '34' → '32'
      text: shall not exceed the {{+peak+}} limits of Table [-5-1.-]{{+6-1.+}}

Removed (1):
  4.2  Humidity

Added (2):
  5  RI 112 Bulk current injection
  5.1  Test levels

Renumbered (2, sub-clauses move with them):
  4.3 → 4.2  Supply voltage
  5 → 6  RE 310 Radiated emissions
"""


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("editions")
    paths = make_editions.generate(root / "in")
    index = SpecIndex.open(Settings(index_dir=root / "idx", embedder="lsa", offline=True))
    assert [o.status for o in index.ingest(list(paths))] == ["added", "added"]
    return root / "idx"


def _diff(index_dir: Path, *args: str):
    return CliRunner().invoke(app, ["--index", str(index_dir), "diff", A, B, *args],
                              env={"SPEC_AGENT_EMBEDDER": "lsa"})


def test_diff_json_is_exact(index_dir):
    result = _diff(index_dir, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == EXPECTED


def test_diff_report_puts_the_limit_first(index_dir):
    result = _diff(index_dir)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == REPORT


def test_diff_of_one_clause_follows_it_to_its_new_number(index_dir):
    result = _diff(index_dir, "--clause", "5", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(p["old"], p["new"]) for p in data["pairs"]] == [("5", "6"), ("5.1", "6.1"), ("5.2", "6.2")]
    assert (data["removed"], data["added"]) == ([], [])
    by_code = json.loads(_diff(index_dir, "--clause", "RE 310", "--json").stdout)
    assert [(p["old"], p["new"]) for p in by_code["pairs"]] == [("5", "6"), ("5.1", "6.1"), ("5.2", "6.2")]
    new_only = json.loads(_diff(index_dir, "--clause", "RI112", "--json").stdout)
    assert (new_only["pairs"], new_only["added"]) == (
        [], [{"clause": "5", "title": "RI 112 Bulk current injection"}, {"clause": "5.1", "title": "Test levels"}])


def test_unknown_clause_and_document_are_one_line_errors(index_dir):
    result = _diff(index_dir, "--clause", "9.9")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (f"error: no clause '9.9' in {A} or {B}; give a clause number such as 5.13 "
                             "or a test code such as CS114.\n")
    missing = CliRunner().invoke(app, ["--index", str(index_dir), "diff", A, "NOPE"],
                                 env={"SPEC_AGENT_EMBEDDER": "lsa"})
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: ") and "NOPE" in missing.stderr


def test_diff_writes_html_and_xlsx(index_dir, tmp_path):
    html_out, xlsx_out = tmp_path / "r.html", tmp_path / "r.xlsx"
    assert _diff(index_dir, "--out", str(html_out)).exit_code == 0
    page = html_out.read_text(encoding="utf-8")
    assert "<td>Limits and levels changed</td><td>5.2</td><td>6.2</td><td>Limits</td>" in page
    assert "<td>Removed</td><td>4.2</td><td></td><td>Humidity</td>" in page
    assert _diff(index_dir, "--out", str(xlsx_out)).exit_code == 0
    openpyxl = pytest.importorskip("openpyxl")
    rows = list(openpyxl.load_workbook(xlsx_out).active.iter_rows(values_only=True))
    assert rows[1] == ("kind", "old clause", "new clause", "title", "changes", "paired by")
    assert rows[2][:4] == ("Limits and levels changed", "5.2", "6.2", "Limits")
    bad = _diff(index_dir, "--out", str(tmp_path / "r.pdf"))
    assert (bad.exit_code, bad.stderr) == (1, "error: r.pdf: give a .html or .xlsx file name for --out\n")


def test_plan_since_marks_what_to_retest(index_dir, tmp_path):
    out = tmp_path / "plan.csv"
    result = CliRunner().invoke(app, ["--index", str(index_dir), "plan", "--doc", B, "--since", A,
                                      "--out", str(out)], env={"SPEC_AGENT_EMBEDDER": "lsa"})
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"wrote 11 clauses (5 with tests, 4 to re-test since {A}) to {out}\n"
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][-1] == f"changed since {A}"
    assert [(r[0], r[-1]) for r in rows[1:]] == [
        ("1", ""), ("2", ""), ("3", ""), ("4", ""), ("4.1", ""), ("4.2", "renumbered from 4.3"),
        ("5", "new clause"), ("5.1", "new clause"),
        ("6", "renumbered from 5; sub-clauses changed: 6.2"), ("6.1", "renumbered from 5.1"),
        ("6.2", ("Table 6-1 changed (30 - 230 MHz, Limit (dBµV/m): 34 → 32); wording changed; "
                "renumbered from 5.2"))]
    plain = CliRunner().invoke(app, ["--index", str(index_dir), "plan", "--doc", B, "--out", str(out)],
                               env={"SPEC_AGENT_EMBEDDER": "lsa"})
    assert plain.exit_code == 0
    with out.open(encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh))[-1] == "evidence"  # no --since: the plan as before
