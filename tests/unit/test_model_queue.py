"""The model's queue: first come, first served within the concurrency; places reported while
waiting; a failed request frees its slot; the chat model's requests (plain, bound to tools, JSON)
go through it, and the chat shows a waiting user their place."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from conftest import copy_index
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

from agent.config import Settings
from agent.graph.model_queue import GatedChatModel, ModelGate, gate_for, gated
from agent.service import FinalEvent, StepEvent, WaitEvent
from ui import conversation


def wait_until(condition, timeout_s: float = 5.0) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


class Holder(threading.Thread):
    """A request that takes a slot (reporting its places) and keeps it until released."""

    def __init__(self, gate: ModelGate, name: str, order: list[str]) -> None:
        super().__init__(daemon=True)
        self.gate, self.label, self.order = gate, name, order
        self.places: list[int] = []
        self.release = threading.Event()
        self.holding = threading.Event()

    def run(self) -> None:
        with self.gate.slot(lambda place: self.places.append(place["position"])):
            self.order.append(self.label)
            self.holding.set()
            self.release.wait(5)


def test_waiters_go_in_arrival_order_and_hear_each_place():
    gate, order = ModelGate(1), []
    first = Holder(gate, "first", order)
    first.start()
    first.holding.wait(5)
    waiters = []
    for i, name in enumerate(["a", "b", "c"]):
        waiters.append(Holder(gate, name, order))
        waiters[-1].start()
        wait_until(lambda n=i + 1: gate.waiting == n)
    assert [w.places for w in waiters] == [[1], [2], [3]]

    for holder, taker in zip([first, *waiters], waiters):  # each freed slot goes to the next in line
        holder.release.set()
        assert taker.holding.wait(5)
        behind = waiters[waiters.index(taker) + 1:]
        wait_until(lambda behind=behind: [w.places[-1] for w in behind] == list(range(1, len(behind) + 1)))
    waiters[-1].release.set()
    for holder in [first, *waiters]:
        holder.join(5)
    assert order == ["first", "a", "b", "c"]
    assert first.places == []  # never waited: nothing reported
    assert [w.places for w in waiters] == [[1, 0], [2, 1, 0], [3, 2, 1, 0]]
    assert (gate.running, gate.waiting) == (0, 0)


def test_never_more_than_the_limit_at_once():
    gate, lock, state = ModelGate(2), threading.Lock(), {"now": 0, "peak": 0}

    def request() -> None:
        with gate.slot():
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            time.sleep(0.02)
            with lock:
                state["now"] -= 1

    threads = [threading.Thread(target=request) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert state == {"now": 0, "peak": 2}


def test_a_failed_request_frees_its_slot():
    gate = ModelGate(1)
    with pytest.raises(RuntimeError, match="model down"), gate.slot():
        raise RuntimeError("model down")
    assert (gate.running, gate.waiting) == (0, 0)
    with gate.slot():
        assert gate.running == 1


def test_a_raised_limit_lets_waiters_in():
    gate, order = ModelGate(1), []
    first, second = Holder(gate, "first", order), Holder(gate, "second", order)
    first.start()
    first.holding.wait(5)
    second.start()
    wait_until(lambda: gate.waiting == 1)
    gate.set_limit(2)
    assert second.holding.wait(5) and gate.running == 2
    first.release.set(), second.release.set()
    first.join(5), second.join(5)
    assert second.places == [1, 0]


def test_one_gate_per_server_and_model_at_the_configured_concurrency():
    settings = Settings(ollama_host="http://gate-test:11434", chat_model="gate-test")
    gate = gate_for(settings)
    assert gate.limit == 2  # the default
    assert gate_for(settings.with_(llm_concurrency=4)) is gate and gate.limit == 4
    assert gate_for(settings.with_(chat_model="other")) is not gate
    with pytest.raises(ValueError, match=r"SPEC_AGENT_LLM_CONCURRENCY must be 1 or more \(got 0\)"):
        gate_for(settings.with_(llm_concurrency=0))
    assert Settings.from_env({"SPEC_AGENT_LLM_CONCURRENCY": "5"}).llm_concurrency == 5


class RecordingChat(GenericFakeChatModel):
    calls: list[dict[str, Any]] = Field(default_factory=list)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self.calls.append(kwargs)
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def bind_tools(self, tools, **kwargs):
        return self.bind(tools=[t.__name__ for t in tools], **kwargs)


class SelfBoundChat(GenericFakeChatModel):
    def bind_tools(self, tools, **kwargs):
        return self


def blocked_until_freed(gate: ModelGate, request) -> Any:
    """Run `request` while the gate's only slot is taken: it must wait; then free the slot."""
    out: dict[str, Any] = {}
    with gate.slot():
        thread = threading.Thread(target=lambda: out.setdefault("reply", request()))
        thread.start()
        wait_until(lambda: gate.waiting == 1)
        assert "reply" not in out
    thread.join(5)
    return out["reply"]


def get_clause(number: str) -> str:
    """A clause."""
    return number


@pytest.mark.parametrize("how", ["invoke", "stream", "json", "tools", "own binding"])
def test_every_kind_of_model_request_waits_for_a_slot(how):
    gate = ModelGate(1)
    inner = (SelfBoundChat if how == "own binding" else RecordingChat)(messages=iter([AIMessage("ok [1]")]))
    model = gated(inner, gate)
    assert isinstance(model, GatedChatModel) and gated(model, gate) is model and gated(None, gate) is None
    ask = [HumanMessage("q")]
    request = {"invoke": lambda: model.invoke(ask).content,
               "stream": lambda: "".join(str(c.content) for c in model.stream(ask)),
               "json": lambda: model.bind(format="json").invoke(ask).content,
               "tools": lambda: model.bind_tools([get_clause]).invoke(ask).content,
               "own binding": lambda: model.bind_tools([get_clause]).invoke(ask).content}[how]
    assert blocked_until_freed(gate, request) == "ok [1]"
    if how == "json":
        assert inner.calls == [{"format": "json"}]
    if how == "tools":
        assert inner.calls == [{"tools": ["get_clause"]}]
    assert (gate.running, gate.waiting) == (0, 0)


@pytest.fixture
def assistant(sample_index_master, tmp_path):
    from agent.service import Assistant

    index = copy_index(sample_index_master, tmp_path / "index")
    good = "Clause 8.2.2.1 calls for the Conducted Emission - Voltage Method test (CISPR 25) [1]."
    model = GenericFakeChatModel(messages=iter([AIMessage(good)]))
    settings = Settings(index_dir=index, embedder="lsa", offline=True, chat_model="queue-test-model",
                        llm_concurrency=1)
    return Assistant.open(settings, model=model)


async def test_a_waiting_answer_streams_its_place_after_the_tools(assistant):
    gate = gate_for(assistant.settings)
    events: list[Any] = []

    async def ask() -> None:
        async for event in assistant.astream("Which test does 8.2.2.1 require?", "queue-thread"):
            events.append(event)

    with gate.slot():  # another user's answer holds the only slot
        task = asyncio.create_task(ask())
        while not any(isinstance(e, WaitEvent) for e in events):
            await asyncio.sleep(0.01)
        assert [e.name for e in events if isinstance(e, StepEvent)] == ["understand", "tool: match_tests"]
    await task
    waits = [e for e in events if isinstance(e, WaitEvent)]
    assert [(w.position, w.limit) for w in waits] == [(1, 1), (0, 1)] and waits[1].waited_s > 0
    assert isinstance(events[-1], FinalEvent) and events[-1].answer.mode == "llm"
    assert events[-1].answer.answer.startswith("Clause 8.2.2.1 calls for")


class ProgressChat:
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    async def start_progress(self, name, input):
        chat = self
        self.events.append(("progress", name, input))

        class Progress:
            async def update(self, output):
                chat.events.append(("update", output))

            async def finish(self, output):
                chat.events.append(("end", output))

        return Progress()


async def test_the_chat_shows_the_place_as_it_moves_up_then_the_wait():
    chat, waiting = ProgressChat(), None
    for event in [WaitEvent(3, 2), WaitEvent(2, 2), WaitEvent(1, 2), WaitEvent(0, 2, 2.46)]:
        waiting = await conversation.show_wait(chat, waiting, event)
    assert waiting is None
    assert chat.events == [
        ("progress", "waiting for the model", "other questions are being answered"),
        ("update", "Position 3 in the queue for the model (2 questions ahead of yours; it answers 2 at a time)."),
        ("update", "Position 2 in the queue for the model (1 question ahead of yours; it answers 2 at a time)."),
        ("update", "Position 1 in the queue for the model (you are next; it answers 2 at a time)."),
        ("end", "Sent to the model after 2.5 s in the queue."),
    ]

