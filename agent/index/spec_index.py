"""SpecIndex: open, ingest (atomic generations), look up clauses and tables, hybrid search."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
from langchain_core.embeddings import Embeddings

from agent.config import Settings
from agent.errors import EmbedderMismatch, IngestError, NotFound, OllamaUnavailable, SpecAgentError
from agent.index import generations, refs
from agent.index.chunks import chunk_document
from agent.index.lsa import LsaEmbeddings
from agent.index.search import HybridSearcher
from agent.index.store import Snapshot, read_generation, write_generation
from agent.llm import LSA, make_embeddings
from agent.schema import Chunk, Clause, Document, Hit, IngestOutcome, Table

log = logging.getLogger(__name__)

Parser = Callable[[Path, Settings], Document]
SUFFIXES = (".pdf", ".docx")
EXACT_SCORE = 1.0  # score of a hit the query named exactly (fused scores stay below 0.04)
BATCH = 64


@dataclass(frozen=True)
class ClauseView:
    """A clause with its context: ancestors and children as (number, title), its tables, and
    the other documents that hold the same clause number."""

    clause: Clause
    parents: list[tuple[str, str]]
    children: list[tuple[str, str]]
    tables: list[Table]
    others: list[str] = field(default_factory=list)

    @property
    def doc(self) -> str:
        return self.clause.doc


@dataclass(frozen=True)
class Progress:
    """What an ingest is doing, for progress bars."""

    stage: Literal["parse", "embed", "write", "done"]
    path: str
    files_done: int
    files_total: int
    pages_done: int


def mismatch_message(recorded: str, wanted: str) -> str:
    return (
        f"index built with {recorded}, settings ask for {wanted}; re-index with "
        f"`spec-agent ingest --reindex --embedder {wanted}` or set SPEC_AGENT_EMBEDDER={recorded}"
    )


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders searched recursively for *.pdf / *.docx; each path once."""
    out: list[Path] = []
    for path in map(Path, paths):
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES) if path.is_dir() else [path]
        out.extend(p for p in found if p not in out)
    return out


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _default_parser(path: Path, settings: Settings) -> Document:
    from agent.ingest import parse_isolated

    return parse_isolated(path, settings)


def _stamped(doc: Document, path: Path, sha: str) -> Document:
    """`doc` with its file's path and hash, and its name on every clause and table."""
    return replace(
        doc, path=str(path), sha256=sha,
        clauses=tuple(replace(c, doc=doc.name) for c in doc.clauses),
        tables=tuple(replace(t, doc=doc.name) for t in doc.tables),
    )


def _load(root: Path) -> Snapshot:
    for _ in range(3):  # a concurrent writer may remove the generation we were about to read
        gen = generations.current(root)
        if gen is None:
            return Snapshot()
        try:
            return read_generation(gen)
        except FileNotFoundError:
            continue
    raise SpecAgentError(f"{root}: the index keeps changing under us; retry when the ingest has finished.")


class SpecIndex:
    """The document index of one index folder; open it with `SpecIndex.open(settings)`."""

    def __init__(self, settings: Settings, embeddings: Embeddings | None, embedder_id: str,
                 parser: Parser | None = None, unavailable: str = "", reindex: bool = False) -> None:
        self.settings = settings
        self.root = Path(settings.index_dir)
        self.embedder_id = embedder_id
        self._embeddings = embeddings
        self._parser = parser or _default_parser
        self._unavailable = unavailable  # why the recorded embedder cannot embed now
        self._reindex = reindex
        self._set(Snapshot())

    # --- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings, embeddings: Embeddings | None = None, *,
             parser: Parser | None = None, reindex: bool = False) -> SpecIndex:
        """Load the current generation; raise EmbedderMismatch if it was embedded otherwise.

        `reindex=True` accepts another embedder: the next `ingest` re-embeds every chunk.
        `parser(path, settings) -> Document` replaces agent.ingest.parse_isolated (tests).
        """
        snapshot = _load(Path(settings.index_dir))
        recorded = snapshot.embedder if snapshot.chunks else None
        unavailable = ""
        if embeddings is not None:
            embedder_id = getattr(embeddings, "embedder_id", None) or f"custom:{type(embeddings).__name__}"
        else:
            try:
                embeddings, embedder_id = make_embeddings(settings, None if reindex else recorded)
            except OllamaUnavailable as err:
                log.warning("%s Searching by words only.", err)
                embedder_id, unavailable = recorded or LSA, str(err)
        if embedder_id == LSA:
            embeddings = None
        if recorded and embedder_id != recorded and not reindex:
            raise EmbedderMismatch(mismatch_message(recorded, embedder_id))
        index = cls(settings, embeddings, embedder_id, parser, unavailable, reindex)
        index._set(snapshot)
        return index

    def _set(self, snapshot: Snapshot) -> None:
        self._snap = snapshot
        self._searcher: HybridSearcher | None = None
        self._docs = {d.name: d for d in snapshot.documents}
        self._clauses = {d.name: {c.number: c for c in reversed(d.clauses)} for d in snapshot.documents}
        self._first_row: dict[tuple[str, str], int] = {}
        for row, chunk in reversed(list(enumerate(snapshot.chunks))):
            key = chunk.table if chunk.kind == "table" else chunk.clause
            self._first_row[(chunk.doc, f"{chunk.kind}:{key}")] = row

    @property
    def generation(self) -> str:
        return self._snap.generation

    @property
    def dimension(self) -> int:
        return self._snap.dimension

    # --- reading -------------------------------------------------------------------------

    def documents(self) -> list[Document]:
        return list(self._snap.documents)

    def document(self, name: str) -> Document:
        return self._docs[self._doc_name(name)]

    def clauses(self, doc: str) -> tuple[Clause, ...]:
        return self.document(doc).clauses

    def chunks(self) -> list[Chunk]:
        return list(self._snap.chunks)

    def _doc_name(self, name: str) -> str:
        if name in self._docs:
            return name
        folded = {n.casefold(): n for n in self._docs}
        if name.casefold() in folded:
            return folded[name.casefold()]
        raise NotFound(f"no document {name!r} in the index; documents: {self._doc_list()}.")

    def _doc_list(self) -> str:
        return ", ".join(self._docs) or "none yet (run `spec-agent ingest FILE`)"

    def _scope(self, doc: str | None) -> list[str]:
        return [self._doc_name(doc)] if doc else list(self._docs)

    def get_clause(self, number: str, doc: str | None = None) -> ClauseView:
        """Clause `number` of `doc` (else of the first document holding it, others listed)."""
        key = refs.clause_key(number)
        found = [(d, self._find_clause(d, key)) for d in self._scope(doc)]
        found = [(d, c) for d, c in found if c is not None]
        if not found:
            where = f"document {self._doc_name(doc)}" if doc else "any document"
            raise NotFound(f"clause {number} is not in {where}; documents: {self._doc_list()}. "
                           f"Try `spec-agent search \"{number}\"`.")
        name, clause = found[0]
        by_number = self._clauses[name]
        d = self._docs[name]
        return ClauseView(
            clause=clause,
            parents=[(p, by_number[p].title if p in by_number else "") for p in clause.parents],
            children=[(c.number, c.title) for c in d.clauses if c.parent == clause.number],
            tables=[t for t in d.tables if t.id in clause.tables or t.clause == clause.number],
            others=[n for n, _ in found[1:]],
        )

    def _find_clause(self, doc: str, key: str) -> Clause | None:
        by_number = self._clauses[doc]
        if key in by_number:
            return by_number[key]
        folded = key.casefold()
        return next((c for n, c in by_number.items() if n.casefold() == folded), None)

    def get_table(self, table_id: str, doc: str | None = None) -> Table:
        """Table `table_id` ("Table VIII", "TABLE 7-1", "table 8" when only VIII exists)."""
        key = refs.table_key(table_id)
        for candidate in (key, *refs.table_key_variants(key)):
            for name in self._scope(doc):
                match = next((t for t in self._docs[name].tables if refs.table_key(t.id) == candidate), None)
                if match is not None:
                    return match
        scope = self._scope(doc)
        ids = [t.id for n in scope for t in self._docs[n].tables]
        listed = ", ".join(dict.fromkeys(ids)) or "none"
        where = f"document {scope[0]}" if doc else "any document"
        raise NotFound(f"{table_id} is not in {where}; tables there: {listed}.")

    def tables_with_row(self, row_ids: list[str], doc: str | None = None) -> list[Table]:
        """Tables with a row whose first two cells hold one of `row_ids` ("B2.3", "A4.1")."""
        wanted = {r.strip().rstrip(".").casefold() for r in row_ids}
        if not wanted:
            return []
        return [t for name in self._scope(doc) for t in self._docs[name].tables
                if any(c.strip().rstrip(".").casefold() in wanted for row in t.rows for c in row[:2])]

    # --- searching -----------------------------------------------------------------------

    def _embed_query(self) -> Callable[[str], list[float]] | None:
        if self._unavailable:
            return None
        if self.embedder_id == LSA:
            return self._snap.lsa.embed_query if self._snap.lsa is not None else None
        return self._embeddings.embed_query if self._embeddings is not None else None

    @property
    def searcher(self) -> HybridSearcher:
        if self._searcher is None:
            self._searcher = HybridSearcher(self._snap.chunks, self._snap.vectors, self._embed_query())
        return self._searcher

    def search(self, query: str, k: int | None = None, doc: str | None = None) -> list[Hit]:
        """The best `k` chunks for `query`: a clause or table the query names comes first."""
        k = k or self.settings.top_k
        doc = self._doc_name(doc) if doc else None
        pinned = self._named_rows(query, doc)
        try:
            ranked = self.searcher.rank(query, k + len(pinned), doc)
        except ValueError as err:  # query vectors of another dimension than the index's
            raise EmbedderMismatch(f"{err}: {mismatch_message(str(self._snap.embedder), self.embedder_id)}") from err
        rows = [(r, EXACT_SCORE) for r in pinned] + [(r, s) for r, s in ranked if r not in pinned]
        return [self._hit(r, s) for r, s in rows[:k]]

    def _named_rows(self, query: str, doc: str | None) -> list[int]:
        """Chunk rows of the clauses and tables the query names, in the order named."""
        rows: list[int] = []
        for number in refs.clauses_named(query):
            for name in self._scope(doc):
                clause = self._find_clause(name, refs.clause_key(number))
                row = self._first_row.get((name, f"clause:{clause.number}")) if clause else None
                if row is not None:
                    rows.append(row)
                    break
        for key in refs.tables_named(query):
            try:
                table = self.get_table(f"Table {key}", doc)
            except NotFound:
                continue
            row = self._first_row.get((table.doc, f"table:{table.id}"))
            if row is not None:
                rows.append(row)
        return list(dict.fromkeys(rows))

    def _hit(self, row: int, score: float) -> Hit:
        chunk = self._snap.chunks[row]
        clause = self._clauses.get(chunk.doc, {}).get(chunk.clause or "")
        title = clause.title if clause and chunk.kind == "clause" else None
        if chunk.kind == "table":
            title = next((t.caption for t in self._docs[chunk.doc].tables if t.id == chunk.table), None)
        return Hit(doc=chunk.doc, clause=chunk.clause, title=title, page=chunk.page, table=chunk.table,
                   text=chunk.text, score=round(float(score), 6), chunk_id=chunk.id)

    # --- writing -------------------------------------------------------------------------

    def ingest(self, paths: Sequence[str | Path], progress: Callable[[Progress], None] | None = None,
               *, reindex: bool = False) -> list[IngestOutcome]:
        """Parse and index `paths` (files or folders) as one new generation, switched atomically.

        Same hash → "unchanged"; same document name, other hash → "replaced"; a file that
        cannot be parsed → "failed" with its one-line message, the other files go on.
        """
        reindex = reindex or self._reindex
        files = expand(paths)
        report = progress or (lambda _p: None)
        with generations.writer_lock(self.root):
            self._set(_load(self.root))  # another writer may have switched meanwhile
            recorded = self._snap.embedder if self._snap.chunks else None
            if recorded and recorded != self.embedder_id and not reindex:
                raise EmbedderMismatch(mismatch_message(recorded, self.embedder_id))
            if self._unavailable:
                raise OllamaUnavailable(self._unavailable)
            generations.remove_stale(self.root)
            outcomes, parsed = self._parse_all(files, report)
            if parsed or reindex:
                self._write(self._build(parsed, reindex, report, len(files)), report, len(files))
            self._reindex = False
        report(Progress("done", "", len(files), len(files), sum(o.pages for o in outcomes)))
        return outcomes

    def _parse_all(self, files: list[Path], report: Callable[[Progress], None]
                   ) -> tuple[list[IngestOutcome], dict[str, Document]]:
        known = {d.sha256: d.name for d in self._snap.documents}
        parsed: dict[str, Document] = {}
        outcomes: list[IngestOutcome] = []
        pages = 0
        for i, path in enumerate(files):
            report(Progress("parse", str(path), i, len(files), pages))
            outcome, doc = self._parse_one(path, known)
            if doc is not None:
                status = "replaced" if doc.name in self._docs or doc.name in parsed else "added"
                outcome = replace(outcome, status=status)
                parsed[doc.name] = doc
                known[doc.sha256] = doc.name
            pages += outcome.pages
            outcomes.append(outcome)
            log.info("%s: %s %s", path.name, outcome.status, outcome.message)
        return outcomes, parsed

    def _parse_one(self, path: Path, known: dict[str, str]) -> tuple[IngestOutcome, Document | None]:
        try:
            if not path.is_file():
                raise IngestError(str(path), "file not found" if not path.exists() else "not a file")
            sha = sha256_of(path)
            if sha in known:
                d = self._docs.get(known[sha])
                return IngestOutcome(str(path), "unchanged", known[sha], "same file as indexed",
                                     d.pages if d else 0, len(d.clauses) if d else 0, len(d.tables) if d else 0), None
            doc = _stamped(self._parser(path, self.settings), path, sha)
        except SpecAgentError as err:
            return IngestOutcome(str(path), "failed", None, str(err)), None
        except Exception as err:
            log.debug("parser failed on %s", path, exc_info=True)
            return IngestOutcome(str(path), "failed", None,
                                 f"{path.name}: unexpected parser error ({type(err).__name__}: {err}); "
                                 "report it with the file if you can."), None
        return IngestOutcome(str(path), "added", doc.name, "", doc.pages, len(doc.clauses), len(doc.tables)), doc

    def _build(self, parsed: dict[str, Document], reindex: bool,
               report: Callable[[Progress], None], total: int) -> Snapshot:
        """The next generation's content: documents in order, chunks, vectors."""
        old = self._snap
        docs = [parsed.get(d.name, d) for d in old.documents]
        docs += [d for name, d in parsed.items() if name not in self._docs]
        old_rows: dict[str, list[int]] = {}
        for row, chunk in enumerate(old.chunks):
            old_rows.setdefault(chunk.doc, []).append(row)
        reuse = not reindex and old.embedder == self.embedder_id
        chunks: list[Chunk] = []
        sources: list[int] = []  # old vector row to reuse, or -1 to embed
        for d in docs:
            if d.name in parsed or not reuse:
                new = chunk_document(d, self.settings.chunk_chars)
                chunks += new
                sources += [-1] * len(new)
            else:
                rows = old_rows.get(d.name, [])
                chunks += [old.chunks[r] for r in rows]
                sources += rows
        report(Progress("embed", "", total, total, sum(d.pages for d in parsed.values())))
        vectors, lsa = self._vectors(chunks, sources)
        return Snapshot(docs, chunks, vectors, self.embedder_id, lsa)

    def _vectors(self, chunks: list[Chunk], sources: list[int]) -> tuple[np.ndarray, LsaEmbeddings | None]:
        texts = [f"{c.title_path}\n{c.text}" for c in chunks]
        if self.embedder_id == LSA:
            if not texts:
                return np.zeros((0, 0), np.float32), None
            lsa = LsaEmbeddings()  # refitted whenever documents change
            return lsa.fit_embed(texts), lsa
        if self._embeddings is None:
            raise SpecAgentError(f"no embedder available for {self.embedder_id}")
        todo = [i for i, s in enumerate(sources) if s < 0]
        fresh: list[list[float]] = []
        for start in range(0, len(todo), BATCH):
            try:
                fresh += self._embeddings.embed_documents([texts[i] for i in todo[start:start + BATCH]])
            except Exception as err:
                raise OllamaUnavailable(
                    f"embedding with {self.embedder_id} failed ({type(err).__name__}: {err}); start the "
                    f"embedding server or model, or ingest with `--embedder lsa`.") from err
        dim = len(fresh[0]) if fresh else self._snap.dimension
        if self._snap.dimension and any(s >= 0 for s in sources) and dim != self._snap.dimension:
            raise EmbedderMismatch(f"{self.embedder_id} now gives {dim}-dimensional vectors, the index holds "
                                   f"{self._snap.dimension}; re-index with `spec-agent ingest --reindex`")
        vectors = np.zeros((len(chunks), dim), dtype=np.float32)
        for i, s in enumerate(sources):
            if s >= 0:
                vectors[i] = self._snap.vectors[s]
        if fresh:
            arr = np.asarray(fresh, dtype=np.float32)
            norms = np.linalg.norm(arr, axis=1, keepdims=True)
            vectors[todo] = arr / np.where(norms == 0, 1, norms)
        return vectors, None

    def _write(self, snapshot: Snapshot, report: Callable[[Progress], None], total: int) -> None:
        report(Progress("write", "", total, total, 0))
        gen = generations.new_generation(self.root)
        snapshot.generation = gen.name
        write_generation(gen, snapshot)
        generations.switch(self.root, gen)
        generations.remove_stale(self.root)
        self._set(snapshot)
