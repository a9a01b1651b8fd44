"""Chunking: clause bodies split on paragraph boundaries, one chunk per table (as markdown)."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from agent.schema import Chunk, Clause, Document, Table

log = logging.getLogger(__name__)

# Page furniture and table-of-contents leaders that must never reach the index.
_BOILERPLATE = re.compile(
    r"^.*(?:Downloaded from\s+https?://\S*|\.{5,}\s*[\w-]*\s*$|(?:\.\s){4,}).*$", re.IGNORECASE
)


def heading(clause: Clause) -> str:
    return f"{clause.number} {clause.title}".strip()


def title_path(clause: Clause, by_number: dict[str, Clause]) -> str:
    """"5 GENERAL > 5.12 CS114, ... > 5.12.3 Test procedures": ancestors then the clause."""
    parts = [heading(by_number[p]) if p in by_number else p for p in clause.parents]
    return " > ".join([*parts, heading(clause)])


def clean(text: str) -> str:
    """Text without furniture lines (running footers, TOC dotted leaders)."""
    kept = [line for line in text.splitlines() if not _BOILERPLATE.match(line)]
    if len(kept) != len(text.splitlines()):
        log.debug("dropped %d furniture lines", len(text.splitlines()) - len(kept))
    return "\n".join(kept).strip()


def _pieces(text: str, limit: int) -> list[str]:
    """Units no longer than `limit` where possible: paragraphs, else lines, else sentences."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    out: list[str] = []
    for para in paragraphs:
        if len(para) <= limit:
            out.append(para)
            continue
        lines = [ln for ln in para.split("\n") if ln.strip()]
        units = lines if len(lines) > 1 else re.split(r"(?<=[.;:])\s+", para)
        for unit in units:
            out.extend(_wrap(unit, limit))
    return out


def _wrap(text: str, limit: int) -> list[str]:
    """A unit longer than `limit` (one endless sentence) cut at the last space before it."""
    out = []
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        cut = cut if cut > limit // 2 else limit
        out.append(text[:cut].strip())
        text = text[cut:].strip()
    return [*out, text] if text else out


def split_paragraphs(text: str, limit: int) -> list[str]:
    """`text` packed into parts of at most about `limit` characters, cut only between units."""
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        sep = "\n\n" if current else ""
        if current and len(current) + len(sep) + len(piece) > limit:
            parts.append(current)
            current, sep = "", ""
        current += sep + piece
    if current:
        parts.append(current)
    return parts


def clause_chunks(doc: str, clause: Clause, path: str, limit: int) -> list[Chunk]:
    head = heading(clause)
    body = clean(clause.text)
    parts = split_paragraphs(body, limit) if body else [""]
    return [
        Chunk(
            id=f"{doc}#{clause.number}#{i}",
            doc=doc,
            clause=clause.number,
            title_path=path,
            page=clause.page,
            text=f"{head}\n{part}".strip(),
        )
        for i, part in enumerate(parts)
    ]


def _cell(value: str) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def markdown_table(table: Table) -> str:
    """Cells as a markdown table; several header rows are merged column by column."""
    width = max((len(r) for r in (*table.header, *table.rows)), default=0)
    if width == 0:
        return ""
    head = [" ".join(_cell(r[i]) for r in table.header if i < len(r) and _cell(r[i])) for i in range(width)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * width]
    for row in table.rows:
        cells = [_cell(c) for c in row] + [""] * (width - len(row))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table_chunk(doc: str, table: Table, by_number: dict[str, Clause]) -> Chunk:
    owner = by_number.get(table.clause or "")
    path = title_path(owner, by_number) + " > " + table.id if owner else table.id
    text = f"{table.id} {table.caption}".strip() + "\n" + markdown_table(table)
    return Chunk(
        id=f"{doc}#table:{table.id}",
        doc=doc,
        clause=table.clause,
        title_path=path,
        page=table.page,
        text=text.strip(),
        kind="table",
        table=table.id,
    )


def chunk_document(doc: Document, chunk_chars: int) -> list[Chunk]:
    """The chunks of one document: clauses in document order, then its tables."""
    by_number = {c.number: c for c in doc.clauses}
    chunks: list[Chunk] = []
    for clause in doc.clauses:
        chunks.extend(clause_chunks(doc.name, clause, title_path(clause, by_number), chunk_chars))
    chunks.extend(table_chunk(doc.name, t, by_number) for t in doc.tables)
    return _unique_ids(chunks)


def _unique_ids(chunks: list[Chunk]) -> list[Chunk]:
    """Chunk ids made unique where a document repeats a clause number or table id."""
    seen: dict[str, int] = {}
    out = []
    for chunk in chunks:
        n = seen.get(chunk.id, 0)
        seen[chunk.id] = n + 1
        out.append(chunk if n == 0 else replace(chunk, id=f"{chunk.id}~{n}"))
    return out
