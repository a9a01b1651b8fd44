"""The chat's /commands: parsing, the command table, and what each command sends."""

from __future__ import annotations

import asyncio
import re
import shlex
from collections.abc import Sequence
from typing import Any

from agent.errors import SpecAgentError
from agent.schema import to_dict
from ui import render, scope
from ui.chat import Chat
from ui.corrections import catalogue_tests, record_correction
from ui.history import listed_documents
from ui.render import FileCard
from ui.sources import cited_table

HELP = """**Commands**
- `/docs`: the indexed documents
- `/doc MIL-STD-461G [ACME-EMC-CS-2026 …]`: answer only from these documents (`/doc all`: from
  every document; `/doc`: which ones now); the same as the document picker in the chat settings
- `/clause 8.2.2.1 [doc]`: a clause with its text and tables
- `/table "Table 8-1" [doc]`: a table as printed
- `/match [doc]`: the whole document's clause → test matrix (with a CSV to download)
- `/keywords 5.12 [doc]`: keywords of a clause
- `/diff MIL-STD-461F MIL-STD-461G [CS114]`: what changed between two editions (or in one
  clause or test), old and new clause side by side
- `/compare 2 100 MHz [doc …]`: one test's limit or level at a frequency in each document, cited,
  the strictest marked
- `/correct 8.2.2.1 6 [doc]`: record that clause 8.2.2.1 requires catalogue test 6
  (`none` instead of the id: no test of the catalogue)
- `/doctor`: what this server runs on (model server, model, tools, context size, embedder,
  index, databases, the model's queue) and what to fix, as `spec-agent doctor` says it
- `/help`: this list"""


class Usage(ValueError):
    """A command typed with missing or wrong arguments."""


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
    except Usage as err:
        await chat.send(f"⚠️ {err}\n\n{HELP}")


def _arg(args: Sequence[str], i: int, what: str) -> str:
    if len(args) <= i:
        raise Usage(f"missing {what}")
    return args[i]


async def cmd_help(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    await chat.send(HELP)


async def cmd_docs(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    docs = await asyncio.to_thread(listed_documents, assistant)
    await chat.send(render.documents_markdown(docs))


async def cmd_doc(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    if not args:
        await chat.send(scope.scope_line(chat.scope))
        return
    documents = [d["doc"] for d in await asyncio.to_thread(assistant.documents)]
    try:
        chosen = [] if [a.lower() for a in args] == [scope.ALL] else scope.resolve(args, documents)
    except scope.UnknownDocument as err:
        raise Usage(str(err)) from None
    await chat.offer_scope(documents, chosen)
    await chat.send(scope.scope_line(chosen))


async def cmd_clause(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    number, doc = _arg(args, 0, "clause number, e.g. `/clause 8.2.2.1`"), (args[1] if len(args) > 1 else None)
    result = await asyncio.to_thread(assistant.toolbox.get_clause, number, doc)
    clause = result.evidence[0]
    parts = [render.source_markdown(to_dict(clause))]
    for cite in result.evidence[1:]:
        table = await asyncio.to_thread(cited_table, assistant, {"table": cite.table, "doc": cite.doc})
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
        raise Usage(f"name the document, e.g. `/match {docs[0]['doc'] if docs else 'MIL-STD-461G'}` "
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
        raise Usage(f"`{test}` is not a test id; give a catalogue id (0–14) or `none`")
    right = [] if test.lower() == "none" else [int(test)]
    ids = [i for i, _ in catalogue_tests(assistant)]
    unknown = [i for i in right if i not in ids]
    if unknown:
        raise Usage(f"no test {unknown[0]} in the catalogue (ids {min(ids)}–{max(ids)})")
    await record_correction(assistant, chat, number, right, args[2] if len(args) > 2 else None)


async def cmd_diff(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    usage = "two editions, e.g. `/diff MIL-STD-461F MIL-STD-461G [CS114]`"
    old, new = _arg(args, 0, usage), _arg(args, 1, usage)
    clause = args[2] if len(args) > 2 else None
    await chat.send(await asyncio.to_thread(diff_message, assistant, old, new, clause))


def diff_message(assistant: Any, old: str, new: str, clause: str | None) -> str:
    from agent.compare.editions import diff_editions
    from agent.compare.report import diff_markdown

    index = assistant.index
    return diff_markdown(diff_editions(index.document(old), index.document(new), clause))


async def cmd_compare(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    usage = "a test and a frequency, e.g. `/compare 2 100 MHz` or `/compare \"RE 310\" \"100 MHz\" ACME HM`"
    test, at = _arg(args, 0, usage), _arg(args, 1, usage)
    rest = list(args[2:])
    if rest and re.fullmatch(r"[kMG]?Hz", rest[0], re.IGNORECASE):  # /compare 2 100 MHz: the unit apart
        at, rest = f"{at} {rest[0]}", rest[1:]
    docs = rest or list(chat.scope)
    await chat.send(await asyncio.to_thread(compare_message, assistant, test, at, docs))


def compare_message(assistant: Any, test: str, at: str, docs: Sequence[str]) -> str:
    from agent.compare.across import compare_test
    from agent.compare.text import comparison_markdown

    index = assistant.index
    documents = [index.document(d) for d in docs] if docs else index.documents()
    return comparison_markdown(compare_test(documents, assistant.toolbox.matcher, test, at))


async def cmd_doctor(assistant: Any, chat: Chat, args: Sequence[str]) -> None:
    from agent.doctor import run_checks
    from agent.graph.model_queue import gate_for

    checks = await asyncio.to_thread(run_checks, assistant.settings)
    gate = gate_for(assistant.settings)
    queue = {"limit": gate.limit, "running": gate.running, "waiting": gate.waiting}
    await chat.send(render.doctor_markdown(checks, queue))


COMMANDS = {"help": cmd_help, "docs": cmd_docs, "doc": cmd_doc, "clause": cmd_clause, "table": cmd_table,
            "keywords": cmd_keywords, "match": cmd_match, "correct": cmd_correct, "doctor": cmd_doctor,
            "diff": cmd_diff, "compare": cmd_compare}
