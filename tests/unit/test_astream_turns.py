"""Assistant.astream over a thread of several turns (offline, the sample spec): each turn streams
the steps of its own nodes, not the ones the checkpointer hands in with the question."""

from __future__ import annotations

import pytest
from conftest import copy_index

from agent.service import StepEvent

TURNS = ["Which test does 8.2.2.1 require?", "Which clause covers ESD on unpowered parts?", "and its limits?"]


@pytest.fixture(scope="module")
def sample_assistant(sample_index_master, tmp_path_factory):
    from agent.config import Settings
    from agent.service import Assistant

    index = copy_index(sample_index_master, tmp_path_factory.mktemp("astream") / "index")
    return Assistant.open(Settings(index_dir=index, embedder="lsa", offline=True))


async def steps_of(assistant, question: str, thread: str) -> list[tuple[str, str]]:
    return [(e.name, e.input) async for e in assistant.astream(question, thread) if isinstance(e, StepEvent)]


async def test_the_second_turn_streams_only_its_own_steps(sample_assistant):
    """Before: the second turn replayed the first turn's understand, match_tests and answer
    (offline), then lost its own first steps (the list it counted from was the old one)."""
    first = await steps_of(sample_assistant, TURNS[0], "steps-thread")
    second = await steps_of(sample_assistant, TURNS[1], "steps-thread")
    assert first == [("understand", TURNS[0]), ("tool: match_tests", "clause 8.2.2.1"),
                     ("answer (offline)", "extractive")]
    assert [name for name, _ in second] == ["understand", "tool: search_spec", "answer (offline)"]
    assert second[0] == ("understand", TURNS[1])


async def test_a_follow_up_starts_with_its_own_understanding(sample_assistant):
    for question in TURNS[:2]:
        await steps_of(sample_assistant, question, "follow-up-thread")
    third = await steps_of(sample_assistant, TURNS[2], "follow-up-thread")
    assert third[0] == ("understand", TURNS[2]) and [n for n, _ in third].count("understand") == 1
    assert third[-1] == ("answer (offline)", "extractive")
