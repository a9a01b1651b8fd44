"""`spec-agent ask`: one question, answered with citations (LLM through Ollama, or offline)."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import Optional

import typer

from agent.cli import settings_of
from agent.errors import SpecAgentError


def ask(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="Your question, e.g. \"what does 5.13 say about the probe position?\""),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON."),
    offline: bool = typer.Option(False, "--offline", help="Answer from the tools only, without Ollama."),
    doc: Optional[str] = typer.Option(None, "--doc", help="Only this document (name as `docs` lists it)."),
    thread: Optional[str] = typer.Option(None, "--thread", help="Conversation id, for follow-up questions."),
    model: Optional[str] = typer.Option(None, "--model", help="Ollama chat model (default llama3.1:8b)."),
) -> None:
    """Ask a question about the ingested specifications."""
    from agent.service import Assistant, FinalEvent, TokenEvent

    settings = settings_of(ctx, offline=True if offline else None, chat_model=model)
    try:
        assistant = Assistant.open(settings)
        if assistant.status_note and not as_json:
            typer.echo(assistant.status_note, err=True)
        thread_id = thread or f"cli-{uuid.uuid4().hex[:8]}"
        if as_json or assistant.mode == "offline":
            record = assistant.ask(question, thread_id, doc)
        else:
            record = asyncio.run(_stream(assistant, question, thread_id, doc, TokenEvent, FinalEvent))
    except SpecAgentError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(record.to_json(), ensure_ascii=False, indent=2))
        return
    if assistant.mode == "offline":
        typer.echo(record.answer)
    _print_sources(record)


async def _stream(assistant, question, thread_id, doc, token_cls, final_cls):
    streamed = []
    record = None
    async for event in assistant.astream(question, thread_id, doc):
        if isinstance(event, token_cls):
            streamed.append(event.text)
            sys.stdout.write(event.text)
            sys.stdout.flush()
        elif isinstance(event, final_cls):
            record = event.answer
    if record is not None and record.mode != "llm":  # the model failed: the extractive answer
        typer.echo(("\n\n" if streamed else "") + record.answer)
    elif record is not None and record.answer.strip() != "".join(streamed).strip():
        typer.echo("\n\n(The streamed draft failed the citation check; verified answer:)\n" + record.answer)
    else:
        typer.echo("")
    return record


def _print_sources(record) -> None:
    if record.mode == "offline" or not record.citations:
        return
    typer.echo("\nSources:")
    for c in record.citations:
        where = f"{c['doc']} §{c['clause']}" if c.get("clause") else c["doc"]
        extra = "".join(f", {x}" for x in [c.get("table"), f"p. {c['page']}" if c.get("page") else None] if x)
        typer.echo(f"[{c['n']}] {where}{extra}")


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
