"""What the chat does: plain async handlers over an `Assistant` and a small `Chat` adapter.

`ui/app.py` wires Chainlit's decorators to these functions with `ChainlitChat`; tests drive
them with a recording fake. Everything blocking (index, matcher, graph) runs in a thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import shlex
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from agent.errors import SpecAgentError
from agent.schema import to_dict
from ui import render
from ui.render import ActionSpec, FileCard, PdfCard, SourceCard

log = logging.getLogger(__name__)

LOAD_SAMPLE = "load_sample"
CORRECT_TEST = "correct_test"
HELP = """**Commands**
- `/docs`: the indexed documents
- `/clause 8.2.2.1 [doc]`: a clause with its text and tables
- `/table "Table 8-1" [doc]`: a table as printed
- `/match [doc]`: the whole document's clause → test matrix (with a CSV to download)
- `/keywords 5.12 [doc]`: keywords of a clause
- `/correct 8.2.2.1 6 [doc]`: record that clause 8.2.2.1 requires catalogue test 6
  (`none` instead of the id: no test of the catalogue)
- `/help`: this list"""


class AnswerHandle(Protocol):
    async def token(self, text: str) -> None: ...
    async def finish(self, content: str, *, elements: Sequence[Any] = (), actions: Sequence[ActionSpec] = (),
                     metadata: Mapping[str, Any] | None = None) -> None: ...


class ProgressHandle(Protocol):
    async def update(self, output: str) -> None: ...
    async def finish(self, output: str) -> None: ...


class Chat(Protocol):
    """What the handlers need from a chat session."""

    user: str
    thread_id: str

    async def send(self, content: str, *, elements: Sequence[Any] = (), actions: Sequence[ActionSpec] = (),
                   metadata: Mapping[str, Any] | None = None) -> None: ...
    async def start_answer(self) -> AnswerHandle: ...
    async def step(self, name: str, input: str, output: str) -> None: ...
    async def start_progress(self, name: str, input: str) -> ProgressHandle: ...
    async def choose(self, question: str, actions: Sequence[ActionSpec]) -> dict[str, Any] | None: ...


# -- chat start ------------------------------------------------------------------------------

def mode_line(assistant: Any) -> str:
    if assistant.mode == "llm":
        return (f"Answers are written by **{assistant.model_name}** (Ollama, on this machine) and checked "
                "against the clauses they cite.")
    note = assistant.status_note or "answers come from the documents and tools, without a language model."
    return f"**Offline mode**: {note}"


async def on_start(assistant: Any, chat: Chat) -> None:
    docs = await asyncio.to_thread(assistant.documents)
    lines = ["**spec-agent**: ask about your EMC specifications; every answer cites its clauses.",
             mode_line(assistant)]
    actions: list[ActionSpec] = []
    if docs:
        lines.append("Indexed documents:\n\n" + render.documents_markdown(docs))
    else:
        lines.append("No documents are indexed yet. Drop PDF or DOCX specifications into the chat, "
                     "or load the bundled sample specification (ACME-EMC-CS-2026).")
        actions.append(ActionSpec(LOAD_SAMPLE, "Load the sample spec", {}))
    lines.append("Type `/help` for commands.")
    await chat.send("\n\n".join(lines), actions=actions)


async def load_sample(assistant: Any, chat: Chat) -> None:
    paths = assistant.sample_spec_paths()
    await _ingest(assistant, chat, paths)


# -- messages --------------------------------------------------------------------------------

async def on_message(assistant: Any, chat: Chat, text: str, files: Sequence[tuple[str, str]] = ()) -> None:
    """Files first (ingested), then the text: a /command or a question."""
    if files:
        await ingest_uploads(assistant, chat, files)
    text = text.strip()
    if not text:
        return
    if text.startswith("/"):
        await run_command(assistant, chat, text)
    else:
        await answer(assistant, chat, text)


async def answer(assistant: Any, chat: Chat, question: str, doc: str | None = None) -> None:
    """Stream the steps and tokens, then replace the draft with the verified answer and its sources."""
    from agent.service import FinalEvent, StepEvent, TokenEvent

    handle = await chat.start_answer()
    record = None
    try:
        async for event in assistant.astream(question, chat.thread_id, doc):
            if isinstance(event, StepEvent):
                await chat.step(event.name, event.input, event.output)
            elif isinstance(event, TokenEvent):
                await handle.token(event.text)
            elif isinstance(event, FinalEvent):
                record = event.answer
    except SpecAgentError as err:
        await handle.finish(f"⚠️ {err}")
        return
    if record is None:
        await handle.finish("⚠️ The assistant gave no answer; see the server log.")
        return
    elements, lines = await asyncio.to_thread(source_elements, assistant, record.citations)
    await handle.finish(render.answer_markdown(record.answer, lines), elements=elements,
                        actions=correction_actions(record),
                        metadata={"answer_id": record.answer_id, "mode": record.mode})


def source_elements(assistant: Any, citations: Sequence[Mapping[str, Any]]) -> tuple[list[Any], list[str]]:
    """A text element per citation (tables as markdown tables), plus the PDF at the cited page;
    and the lines naming them under the answer."""
    elements: list[Any] = []
    lines: list[str] = []
    for c in citations:
        name = render.source_name(c)
        elements.append(SourceCard(name, render.source_markdown(c, _table(assistant, c), _clause_tables(assistant, c))))
        line = name
        path = assistant.source_path(c["doc"])
        if path and path.lower().endswith(".pdf") and Path(path).is_file():
            pdf_name = f"[{c['n']}] {Path(path).name}" + (f" p. {c['page']}" if c.get("page") else "")
            elements.append(PdfCard(pdf_name, path, c.get("page")))
            line += f" · {pdf_name}"
        lines.append(line)
    return elements, lines


def _table(assistant: Any, c: Mapping[str, Any]) -> Any:
    if not c.get("table"):
        return None
    try:
        return assistant.index.get_table(c["table"], c.get("doc"))
    except SpecAgentError:
        return None


def _clause_tables(assistant: Any, c: Mapping[str, Any]) -> tuple:
    """The tables printed in a cited clause (limits, levels), shown with its text."""
    if c.get("table") or not c.get("clause"):
        return ()
    try:
        return tuple(getattr(assistant.index.get_clause(c["clause"], c.get("doc")), "tables", ()))
    except SpecAgentError:
        return ()


def correction_actions(record: Any) -> list[ActionSpec]:
    """ "Correct the test" under a which-test answer, naming the clause it classified."""
    cited = next((c for c in record.citations if c.get("clause") and not c.get("table")), None)
    if not record.tests or cited is None:
        return []
    payload = {"answer_id": record.answer_id, "doc": cited["doc"], "clause": cited["clause"],
               "wrong": [t["id"] for t in record.tests]}
    return [ActionSpec(CORRECT_TEST, "Correct the test", payload)]


# -- commands --------------------------------------------------------------------------------

def parse_command(text: str) -> tuple[str, list[str]]:
    """'/table "Table 8-1" ACME' → ("table", ["Table 8-1", "ACME"]); quotes group words."""
    try:
        parts = shlex.split(text[1:])
    except ValueError:
        parts = text[1:].split()
    return (parts[0].lower() if parts else ""), parts[1:]


async def run_command(assistant: Any, chat: Chat, text: str) -> None:
    name, args = parse_command(text)
    command = COMMANDS.get(name)
    if command is None:
        await chat.send(f"Unknown command `/{name}`.\n\n{HELP}")
        return
    try:
        await command(assistant, chat, args)
    except SpecAgentError as err:
        await chat.send(f"⚠️ {err}")
    except _Usage as err:
        await chat.send(f"⚠️ {err}\n\n{HELP}")


class _Usage(ValueError):
    """A command typed with missing or wrong arguments."""


def _arg(args: Sequence[str], i: int, what: str) -> str:
    if len(args) <= i:
        raise _Usage(f"missing {what}")
    return args[i]


async def cmd_help(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    await chat.send(HELP)


async def cmd_docs(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    docs = await asyncio.to_thread(assistant.documents)
    await chat.send(render.documents_markdown(docs))


async def cmd_clause(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    number, doc = _arg(args, 0, "clause number, e.g. `/clause 8.2.2.1`"), (args[1] if len(args) > 1 else None)
    result = await asyncio.to_thread(assistant.toolbox.get_clause, number, doc)
    clause = result.evidence[0]
    parts = [render.source_markdown(to_dict(clause))]
    for cite in result.evidence[1:]:
        table = await asyncio.to_thread(_table, assistant, {"table": cite.table, "doc": cite.doc})
        parts.append(render.table_markdown(table) if table is not None else cite.text)
    await chat.send("\n\n".join(parts))


async def cmd_table(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    table_id = _arg(args, 0, 'table id, e.g. `/table "Table 8-1"`')
    doc = args[1] if len(args) > 1 else None
    table = await asyncio.to_thread(assistant.index.get_table, table_id, doc)
    page = f" (p. {table.page_label or table.page})" if table.page else ""
    await chat.send(f"{table.doc}{page}\n\n" + render.table_markdown(table))


async def cmd_keywords(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    number, doc = _arg(args, 0, "clause number, e.g. `/keywords 5.12`"), (args[1] if len(args) > 1 else None)
    result = await asyncio.to_thread(assistant.toolbox.extract_keywords, number, None, doc)
    cited = result.evidence[0] if result.evidence else None
    subject = f"{cited.doc} §{cited.clause} {cited.title}" if cited else f"§{number}"
    await chat.send(render.keywords_markdown(subject, result.data.get("keywords", [])))


async def cmd_match(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    doc = args[0] if args else await _only_document(assistant)
    if doc is None:
        docs = await asyncio.to_thread(assistant.documents)
        names = ", ".join(d["doc"] for d in docs) or "none yet"
        raise _Usage(f"name the document, e.g. `/match {docs[0]['doc'] if docs else 'MIL-STD-461G'}` "
                     f"(indexed: {names})")
    rows = await asyncio.to_thread(match_document, assistant, doc)
    csv_name = f"{doc}-test-matrix.csv"
    await chat.send(render.matrix_markdown(doc, rows),
                    elements=[FileCard(csv_name, render.matrix_csv(rows), "text/csv")])


async def _only_document(assistant: Any) -> str | None:
    docs = await asyncio.to_thread(assistant.documents)
    return docs[0]["doc"] if len(docs) == 1 else None


def match_document(assistant: Any, doc: str) -> list[dict[str, Any]]:
    """Every clause of a document with the tests it calls for (corrections applied)."""
    if hasattr(assistant, "match_document"):
        return list(assistant.match_document(doc))
    rows = []
    for clause in assistant.index.clauses(doc):
        result = assistant.toolbox.match_tests(clause=clause.number, doc=clause.doc)
        tests = [{k: t[k] for k in ("id", "name", "score")} for t in result.data["tests"]]
        rows.append({"clause": clause.number, "title": clause.title, "tests": tests,
                     "abstain": bool(result.data["abstain"])})
    return rows


async def cmd_correct(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    number = _arg(args, 0, "clause number, e.g. `/correct 8.2.2.1 6`")
    test = _arg(args, 1, "catalogue test id (or `none`), e.g. `/correct 8.2.2.1 6`")
    if not re.fullmatch(r"\d+|none", test.lower()):
        raise _Usage(f"`{test}` is not a test id; give a catalogue id (0–14) or `none`")
    right = [] if test.lower() == "none" else [int(test)]
    await record_correction(assistant, chat, number, right, args[2] if len(args) > 2 else None)


COMMANDS = {"help": cmd_help, "docs": cmd_docs, "clause": cmd_clause, "table": cmd_table,
            "keywords": cmd_keywords, "match": cmd_match, "correct": cmd_correct}


# -- corrections -----------------------------------------------------------------------------

def catalogue_tests(assistant: Any) -> list[tuple[int, str]]:
    return [(t.id, t.name) for t in assistant.toolbox.matcher.catalogue.tests]


async def correct_from_action(assistant: Any, chat: Chat, payload: Mapping[str, Any]) -> None:
    """Ask which test the clause really requires (catalogue buttons), then record it."""
    choices = [ActionSpec("pick_test", f"{i} {name}", {"test": i}) for i, name in catalogue_tests(assistant)]
    choices.append(ActionSpec("pick_test", "No test of the catalogue", {"test": None}))
    chosen = await chat.choose(f"Which test does {payload['doc']} §{payload['clause']} require?", choices)
    if chosen is None:
        await chat.send("No correction recorded (no test chosen).")
        return
    right = [] if chosen.get("test") is None else [int(chosen["test"])]
    await record_correction(assistant, chat, payload["clause"], right, payload["doc"], payload.get("wrong"))


async def record_correction(assistant: Any, chat: Chat, number: str, right: list[int], doc: str | None,
                            wrong: Sequence[int] | None = None) -> None:
    """Store "clause requires these tests" in the feedback store and reload the matcher."""
    names = dict(catalogue_tests(assistant))
    unknown = [i for i in right if i not in names]
    if unknown:
        raise _Usage(f"no test {unknown[0]} in the catalogue (ids {min(names)}–{max(names)})")
    saved = await asyncio.to_thread(_store_correction, assistant, number, right, doc, wrong, chat.user)
    tests = "; ".join(f"{i} {names[i]}" for i in saved.right) or "no test of the catalogue"
    was = f" (the matcher said: {'; '.join(f'{i} {names.get(i, i)}' for i in saved.wrong) or 'none'})" \
        if saved.wrong is not None else ""
    await chat.send(f"Correction recorded: {saved.doc} §{saved.clause} {saved.heading.split(' ', 1)[-1]} "
                    f"requires **{tests}**{was}. The next answers use it.")


def _store_correction(assistant: Any, number: str, right: list[int], doc: str | None,
                      wrong: Sequence[int] | None, user: str) -> Any:
    clause = assistant.index.get_clause(number, doc).clause
    if wrong is None:
        wrong = [t["id"] for t in assistant.toolbox.match_tests(clause=clause.number, doc=clause.doc).data["tests"]]
    saved = assistant.feedback.add_correction(f"{clause.number} {clause.title}", right, text=clause.text,
                                              doc=clause.doc, clause=clause.number, wrong=list(wrong), user=user)
    assistant.refresh()
    return saved


# -- uploads ---------------------------------------------------------------------------------

def upload_dir(assistant: Any) -> Path:
    return Path(assistant.settings.index_dir) / "uploads"


def _keep_upload(assistant: Any, name: str, path: str) -> str:
    """Copy an upload under <index>/uploads with its own file name (documents are named after it)."""
    folder = upload_dir(assistant)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (Path(name).name or "upload")
    shutil.copyfile(path, target)
    return str(target)


async def ingest_uploads(assistant: Any, chat: Chat, files: Sequence[tuple[str, str]]) -> None:
    """Ingest dropped files (the ingest sniffs their content); one line per file, good or bad."""
    paths = [await asyncio.to_thread(_keep_upload, assistant, name, path) for name, path in files]
    await _ingest(assistant, chat, paths)


def progress_line(p: Any) -> str:
    name = Path(p.path).name if p.path else ""
    if p.stage == "parse":
        return f"parse: {name} (file {p.files_done + 1} of {p.files_total})"
    if p.stage == "embed":
        return f"embed: {p.files_done} file(s) read, {p.pages_done} pages"
    if p.stage == "write":
        return "write: saving the index"
    return f"done: {p.files_done} of {p.files_total} file(s)"


async def _ingest(assistant: Any, chat: Chat, paths: Sequence[str]) -> None:
    names = ", ".join(Path(p).name for p in paths)
    handle = await chat.start_progress(f"Ingesting {len(paths)} file(s)", names)
    loop = asyncio.get_running_loop()
    lines: list[str] = []
    updates: list[Any] = []

    def on_progress(p: Any) -> None:  # called in the ingest thread
        lines.append(progress_line(p))
        updates.append(asyncio.run_coroutine_threadsafe(handle.update("\n".join(lines)), loop))

    outcomes = await asyncio.to_thread(assistant.ingest, list(paths), on_progress)
    for update in updates:
        await asyncio.wrap_future(update)
    report = "\n".join(render.outcome_line(o) for o in outcomes)
    await handle.finish("\n".join(lines + [report]))
    await chat.send(report)


# -- the Chainlit side of `Chat` -------------------------------------------------------------

def to_element(card: Any) -> Any:
    """A render card as the Chainlit element that shows it."""
    import chainlit as cl

    if isinstance(card, SourceCard):
        return cl.Text(name=card.name, content=card.content, display="side")
    if isinstance(card, PdfCard):
        return cl.Pdf(name=card.name, path=card.path, page=card.page, display="side")
    if isinstance(card, FileCard):
        return cl.File(name=card.name, content=card.content, mime=card.mime, display="inline")
    raise TypeError(f"no Chainlit element for {type(card).__name__}")


def to_action(spec: ActionSpec) -> Any:
    import chainlit as cl

    return cl.Action(name=spec.name, label=spec.label, payload=dict(spec.payload))


class ChainlitChat:
    """`Chat` over the current Chainlit session (messages, steps, elements, ask-action)."""

    def __init__(self, user: str, thread_id: str) -> None:
        self.user = user
        self.thread_id = thread_id

    @classmethod
    def current(cls) -> ChainlitChat:
        import chainlit as cl

        user = cl.user_session.get("user")
        return cls(getattr(user, "identifier", None) or "anonymous", cl.context.session.thread_id)

    async def send(self, content: str, *, elements: Sequence[Any] = (), actions: Sequence[ActionSpec] = (),
                   metadata: Mapping[str, Any] | None = None) -> None:
        import chainlit as cl

        await cl.Message(content=content, elements=[to_element(e) for e in elements],
                         actions=[to_action(a) for a in actions], metadata=dict(metadata or {})).send()

    async def start_answer(self) -> ChainlitAnswer:
        return ChainlitAnswer()

    async def step(self, name: str, input: str, output: str) -> None:
        import chainlit as cl

        async with cl.Step(name=name, type="tool", show_input="text") as step:
            step.input = input
            step.output = output

    async def start_progress(self, name: str, input: str) -> ChainlitProgress:
        import chainlit as cl

        step = cl.Step(name=name, type="tool", default_open=True, show_input="text")
        step.input = input
        await step.send()
        return ChainlitProgress(step)

    async def choose(self, question: str, actions: Sequence[ActionSpec]) -> dict[str, Any] | None:
        import chainlit as cl

        res = await cl.AskActionMessage(content=question, actions=[to_action(a) for a in actions],
                                        timeout=600).send()
        # Chainlit re-opens "a task is running" after an answer, which only a message handler
        # closes; asked from an action callback, close it or the message box stays locked.
        await cl.context.emitter.task_end()
        return dict(res.get("payload") or {}) if res else None


class ChainlitAnswer:
    """The answer message: tokens streamed into it, then replaced by the verified answer."""

    def __init__(self) -> None:
        import chainlit as cl

        self.message = cl.Message(content="")

    async def token(self, text: str) -> None:
        await self.message.stream_token(text)

    async def finish(self, content: str, *, elements: Sequence[Any] = (), actions: Sequence[ActionSpec] = (),
                     metadata: Mapping[str, Any] | None = None) -> None:
        self.message.content = content
        self.message.elements = [to_element(e) for e in elements]
        self.message.actions = [to_action(a) for a in actions]
        self.message.metadata = dict(metadata or {})
        await self.message.send()


class ChainlitProgress:
    """An ingest step whose output grows as files are parsed."""

    def __init__(self, step: Any) -> None:
        self.step = step

    async def update(self, output: str) -> None:
        self.step.output = output
        await self.step.update()

    async def finish(self, output: str) -> None:
        from chainlit.utils import utc_now

        self.step.output = output
        self.step.end = utc_now()
        await self.step.update()


# -- set-up: one assistant per server, upload limit, login -----------------------------------

_opening: concurrent.futures.Future | None = None


def _open_assistant() -> Any:
    from agent.config import Settings
    from agent.service import Assistant

    assistant = Assistant.open(Settings.from_env())
    log.info("assistant open on %s (%s)", assistant.settings.index_dir, assistant.mode)
    return assistant


def warm_up() -> None:
    """Start opening the server's assistant (index, matcher, Ollama probe) in the background."""
    global _opening
    if _opening is None:
        _opening = concurrent.futures.ThreadPoolExecutor(1, "spec-agent-open").submit(_open_assistant)


async def get_assistant() -> Any:
    """The server's one assistant over SPEC_AGENT_INDEX; a failed open is retried next time."""
    global _opening
    warm_up()
    assert _opening is not None
    try:
        return await asyncio.wrap_future(_opening)
    except Exception:
        _opening = None
        raise


def configure_chainlit() -> None:
    """Chainlit settings that follow ours: the upload size limit is settings.max_file_mb."""
    from chainlit.config import config

    from agent.config import Settings

    upload = config.features.spontaneous_file_upload
    if upload is not None:
        upload.max_size_mb = max(1, int(Settings.from_env().max_file_mb))


def make_data_layer() -> Any:
    from agent.config import Settings
    from agent.feedback.store import FeedbackStore
    from ui.datalayer import ChatDataLayer

    settings = Settings.from_env()
    return ChatDataLayer(settings.index_dir, FeedbackStore.open(settings))


def login(username: str, password: str) -> Any:
    import chainlit as cl

    from ui.auth import check_login, users_file

    path = users_file()
    if path is None or not check_login(username, password, path):
        log.info("failed login for %r", username)
        return None
    return cl.User(identifier=username, metadata={"role": "engineer", "provider": "credentials"})


def uploaded_files(message: Any) -> list[tuple[str, str]]:
    """(file name, saved path) of the files dropped with a message."""
    return [(e.name, e.path) for e in (message.elements or []) if getattr(e, "path", None)]
