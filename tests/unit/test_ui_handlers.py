"""The chat handlers (ui/conversation, commands, corrections, uploads): what the chat sends for
each event, with a fake assistant and a recording chat; the Chainlit adapter with a mocked
Chainlit context; and the real Assistant, offline, on the sample spec."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import pytest
from conftest import copy_index

from agent.errors import NotFound
from agent.index import Progress
from agent.schema import Clause, IngestOutcome, Table
from agent.service import AnswerRecord, FinalEvent, StepEvent, TokenEvent
from ui import chainlit_chat, commands, conversation, corrections, render, server
from ui.chat import DRAFT
from ui.render import ActionSpec, FileCard, PdfCard, SourceCard

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PDF = ROOT / "agent" / "data" / "sample" / "ACME-EMC-CS-2026.pdf"
DOC = "ACME-EMC-CS-2026"


class FakeChat:
    """Records every call the handlers make, in order."""

    def __init__(self, choice: dict[str, Any] | None = None) -> None:
        self.user, self.thread_id = "ada", "thread-1"
        self.events: list[tuple] = []
        self.choice = choice
        self.scope: list[str] = []
        self.pickers: list[tuple[list[str], list[str]]] = []  # the document picker as offered

    async def send(self, content, *, elements=(), actions=(), metadata=None):
        self.events.append(("send", content, list(elements), list(actions)))

    async def start_answer(self):
        chat = self

        class Answer:
            async def token(self, text, draft=DRAFT):
                chat.events.append(("token", text) if draft == DRAFT else ("token", text, draft))

            async def finish(self, content, *, elements=(), actions=(), metadata=None):
                chat.events.append(("answer", content, list(elements), list(actions), dict(metadata or {})))

        return Answer()

    async def step(self, name, input, output):
        self.events.append(("step", name, input, output))

    async def start_progress(self, name, input):
        chat = self
        self.events.append(("progress", name, input))

        class Progress:
            async def update(self, output):
                chat.events.append(("progress-update", output))

            async def finish(self, output):
                chat.events.append(("progress-end", output))

        return Progress()

    async def choose(self, question, actions):
        self.events.append(("choose", question, list(actions)))
        return self.choice

    async def offer_scope(self, documents, scope):
        self.scope = list(scope)
        self.pickers.append((list(documents), list(scope)))

    def sent(self) -> list[str]:
        return [e[1] for e in self.events if e[0] == "send"]


CLAUSE = Clause(number="8.2.2.1", title="Conducted emissions – voltage method", text="The DUT is supplied ...",
                parents=("8", "8.2", "8.2.2"), page=5, page_label="5", tables=("Table 8-1",), doc=DOC)
TABLE = Table(id="Table 8-1", caption="Conducted emissions, voltage method – limits", clause="8.2.2.1", page=5,
              header=(("Band", "Peak"),), rows=(("0.15–0.3 MHz", "80"),), doc=DOC)
CATALOGUE = [SimpleNamespace(id=0, name="Conducted Emission - Voltage Method"),
             SimpleNamespace(id=6, name="Bulk Current Injection: Immunity")]
CITE = {"n": 1, "doc": DOC, "clause": "8.2.2.1", "title": CLAUSE.title, "page": 5, "table": None,
        "text": "The DUT is supplied ..."}
TABLE_CITE = {"n": 2, "doc": DOC, "clause": "8.2.2.1", "title": TABLE.caption, "page": 5, "table": "Table 8-1",
              "text": "Band: 0.15–0.3 MHz; Peak: 80", "row": 0}


class FakeIndex:
    def get_table(self, table_id, doc=None):
        if table_id != "Table 8-1":
            raise NotFound(f"{table_id} is not in any document; tables there: Table 8-1.")
        return TABLE

    def get_clause(self, number, doc=None):
        return SimpleNamespace(clause=CLAUSE, tables=[TABLE])

    def clauses(self, doc):
        return (CLAUSE,)


class FakeToolbox:
    matcher = SimpleNamespace(catalogue=SimpleNamespace(tests=CATALOGUE))

    def match_tests(self, clause=None, doc=None, **_):
        return SimpleNamespace(data={"tests": [{"id": 0, "name": CATALOGUE[0].name, "score": 0.98,
                                                "evidence": []}], "abstain": False})


class FakeAssistant:
    def __init__(self, tmp_path: Path, docs: list | None = None, mode: str = "offline") -> None:
        self.settings = SimpleNamespace(index_dir=tmp_path)
        self.mode, self.model_name = mode, ("llama3.1:8b" if mode == "llm" else None)
        self.status_note = "Ollama is not answering at http://127.0.0.1:9; start it with `ollama serve`."
        self.docs = docs or []
        self.index, self.toolbox = FakeIndex(), FakeToolbox()
        self.feedback = MagicMock()
        self.feedback.add_correction.return_value = SimpleNamespace(
            doc=DOC, clause="8.2.2.1", heading="8.2.2.1 Conducted emissions – voltage method", right=(6,), wrong=(0,))
        self.refreshed = 0
        self.ingested: list[list[str]] = []
        self.events: list[Any] = []

    def documents(self):
        return self.docs

    def sample_spec_paths(self):
        return [str(SAMPLE_PDF)]

    def source_path(self, doc):
        return str(SAMPLE_PDF)

    def refresh(self):
        self.refreshed += 1

    def ingest(self, paths, progress=None):
        self.ingested.append(list(paths))
        progress(Progress("parse", paths[0], 0, len(paths), 0))
        progress(Progress("done", "", len(paths), len(paths), 9))
        return [IngestOutcome(paths[0], "added", DOC, "", 9, 43, 14),
                IngestOutcome(paths[1], "failed", None, "drm.pdf: DRM-protected (enterprise rights-management "
                              "container); export an unprotected copy (PDF or DOCX) from your DRM client and "
                              "ingest that.")]

    async def astream(self, question, thread_id, doc=None):
        for event in self.events:
            yield event


async def test_start_with_an_empty_index_offers_the_sample_and_says_offline(tmp_path):
    chat = FakeChat()
    await conversation.on_start(FakeAssistant(tmp_path), chat)
    assert chat.events == [("send", (
        "**spec-agent**: ask about your EMC specifications; every answer cites its clauses.\n\n"
        "**Offline mode**: Ollama is not answering at http://127.0.0.1:9; start it with `ollama serve`.\n\n"
        "No documents are indexed yet. Drop PDF or DOCX specifications into the chat, or load the bundled "
        "sample specification (ACME-EMC-CS-2026).\n\nType `/help` for commands."),
        [], [ActionSpec("load_sample", "Load the sample spec", {})])]


async def test_start_names_the_documents_and_the_model(tmp_path):
    chat = FakeChat()
    docs = [{"doc": DOC, "pages": 9, "clauses": 43, "tables": 14, "sha256": "x"}]
    await conversation.on_start(FakeAssistant(tmp_path, docs, mode="llm"), chat)
    content = chat.sent()[0]
    assert "Answers are written by **llama3.1:8b** (Ollama, on this machine)" in content
    assert "| ACME-EMC-CS-2026 | 9 | 43 | 14 |" in content
    assert chat.events[0][3] == []


async def test_answer_streams_steps_and_tokens_then_replaces_with_the_verified_answer(tmp_path):
    assistant = FakeAssistant(tmp_path)
    record = AnswerRecord(question="which test does 8.2.2.1 require?", mode="llm",
                          answer="8.2.2.1 requires Conducted Emission - Voltage Method [1]; limits in [2].",
                          citations=[CITE, TABLE_CITE], answer_id=7,
                          tests=[{"id": 0, "name": CATALOGUE[0].name, "score": 0.98}])
    assistant.events = [StepEvent("understand", "which test does 8.2.2.1 require?", "intent=which_test"),
                        TokenEvent("8.2.2.1 needs "), TokenEvent("CE [1]"), FinalEvent(record)]
    chat = FakeChat()
    await conversation.on_message(assistant, chat, "which test does 8.2.2.1 require?")
    name1, name2 = "[1] ACME-EMC-CS-2026 §8.2.2.1 p. 5", "[2] ACME-EMC-CS-2026 §8.2.2.1 Table 8-1 p. 5"
    pdf1, pdf2 = "[1] ACME-EMC-CS-2026.pdf p. 5", "[2] ACME-EMC-CS-2026.pdf p. 5"
    assert chat.events == [
        ("step", "understand", "which test does 8.2.2.1 require?", "intent=which_test"),
        ("token", "8.2.2.1 needs "), ("token", "CE [1]"),
        ("answer",
         ("8.2.2.1 requires Conducted Emission - Voltage Method [1]; limits in [2].\n\n**Sources:**\n"
          f"- {name1} · {pdf1}\n- {name2} · {pdf2}"),
         [SourceCard(name1, render.source_markdown(CITE, None, [TABLE])), PdfCard(pdf1, str(SAMPLE_PDF), 5),
          SourceCard(name2, render.source_markdown(TABLE_CITE, TABLE)), PdfCard(pdf2, str(SAMPLE_PDF), 5)],
         [ActionSpec("correct_test", "Correct the test",
                     {"answer_id": 7, "doc": DOC, "clause": "8.2.2.1", "wrong": [0]})],
         {"answer_id": 7, "mode": "llm"})]
    assert chat.events[-1][2][0].content.endswith("**Table 8-1** Conducted emissions, voltage method – limits\n\n"
                                                  "| Band | Peak |\n|---|---|\n| 0.15–0.3 MHz | 80 |")
    assert "| 0.15–0.3 MHz | 80 |" in chat.events[-1][2][2].content


async def test_an_answer_naming_no_test_has_no_correct_action(tmp_path):
    assistant = FakeAssistant(tmp_path)
    assistant.events = [FinalEvent(AnswerRecord(question="q", answer="No evidence found.", mode="offline",
                                                citations=[], answer_id=3))]
    chat = FakeChat()
    await conversation.answer(assistant, chat, "q")
    assert chat.events == [("answer", "No evidence found.", [], [], {"answer_id": 3, "mode": "offline"})]


async def test_table_command_shows_a_markdown_table(tmp_path):
    chat = FakeChat()
    await conversation.on_message(FakeAssistant(tmp_path), chat, '/table "Table 8-1"')
    assert chat.sent() == [("ACME-EMC-CS-2026 (p. 5)\n\n**Table 8-1** Conducted emissions, voltage method – limits"
                            "\n\n| Band | Peak |\n|---|---|\n| 0.15–0.3 MHz | 80 |")]


async def test_a_missing_table_says_what_exists(tmp_path):
    chat = FakeChat()
    await conversation.on_message(FakeAssistant(tmp_path), chat, '/table "Table VIII"')
    assert chat.sent() == ["⚠️ Table VIII is not in any document; tables there: Table 8-1."]


async def test_match_command_sends_the_matrix_and_its_csv(tmp_path):
    chat = FakeChat()
    await conversation.on_message(FakeAssistant(tmp_path, [{"doc": DOC}]), chat, "/match")
    rows = [{"clause": "8.2.2.1", "title": CLAUSE.title, "abstain": False,
             "tests": [{"id": 0, "name": CATALOGUE[0].name, "score": 0.98}]}]
    assert chat.events == [("send", render.matrix_markdown(DOC, rows),
                            [FileCard("ACME-EMC-CS-2026-test-matrix.csv", render.matrix_csv(rows), "text/csv")], [])]


async def test_correct_command_stores_the_correction_and_refreshes(tmp_path):
    assistant, chat = FakeAssistant(tmp_path), FakeChat()
    await conversation.on_message(assistant, chat, "/correct 8.2.2.1 6")
    assistant.feedback.add_correction.assert_called_once_with(
        "8.2.2.1 Conducted emissions – voltage method", [6], text="The DUT is supplied ...", doc=DOC,
        clause="8.2.2.1", wrong=[0], user="ada")
    assert assistant.refreshed == 1
    assert chat.sent() == [("Correction recorded: ACME-EMC-CS-2026 §8.2.2.1 Conducted emissions – voltage method "
                            "requires **6 Bulk Current Injection: Immunity** (the matcher said: 0 Conducted "
                            "Emission - Voltage Method). The next answers use it.")]


async def test_correct_command_rejects_an_unknown_test(tmp_path):
    assistant, chat = FakeAssistant(tmp_path), FakeChat()
    await conversation.on_message(assistant, chat, "/correct 8.2.2.1 99")
    assert chat.sent()[0].startswith("⚠️ no test 99 in the catalogue (ids 0–6)")
    assistant.feedback.add_correction.assert_not_called()


async def test_correct_action_asks_for_the_test_then_stores_it(tmp_path):
    assistant, chat = FakeAssistant(tmp_path), FakeChat(choice={"test": 6})
    payload = {"answer_id": 7, "doc": DOC, "clause": "8.2.2.1", "wrong": [0]}
    await corrections.correct_from_action(assistant, chat, payload)
    assert chat.events[0] == ("choose", "Which test does ACME-EMC-CS-2026 §8.2.2.1 require?", [
        ActionSpec("pick_test", "0 Conducted Emission - Voltage Method", {"test": 0}),
        ActionSpec("pick_test", "6 Bulk Current Injection: Immunity", {"test": 6}),
        ActionSpec("pick_test", "No test of the catalogue", {"test": None})])
    assistant.feedback.add_correction.assert_called_once_with(
        "8.2.2.1 Conducted emissions – voltage method", [6], text="The DUT is supplied ...", doc=DOC,
        clause="8.2.2.1", wrong=[0], user="ada")
    assert chat.sent()[0].startswith("Correction recorded: ACME-EMC-CS-2026 §8.2.2.1")


async def test_upload_reports_each_file_and_goes_on_after_a_bad_one(tmp_path):
    good, bad = tmp_path / "in" / "a1b2", tmp_path / "in" / "c3d4"
    good.parent.mkdir()
    good.write_bytes(b"%PDF-1.7")
    bad.write_bytes(b"\x9bDRMONE")
    assistant, chat = FakeAssistant(tmp_path), FakeChat()
    await conversation.on_message(assistant, chat, "", [("spec.pdf", str(good)), ("drm.pdf", str(bad))])
    (kept,) = assistant.ingested  # each staged in a folder of its own under <index>/uploads
    assert [(Path(p).parent.parent, Path(p).name) for p in kept] == [(tmp_path / "uploads", "spec.pdf"),
                                                                      (tmp_path / "uploads", "drm.pdf")]
    report = ("✅ spec.pdf: added as ACME-EMC-CS-2026 (9 pages, 43 clauses, 14 tables)\n"
              "❌ drm.pdf: DRM-protected (enterprise rights-management container); export an unprotected copy "
              "(PDF or DOCX) from your DRM client and ingest that.")
    assert chat.events == [
        ("progress", "Ingesting 2 file(s)", "spec.pdf, drm.pdf"),
        ("progress-update", "parse: spec.pdf (file 1 of 2)"),
        ("progress-update", "parse: spec.pdf (file 1 of 2)\ndone: 2 of 2 file(s)"),
        ("progress-end", "parse: spec.pdf (file 1 of 2)\ndone: 2 of 2 file(s)\n" + report),
        ("send", report, [], [])]
    assert not Path(kept[1]).exists()  # a failed upload leaves no copy behind


async def test_unknown_command_lists_the_commands(tmp_path):
    chat = FakeChat()
    await conversation.on_message(FakeAssistant(tmp_path), chat, "/frobnicate")
    assert chat.sent() == ["Unknown command `/frobnicate`.\n\n" + commands.HELP]


def test_parse_command_groups_quoted_words():
    assert commands.parse_command('/table "Table VIII" MIL-STD-461G') == ("table", ["Table VIII", "MIL-STD-461G"])
    assert commands.parse_command("/DOCS") == ("docs", [])


# -- the Chainlit adapter, with a mocked Chainlit context -----------------------------------

def chainlit_context() -> MagicMock:
    """A Chainlit context for this task (as Chainlit's own backend tests build it); the emitter."""
    from chainlit.context import ChainlitContext, context_var

    session = MagicMock()
    session.thread_id = "thread-1"
    session.persist_file = AsyncMock(return_value={"id": "file-key"})
    emitter = MagicMock()
    for name in ("send_step", "update_step", "stream_start", "send_token", "send_element", "emit"):
        setattr(emitter, name, AsyncMock())
    context_var.set(ChainlitContext(session, emitter))
    return emitter


async def test_chainlit_answer_streams_the_draft_into_a_step_then_sends_the_verified_message():
    emitter = chainlit_context()
    answer = await chainlit_chat.ChainlitChat("ada", "thread-1").start_answer()
    await answer.token("draft ")
    await answer.token("answer")
    await answer.finish("verified [1]", elements=[SourceCard("[1] X §1 p. 2", "text"), PdfCard("[1] x.pdf p. 2",
                        str(SAMPLE_PDF), 2)], actions=[ActionSpec("correct_test", "Correct the test", {"a": 1})],
                        metadata={"answer_id": 7})
    draft = emitter.stream_start.await_args.args[0]
    assert (draft["name"], draft["type"], draft["output"], draft["defaultOpen"]) == (DRAFT, "llm", "draft ", True)
    assert emitter.send_token.await_args.kwargs == {"id": draft["id"], "token": "answer", "is_sequence": False,
                                                    "is_input": False}
    closed, step = (c.args[0] for c in emitter.send_step.await_args_list)
    assert (closed["id"], closed["output"], bool(closed["end"]), closed["autoCollapse"]) == (
        draft["id"], "draft answer", True, True)
    assert (step["output"], step["metadata"], step["type"]) == ("verified [1]", {"answer_id": 7}, "assistant_message")
    assert emitter.stream_start.await_count == 1  # the message itself never streamed the draft
    sent = sorted((e.args[0]["type"], e.args[0]["name"], e.args[0]["display"], e.args[0]["page"], e.args[0]["forId"])
                  for e in emitter.send_element.await_args_list)
    assert sent == [("pdf", "[1] x.pdf p. 2", "side", 2, step["id"]), ("text", "[1] X §1 p. 2", "side", None, step["id"])]
    action = emitter.emit.await_args_list[-1].args
    assert action[0] == "action" and action[1]["name"] == "correct_test" and action[1]["payload"] == {"a": 1}


# -- the real assistant, offline, over the sample spec ---------------------------------------

@pytest.fixture(scope="module")
def sample_assistant(sample_index_master, tmp_path_factory):
    from agent.config import Settings
    from agent.service import Assistant

    index = copy_index(sample_index_master, tmp_path_factory.mktemp("ui") / "index")
    return Assistant.open(Settings(index_dir=index, embedder="lsa", offline=True))


async def test_real_offline_assistant_answers_which_test_with_a_source(sample_assistant):
    chat = FakeChat()
    await conversation.on_message(sample_assistant, chat, "which test does 8.2.2.1 require?")
    kind, content, elements, actions, metadata = chat.events[-1]
    assert kind == "answer"
    assert "Conducted Emission - Voltage Method" in content
    assert content.startswith("Offline answer (from the documents, no language model):")
    assert "**Sources:**\n- [1] ACME-EMC-CS-2026 §8.2.2.1 p. 5 · [1] ACME-EMC-CS-2026.pdf p. 5" in content
    assert elements[0].name == "[1] ACME-EMC-CS-2026 §8.2.2.1 p. 5"
    assert elements[0].content.startswith("**§8.2.2.1 Conducted emissions – voltage method**\n\n"
                                          "Document: ACME-EMC-CS-2026 · page 5\n\nThe DUT is supplied")
    assert "**Table 8-1** Conducted emissions, voltage method – limits\n\n| " in elements[0].content
    assert elements[1] == PdfCard("[1] ACME-EMC-CS-2026.pdf p. 5", str(SAMPLE_PDF), 5)
    assert [a.name for a in actions] == ["correct_test"] and actions[0].payload["clause"] == "8.2.2.1"
    assert metadata["mode"] == "offline" and isinstance(metadata["answer_id"], int)
    assert [e[1] for e in chat.events if e[0] == "step"] == ["understand", "tool: match_tests", "answer (offline)"]


# -- persistence of thumbs, login ------------------------------------------------------------

async def test_thumbs_go_to_chat_db_and_to_the_feedback_store_once(tmp_path):
    import sqlite3

    from chainlit.types import Feedback

    from agent.feedback.store import FeedbackStore
    from ui.datalayer import ChatDataLayer, create_schema

    store = FeedbackStore(tmp_path / "feedback.db")
    answer_id = store.log_answer("which test does 8.2.2.1 require?", "CE voltage [1].")
    layer = ChatDataLayer(tmp_path, store)
    create_schema(tmp_path / "chat.db")  # idempotent: a second start changes nothing
    with sqlite3.connect(tmp_path / "chat.db") as conn:
        conn.execute("""INSERT INTO threads (id, "userIdentifier") VALUES ('t1', 'ada')""")
        conn.execute("""INSERT INTO steps (id, name, type, "threadId", metadata, "createdAt")
                        VALUES ('run1', 'on_message', 'run', 't1', '{}', '2026-01-01T00:00:00Z')""")
        conn.execute("""INSERT INTO steps (id, name, type, "threadId", "parentId", metadata, "createdAt")
                        VALUES ('msg1', 'spec-agent', 'assistant_message', 't1', 'run1', :m, '2026-01-01T00:00:01Z')""",
                     {"m": json.dumps({"answer_id": answer_id, "mode": "llm"})})
    feedback_id = await layer.upsert_feedback(Feedback(forId="run1", value=0, threadId="t1", comment="wrong"))
    assert [(f.answer_id, f.value, f.comment, f.user) for f in store.feedback()] == [(answer_id, -1, "wrong", "ada")]
    await layer.upsert_feedback(Feedback(forId="run1", value=1, threadId="t1", id=feedback_id, comment="ok now"))
    assert [(f.value, f.comment) for f in store.feedback()] == [(1, "ok now")]
    with sqlite3.connect(tmp_path / "chat.db") as conn:
        assert conn.execute('SELECT "forId", value, comment FROM feedbacks').fetchall() == [("run1", 1, "ok now")]
    await layer.delete_feedback(feedback_id)
    assert store.feedback() == []
    await layer.engine.dispose()


def test_passwords_are_hashed_and_checked(tmp_path, monkeypatch):
    from ui import auth

    users = tmp_path / "users"
    auth.add_user(users, "ada", "s3cret-pass")
    line = users.read_text().strip()
    assert line.startswith("ada:pbkdf2_sha256$260000$") and "s3cret-pass" not in line
    assert auth.check_login("ada", "s3cret-pass", users) is True
    assert auth.check_login("ada", "wrong-pass", users) is False
    assert auth.check_login("bob", "s3cret-pass", users) is False
    assert auth.auth_enabled({"SPEC_AGENT_USERS": str(users)}) is False
    assert auth.auth_enabled({"SPEC_AGENT_USERS": str(users), "CHAINLIT_AUTH_SECRET": "x"}) is True
    assert auth.auth_enabled({"SPEC_AGENT_USERS": str(tmp_path / "none"), "CHAINLIT_AUTH_SECRET": "x"}) is False
    monkeypatch.setenv("SPEC_AGENT_USERS", str(users))
    assert server.login("ada", "s3cret-pass").identifier == "ada"
    assert server.login("ada", "nope") is None


def test_ui_command_warns_on_a_public_host_without_login(monkeypatch):
    from typer.testing import CliRunner

    from agent.cli import app
    from agent.commands import ui as ui_command

    calls = []
    monkeypatch.setattr(ui_command.subprocess, "call", lambda cmd, env, cwd: calls.append((cmd, env)) or 0)
    monkeypatch.delenv("CHAINLIT_AUTH_SECRET", raising=False)
    ui_command.register(app)
    result = CliRunner().invoke(app, ["--index", "/tmp/idx", "ui", "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 0
    assert "warning: listening on 0.0.0.0 without login" in result.output
    cmd, env = calls[0]
    assert cmd[1:] == ["-m", "chainlit", "run", str(ROOT / "ui" / "app.py"), "--host", "0.0.0.0", "--port", "8123"]
    assert env["SPEC_AGENT_INDEX"] == "/tmp/idx"
    calls.clear()
    result = CliRunner().invoke(app, ["--index", "/tmp/idx", "ui"])
    assert "warning" not in result.output and calls[0][0][5:9] == ["--host", "127.0.0.1", "--port", "8000"]
