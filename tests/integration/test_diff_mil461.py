"""`spec-agent diff MIL-STD-461F MIL-STD-461G` on the real editions in ../shared: clauses paired by
test code across the renumbering, CS106 removed, CS117 and CS118 added, table cells that changed."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import shared_path
from typer.testing import CliRunner

from agent.cli import _register_commands, app
from agent.config import Settings
from agent.index import SpecIndex

pytestmark = pytest.mark.slow

if not any(c.name == "diff" for c in app.registered_commands):
    _register_commands()

F, G = "MIL-STD-461F", "MIL-STD-461G"
# every test clause of 461F and where 461G has it (CS106, 461F 5.11, has no counterpart)
TEST_CLAUSES = [("5.4", "5.4"), ("5.5", "5.5"), ("5.6", "5.6"), ("5.7", "5.7"), ("5.8", "5.8"),
                ("5.9", "5.9"), ("5.10", "5.10"), ("5.12", "5.11"), ("5.13", "5.12"), ("5.14", "5.13"),
                ("5.15", "5.14"), ("5.16", "5.17"), ("5.17", "5.18"), ("5.18", "5.19"), ("5.19", "5.20"),
                ("5.20", "5.21"), ("5.21", "5.22")]
CS_SUB = ["", ".1", ".2", ".3", ".3.1", ".3.2", ".3.3", ".3.4", ".3.5"]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    """Both editions ingested once for the module (about 20 s on two cores)."""
    paths = [shared_path("corpus", f"{name}.pdf") for name in (F, G)]
    root = tmp_path_factory.mktemp("diff-461")
    index = SpecIndex.open(Settings(index_dir=root, embedder="lsa", offline=True))
    assert [o.status for o in index.ingest(paths)] == ["added", "added"]
    return root


def _diff(index_dir, *args: str):
    result = CliRunner().invoke(app, ["--index", str(index_dir), "diff", F, G, *args],
                                env={"SPEC_AGENT_EMBEDDER": "lsa"})
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def report(index_dir) -> dict:
    return json.loads(_diff(index_dir, "--json"))


def _pair(report: dict, old: str) -> dict:
    return next(p for p in report["pairs"] if p["old"] == old)


def test_cs114_and_re102_are_paired_across_the_renumbering(report):
    cs114, re102 = _pair(report, "5.13"), _pair(report, "5.17")
    assert (cs114["new"], cs114["reason"], cs114["renumbered"]) == ("5.12", "test code CS114", True)
    assert cs114["title"] == "CS114, conducted susceptibility, bulk cable injection"
    assert (re102["new"], re102["reason"], re102["renumbered"]) == ("5.18", "test code RE102", True)
    pairs = {(p["old"], p["new"]) for p in report["pairs"]}
    assert [t for t in TEST_CLAUSES if t not in pairs] == []
    # the sub-clauses follow their test: 5.13.2 "CS114 limit" is 5.12.2, 5.13.3.4 "Procedures" is 5.12.3.4
    assert [(f"5.13{s}", f"5.12{s}") in pairs for s in CS_SUB] == [True] * len(CS_SUB)
    assert ("A.5.13", "A.5.12") in pairs and ("A.5.17", "A.5.18") in pairs


def test_cs106_is_removed_and_cs117_cs118_are_added(report):
    removed = [c["clause"] for c in report["removed"]]
    added = [c["clause"] for c in report["added"]]
    assert [n for n in removed if n.startswith(("5.", "A.5."))] == [f"5.11{s}" for s in CS_SUB] + ["A.5.11"]
    # 5.22.3.3 RS105 Setup: 461F prints that heading as "5.20.3.3" (a misprint 461G corrects), so
    # the parser keeps its text in 5.21.3.2 and 461G's Setup has no counterpart
    assert [n for n in added if n.startswith(("5.", "A.5."))] == (
        [f"5.15{s}" for s in CS_SUB] + [f"5.16{s}" for s in CS_SUB] + ["5.22.3.3", "A.5.15", "A.5.16"])
    titles = {c["clause"]: c["title"] for c in report["removed"] + report["added"]}
    assert titles["5.11"] == "CS106, conducted susceptibility, transients, power leads"
    assert titles["5.15"].startswith("CS117, conducted susceptibility, lightning induced transients")
    assert titles["5.16"] == "CS118, personnel borne electrostatic discharge"


def test_value_changes_in_tables_both_editions_carry(report):
    (table_ii,) = _pair(report, "4.3.10.3.1")["tables"]
    assert (table_ii["old"], table_ii["new"]) == ("TABLE II", "TABLE II")
    assert table_ii["rows_removed"] == ["150 kHz - 30 MHz"]
    assert table_ii["rows_added"] == ["150 kHz - 10 MHz", "10 MHz - 30 MHz"]
    table_iv = next(t for t in _pair(report, "5.3")["tables"] if t["old"] == "TABLE IV")
    assert (table_iv["rows_removed"], table_iv["rows_added"]) == (["CS106"], ["CS117", "CS118"])
    assert {"row": "CS114", "column": "Description",
            "old": "Conducted Susceptibility, Bulk Cable Injection, 10 kHz to 200 MHz",
            "new": "Conducted Susceptibility, Bulk Cable Injection"} in table_iv["cells"]
    (table_vi,) = _pair(report, "5.13.3.5")["tables"]
    assert (table_vi["old"], table_vi["new"], table_vi["new_clause"]) == ("TABLE VI", "TABLE VI", "5.12.3.5")
    assert [(c["old"], c["new"]) for c in table_vi["cells"]] == [
        ("ALL SHIPS (ABOVE DECKS) AND SUBMARINES (EXTERNAL)*",
         "ALL SHIPS (ABOVE DECK & EXPOSED BELOW DECK) AND SUBMARINES (EXTERNAL)*")]
    # RS103 limits are TABLE VII in 461F and TABLE XI in 461G: paired by caption, not by id
    (rs103,) = _pair(report, "5.20.4.5")["tables"]
    assert (rs103["old"], rs103["new"], rs103["caption"]) == ("TABLE VII", "TABLE XI", "RS103 limits")
    # unchanged tables (dash, mu and spacing variants only) are not listed
    assert _pair(report, "4.3.2.1")["tables"] == [] and _pair(report, "4.3.10.4.1")["tables"] == []


def test_value_changes_in_the_text(report):
    limit = _pair(report, "5.13.2")
    assert limit["new"] == "5.12.2"
    assert limit["values"] == {"removed": ["77 dBµA", "4 kHz", "1 MHz", "6 dB"],
                               "added": ["115 dBµA", "103 dBµA", "95 dBµA", "89 dBµA", "83 dBµA"]}
    guide = _pair(report, "A.5.13")
    assert guide["old_title"].endswith("bulk cable injection, 10 kHz to 400 MHz")
    assert guide["values"]["removed"] == ["400 MHz"]


def test_one_test_and_the_readable_report(index_dir):
    cs114 = json.loads(_diff(index_dir, "--clause", "CS114", "--json"))
    assert [(p["old"], p["new"]) for p in cs114["pairs"]] == (
        [(f"5.13{s}", f"5.12{s}") for s in CS_SUB] + [("A.5.13", "A.5.12")])
    text = _diff(index_dir)
    assert text.splitlines()[0] == (f"{F} → {G}: 351 clauses paired (121 renumbered, 210 changed: "
                                    "25 limits or levels, 51 other values), 18 removed, 26 added")
    sections = [line for line in text.splitlines() if line and not line.startswith(" ")][1:]
    assert sections == ["Limits and levels changed (25):", "Other values changed (bands, times, lengths) (51):",
                        "Table wording changed (1):", "Wording changed (133):", "Removed (18):", "Added (26):",
                        "Tables removed:", "Tables added:", "Renumbered (30, sub-clauses move with them):"]
    assert "  5.13 → 5.12  CS114, conducted susceptibility, bulk cable injection" in text.splitlines()


def test_plan_since_461f_marks_the_cs114_rows(index_dir, tmp_path):
    out = tmp_path / "plan.csv"
    result = CliRunner().invoke(app, ["--index", str(index_dir), "plan", "--doc", G, "--since", F,
                                      "--out", str(out)], env={"SPEC_AGENT_EMBEDDER": "lsa"})
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"wrote 377 clauses (160 with tests, 282 to re-test since {F}) to {out}\n"
    with out.open(encoding="utf-8", newline="") as fh:
        marks = {r[0]: r[-1] for r in csv.reader(fh)}
    assert marks["5.12.3.1"] == "renumbered from 5.13.3.1"
    assert marks["5.12.3.5"] == (
        "TABLE VI changed (ALL SHIPS (ABOVE DECK & EXPOSED BELOW D…, SPACE: ALL SHIPS (ABOVE DECKS) AND "
        "SUBMARINES … → ALL SHIPS (ABOVE DECK & EXPOSED BELOW D…); wording changed; renumbered from 5.13.3.5")
    assert marks["5.15"] == marks["5.16"] == "new clause"
    assert marks["4.3.10.3.1"] == ("TABLE II changed (rows removed: 150 kHz - 30 MHz; rows added: 150 kHz - "
                                   "10 MHz, 10 MHz - 30 MHz); wording changed")


def test_a_chat_question_about_changes_is_answered_through_the_diff(index_dir):
    from agent.service import Assistant
    a = Assistant.open(Settings(index_dir=index_dir, embedder="lsa", offline=True))
    r = a.ask("What changed in CS114 from 461F to 461G?", "diff")
    lines = r.answer.splitlines()
    assert lines[1].startswith("MIL-STD-461F → MIL-STD-461G CS114: 10 clauses paired (10 renumbered")
    limit = next(line for line in lines if line.startswith("- 5.13.2 → 5.12.2 CS114 limit:"))
    assert "removed 77 dBµA" in limit and "added 115 dBµA" in limit and limit.endswith("[3][4]")
    assert [(c["doc"], c["clause"]) for c in r.citations[2:4]] == [(F, "5.13.2"), (G, "5.12.2")]
