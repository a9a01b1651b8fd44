"""The assistant facade the CLI and the chat UI talk to: one object over index, matcher, graph and feedback.

Events streamed by `Assistant.astream`:
- `StepEvent(name, input, output)`: one step of the agent (understanding, a tool call with its
  input and a short result, verification), for collapsible steps in the UI;
- `TokenEvent(text, node)`: a token of the draft as the LLM writes it (LLM mode only), before its
  citations and numbers are verified: show it as a draft, never as the answer;
- `WaitEvent(position, limit, waited_s)`: the model is busy with other users' questions: this
  request is `position` in its queue (1: next), `limit` being answered at once; position 0 when it
  is sent, after `waited_s` seconds;
- `FinalEvent(answer)`: the verified answer (`AnswerRecord`), always last.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnswerRecord:
    """A finished answer: text, how it was made, what it cites, which tests it names."""

    question: str
    answer: str
    mode: str  # "llm" | "offline"
    citations: list[dict[str, Any]]  # {"n","doc","clause","title","page","table","text", "row"?}
    tests: list[dict[str, Any]] = field(default_factory=list)  # {"id","name","score"}
    evidence: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "evidence trimmed to fit num_ctx"
    answer_id: int | None = None  # row in the feedback store's answers table
    thread_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "mode": self.mode,
            "citations": [
                {k: c.get(k) for k in ("n", "doc", "clause", "title", "page", "table", "text")}
                for c in self.citations
            ],
            "tests": [{k: t[k] for k in ("id", "name", "score")} for t in self.tests],
        }


@dataclass(frozen=True)
class StepEvent:
    name: str
    input: str
    output: str


DRAFT_NODES = ("compose", "tool_loop", "retry")  # the nodes whose model output is an unverified draft


@dataclass(frozen=True)
class TokenEvent:
    text: str
    node: str = "compose"  # the first draft ("compose", "tool_loop") or the one after failed checks ("retry")


@dataclass(frozen=True)
class WaitEvent:
    position: int  # in the model's queue: 1 next, 0 sent now
    limit: int  # requests the model answers at once (settings.llm_concurrency)
    waited_s: float = 0.0  # with position 0: how long this request waited


@dataclass(frozen=True)
class FinalEvent:
    answer: AnswerRecord


async def _in_thread(make_iter: Any):
    """Iterate a blocking iterator in a thread of its own (the SQLite checkpointer is sync-only):
    an answer waiting for the model never holds a thread of the event loop's pool, which the
    chat's commands, listings and sources need meanwhile."""
    import asyncio

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    done = object()

    def pump() -> None:
        try:
            for item in make_iter():
                loop.call_soon_threadsafe(queue.put_nowait, item)
        except Exception as err:  # noqa: BLE001 (re-raised in the caller's task)
            loop.call_soon_threadsafe(queue.put_nowait, err)
        loop.call_soon_threadsafe(queue.put_nowait, done)

    threading.Thread(target=pump, name="spec-agent-answer", daemon=True).start()
    while (item := await queue.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item


class Assistant:
    """Index + matcher + graph + feedback store for one index directory; the CLI and UI use only this."""

    def __init__(self, settings: Any, index: Any, matcher: Any, feedback: Any, *, model: Any = None,
                 tool_calling: bool = False, model_name: str | None = None, status_note: str = "") -> None:
        from agent.tools import Toolbox

        self.settings = settings
        self.index = index
        self.base_matcher = matcher
        self.feedback = feedback
        self.model = model
        self.tool_calling = tool_calling
        self.model_name = model_name
        self.status_note = status_note
        self.toolbox = Toolbox(index, self._matcher_with_corrections(), settings, feedback.chunk_adjustments)
        self._graph = None
        self._saver = None
        self._sync_lock = threading.Lock()

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Any, *, model: Any = None, embeddings: Any = None,
             tool_calling: bool | None = None) -> "Assistant":
        """Open the index in settings.index_dir; probe Ollama unless offline or a model is given."""
        from agent.feedback.store import FeedbackStore
        from agent.index import SpecIndex
        from agent.match.matcher import Matcher

        index = SpecIndex.open(settings, embeddings)
        matcher = Matcher.from_settings(settings)
        feedback = FeedbackStore.open(settings)
        name, note = (getattr(model, "model", None), "")
        if model is None and not settings.offline:
            from agent.llm import make_chat_model, probe_ollama, supports_tools

            status = probe_ollama(settings)
            if status.available:
                model = make_chat_model(settings, status)
                name = settings.chat_model
                tool_calling = supports_tools(status) if tool_calling is None else tool_calling
            elif settings.llm == "openai":
                note = (f"The model server at {settings.openai_base_url} is not answering ({status.error}); "
                        "offline mode: answers come from the documents and tools, without a language model. "
                        f"Start it, or check OPENAI_BASE_URL and that it serves {settings.chat_model}.")
            else:
                note = (f"Ollama is not answering at {settings.ollama_host} ({status.error}); offline mode: "
                        "answers come from the documents and tools, without a language model. "
                        "Start it with `ollama serve` and `ollama pull llama3.1`.")
        return cls(settings, index, matcher, feedback, model=model, tool_calling=bool(tool_calling),
                   model_name=name, status_note=note)

    def _matcher_with_corrections(self) -> Any:
        from agent.feedback.store import correction_examples
        from agent.match.corrections import CorrectingMatcher

        return CorrectingMatcher.build(self.base_matcher, correction_examples(self.feedback))

    def refresh(self) -> None:
        """Pick up new documents and corrections (after an ingest or a correction)."""
        from agent.index import SpecIndex
        from agent.tools import Toolbox

        self.index = SpecIndex.open(self.settings, None)
        self.toolbox = Toolbox(self.index, self._matcher_with_corrections(), self.settings,
                               self.feedback.chunk_adjustments)
        self._graph = None

    def sync(self) -> bool:
        """Reopen the index if another process (`spec-agent ingest`, another server) switched it
        to a new generation since this one read it; True when it did. Called before each
        question and document listing, so a running server sees a CLI ingest without a restart."""
        from agent.index import generations

        with self._sync_lock:
            on_disk = generations.current(Path(self.settings.index_dir))
            if (on_disk.name if on_disk else "") == self.index.generation:
                return False
            log.info("index %s changed on disk (%s → %s); reopening", self.settings.index_dir,
                     self.index.generation or "empty", on_disk.name if on_disk else "none")
            self.refresh()
            return True

    @property
    def mode(self) -> str:
        return "llm" if self.model is not None else "offline"

    @property
    def graph(self) -> Any:
        if self.model is None and not self.settings.offline:  # Ollama was down: is it up now?
            from agent.llm import reprobe

            found = reprobe(self.settings)  # None until it answers; probes at most every 30 s
            if found is not None:
                (self.model, self.tool_calling), self.model_name = found, self.settings.chat_model
                self.status_note, self._graph = "", None
        if self._graph is None:
            from agent.graph import build_graph

            self._graph = build_graph(self.model, self.toolbox, self.settings,
                                      tool_calling=self.tool_calling, checkpointer=self._checkpointer())
        return self._graph

    def _checkpointer(self) -> Any:
        """Conversation memory per thread in SQLite (strict msgpack: only safe types load back)."""
        import sqlite3

        from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
        from langgraph.checkpoint.sqlite import SqliteSaver

        if self._saver is None:
            path = self.settings.index_dir / "threads.db"
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), check_same_thread=False)
            self._saver = SqliteSaver(conn, serde=JsonPlusSerializer(allowed_msgpack_modules=None))
        return self._saver

    # -- asking -------------------------------------------------------------------------------

    def _inputs(self, question: str, doc: str | None) -> dict[str, Any]:
        return {"question": question, "doc": doc}

    def _record(self, question: str, state: dict[str, Any], thread_id: str) -> AnswerRecord:
        from agent.graph.graph import answer_citations

        answer = state.get("answer", "")
        notes = list(state.get("notes", []))
        cites = answer_citations(answer, state.get("evidence", []))  # the answer's, not the notes' "[3] dropped"
        if notes and self.model is not None:
            answer = answer + "\n\n" + "\n".join(f"Note: {n}" for n in notes)
        answer_id = self.feedback.log_answer(question, answer, thread_id=thread_id, mode=state.get("mode", ""),
                                             evidence=state.get("evidence", []), citations=cites,
                                             tests=[t["id"] for t in state.get("tests", [])])
        return AnswerRecord(question=question, answer=answer, mode=state.get("mode", self.mode),
                            citations=cites, tests=list(state.get("tests", [])),
                            evidence=list(state.get("evidence", [])), notes=notes, answer_id=answer_id,
                            thread_id=thread_id)

    def ask(self, question: str, thread_id: str = "cli", doc: str | None = None) -> AnswerRecord:
        self.sync()
        config = {"configurable": {"thread_id": thread_id}}
        state = self.graph.invoke(self._inputs(question, doc), config, durability="exit")  # one checkpoint write per turn
        return self._record(question, state, thread_id)

    async def astream(self, question: str, thread_id: str, doc: str | None = None):
        """This turn's steps, the draft's tokens (LLM mode), then the verified answer.

        Steps come from what each node of this turn returns ("updates"), never from the thread's
        state: the checkpointer hands the previous turn's steps in with the question."""
        from agent.graph.model_queue import QUEUE_KEY

        config = {"configurable": {"thread_id": thread_id}}
        seen = 0
        final: dict[str, Any] = {}

        def stream() -> Any:  # in the worker thread: a reopened index is read there, not in the event loop
            self.sync()
            return self.graph.stream(self._inputs(question, doc), config,
                                     stream_mode=["messages", "updates", "values", "custom"])

        async for mode, chunk in _in_thread(stream):
            if mode == "messages":
                message, meta = chunk
                node = meta.get("langgraph_node")
                if node in DRAFT_NODES and message.content and not getattr(message, "tool_call_chunks", None):
                    yield TokenEvent(str(message.content), node)
            elif mode == "updates":
                for update in chunk.values():
                    steps = (update.get("steps") or []) if isinstance(update, dict) else []
                    for s in steps[seen:]:
                        yield StepEvent(s["name"], s["input"], s["output"])
                    seen = max(seen, len(steps))
            elif mode == "custom":
                if isinstance(chunk, dict) and QUEUE_KEY in chunk:
                    yield WaitEvent(**chunk[QUEUE_KEY])
            else:
                final = chunk
        yield FinalEvent(self._record(question, final, thread_id))

    # -- documents and tools ------------------------------------------------------------------

    def documents(self) -> list[dict[str, Any]]:
        self.sync()
        return [{"doc": d.name, "pages": d.pages, "clauses": len(d.clauses), "tables": len(d.tables),
                 "sha256": d.sha256} for d in self.index.documents()]

    def ingest(self, paths: list[str], progress: Any = None) -> list[Any]:
        outcomes = self.index.ingest(paths, progress)
        self.refresh()
        return outcomes

    def source_path(self, doc: str) -> str | None:
        try:
            return self.index.document(doc).path
        except Exception:
            return None

    def sample_spec_paths(self) -> list[str]:
        from pathlib import Path

        folder = Path(__file__).resolve().parent / "data" / "sample"
        return [str(p) for p in sorted(folder.glob("*.pdf"))]
