"""The records every layer shares: documents, clauses, tables, chunks, hits, citations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

DocKind = Literal["pdf", "docx"]
# What a table is called in print, in the languages specifications are written or translated
# from ("Table 7", "Tabelle 7", "Tableau 7", "Tabla 7"); regex, to be matched case-insensitively.
TABLE_WORD = r"(?:table|tabelle|tableau|tabla|tabella|tabel|tab\.)"
ChunkKind = Literal["clause", "table"]


@dataclass(frozen=True)
class Table:
    """A table as printed: id ("TABLE VIII", "Table 7-1"), caption, and cells by row."""

    id: str
    caption: str
    clause: str | None
    page: int | None
    header: tuple[tuple[str, ...], ...]
    rows: tuple[tuple[str, ...], ...]
    page_label: str | None = None
    doc: str = ""


@dataclass(frozen=True)
class Clause:
    """A numbered clause: its heading, body text and where it stands in the document."""

    number: str  # "8.2.2.1", "5.16.3.1", "A.2.1", "Annex B", "Appendix A"
    title: str
    text: str
    parents: tuple[str, ...] = ()  # ancestor clause numbers, outermost first
    page: int | None = None  # 1-based PDF page index of the heading
    page_label: str | None = None  # printed page number, when there is one
    position: int | None = None  # DOCX: index of the heading paragraph in body order
    tables: tuple[str, ...] = ()  # ids of the tables that sit in this clause
    figures: tuple[str, ...] = ()  # figure captions in this clause
    doc: str = ""

    @property
    def parent(self) -> str | None:
        return self.parents[-1] if self.parents else None


@dataclass(frozen=True)
class Document:
    """One ingested file: its clauses and tables in document order."""

    name: str  # the document name users type: file stem, e.g. "MIL-STD-461G"
    path: str
    sha256: str
    kind: DocKind
    pages: int  # PDF pages; DOCX: 0
    clauses: tuple[Clause, ...]
    tables: tuple[Table, ...]
    title: str = ""  # the file's title; for a PDF followed by its first page's opening rows


@dataclass(frozen=True)
class Chunk:
    """A unit of retrieval: a clause body (or part of one) or a whole table."""

    id: str
    doc: str
    clause: str | None
    title_path: str  # "5 > 5.12 CS114, ... > 5.12.3 CS114 test procedures"
    page: int | None
    text: str
    kind: ChunkKind = "clause"
    table: str | None = None


@dataclass(frozen=True)
class Hit:
    """A search result: the chunk it came from and its fused score."""

    doc: str
    clause: str | None
    title: str | None
    page: int | None
    table: str | None
    text: str
    score: float
    chunk_id: str = ""


@dataclass(frozen=True)
class Citation:
    """What an answer's [n] points at: document, clause, page, table and row."""

    n: int
    doc: str
    clause: str | None
    title: str | None
    page: int | None
    table: str | None
    text: str
    row: int | None = None
    page_label: str | None = None
    position: int | None = None  # DOCX: the heading paragraph's index in body order (no pages)


def to_dict(record: Any) -> dict[str, Any]:
    """A record as plain JSON-ready data (tuples become lists)."""
    return asdict(record)


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def table_from_dict(data: dict[str, Any]) -> Table:
    return Table(**{k: _tuples(v) if k in ("header", "rows") else v for k, v in data.items()})


def clause_from_dict(data: dict[str, Any]) -> Clause:
    return Clause(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def document_from_dict(data: dict[str, Any]) -> Document:
    fields = dict(data)
    fields["clauses"] = tuple(clause_from_dict(c) for c in data["clauses"])
    fields["tables"] = tuple(table_from_dict(t) for t in data["tables"])
    return Document(**fields)


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one file of an ingest command."""

    path: str
    status: Literal["added", "replaced", "unchanged", "failed"]
    doc: str | None = None
    message: str = ""
    pages: int = 0
    clauses: int = 0
    tables: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
