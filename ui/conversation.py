"""The conversation: the opening message and document picker, each message routed (files,
/commands, questions over the chat's documents), and an answer: its steps and the model's draft
streamed, then the verified answer shown with its sources."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

from agent.errors import SpecAgentError
from ui import render, scope
from ui.chat import DRAFT, REDRAFT, Chat, ProgressHandle
from ui.commands import run_command
from ui.corrections import correction_actions
from ui.history import listed_documents
from ui.render import ActionSpec
from ui.sources import source_elements
from ui.uploads import LOAD_SAMPLE, ingest_uploads


def mode_line(assistant: Any) -> str:
    if assistant.mode == "llm":
        return (f"Answers are written by **{assistant.model_name}** ({model_server(assistant.settings)}) "
                "and checked against the clauses they cite.")
    note = assistant.status_note or "answers come from the documents and tools, without a language model."
    return f"**Offline mode**: {note}"


def model_server(settings: Any) -> str:
    """Where the model runs, in words: "Ollama, on this machine", "Ollama at …", "the
    OpenAI-compatible server at …"."""
    if getattr(settings, "llm", "ollama") == "openai":
        return f"the OpenAI-compatible server at {settings.openai_base_url}"
    host = getattr(settings, "ollama_host", "http://127.0.0.1:11434")
    if (urlparse(host).hostname or "") in ("127.0.0.1", "localhost", "::1"):
        return "Ollama, on this machine"
    return f"Ollama at {host}"


async def on_start(assistant: Any, chat: Chat) -> None:
    docs = await asyncio.to_thread(listed_documents, assistant)
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
    await chat.offer_scope([d["doc"] for d in docs], [])


async def on_resume(assistant: Any, chat: Chat) -> None:
    """A thread opened again: the picker shown again, with the scope it had."""
    await scope.offer(assistant, chat)


async def on_settings(assistant: Any, chat: Chat, values: dict[str, Any]) -> None:
    """The document picker changed: say what questions are answered from now."""
    if scope.SETTING not in values:
        return
    documents = [d["doc"] for d in await asyncio.to_thread(assistant.documents)]
    chosen = [d for d in values.get(scope.SETTING) or [] if d in documents]
    await chat.offer_scope(documents, chosen)
    await chat.send(scope.scope_line(chosen))


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
        await ask(assistant, chat, text)


async def ask(assistant: Any, chat: Chat, question: str) -> None:
    """Answer over the chat's documents: every one, one, or once per document of several."""
    docs: list[str | None] = [None]
    if chat.scope:
        indexed = await asyncio.to_thread(scope.titles, assistant)
        docs, note = scope.targets(chat.scope, question, indexed)
        if note:
            await chat.send(note)
    for doc in docs:
        await answer(assistant, chat, question, doc, heading=f"**From {doc}:**" if len(docs) > 1 else "")


async def answer(assistant: Any, chat: Chat, question: str, doc: str | None = None, heading: str = "") -> None:
    """Stream the steps and the model's draft (into a step of its own: not yet verified), then show
    the verified answer with its sources as the message."""
    from agent.service import FinalEvent, StepEvent, TokenEvent, WaitEvent

    handle = await chat.start_answer()
    record, waiting = None, None
    try:
        async for event in assistant.astream(question, chat.thread_id, doc):
            if isinstance(event, WaitEvent):
                waiting = await show_wait(chat, waiting, event)
            elif isinstance(event, StepEvent):
                await chat.step(event.name, event.input, event.output)
            elif isinstance(event, TokenEvent):
                await handle.token(event.text, REDRAFT if event.node == "retry" else DRAFT)
            elif isinstance(event, FinalEvent):
                record = event.answer
    except SpecAgentError as err:
        await handle.finish(f"⚠️ {err}")
        return
    if record is None:
        await handle.finish("⚠️ The assistant gave no answer; see the server log.")
        return
    elements, lines = await asyncio.to_thread(source_elements, assistant, record.citations)
    body = render.answer_markdown(record.answer, lines)
    await handle.finish(f"{heading}\n\n{body}" if heading else body, elements=elements,
                        actions=correction_actions(record),
                        metadata={"answer_id": record.answer_id, "mode": record.mode})


WAITING = "waiting for the model"  # the step a request that queues for the model shows


def queue_line(position: int, limit: int) -> str:
    ahead = {1: "you are next", 2: "1 question ahead of yours"}.get(position, f"{position - 1} questions ahead of yours")
    return f"Position {position} in the queue for the model ({ahead}; it answers {limit} at a time)."


async def show_wait(chat: Chat, waiting: ProgressHandle | None, event: Any) -> ProgressHandle | None:
    """The waiting step of one answer (a `WaitEvent`): opened at the first place in the queue,
    updated as the request moves up, closed when it is sent to the model."""
    if event.position > 0:
        if waiting is None:
            waiting = await chat.start_progress(WAITING, "other questions are being answered")
        await waiting.update(queue_line(event.position, event.limit))
        return waiting
    if waiting is not None:
        await waiting.finish(f"Sent to the model after {event.waited_s:.1f} s in the queue.")
    return None
