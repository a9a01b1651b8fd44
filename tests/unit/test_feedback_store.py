"""FeedbackStore (corrections, answers, thumbs, chunk adjustments) and the learn/corrections CLI."""

from __future__ import annotations

import json
import logging
import sqlite3

import pytest
import typer
from typer.testing import CliRunner

from agent import cli
from agent.commands import learn
from agent.config import Settings
from agent.errors import NotFound
from agent.feedback.store import (
    Correction,
    FeedbackStore,
    correction_examples,
    question_similarity,
)
from agent.schema import Citation

Q = "Which test does clause 5.21 of MIL-STD-461G require?"


@pytest.fixture
def store(tmp_path) -> FeedbackStore:
    return FeedbackStore.open(Settings.from_env({}, index_dir=tmp_path / "idx"))


def _cite(n: int, clause: str | None, table: str | None = None) -> dict:
    return {"n": n, "doc": "MIL-STD-461G", "clause": clause, "title": None, "page": 3,
            "table": table, "text": "..."}


def test_open_creates_db_in_index_dir_with_schema_version(tmp_path):
    store = FeedbackStore.open(Settings.from_env({}, index_dir=tmp_path / "idx"))
    assert store.path == tmp_path / "idx" / "feedback.db"
    assert store.schema_version() == 1
    with sqlite3.connect(store.path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1
    assert tables == {"schema_version", "corrections", "answers", "feedback"}
    FeedbackStore(store.path)  # reopening adds no second version row
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1


def test_newer_schema_refused(store):
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(Exception, match=r"feedback.db: written by a newer spec-agent \(schema 99"):
        FeedbackStore(store.path)


def test_correction_round_trip_and_restart(store):
    c = store.add_correction(
        "6.2 Current Probe Method", [1], text="150 kHz to 108 MHz", doc="Byton", clause="6.2",
        wrong=[0], user="alice",
    )
    assert isinstance(c, Correction)
    assert (c.id, c.doc, c.clause, c.heading, c.text) == (1, "Byton", "6.2", "6.2 Current Probe Method",
                                                          "150 kHz to 108 MHz")
    assert (c.wrong, c.right, c.user, c.removed_at) == ((0,), (1,), "alice", None)
    assert c.created_at[:2] == "20" and c.created_at.endswith("+00:00")
    reopened = FeedbackStore(store.path)
    assert reopened.corrections() == [c]


def test_soft_delete_lists_for_audit_and_restores(store):
    a = store.add_correction("Scope", [], user="alice")
    b = store.add_correction("7.2 Bulk Current Injection", [6], user="bob")
    removed = store.remove_correction(a.id)
    assert removed.removed_at is not None
    assert [c.id for c in store.corrections()] == [b.id]
    assert [(c.id, c.removed_at is not None) for c in store.corrections(include_removed=True)] == [
        (a.id, True), (b.id, False)]
    assert store.restore_correction(a.id).removed_at is None
    assert [c.id for c in store.corrections()] == [a.id, b.id]
    with pytest.raises(NotFound, match="correction 99: no such correction"):
        store.remove_correction(99)


def test_failing_write_leaves_nothing(store):
    good = {"heading": "6.1 Voltage Method", "right": [0]}
    with pytest.raises(ValueError, match="give a non-empty heading"):
        store.add_corrections([good, {"heading": "  ", "right": [1]}], user="alice")
    with pytest.raises(ValueError, match="test ids are integers or strings"):
        store.add_corrections([good, {"heading": "x", "right": [1.5]}], user="alice")
    assert store.corrections(include_removed=True) == []
    with pytest.raises(ValueError, match=r"must be \+1 or -1"):
        store.add_feedback(1, 0)
    with pytest.raises(NotFound, match="answer 7: no such answer"):
        store.add_feedback(7, 1)
    assert store.feedback() == []


def test_answer_log_round_trip_accepts_records(store):
    cite = Citation(n=1, doc="MIL-STD-461G", clause="5.21", title="RS103", page=120, table=None, text="t")
    aid = store.log_answer(Q, "RS103 [1]", thread_id="t1", mode="rag", evidence=[cite],
                           citations=[cite], tests=["RS103"])
    a = FeedbackStore(store.path).answer(aid)
    expected = {"n": 1, "doc": "MIL-STD-461G", "clause": "5.21", "title": "RS103", "page": 120,
                "table": None, "text": "t", "row": None, "page_label": None, "position": None}
    assert (a.question, a.answer, a.thread_id, a.mode) == (Q, "RS103 [1]", "t1", "rag")
    assert a.evidence == (expected,) and a.citations == (expected,) and a.tests == ("RS103",)


def test_feedback_round_trip(store):
    aid = store.log_answer(Q, "a", citations=[_cite(1, "5.21")])
    f = store.add_feedback(aid, -1, "wrong edition", "bob")
    assert (f.answer_id, f.value, f.comment, f.user) == (aid, -1, "wrong edition", "bob")
    assert FeedbackStore(store.path).feedback() == [f]


def test_question_similarity():
    assert question_similarity(Q, Q.lower() + "  ") == 1.0
    # {test, clause, 5.21, mil-std-461g, require} vs {test, 5.21, require} ("which", "does" stop)
    assert question_similarity(Q, "which test does 5.21 require") == pytest.approx(3 / 5)
    assert question_similarity(Q, "CE102 limits for 28 V") == 0.0
    assert question_similarity("the of", Q) == 0.0


def test_chunk_adjustments_bounded_similar_only_and_reversible(store, caplog):
    down = store.log_answer(Q, "bad", citations=[_cite(1, "5.21"), _cite(2, "5.21", "TABLE XI")])
    up = store.log_answer(Q, "good", citations=[_cite(1, "5.20")])
    thumbs = [store.add_feedback(down, -1, "", u) for u in ("a", "b", "c")]
    store.add_feedback(up, +1, "", "a")
    with caplog.at_level(logging.INFO, logger="agent.feedback.store"):
        adj = store.chunk_adjustments(Q)
    # three thumbs-down of 0.2 each sum to -0.6, clipped to -0.5; a table chunk keys by table id
    assert adj == {("MIL-STD-461G", "5.21"): -0.5, ("MIL-STD-461G", "TABLE XI"): -0.5,
                   ("MIL-STD-461G", "5.20"): 0.2}
    assert "feedback adjusts 3 chunk(s)" in caplog.text
    # a similar question (similarity 3/5) gets a scaled-down adjustment; a different one none
    similar = store.chunk_adjustments("which test does 5.21 require")
    assert similar[("MIL-STD-461G", "5.20")] == pytest.approx(0.2 * 3 / 5, abs=1e-6)
    assert similar[("MIL-STD-461G", "5.21")] == pytest.approx(-0.36, abs=1e-6)  # 3 × -0.12
    assert store.chunk_adjustments("CE102 limits for 28 V") == {}
    for thumb in thumbs[:2]:
        store.remove_feedback(thumb.id)
    assert store.chunk_adjustments(Q)[("MIL-STD-461G", "5.21")] == -0.2
    store.remove_feedback(thumbs[2].id)
    assert store.chunk_adjustments(Q) == {("MIL-STD-461G", "5.20"): 0.2}


def test_adjustments_fall_back_to_evidence_when_nothing_cited(store):
    aid = store.log_answer(Q, "a", evidence=[_cite(1, "5.21"), _cite(2, None)])
    store.add_feedback(aid, 1, "", "a")
    assert store.chunk_adjustments(Q) == {("MIL-STD-461G", "5.21"): 0.2}


def test_correction_examples_for_matcher(store):
    store.add_correction("6.2 Current Probe Method", [1], doc="Byton", clause="6.2", user="alice")
    gone = store.add_correction("Scope", [2], user="bob")
    store.remove_correction(gone.id)
    [example] = correction_examples(store)
    day = store.corrections()[0].created_at[:10]
    assert example == {"heading": "6.2 Current Probe Method", "text": "", "tests": [1],
                       "source": f"engineer correction (alice, {day})", "doc": "Byton",
                       "clause": "6.2", "weight": 3.0}


# -- CLI ----------------------------------------------------------------------------------------


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.delenv("SPEC_AGENT_INDEX", raising=False)
    app = typer.Typer()
    app.callback()(cli._global)
    learn.register(app)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, ["--index", str(tmp_path / "idx"), *args], input=input)

    return invoke


def test_learn_stores_lines_and_lists_them(run, tmp_path):
    lines = [
        json.dumps({"heading": "6.2 Current Probe Method", "text": "", "tests": [1], "doc": "Byton",
                    "clause": "6.2"}),
        "",
        json.dumps({"heading": "Scope", "text": "applies to all", "tests": []}),
    ]
    result = run("learn", "--user", "alice", input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"stored 2 correction(s) by alice in {tmp_path / 'idx'}\n"
    listed = run("corrections", "--json")
    rows = json.loads(listed.stdout)
    assert [{k: v for k, v in r.items() if k != "created_at"} for r in rows] == [
        {"id": 1, "doc": "Byton", "clause": "6.2", "heading": "6.2 Current Probe Method", "text": "",
         "wrong": None, "right": [1], "user": "alice"},
        {"id": 2, "doc": None, "clause": None, "heading": "Scope", "text": "applies to all",
         "wrong": None, "right": [], "user": "alice"},
    ]
    day = rows[0]["created_at"][:10]
    assert run("corrections").stdout == (
        f"#1  {day}  alice  Byton 6.2  6.2 Current Probe Method -> 1\n#2  {day}  alice  Scope -> none\n")


def test_learn_user_from_environment(run, monkeypatch):
    monkeypatch.setenv("USER", "carol")
    result = run("learn", input='{"heading": "h", "text": "", "tests": [3]}\n')
    assert result.exit_code == 0 and "by carol" in result.stdout


@pytest.mark.parametrize(
    "line, message",
    [
        ("{bad json", "error: line 2: not JSON (Expecting property name enclosed in double quotes at column 2)"),
        ('["h"]', "error: line 2: not a JSON object"),
        ('{"heading": "", "text": "", "tests": []}', 'error: line 2: "heading" must be a non-empty string'),
        ('{"heading": "h", "tests": []}', 'error: line 2: "text" must be a string (may be empty)'),
        ('{"heading": "h", "text": "", "tests": 3}', 'error: line 2: "tests" must be a list of test ids'),
        ('{"heading": "h", "text": "", "tests": ["1"]}', 'error: line 2: "tests" must be a list of test ids (integers)'),
        ('{"heading": "h", "text": "", "tests": [1, 15]}',
         'error: line 2: "tests": no test 15 in the catalogue (ids 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)'),
        ('{"heading": "h", "text": "", "test": [3]}', "error: line 2: unknown key(s) test (allowed:"),
    ],
)
def test_learn_bad_line_is_one_line_error_and_stores_nothing(run, line, message):
    good = '{"heading": "6.1 Voltage Method", "text": "", "tests": [0]}'
    result = run("learn", "--user", "alice", input=f"{good}\n{line}\n")
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert run("corrections", "--json").stdout.strip() == "[]"


def test_learn_empty_input(run):
    result = run("learn", "--user", "alice", input="\n\n")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no corrections on standard input")


def test_corrections_remove_reverts(run):
    run("learn", "--user", "alice", input='{"heading": "Scope", "text": "", "tests": [2]}\n')
    result = run("corrections", "--remove", "1")
    assert (result.exit_code, result.stdout) == (0, "removed correction #1 (Scope)\n")
    assert run("corrections").stdout == "no corrections yet; add some with `spec-agent learn`\n"
    audit = run("corrections", "--all")
    day = json.loads(run("corrections", "--all", "--json").stdout)[0]["removed_at"][:10]
    assert audit.stdout == f"#1  {day}  alice  Scope -> 2  [removed {day}]\n"
    missing = run("corrections", "--remove", "5")
    assert missing.exit_code == 1
    assert missing.stderr == (
        "error: correction 5: no such correction; list them with `spec-agent corrections`.\n")
