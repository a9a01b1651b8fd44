"""Thumbs steer retrieval: a thumbs-down lowers the chunks an answer cited for similar questions,
a thumbs-up raises them, removing the thumb restores the order (offline assistant, sample spec)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_index

from agent.config import Settings
from agent.schema import Hit
from agent.service import Assistant
from agent.tools import rerank

SAMPLE = Path(__file__).resolve().parents[2] / "agent" / "data" / "sample" / "ACME-EMC-CS-2026.pdf"
QUESTION = "Which clause covers the immunity to portable transmitters?"


@pytest.fixture
def assistant(sample_index_master, tmp_path) -> Assistant:
    index = copy_index(sample_index_master, tmp_path / "index")
    return Assistant.open(Settings(index_dir=index, embedder="lsa", offline=True))


def cited_clauses(assistant: Assistant, question: str) -> list[str]:
    return [c["clause"] for c in assistant.ask(question, "steer").citations]


def test_rerank_moves_hits_by_their_offset():
    hits = [Hit("D", "9.3", "a", 6, None, "", 0.030), Hit("D", "9.2", "b", 6, None, "", 0.020),
            Hit("D", "9.2", "t", 6, "Table 9-2", "", 0.010)]
    assert [h.clause for h in rerank(hits, {})] == ["9.3", "9.2", "9.2"]
    down = rerank(hits, {("D", "9.3"): -0.5})
    assert [(h.clause, h.table) for h in down] == [("9.2", None), ("9.3", None), ("9.2", "Table 9-2")]
    up = rerank(hits, {("D", "Table 9-2"): 0.5, ("D", "9.3"): -0.5})
    assert [(h.clause, h.table) for h in up] == [("9.2", None), ("9.3", None), ("9.2", "Table 9-2")]


def test_thumbs_down_lowers_the_cited_clause_and_removing_it_restores(assistant):
    before = cited_clauses(assistant, QUESTION)
    assert before[0] == "9.3"
    record = assistant.ask(QUESTION, "steer-1")
    feedback = assistant.feedback.add_feedback(record.answer_id, -1, "9.3 is not what I meant", "alice")
    feedback_2 = assistant.feedback.add_feedback(record.answer_id, -1, "still not", "bob")
    after = cited_clauses(assistant, QUESTION)
    # every chunk the rejected answer cited is lowered: one it did not cite now leads
    assert after[0] not in before
    assert "9.3" not in after[:1]
    # A question about something else is not affected.
    assert cited_clauses(assistant, "Which clause covers electrostatic discharge?")[0].startswith("10")
    assistant.feedback.remove_feedback(feedback.id)
    assistant.feedback.remove_feedback(feedback_2.id)
    assert cited_clauses(assistant, QUESTION) == before


def test_thumbs_up_raises_a_lower_hit(assistant):
    before = cited_clauses(assistant, QUESTION)
    second = before[1]
    record = assistant.ask(QUESTION, "steer-2")
    # Thumbs-up on an answer that cited only the second hit (as the engineer would see it).
    answer_id = assistant.feedback.log_answer(QUESTION, "See [2].", thread_id="x", mode="offline",
                                              evidence=record.evidence,
                                              citations=[c for c in record.citations if c["clause"] == second][:1])
    for user in ("alice", "bob", "carol"):
        assistant.feedback.add_feedback(answer_id, +1, "", user)
    assert cited_clauses(assistant, QUESTION)[0] == second
