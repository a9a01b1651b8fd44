"""Learning from engineers: a correction changes the next `classify` and the next chat answer,
removing it restores the matcher's own answer, and simulated corrections are measured."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import copy_index
from typer.testing import CliRunner

from agent.cli import _register_commands, app
from agent.commands.match import correction_counts
from agent.config import Settings
from agent.feedback.store import FeedbackStore
from agent.match.catalogue import load_catalogue
from agent.match.evaluate import simulate_corrections
from agent.match.labels import seed_examples
from agent.match.matcher import Matcher
from agent.service import Assistant

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "agent" / "data" / "sample" / "ACME-EMC-CS-2026.pdf"
DOC = "ACME-EMC-CS-2026"
HEADING = "7.3 Zorblat procedure ZP-7"  # no catalogue test matches it before the correction

_register_commands()


def today() -> str:
    return datetime.now(UTC).date().isoformat()


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SPEC_AGENT_LABELS", str(tmp_path / "no-labels"))
    monkeypatch.delenv("SPEC_AGENT_CATALOGUE", raising=False)
    monkeypatch.delenv("SPEC_AGENT_INDEX", raising=False)
    return tmp_path / "index"


def classify(index: Path, heading: str) -> dict:
    result = CliRunner().invoke(app, ["--index", str(index), "classify"],
                                input=json.dumps({"id": "h1", "heading": heading}) + "\n")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_correction_changes_the_next_classify(cli_env):
    index = cli_env
    assert classify(index, HEADING) == {"id": "h1", "tests": [], "abstain": True}
    assert not index.exists()  # classifying never creates an index folder

    line = json.dumps({"heading": HEADING, "text": "", "tests": [12]})
    learnt = CliRunner().invoke(app, ["--index", str(index), "learn", "--user", "alice"], input=line + "\n")
    assert learnt.exit_code == 0, learnt.output
    assert learnt.stdout == f"stored 1 correction(s) by alice in {index}\n"

    source = f"engineer correction (alice, {today()})"
    assert classify(index, HEADING) == {
        "id": "h1",
        "tests": [{"id": 12, "name": "Transient Immunity: Signal lines", "score": 1.0, "evidence": [source]}],
        "abstain": False,
    }
    # The same heading without its number is the same heading.
    assert classify(index, "Zorblat procedure ZP-7")["tests"][0]["id"] == 12

    removed = CliRunner().invoke(app, ["--index", str(index), "corrections", "--remove", "1"])
    assert removed.stdout == f"removed correction #1 ({HEADING})\n"
    assert classify(index, HEADING) == {"id": "h1", "tests": [], "abstain": True}


@pytest.fixture(scope="module")
def sample_index(sample_index_master, tmp_path_factory) -> Path:
    return copy_index(sample_index_master, tmp_path_factory.mktemp("learning") / "index")


def settings(path: Path) -> Settings:
    return Settings(index_dir=path, embedder="lsa", offline=True)


def which_test(index: Path):
    return Assistant.open(settings(index)).ask("which test does 9.1 require?", "learning")


def test_a_correction_changes_the_next_chat_answer_and_removal_reverts_it(sample_index):
    before = which_test(sample_index)
    assert [(t["id"], t["name"]) for t in before.tests] == [(6, "Bulk Current Injection: Immunity")]

    store = FeedbackStore.open(settings(sample_index))
    c = store.add_correction("9.1 Bulk current injection", [9], doc=DOC, clause="9.1", user="bob")
    after = which_test(sample_index)  # a restart: a new Assistant over the same index
    assert after.tests == [{"id": 9, "name": "Portable Transmitter Test", "score": 1.0}]
    assert after.answer == (
        "Offline answer (from the documents, no language model):\n"
        "9.1 — Bulk current injection. Standard test: Portable Transmitter Test (ISO 11452-9), score 1.00 [1]. "
        f"Matched on: engineer correction (bob, {today()}).\n\nSources:\n[1] ACME-EMC-CS-2026 §9.1, p. 6"
    )

    store.remove_correction(c.id)
    reverted = which_test(sample_index)
    assert [t["id"] for t in reverted.tests] == [6]
    assert "engineer correction" not in reverted.answer


def test_classify_doc_applies_corrections_by_doc_and_clause(sample_index, monkeypatch):
    monkeypatch.delenv("SPEC_AGENT_INDEX", raising=False)
    store = FeedbackStore.open(settings(sample_index))
    c = store.add_correction("Bulk current injection (as written by the OEM)", [9], doc=DOC, clause="9.1",
                             user="carol")
    try:
        out = CliRunner().invoke(app, ["--index", str(sample_index), "classify", "--doc", DOC.lower(),
                                       "--csv", str(sample_index / "matrix.csv")])
        assert out.exit_code == 0, out.output
        rows = (sample_index / "matrix.csv").read_text(encoding="utf-8").splitlines()
        assert rows[0] == "clause,title,test_ids,tests,scores,abstain"
        assert [r for r in rows if r.startswith(("9.1,", "9.2,"))] == [
            "9.1,Bulk current injection,9,9 Portable Transmitter Test,1.00,false",
            "9.2,Radiated immunity – ALSE method,7,7 ALSE: Immunity,0.97,false",
        ]
    finally:
        store.remove_correction(c.id)


# -- measured learning ---------------------------------------------------------------------------

ALPHA = ("alpha.pdf\npdf\n1\n5\n1 Scope\n\n2 Zorblat procedure ZP-7\n12\n"
         "3 Zorblat procedure ZP-7, severity levels\n12\n4 Bulk current injection\n6\n5 Glossary\n\n")
BETA = ("beta.pdf\npdf\n1\n5\n1 Definitions\n\n2 Radiated emissions\n2\n"
        "3 Electrostatic discharge, unpowered\n13\n4 Zorblat procedure on signal lines\n12\n")


@pytest.fixture
def tiny(tmp_path):
    (tmp_path / "alpha_section_answer.txt").write_text(ALPHA, encoding="utf-8")
    (tmp_path / "beta_section_answer.txt").write_text(BETA, encoding="utf-8")
    examples = seed_examples(tmp_path)
    return examples, Matcher(load_catalogue(), examples)


def scored(point) -> list[tuple[str, list[int]]]:
    return [(e.heading, r.ids) for e, r in point.report.items]


def test_simulated_corrections_exact_figures(tiny):
    examples, matcher = tiny
    p0, p1, p2 = (simulate_corrections(examples, matcher, n) for n in (0, 1, 2))
    assert (p0.corrections, p1.corrections, p2.corrections) == (0, 2, 4)
    # N=0: plain leave-one-spec-out; ALPHA's unknown ZP-7 headings abstain.
    assert scored(p0) == [
        ("1 Scope", []), ("2 Zorblat procedure ZP-7", []), ("3 Zorblat procedure ZP-7, severity levels", []),
        ("4 Bulk current injection", [6]), ("5 Glossary", []), ("1 Definitions", []),
        ("2 Radiated emissions", [2]), ("3 Electrostatic discharge, unpowered", [13]),
        ("4 Zorblat procedure on signal lines", [12]),
    ]
    assert (p0.report.top1, len(p0.report.labelled), p0.report.abstained_right, p0.report.unlabelled) == (4, 6, 3, 3)
    # N=1: "2 Zorblat procedure ZP-7" -> 12 is a correction; its sibling heading now finds 12.
    assert scored(p1) == [
        ("1 Scope", []), ("3 Zorblat procedure ZP-7, severity levels", [12]), ("4 Bulk current injection", [6]),
        ("5 Glossary", []), ("1 Definitions", []), ("3 Electrostatic discharge, unpowered", [13]),
        ("4 Zorblat procedure on signal lines", [12]),
    ]
    assert p1.report.summary() == {"top1": 1.0, "top3": 1.0, "abstain_precision": 1.0, "abstain_recall": 1.0}
    assert (p2.report.top1, len(p2.report.labelled), len(p2.report.items)) == (2, 2, 5)
    # Same scored headings for every N: hold the first one out at N=0 too.
    held = simulate_corrections(examples, matcher, 0, held=1)
    assert (held.report.top1, len(held.report.labelled)) == (3, 4)
    with pytest.raises(ValueError, match=r"held \(0\) must be at least n \(1\)"):
        simulate_corrections(examples, matcher, 1, held=0)


def test_correction_counts_parse_lists_repeats_and_default():
    assert correction_counts(["0,1,3,5"]) == [0, 1, 3, 5]
    assert correction_counts(["5", "1", "1,2"]) == [1, 2, 5]
    assert correction_counts(["default"]) == [0, 1, 3, 5]
    with pytest.raises(ValueError, match=r"--simulate-corrections: 'x' is not a count of corrections"):
        correction_counts(["1,x"])


def test_eval_match_simulate_corrections_json(tiny, tmp_path, monkeypatch):
    monkeypatch.delenv("SPEC_AGENT_CATALOGUE", raising=False)
    result = CliRunner().invoke(app, ["eval", "match", "--labels", str(tmp_path), "--json",
                                      "--simulate-corrections", "0", "--simulate-corrections", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"data": str(tmp_path), "simulate_corrections": [
        # every N is scored on the same 7 headings (the first labelled heading of each spec held out)
        {"n": 0, "corrections": 0, "scored": 7, "top1": 0.75, "top3": 0.75, "abstain_precision": 0.75,
         "abstain_recall": 1.0},
        {"n": 1, "corrections": 2, "scored": 7, "top1": 1.0, "top3": 1.0, "abstain_precision": 1.0,
         "abstain_recall": 1.0},
    ]}
    bad = CliRunner().invoke(app, ["eval", "match", "--labels", str(tmp_path), "--simulate-corrections", "two"])
    message = "error: --simulate-corrections: 'two' is not a count of corrections (give e.g. 0,1,3,5 or 'default')\n"
    assert (bad.exit_code, bad.output) == (1, message)
