"""The model's queue: at most settings.llm_concurrency model requests at once per server, the
others waiting in arrival order and told their place; nothing else (tools, matching, tables,
extractive answers) ever waits here.

`gate_for(settings) -> ModelGate` is this process's one gate for a model server and model (every
chat session of a server shares it). `gated(model, gate)` wraps a chat model so that each request
(invoke, stream, a bound model's request with tools or JSON format) holds a slot of the gate for
as long as it runs, tokens streamed included. A request that has to wait reports its place through
LangGraph's custom stream (`{"llm_queue": {"position", "limit", "waited_s"}}`): position N (N-1
requests ahead of it in the queue, `limit` answering), then 0 with the seconds waited once it is
sent. Outside a graph run the report is only logged.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from time import monotonic
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableBinding
from pydantic import ConfigDict

from agent.config import Settings

log = logging.getLogger(__name__)

QUEUE_KEY = "llm_queue"  # the key of the gate's reports in LangGraph's custom stream

Report = Callable[[dict[str, Any]], None]


class ModelGate:
    """At most `limit` holders at once; the others wait first come, first served."""

    def __init__(self, limit: int) -> None:
        self._limit = _checked(limit)
        self._cond = threading.Condition()
        self._waiting: deque[object] = deque()
        self._running = 0

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def set_limit(self, limit: int) -> None:
        with self._cond:
            self._limit = _checked(limit)
            self._cond.notify_all()

    @contextmanager
    def slot(self, report: Report | None = None) -> Iterator[None]:
        """Hold one slot for the block; `report` (must not block) hears the place while waiting."""
        self._acquire(report)
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    def _acquire(self, report: Report | None) -> None:
        ticket, start, shown = object(), monotonic(), 0
        with self._cond:
            self._waiting.append(ticket)
            try:
                while not (self._waiting[0] is ticket and self._running < self._limit):
                    position = self._position(ticket)
                    if position != shown:
                        shown = position
                        _tell(report, {"position": position, "limit": self._limit, "waited_s": 0.0})
                    self._cond.wait()
            except BaseException:
                self._waiting.remove(ticket)
                self._cond.notify_all()
                raise
            self._waiting.popleft()
            self._running += 1
            self._cond.notify_all()  # the next in line moves up one place
        if shown:
            _tell(report, {"position": 0, "limit": self._limit, "waited_s": round(monotonic() - start, 3)})

    def _position(self, ticket: object) -> int:
        """1 for the next in line: the requests ahead of this one in the queue, plus one, less
        the slots free now (a ticket whose turn has come but has not taken it yet counts 1)."""
        free = max(0, self._limit - self._running)
        return max(1, self._waiting.index(ticket) + 1 - free)


def _checked(limit: int) -> int:
    if int(limit) < 1:
        raise ValueError(f"SPEC_AGENT_LLM_CONCURRENCY must be 1 or more (got {limit}); "
                         "set it to how many requests the model server takes at once.")
    return int(limit)


def _tell(report: Report | None, place: dict[str, Any]) -> None:
    if report is not None:
        report(place)


# --- one gate per model server and model, for the whole process ------------------------------

_GATES: dict[tuple[str, ...], ModelGate] = {}
_GATES_LOCK = threading.Lock()


def gate_for(settings: Settings) -> ModelGate:
    """This process's gate for the configured model server and model, at settings.llm_concurrency
    (a later setting changes the limit of the same gate; raises ValueError below 1)."""
    key = (settings.llm, settings.ollama_host, settings.openai_base_url, settings.chat_model)
    with _GATES_LOCK:
        gate = _GATES.get(key)
        if gate is None:
            gate = _GATES[key] = ModelGate(settings.llm_concurrency)
        elif gate.limit != settings.llm_concurrency:
            gate.set_limit(settings.llm_concurrency)
        return gate


def stream_report(place: dict[str, Any]) -> None:
    """The place in the queue into the running graph's custom stream (logged outside a graph)."""
    from langgraph.config import get_stream_writer

    try:
        writer = get_stream_writer()
    except RuntimeError:  # not inside a graph run: the CLI's own model calls, a test
        log.info("waiting for the model: %s", place)
        return
    writer({QUEUE_KEY: place})


# --- the wrapped chat model ------------------------------------------------------------------


class GatedChatModel(BaseChatModel):
    """`inner`, each request holding a slot of `gate`; everything else is the inner model's."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    gate: ModelGate

    @property
    def _llm_type(self) -> str:
        return f"gated-{self.inner._llm_type}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return dict(self.inner._identifying_params)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        with self.gate.slot(stream_report):
            return self.inner._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        with self.gate.slot(stream_report):  # held until the last token
            yield from self.inner._stream(messages, stop=stop, run_manager=run_manager, **kwargs)

    def bind_tools(self, tools: Any, **kwargs: Any) -> Runnable:
        """The inner model's tool binding, its requests through the gate."""
        bound = self.inner.bind_tools(tools, **kwargs)
        if isinstance(bound, RunnableBinding) and bound.bound is self.inner:
            return self.bind(**bound.kwargs)
        return _GatedRunnable(bound, self.gate)  # a binding of its own making (test fakes)


class _GatedRunnable(Runnable):
    """Any runnable whose invoke holds a slot of the gate (for bindings that are not kwargs)."""

    def __init__(self, bound: Runnable, gate: ModelGate) -> None:
        self.bound = bound
        self.gate = gate

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        with self.gate.slot(stream_report):
            return self.bound.invoke(input, config, **kwargs)


def gated(model: BaseChatModel | None, gate: ModelGate) -> BaseChatModel | None:
    """`model` with its requests through `gate` (None stays None; a gated model is not wrapped twice)."""
    if model is None or isinstance(model, GatedChatModel):
        return model
    return GatedChatModel(inner=model, gate=gate)
