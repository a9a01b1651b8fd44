"""Markdown and files the chat shows: sources, tables, the test matrix, documents, CSV bytes.

Pure functions over plain data (citation dicts, `Table` records, match rows); the records
`SourceCard`, `PdfCard`, `FileCard` and `ActionSpec` describe what the chat attaches, so
handlers can be tested without Chainlit.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.schema import Table
from agent.tools import table_markdown as agent_table_markdown


@dataclass(frozen=True)
class SourceCard:
    """A citation shown beside the answer (a Chainlit `Text` element, display "side")."""

    name: str
    content: str


@dataclass(frozen=True)
class PdfCard:
    """The cited PDF opened at the cited page (a Chainlit `Pdf` element, display "side")."""

    name: str
    path: str
    page: int | None


@dataclass(frozen=True)
class FileCard:
    """A file to download (a Chainlit `File` element)."""

    name: str
    content: bytes
    mime: str


@dataclass(frozen=True)
class ActionSpec:
    """A button under a message (a Chainlit `Action`)."""

    name: str
    label: str
    payload: dict[str, Any] = field(default_factory=dict)


_OLD_SOURCES = re.compile(r"\n+Sources:\n(?:\[\d+\][^\n]*(?:\n|$))+\s*$")


def _cell(value: Any) -> str:
    return str(value).replace("|", "/").replace("\n", " ").strip()


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub markdown table; pipes and line breaks inside cells are neutralised."""
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def table_markdown(table: Table) -> str:
    """A specification table as printed: bold id and caption, then every row, empty cells kept."""
    return agent_table_markdown(table, bold_title=True)


def where(c: Mapping[str, Any]) -> str:
    """"ACME-EMC-CS-2026 §8.2.2.1 Table 8-1 p. 5" for a citation (parts it lacks left out)."""
    parts = [c.get("doc") or ""]
    if c.get("clause"):
        parts.append(f"§{c['clause']}")
    if c.get("table"):
        parts.append(str(c["table"]))
    page = c.get("page_label") or c.get("page")
    if page:
        parts.append(f"p. {page}")
    elif c.get("position") is not None:  # DOCX: the heading's paragraph number
        parts.append(f"¶ {c['position']}")
    return " ".join(p for p in parts if p)


def source_name(c: Mapping[str, Any]) -> str:
    return f"[{c['n']}] {where(c)}"


def source_markdown(c: Mapping[str, Any], table: Table | None = None, clause_tables: Sequence[Table] = ()) -> str:
    """What a source element shows: clause, title, document, page, then the cited text and the
    tables printed in that clause; a table citation shows the whole table as a markdown table
    (and the cited row first)."""
    head = " ".join(x for x in (f"§{c['clause']}" if c.get("clause") else "", c.get("title") or "") if x)
    page = c.get("page_label") or c.get("page")
    lines = [f"**{head}**" if head else f"**{c.get('doc', '')}**",
             f"Document: {c.get('doc', '')}" + (f" · page {page}" if page else "")]
    if table is not None:
        if c.get("row") is not None and c.get("text"):
            lines.append(f"Cited row: {c['text']}")
        lines.append(table_markdown(table))
    else:
        lines.append(str(c.get("text") or ""))
        lines += [table_markdown(t) for t in clause_tables]
    return "\n\n".join(lines)


def answer_markdown(answer: str, source_lines: Sequence[str]) -> str:
    """The verified answer with its "Sources:" list naming the source elements (clickable);
    a "Sources:" block the answer already ends with is replaced by this one."""
    body = _OLD_SOURCES.sub("", answer).rstrip()
    if not source_lines:
        return body
    return body + "\n\n**Sources:**\n" + "\n".join(f"- {line}" for line in source_lines)


def documents_markdown(docs: Sequence[Mapping[str, Any]]) -> str:
    """The indexed documents as a table; a "changed" column when a document has a note of who
    replaced it from the chat."""
    if not docs:
        return "No documents are indexed yet."
    header = ["document", "pages", "clauses", "tables"]
    rows = [[d["doc"], d["pages"], d["clauses"], d["tables"]] for d in docs]
    if any(d.get("changed") for d in docs):
        header.append("changed")
        rows = [row + [d.get("changed") or ""] for row, d in zip(rows, docs)]
    return markdown_table(header, rows)


def tests_text(tests: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(f"{t['id']} {t['name']}" for t in tests) or "none of the catalogue"


MATRIX_HEADER = ["clause", "title", "test_ids", "tests", "scores", "abstain"]


def matrix_markdown(doc: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """The clause → test matrix of a document, with scores."""
    body = [[r["clause"], r["title"], tests_text(r["tests"]) if r["tests"] else "–",
             " ".join(f"{t['score']:.2f}" for t in r["tests"])] for r in rows]
    return f"**Test matrix: {doc}** ({len(rows)} clauses)\n\n" + markdown_table(
        ["clause", "title", "tests", "scores"], body)


def matrix_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """The same matrix as CSV (UTF-8), columns as `spec-agent classify --doc --csv` writes them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MATRIX_HEADER)
    for r in rows:
        tests = r["tests"]
        writer.writerow([r["clause"], r["title"], " ".join(str(t["id"]) for t in tests),
                         "; ".join(f"{t['id']} {t['name']}" for t in tests),
                         " ".join(f"{t['score']:.2f}" for t in tests), str(r["abstain"]).lower()])
    return out.getvalue().encode("utf-8")


def keywords_markdown(subject: str, keywords: Sequence[Sequence[Any]]) -> str:
    if not keywords:
        return f"No keywords found in {subject}."
    return f"**Keywords of {subject}**\n\n" + markdown_table(
        ["keyword", "YAKE score (lower = more relevant)"],
        [[k, f"{float(s):.4f}"] for k, s in keywords])


def outcome_line(o: Any) -> str:
    """One line per ingested file: what was found, or what went wrong and what to do."""
    from pathlib import Path

    name = Path(o.path).name
    if o.status == "failed":
        return f"❌ {o.message}"
    found = f"{o.pages} pages, {o.clauses} clauses, {o.tables} tables"
    return f"✅ {name}: {o.status} as {o.doc} ({found})"


STATUS_MARK = {"ok": "✅ ok", "warn": "⚠️ warn", "fail": "❌ fail"}


def doctor_markdown(checks: Sequence[Any], queue: Mapping[str, int]) -> str:
    """`/doctor`: the checks of `spec-agent doctor` (agent.doctor.Check records) as a table, and
    the model's queue now ({"limit", "running", "waiting"})."""
    rows = [[STATUS_MARK.get(c.status, c.status), c.name, c.detail, c.advice] for c in checks]
    failed = [c.name for c in checks if c.status == "fail"]
    verdict = (f"**Something to fix**: {', '.join(failed)}." if failed else
               "**Nothing to fix** (warnings say what works less well).")
    line = (f"Model queue: {queue['limit']} request(s) at a time (SPEC_AGENT_LLM_CONCURRENCY); "
            f"{queue['running']} being answered, {queue['waiting']} waiting now.")
    return "\n\n".join(["**spec-agent doctor** (the same checks as `spec-agent doctor` on this server)",
                          markdown_table(["", "check", "found", "what to do"], rows), verdict, line])
