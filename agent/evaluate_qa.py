"""QA evaluation of the agent in offline mode, beside a naive RAG baseline (`spec-agent eval qa`).

A QA record (tests/fixtures/qa/qa.jsonl): ``{"id","doc","type","question","expect_clause",
"expect_table","expect_values":[...],"expect_tests":[...]}``. An answer is

- **cited** when one of its citations has the record's doc and ``expect_clause`` (or, when the
  record names a table, that table id);
- **right** when it is cited, contains every expected value (compared after `normalise`:
  µ/u/μ, en-dash/minus, ±, spaces, ``dB(µV)`` = ``dBµV``) and, for ``which_test``, its tests
  hold every expected test id (an empty list expects no test at all).

The baseline: page text (PyMuPDF) → ``RecursiveCharacterTextSplitter`` (1000/200) → FAISS in
memory (``FAISS.from_texts``, never saved) over the same `LsaEmbeddings` class fitted on the
baseline's chunks → top 4 chunks. Its "answer" is the chunks concatenated; it "cites" a clause
when a chunk of that document has the clause number at a line start (or the table id); it has
no tests.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.config import Settings

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
SAMPLE_DIR = ROOT / "agent" / "data" / "sample"
TYPES = ("clause", "which_test", "table_value", "reverse")
BASELINE_K = 4


@dataclass(frozen=True)
class QAItem:
    id: str
    doc: str
    type: str
    question: str
    expect_clause: str | None
    expect_table: str | None
    expect_values: tuple[str, ...] = ()
    expect_tests: tuple[int, ...] = ()


@dataclass(frozen=True)
class Outcome:
    item: QAItem
    cited: bool
    values: bool
    tests: bool
    ms: float = 0.0
    answer_id: int | None = None

    @property
    def right(self) -> bool:
        return self.cited and self.values and self.tests


@dataclass
class Report:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    def share(self, what: str, kind: str | None = None) -> tuple[float, int]:
        chosen = [o for o in self.outcomes if kind is None or o.item.type == kind]
        hits = sum(getattr(o, what) for o in chosen)
        return (hits / len(chosen) if chosen else 0.0), len(chosen)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kind in (None, *TYPES):
            right, n = self.share("right", kind)
            cited, _ = self.share("cited", kind)
            out[kind or "all"] = {"n": n, "right": round(right, 4), "cited": round(cited, 4)}
        return out


# -- reading and scoring ------------------------------------------------------------------
def load_qa(path: Path) -> list[QAItem]:
    """The QA records of a JSON-lines file; ValueError names a bad line."""
    items = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            items.append(QAItem(d["id"], d["doc"], d["type"], d["question"], d.get("expect_clause"),
                                d.get("expect_table"), tuple(d.get("expect_values") or ()),
                                tuple(int(t) for t in d.get("expect_tests") or ())))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{path}: line {number} is not a QA record ({err}); see tests/fixtures/qa/README.md")
    return items


def normalise(text: str) -> str:
    """One spelling for comparing values: µ for u/μ before a unit letter, '-' for dashes, ± for
    +/-, dB(x) as dBx, no whitespace, lower case."""
    t = text.replace("μ", "µ").replace("+/-", "±").replace("+/−", "±")
    t = re.sub(r"[–—−]", "-", t)
    t = re.sub(r"(?<![A-Za-z])u(?=[VAsTFHm]\b|[VA]/)", "µ", t)
    t = re.sub(r"dB\s*\(\s*([^)\s]+)\s*\)", r"dB\1", t)
    return re.sub(r"\s+", "", t).lower()


def _table_key(table: str | None) -> str:
    return re.sub(r"\s+", " ", table or "").strip().upper()


def has_values(item: QAItem, answer: str) -> bool:
    text = normalise(answer)
    return all(normalise(v) in text for v in item.expect_values)


def agent_cites(item: QAItem, citations: Iterable[dict[str, Any]]) -> bool:
    for c in citations:
        if c.get("doc") != item.doc:
            continue
        if item.expect_clause and c.get("clause") == item.expect_clause:
            return True
        if item.expect_table and _table_key(c.get("table")) == _table_key(item.expect_table):
            return True
    return False


def tests_ok(item: QAItem, tests: Sequence[dict[str, Any]]) -> bool:
    if item.type != "which_test":
        return True
    ids = {t["id"] for t in tests}
    return set(item.expect_tests) <= ids if item.expect_tests else not ids


# -- the agent ----------------------------------------------------------------------------
def run_agent(assistant: Any, items: Sequence[QAItem], name: str = "spec-agent (offline)") -> Report:
    """Each question in a thread of its own (no follow-up context), offline, scoped to its document
    (as an engineer picks the spec in the chat or with --doc; the baseline is scoped the same way)."""
    report = Report(name)
    for item in items:
        start = time.perf_counter()
        record = assistant.ask(item.question, thread_id=f"eval-{item.id}", doc=item.doc)
        ms = (time.perf_counter() - start) * 1000
        report.outcomes.append(Outcome(item, agent_cites(item, record.citations),
                                       has_values(item, record.answer), tests_ok(item, record.tests), ms,
                                       record.answer_id))
        log.info("%s %s: %s", item.id, item.type, report.outcomes[-1])
    return report


# -- the naive baseline -------------------------------------------------------------------
class NaiveBaseline:
    """Chunked page text in an in-memory FAISS store; top-4 chunks answer (see module doc)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    @classmethod
    def build(cls, pdfs: dict[str, Path]) -> NaiveBaseline:
        import pymupdf
        from langchain_community.vectorstores import FAISS
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from agent.index.lsa import LsaEmbeddings

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        for doc, path in pdfs.items():
            with pymupdf.open(str(path)) as pdf:
                for page in pdf:
                    for chunk in splitter.split_text(page.get_text()):
                        texts.append(chunk)
                        metas.append({"doc": doc, "page": page.number + 1})
        embeddings = LsaEmbeddings().fit(texts)
        return cls(FAISS.from_texts(texts, embeddings, metadatas=metas))

    def retrieve(self, question: str, doc: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        found = self.store.similarity_search(question, k=BASELINE_K, filter={"doc": doc} if doc else None)
        return [(d.page_content, d.metadata) for d in found]

    @staticmethod
    def cites(item: QAItem, chunks: Sequence[tuple[str, dict[str, Any]]]) -> bool:
        for text, meta in chunks:
            if meta.get("doc") != item.doc:
                continue
            if item.expect_clause and re.search(rf"(?m)^\s*{re.escape(item.expect_clause)}(?![\d]|\.\d)", text):
                return True
            if item.expect_table and _table_key(item.expect_table) in _table_key(text):
                return True
        return False

    def run(self, items: Sequence[QAItem]) -> Report:
        report = Report(f"naive RAG (split 1000/200, FAISS, lsa, top-{BASELINE_K})")
        for item in items:
            chunks = self.retrieve(item.question, item.doc)
            answer = "\n\n".join(text for text, _ in chunks)
            report.outcomes.append(Outcome(item, self.cites(item, chunks), has_values(item, answer),
                                           tests_ok(item, [])))
        return report


# -- documents ----------------------------------------------------------------------------
def source_pdf(doc: str) -> Path | None:
    """Where the PDF of a QA document lives: the sample folder or ../shared/corpus."""
    for folder in (SAMPLE_DIR, SHARED_CORPUS):
        path = folder / f"{doc}.pdf"
        if path.is_file():
            return path
    return None


def prepare_index(settings: Settings, docs: Sequence[str], workdir: Path) -> tuple[Settings, list[str]]:
    """Settings for an index holding `docs`: the given one if it has them all, else a new
    index under `workdir` with every document that can be found ingested; notes say what
    was missing or failed."""
    from agent.service import Assistant

    notes: list[str] = []
    offline = settings.with_(offline=True)
    if settings.index_dir.exists():
        have = {d["doc"] for d in Assistant.open(offline).documents()}
        if set(docs) <= have:
            return offline, notes
        notes.append(f"the index {settings.index_dir} lacks {', '.join(sorted(set(docs) - have))}; "
                     f"ingesting the QA documents into a temporary index")
    temp = offline.with_(index_dir=workdir / "index", embedder="lsa")
    paths = []
    for doc in docs:
        path = source_pdf(doc)
        if path is None:
            notes.append(f"{doc}: no PDF in {SAMPLE_DIR} or {SHARED_CORPUS} (../shared absent?); "
                         "its questions count as wrong")
        else:
            paths.append(str(path))
    for outcome in Assistant.open(temp).ingest(paths):
        if outcome.status == "failed":
            notes.append(f"ingest failed: {outcome.message}; its questions count as wrong")
    return temp, notes


def evaluate_qa(path: Path, settings: Settings, *, baseline: bool = True,
                with_feedback: bool = False) -> tuple[list[Report], list[str]]:
    """The agent's report (offline) and the baseline's, and notes on the documents used.

    The answers go to a throw-away feedback store, never the index's own. `with_feedback`: every
    answer of the first run gets a thumb (up when right, down when wrong) and the set is asked
    again with retrieval steered by those thumbs, to show that feedback causes no regression.
    """
    from agent.feedback.store import FeedbackStore
    from agent.service import Assistant

    items = load_qa(path)
    docs = list(dict.fromkeys(i.doc for i in items))
    with tempfile.TemporaryDirectory(prefix="spec-agent-qa-") as tmp:
        used, notes = prepare_index(settings, docs, Path(tmp))
        assistant = Assistant.open(used)
        assistant.feedback = FeedbackStore(Path(tmp) / "eval-feedback.db")
        assistant.refresh()
        reports = [run_agent(assistant, items)]
        if with_feedback:
            for o in reports[0].outcomes:
                assistant.feedback.add_feedback(o.answer_id, 1 if o.right else -1, "eval qa", "eval")
            reports.append(run_agent(assistant, items, "spec-agent (offline, after thumbs)"))
        if baseline:
            pdfs = {d: p for d in docs if (p := source_pdf(d)) is not None}
            reports.append(NaiveBaseline.build(pdfs).run(items))
    return reports, notes


def summary_table(reports: Sequence[Report]) -> Any:
    """Right and cited per question type, the reports side by side (a rich Table)."""
    from rich.table import Table

    table = Table(title="QA evaluation (right = cited + values + tests)")
    table.add_column("type")
    table.add_column("n", justify="right")
    for r in reports:
        table.add_column(f"{r.name}\nright", justify="right")
        table.add_column("cited", justify="right")
    for kind in (*TYPES, None):
        n = reports[0].share("right", kind)[1]
        cells = []
        for r in reports:
            cells += [f"{r.share('right', kind)[0]:.1%}", f"{r.share('cited', kind)[0]:.1%}"]
        table.add_row(kind or "all", str(n), *cells)
    return table


def failures(report: Report) -> list[str]:
    """One line per wrong answer: id, type, what failed, the question."""
    lines = []
    for o in report.outcomes:
        if not o.right:
            why = [w for w, ok in (("not cited", o.cited), ("value missing", o.values), ("tests", o.tests)) if not ok]
            lines.append(f"{o.item.id} {o.item.type} ({', '.join(why)}): {o.item.question}")
    return lines
