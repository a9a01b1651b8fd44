"""A conversation of several turns in the chat's handlers: each answer streams only its own
steps, the model's draft goes into a draft step (never the answer), the sources of each answer
are its own, and the document scope (picker, `/doc`) decides which document a question is asked
over. The real Assistant, offline, over the sample spec; a fake one where the events are scripted."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import pytest
from chainlit.context import ChainlitContext, context_var
from conftest import SAMPLE_PDF, copy_index

from agent.service import AnswerRecord, FinalEvent, StepEvent, TokenEvent
from ui import commands, conversation, render, scope
from ui.chainlit_chat import ChainlitChat
from ui.chat import DRAFT, REDRAFT

DOC = "ACME-EMC-CS-2026"
OTHER = "MIL-STD-461G"
TURNS = ["Which test does 8.2.2.1 require?", "Which clause covers ESD on unpowered parts?", "and its limits?"]


class Chat:
    """Records what the handlers show, answer by answer."""

    def __init__(self, scope: list[str] | None = None) -> None:
        self.user, self.thread_id = "ada", "thread-turns"
        self.scope = list(scope or [])
        self.events: list[tuple] = []
        self.pickers: list[tuple[list[str], list[str]]] = []

    async def send(self, content, *, elements=(), actions=(), metadata=None):
        self.events.append(("send", content))

    async def start_answer(self):
        chat = self

        class Answer:
            async def token(self, text, draft=DRAFT):
                chat.events.append(("token", draft, text))

            async def finish(self, content, *, elements=(), actions=(), metadata=None):
                chat.events.append(("answer", content, list(elements)))

        return Answer()

    async def step(self, name, input, output):
        self.events.append(("step", name, input))

    async def offer_scope(self, documents, scope):
        self.scope = list(scope)
        self.pickers.append((list(documents), list(scope)))

    def answers(self) -> list[tuple[list[tuple], tuple]]:
        """(the steps shown before it, the answer) for each answer, in order."""
        out, steps = [], []
        for e in self.events:
            if e[0] == "step":
                steps.append(e)
            elif e[0] == "answer":
                out.append((steps, e))
                steps = []
        return out


@pytest.fixture(scope="module")
def sample_assistant(sample_index_master, tmp_path_factory):
    from agent.config import Settings
    from agent.service import Assistant

    index = copy_index(sample_index_master, tmp_path_factory.mktemp("turns") / "index")
    return Assistant.open(Settings(index_dir=index, embedder="lsa", offline=True))


# -- steps: each turn its own ----------------------------------------------------------------

async def test_each_answer_of_a_conversation_shows_its_own_steps_and_sources(sample_assistant):
    chat = Chat()
    chat.thread_id = "conversation-thread"
    for question in TURNS:
        await conversation.on_message(sample_assistant, chat, question)
    answers = chat.answers()
    assert len(answers) == 3
    for question, (steps, _) in zip(TURNS, answers, strict=True):
        assert steps[0] == ("step", "understand", question)
        assert [s[1] for s in steps].count("understand") == 1
        assert steps[-1][1] == "answer (offline)"
    assert "tool: match_tests" not in [s[1] for s in answers[1][0]]
    for _, (_, content, elements) in answers:
        cards = [e for e in elements if isinstance(e, render.SourceCard)]
        pdfs = [e for e in elements if isinstance(e, render.PdfCard)]
        assert len({c.name for c in cards}) == len(cards) and len({p.name for p in pdfs}) == len(pdfs)
        for card, pdf in zip(cards, pdfs, strict=True):  # each line: its card and its PDF page
            assert f"- {card.name} · {pdf.name}" in content
            assert card.name.split(" ", 2)[1] == DOC  # every citation names its document
            assert f"Document: {DOC} · page {pdf.page}" in card.content
            assert pdf.path == str(SAMPLE_PDF) and pdf.name.endswith(f"p. {pdf.page}")
    first, second = ({e.name for e in answer[2]} for _, answer in answers[:2])
    assert "[1] ACME-EMC-CS-2026 §8.2.2.1 p. 5" in first and not first & second


# -- the draft: streamed as a draft, never as the answer -------------------------------------

class ScriptedAssistant:
    """astream gives the scripted events; records the documents it was asked over."""

    def __init__(self, events: list[Any], documents: list[str] | None = None) -> None:
        self.events, self.asked = events, []
        self.docs = documents if documents is not None else [DOC, OTHER]
        self.index = SimpleNamespace(documents=lambda: [SimpleNamespace(name=d, title="") for d in self.docs],
                                     get_clause=lambda number, doc=None: SimpleNamespace(tables=()))

    def documents(self):
        return [{"doc": d, "pages": 1, "clauses": 1, "tables": 0} for d in self.docs]

    def source_path(self, doc):
        return None

    async def astream(self, question, thread_id, doc=None):
        self.asked.append(doc)
        for event in self.events:
            yield event


def record(answer: str, doc: str = DOC) -> AnswerRecord:
    cite = {"n": 1, "doc": doc, "clause": "8.2.2.1", "title": "Conducted emissions", "page": 5, "table": None,
            "text": "The DUT is supplied ..."}
    return AnswerRecord(question="q", answer=answer, mode="llm", citations=[cite], answer_id=1)


async def test_a_draft_and_its_rewrite_stream_as_drafts_and_the_verified_answer_replaces_them():
    assistant = ScriptedAssistant([StepEvent("understand", "q", "intent=which_test"),
                                   TokenEvent("Voltage method [7]", "compose"),
                                   StepEvent("verify", "citations and numbers", "[7] is not in the evidence"),
                                   TokenEvent("Voltage ", "retry"), TokenEvent("method [1]", "retry"),
                                   FinalEvent(record("Voltage method [1]."))])
    chat = Chat()
    await conversation.answer(assistant, chat, "q")
    assert [e[:2] for e in chat.events] == [("step", "understand"), ("token", DRAFT), ("step", "verify"),
                                            ("token", REDRAFT), ("token", REDRAFT), ("answer", (
                                                "Voltage method [1].\n\n**Sources:**\n"
                                                "- [1] ACME-EMC-CS-2026 §8.2.2.1 p. 5"))]
    assert DRAFT == "draft (not yet verified)"


# -- document scope --------------------------------------------------------------------------

async def test_the_picker_is_offered_at_start_over_the_indexed_documents():
    chat = Chat()
    assistant = ScriptedAssistant([])
    assistant.settings = SimpleNamespace(index_dir="/nonexistent")
    assistant.mode, assistant.status_note = "offline", ""
    await conversation.on_start(assistant, chat)
    assert chat.pickers == [([DOC, OTHER], [])]


async def test_doc_command_scopes_the_questions_to_one_document():
    assistant = ScriptedAssistant([FinalEvent(record("Voltage method [1]."))])
    chat = Chat()
    await conversation.on_message(assistant, chat, "/doc acme")
    assert chat.pickers == [([DOC, OTHER], [DOC])]
    assert chat.events == [("send", f"Questions are answered from **{DOC}** only.")]
    await conversation.on_message(assistant, chat, "which test does 8.2.2.1 require?")
    assert assistant.asked == [DOC]
    await conversation.on_message(assistant, chat, "/doc")
    assert chat.events[-1] == ("send", f"Questions are answered from **{DOC}** only.")
    await conversation.on_message(assistant, chat, "/doc all")
    assert chat.scope == [] and chat.events[-1] == ("send", "Questions are answered from **every document**.")
    await conversation.on_message(assistant, chat, "which test does 8.2.2.1 require?")
    assert assistant.asked == [DOC, None]


async def test_doc_command_names_what_is_indexed_when_a_name_is_wrong():
    chat = Chat()
    await conversation.on_message(ScriptedAssistant([]), chat, "/doc EN-55032")
    assert chat.events == [("send", (f"⚠️ `EN-55032` is not an indexed document (indexed: {DOC}, {OTHER})\n\n"
                                     f"{commands.HELP}"))]
    assert chat.pickers == [] and chat.scope == []
    with pytest.raises(scope.UnknownDocument, match="names several documents: MIL-STD-461F, MIL-STD-461G"):
        scope.resolve(["461"], ["MIL-STD-461F", "MIL-STD-461G"])


async def test_several_documents_are_asked_one_at_a_time_each_answer_under_its_name():
    assistant = ScriptedAssistant([FinalEvent(record("Voltage method [1]."))])
    chat = Chat(scope=[DOC, OTHER])
    await conversation.on_message(assistant, chat, "which test does 8.2.2.1 require?")
    assert assistant.asked == [DOC, OTHER]
    assert chat.events[0] == ("send", f"Asked once per document: {DOC}, {OTHER}.")
    bodies = [e[1] for e in chat.events if e[0] == "answer"]
    assert [b.split("\n", 1)[0] for b in bodies] == [f"**From {DOC}:**", f"**From {OTHER}:**"]


async def test_a_question_naming_a_document_is_asked_over_it_whatever_the_scope():
    assistant = ScriptedAssistant([FinalEvent(record("12 V [1].", OTHER))])
    chat = Chat(scope=[DOC])
    await conversation.on_message(assistant, chat, "in MIL-STD-461G, what is the CS101 limit?")
    assert assistant.asked == [None]  # unscoped: the assistant takes the document the question names
    assert chat.events[0] == ("send", f"The question names {OTHER}: asked over it, not the chat's scope.")


async def test_a_scoped_document_no_longer_indexed_is_left_out_and_said():
    assistant = ScriptedAssistant([FinalEvent(record("Voltage method [1]."))], documents=[DOC])
    chat = Chat(scope=[DOC, OTHER])
    await conversation.on_message(assistant, chat, "which test does 8.2.2.1 require?")
    assert assistant.asked == [DOC]
    assert chat.events[0] == ("send", f"No longer indexed, left out of the scope: {OTHER}.")


async def test_the_picker_changing_says_what_questions_are_answered_from():
    assistant = ScriptedAssistant([])
    chat = Chat()
    await conversation.on_settings(assistant, chat, {scope.SETTING: [OTHER, "gone"]})
    assert chat.pickers == [([DOC, OTHER], [OTHER])]
    assert chat.events == [("send", f"Questions are answered from **{OTHER}** only.")]


async def test_the_chainlit_picker_is_a_multiselect_in_the_chat_settings():
    session, emitter = MagicMock(), MagicMock()
    session.thread_id, session.chat_settings = "thread-1", {scope.SETTING: [OTHER]}
    emitter.emit = AsyncMock()
    context_var.set(ChainlitContext(session, emitter))
    chat = ChainlitChat.current()
    assert chat.scope == [OTHER]  # as the settings hold it
    await chat.offer_scope([DOC, OTHER], [DOC])
    emitter.set_chat_settings.assert_called_once_with({scope.SETTING: [DOC]})
    (name, (picker,)), _ = emitter.emit.await_args
    assert name == "chat_settings"
    assert (picker["type"], picker["id"], picker["initial"], [i["value"] for i in picker["items"]]) == (
        "multiselect", scope.SETTING, [DOC], [DOC, OTHER])
    assert chat.scope == [DOC]
