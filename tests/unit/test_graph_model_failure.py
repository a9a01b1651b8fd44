"""The graph with fake chat models that fail: every node that calls the model ends in the
extractive answer under one failure line, and the model is not asked again after it failed;
earlier turns make way when they alone would overflow the context."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_index
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

from agent import prompts
from agent.config import Settings
from agent.graph import extractive
from agent.graph.budget import chat_texts
from agent.service import Assistant

DOC = "ACME-EMC-CS-2026"
QUESTION = "Which test does 8.2.2.1 require?"
HOST = "http://127.0.0.1:9"


class FailingChat(GenericFakeChatModel):
    """Replies in turn; a reply that is an exception is raised instead (after recording the call)."""

    calls: list[list[BaseMessage]] = Field(default_factory=list)
    script: list[str | Exception] = Field(default_factory=list)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self.calls.append(list(messages))
        reply = self.script.pop(0)
        if isinstance(reply, Exception):
            raise reply
        self.messages = iter([reply])
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def bind_tools(self, tools, **kwargs):
        return self


@pytest.fixture(scope="module")
def index_dir(sample_index_master, tmp_path_factory) -> Path:
    return copy_index(sample_index_master, tmp_path_factory.mktemp("failing") / "index")


def assistant(index_dir: Path, *script: str | Exception, tool_calling: bool = False, **kw):
    model = FailingChat(messages=iter(()), script=list(script))
    settings = Settings(index_dir=index_dir, embedder="lsa", offline=True, ollama_host=HOST, **kw)
    return Assistant.open(settings, model=model, tool_calling=tool_calling), model


def extractive_answer(index_dir: Path, question: str) -> str:
    offline = Assistant.open(Settings(index_dir=index_dir, embedder="lsa", offline=True))
    mark, _, body = offline.ask(question, f"offline {question}").answer.partition("\n")
    assert mark == extractive.OFFLINE_MARK
    return body


@pytest.mark.parametrize("tool_calling", [False, True])
def test_a_failed_answer_request_gives_the_extractive_answer(index_dir, tool_calling):
    a, model = assistant(index_dir, RuntimeError("boom"), tool_calling=tool_calling)
    record = a.ask(QUESTION, f"t{tool_calling}")
    assert len(model.calls) == 1
    assert record.answer == ("The language model failed (RuntimeError: boom); this answer is extractive.\n"
                             + extractive_answer(index_dir, QUESTION))
    assert (record.mode, record.notes) == ("offline", [])
    assert [(c["n"], c["clause"]) for c in record.citations] == [(1, "8.2.2.1")]
    node = "tool_loop" if tool_calling else "compose"
    assert [s["name"] for s in a.graph.get_state({"configurable": {"thread_id": f"t{tool_calling}"}})
            .values["steps"]][-2:] == [node, "answer (extractive)"]


def test_a_failed_retry_gives_the_extractive_answer(index_dir):
    q = "What is the BCI test current for level 3 at 100 MHz?"
    a, model = assistant(index_dir, "The level 3 current is 300 mA [1].", ConnectionResetError("reset by peer"))
    record = a.ask(q, "retry")
    assert len(model.calls) == 2
    assert record.answer == (f"The language model failed (Ollama at {HOST} closed the connection mid-answer); "
                             "this answer is extractive.\n" + extractive_answer(index_dir, q))


def test_a_failed_understanding_request_is_not_followed_by_another(index_dir):
    """A vague question asks the model what it means; when that fails, it is not asked again."""
    q = "what about harness length?"
    a, model = assistant(index_dir, TimeoutError("timed out"))
    record = a.ask(q, "vague")
    assert [[type(m) for m in call] for call in model.calls] == [[HumanMessage]]  # the understanding
    assert record.answer == ("The language model failed (TimeoutError: timed out); this answer is extractive.\n"
                             + extractive_answer(index_dir, q))
    assert record.mode == "offline"


def test_the_next_turn_asks_the_model_again(index_dir):
    a, _ = assistant(index_dir, RuntimeError("boom"), "Clause 8.2.2.1 calls for the voltage method [1].")
    assert a.ask(QUESTION, "again").mode == "offline"
    record = a.ask(QUESTION, "again")
    assert (record.mode, record.answer) == ("llm", "Clause 8.2.2.1 calls for the voltage method [1].")


def test_earlier_turns_make_way_when_they_alone_overflow_the_context(index_dir):
    long_answer = "The voltage method applies [1]. " + "The network is described in the clause [1]. " * 400
    a, model = assistant(index_dir, long_answer, "Clause 8.2.2.1 calls for the voltage method [1].",
                         num_ctx=4096)
    a.ask(QUESTION, "long")
    a.ask(QUESTION, "long")
    first, second = model.calls
    assert [type(m) for m in second] == [SystemMessage, HumanMessage]  # no history: it would not fit
    assert [m.content for m in second] == [m.content for m in first]
    assert chat_texts(second) == [prompts.render("system", documents=DOC), first[1].content]


def test_chat_texts_count_tool_calls_and_definitions():
    call = AIMessage("", tool_calls=[{"name": "get_clause", "args": {"number": "9.1"}, "id": "c1"}])
    tools = [{"type": "function", "function": {"name": "get_clause"}}]
    assert chat_texts([HumanMessage("q"), call], tools) == [
        "q", '{"name": "get_clause", "arguments": {"number": "9.1"}}',
        '[{"type": "function", "function": {"name": "get_clause"}}]']
    assert chat_texts([]) == []
