"""Many users, one model: twenty chat sessions ask at once; the scripted Ollama takes 1 s per
answer and the server sends SPEC_AGENT_LLM_CONCURRENCY=2 requests at a time. Every session is
answered, each waiting session is told its place and waits no longer than its place implies,
the model never sees more than two requests at once, and the chat's own commands (/docs, /clause)
answer at once meanwhile."""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import copy_index
from scripted_ollama import ScriptedOllama

from agent.config import Settings
from agent.graph.model_queue import gate_for
from agent.service import Assistant
from ui import conversation
from ui.chat import DRAFT

SESSIONS, CONCURRENCY, ANSWER_S = 20, 2, 1.0
OVERHEAD_S = 0.15  # per request ahead: HTTP, streaming, the slot handed on (about 0.03 s here)
SLACK_S = 0.5  # thread start-up on a shared 2-core machine
QUESTION = "Which test does 8.2.2.1 require?"
GOOD = "Clause 8.2.2.1 calls for the Conducted Emission - Voltage Method test (CISPR 25) [1]."


class SlowModel:
    """The scripted reply: 1 s of thinking, counting the requests the server holds at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0

    def __call__(self, body: dict[str, Any]) -> str:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        time.sleep(ANSWER_S)
        with self.lock:
            self.in_flight -= 1
        return GOOD


@dataclass
class Session:
    """A chat session that records what its user sees, and when."""

    user: str
    thread_id: str
    scope: list[str] = field(default_factory=list)
    seen: list[tuple[float, str, str]] = field(default_factory=list)  # (time, what, text)
    answer: str = ""

    def note(self, what: str, text: str = "") -> None:
        self.seen.append((time.monotonic(), what, text))

    async def send(self, content, *, elements=(), actions=(), metadata=None):
        self.note("message", content)

    async def start_answer(self):
        session = self

        class Answer:
            async def token(self, text, draft=DRAFT):
                session.note("token", text)

            async def finish(self, content, *, elements=(), actions=(), metadata=None):
                session.answer = content
                session.note("answer", content)

        return Answer()

    async def step(self, name, input, output):
        self.note("step", name)

    async def start_progress(self, name, input):
        session = self
        session.note("progress", name)

        class Progress:
            async def update(self, output):
                session.note("waiting", output)

            async def finish(self, output):
                session.note("sent", output)

        return Progress()

    async def choose(self, question, actions):
        return None

    async def offer_scope(self, documents, scope):
        self.scope = list(scope)

    def first(self, what: str) -> float:
        return next(t for t, w, _ in self.seen if w == what)

    def positions(self) -> list[int]:
        return [int(text.split()[1]) for _, w, text in self.seen if w == "waiting"]


@pytest.fixture
def replies() -> int:
    return SESSIONS


@pytest.fixture
def server(sample_index_master, tmp_path, replies):
    """(assistant, slow model, scripted Ollama) with `replies` answers queued."""
    index = copy_index(sample_index_master, tmp_path / "index")
    model = SlowModel()
    with ScriptedOllama(["llama3:latest"], {"llama3": ["completion"]}) as ollama:
        for _ in range(replies):
            ollama.enqueue(model)
        settings = Settings(index_dir=index, embedder="lsa", ollama_host=ollama.url, chat_model="llama3",
                            llm_concurrency=CONCURRENCY)
        assistant = Assistant.open(settings)
        assert assistant.mode == "llm"
        yield assistant, model, ollama
        assert ollama.pending == 0


async def timed(coro) -> float:
    start = time.monotonic()
    await coro
    return time.monotonic() - start


async def test_twenty_sessions_share_two_model_slots_in_turn(server):
    assistant, model, ollama = server
    sessions = [Session(f"user{i}", f"thread-{i}") for i in range(SESSIONS)]
    start = time.monotonic()
    asks = [asyncio.create_task(conversation.on_message(assistant, s, QUESTION)) for s in sessions]

    gate = gate_for(assistant.settings)
    while gate.waiting < SESSIONS // 2 and not all(a.done() for a in asks):
        await asyncio.sleep(0.02)
    assert gate.waiting >= SESSIONS // 2  # the queue is long now: the commands run beside it
    probe = Session("probe", "thread-probe")
    docs_s = await timed(conversation.on_message(assistant, probe, "/docs"))
    clause_s = await timed(conversation.on_message(assistant, probe, "/clause 8.2.2.1"))
    queued_meanwhile = gate.waiting

    await asyncio.gather(*asks)
    wall_s = time.monotonic() - start

    # every session answered by the model, verified; the server never held more than two
    assert [s.answer.split("\n\n")[0] for s in sessions] == [GOOD] * SESSIONS
    assert len(ollama.bodies("/api/chat")) == SESSIONS and model.peak == CONCURRENCY
    # the chat's commands answered while the queue still held questions
    assert "| ACME-EMC-CS-2026 | 9 |" in probe.seen[0][2] and "8.2.2.1" in probe.seen[1][2]
    assert queued_meanwhile > 0 and docs_s < 0.5 and clause_s < 0.5, (docs_s, clause_s)

    waited = [s for s in sessions if s.positions()]
    assert len(waited) >= SESSIONS - CONCURRENCY - 2  # nearly all arrived while two were answered
    report = []
    for s in waited:
        positions = s.positions()
        wait_s = s.first("sent") - s.first("progress")
        report.append((positions[0], round(wait_s, 2)))
        # the documents were searched before the request queued; the place only ever improves
        assert s.first("step") < s.first("progress") and "tool: match_tests" in [
            text for t, w, text in s.seen if w == "step" and t < s.first("progress")]
        assert positions == sorted(set(positions), reverse=True), positions
        rounds = math.ceil(positions[0] / CONCURRENCY)  # answers to wait for in each slot
        assert wait_s <= rounds * (ANSWER_S + OVERHEAD_S) + SLACK_S, report
    print(f"\n{SESSIONS} sessions, {CONCURRENCY} at a time, {ANSWER_S:g} s each: all answered in "
          f"{wall_s:.1f} s; /docs {docs_s * 1000:.0f} ms, /clause {clause_s * 1000:.0f} ms with "
          f"{queued_meanwhile} queued; (first position, wait s): {sorted(report)}")
    assert wall_s < SESSIONS / CONCURRENCY * ANSWER_S + 5


def chainlit_context(thread_id: str) -> Any:
    """A Chainlit context for this task (as in Chainlit's backend tests); its emitter records."""
    from unittest.mock import AsyncMock, MagicMock

    from chainlit.context import ChainlitContext, context_var

    session = MagicMock()
    session.thread_id = thread_id
    session.chat_settings = {}
    session.persist_file = AsyncMock(return_value={"id": "file-key"})
    emitter = MagicMock()
    for name in ("send_step", "update_step", "stream_start", "send_token", "send_element", "emit"):
        setattr(emitter, name, AsyncMock())
    context_var.set(ChainlitContext(session, emitter))
    return emitter


@pytest.mark.parametrize("replies", [1])
async def test_in_chainlit_a_waiting_user_sees_a_step_with_their_place(server):
    from ui.chainlit_chat import ChainlitChat

    assistant, _, _ = server
    emitter = chainlit_context("thread-wait")
    gate = gate_for(assistant.settings)
    with gate.slot(), gate.slot():  # two other users' answers are being written
        task = asyncio.create_task(conversation.answer(assistant, ChainlitChat("ada", "thread-wait"), QUESTION))
        while not (opened := [c.args[0] for c in emitter.send_step.await_args_list
                              if c.args[0]["name"] == conversation.WAITING]):
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # still waiting: the slots are taken
        assert not task.done()
    await task
    (opened,) = opened
    updates = [c.args[0]["output"] for c in emitter.update_step.await_args_list if c.args[0]["id"] == opened["id"]]
    assert updates[0] == "Position 1 in the queue for the model (you are next; it answers 2 at a time)."
    assert re.fullmatch(r"Sent to the model after \d+\.\d s in the queue\.", updates[-1]) and len(updates) == 2
    (message,) = [c.args[0] for c in emitter.send_step.await_args_list if c.args[0]["type"] == "assistant_message"]
    assert message["output"].startswith(GOOD)
