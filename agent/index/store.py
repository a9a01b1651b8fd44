"""One generation on disk: SQLite rows, FAISS vectors (row i ↔ vector i), manifest JSON."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from agent.errors import SpecAgentError
from agent.index.lsa import LsaEmbeddings
from agent.schema import Chunk, Clause, Document, Table

log = logging.getLogger(__name__)

FORMAT = 1
DB, VECTORS, MANIFEST = "index.sqlite", "vectors.faiss", "manifest.json"
# Test hook only: a path; the writer creates it and sleeps after the rows are written, so a
# test can kill it mid-generation.
PAUSE_ENV = "SPEC_AGENT_TEST_PAUSE_FILE"

_SCHEMA = """
CREATE TABLE documents (ord INTEGER PRIMARY KEY, name TEXT UNIQUE, path TEXT, sha256 TEXT,
  kind TEXT, pages INTEGER, title TEXT);
CREATE TABLE clauses (doc TEXT, seq INTEGER, number TEXT, title TEXT, text TEXT, parents TEXT,
  page INTEGER, page_label TEXT, position INTEGER, tables TEXT, figures TEXT);
CREATE TABLE tables (doc TEXT, seq INTEGER, id TEXT, caption TEXT, clause TEXT, page INTEGER,
  page_label TEXT, header TEXT, rows TEXT);
CREATE TABLE chunks (vec INTEGER PRIMARY KEY, id TEXT, doc TEXT, clause TEXT, title_path TEXT,
  page INTEGER, text TEXT, kind TEXT, tbl TEXT);
"""


@dataclass
class Snapshot:
    """A generation in memory: documents in order, chunks and their vectors."""

    documents: list[Document] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    embedder: str | None = None
    lsa: LsaEmbeddings | None = None
    generation: str = ""

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _write_rows(con: sqlite3.Connection, documents: list[Document], chunks: list[Chunk]) -> None:
    con.executescript(_SCHEMA)
    for ord_, d in enumerate(documents):
        con.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?)",
                    (ord_, d.name, d.path, d.sha256, d.kind, d.pages, d.title))
        con.executemany("INSERT INTO clauses VALUES (?,?,?,?,?,?,?,?,?,?,?)", [
            (d.name, i, c.number, c.title, c.text, _json(c.parents), c.page, c.page_label,
             c.position, _json(c.tables), _json(c.figures)) for i, c in enumerate(d.clauses)])
        con.executemany("INSERT INTO tables VALUES (?,?,?,?,?,?,?,?,?)", [
            (d.name, i, t.id, t.caption, t.clause, t.page, t.page_label, _json(t.header),
             _json(t.rows)) for i, t in enumerate(d.tables)])
    con.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?)", [
        (i, c.id, c.doc, c.clause, c.title_path, c.page, c.text, c.kind, c.table)
        for i, c in enumerate(chunks)])


def _pause_for_tests() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        Path(marker).write_text("paused\n", encoding="utf-8")
        time.sleep(600)


def manifest_of(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "generation": snapshot.generation,
        "embedder": snapshot.embedder,
        "dimension": snapshot.dimension,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": {
            "documents": len(snapshot.documents),
            "clauses": sum(len(d.clauses) for d in snapshot.documents),
            "tables": sum(len(d.tables) for d in snapshot.documents),
            "chunks": len(snapshot.chunks),
        },
        "files": [{"doc": d.name, "path": d.path, "sha256": d.sha256} for d in snapshot.documents],
    }


def write_generation(folder: Path, snapshot: Snapshot) -> None:
    """Write `snapshot` into the empty generation `folder` (the caller fsyncs and switches)."""
    if len(snapshot.chunks) != len(snapshot.vectors):
        raise ValueError(f"{len(snapshot.chunks)} chunks but {len(snapshot.vectors)} vectors")
    con = sqlite3.connect(folder / DB)
    try:
        with con:
            _write_rows(con, snapshot.documents, snapshot.chunks)
    finally:
        con.close()
    _pause_for_tests()
    index = faiss.IndexFlatIP(max(snapshot.dimension, 1))
    if len(snapshot.vectors):
        index.add(np.ascontiguousarray(snapshot.vectors, dtype=np.float32))
    faiss.write_index(index, str(folder / VECTORS))
    if snapshot.lsa is not None:
        snapshot.lsa.save(folder)
    (folder / MANIFEST).write_text(json.dumps(manifest_of(snapshot), indent=2, ensure_ascii=False), "utf-8")


def _documents(con: sqlite3.Connection) -> list[Document]:
    clauses: dict[str, list[Clause]] = {}
    for row in con.execute("SELECT doc, number, title, text, parents, page, page_label, position, "
                           "tables, figures FROM clauses ORDER BY doc, seq"):
        clauses.setdefault(row[0], []).append(Clause(
            number=row[1], title=row[2], text=row[3], parents=tuple(json.loads(row[4])), page=row[5],
            page_label=row[6], position=row[7], tables=tuple(json.loads(row[8])),
            figures=tuple(json.loads(row[9])), doc=row[0]))
    tables: dict[str, list[Table]] = {}
    for row in con.execute("SELECT doc, id, caption, clause, page, page_label, header, rows "
                           "FROM tables ORDER BY doc, seq"):
        tables.setdefault(row[0], []).append(Table(
            id=row[1], caption=row[2], clause=row[3], page=row[4], page_label=row[5],
            header=_tuples(json.loads(row[6])), rows=_tuples(json.loads(row[7])), doc=row[0]))
    return [
        Document(name=name, path=path, sha256=sha, kind=kind, pages=pages, title=title,
                 clauses=tuple(clauses.get(name, ())), tables=tuple(tables.get(name, ())))
        for name, path, sha, kind, pages, title in con.execute(
            "SELECT name, path, sha256, kind, pages, title FROM documents ORDER BY ord")
    ]


def _chunks(con: sqlite3.Connection) -> list[Chunk]:
    return [
        Chunk(id=r[0], doc=r[1], clause=r[2], title_path=r[3], page=r[4], text=r[5], kind=r[6], table=r[7])
        for r in con.execute("SELECT id, doc, clause, title_path, page, text, kind, tbl FROM chunks ORDER BY vec")
    ]


def read_generation(folder: Path) -> Snapshot:
    """The generation in `folder`, checked: chunk rows and vectors must agree."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise SpecAgentError(f"{folder}: index format {manifest.get('format')} is not {FORMAT}; ingest again.")
    con = sqlite3.connect(f"file:{folder / DB}?mode=ro", uri=True)
    try:
        documents, chunks = _documents(con), _chunks(con)
    finally:
        con.close()
    index = faiss.read_index(str(folder / VECTORS))
    vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, manifest["dimension"]), np.float32)
    if len(vectors) != len(chunks):
        raise SpecAgentError(f"{folder}: {len(chunks)} chunks but {len(vectors)} vectors; ingest again with --reindex.")
    lsa = LsaEmbeddings.load(folder) if manifest["embedder"] == "lsa" and chunks else None
    return Snapshot(documents, chunks, np.asarray(vectors, dtype=np.float32), manifest["embedder"], lsa, folder.name)
