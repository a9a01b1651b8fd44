"""`spec-agent eval qa`: the agent (offline) and the naive baseline on a question set, per kind.

Two figures per question (see qa_set.py and baseline.py):
- **right and cited**: the answer cites an expected clause/table in its body, holds every
  expected value and, for which-test questions, names an expected test first;
- **evidence holds the value**: the evidence the agent gathered (the baseline: its top-4 chunks)
  holds every expected value (for questions without values: an expected clause/table).
And per document, **table recall** (table_recall.py).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.evaluate.baseline import NaiveBaseline, chunk_texts, document_pages
from agent.evaluate.qa_set import (
    KINDS,
    QAItem,
    body_of,
    cites_expected,
    holds_values,
    load_qa,
    resolve_tests,
    tests_ok,
)
from agent.evaluate.table_recall import Recall, table_recall

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
SAMPLE_DIR = ROOT / "agent" / "data" / "sample"
SUFFIXES = (".pdf", ".docx")


@dataclass(frozen=True)
class Outcome:
    item: QAItem
    cited: bool
    values: bool
    tests: bool
    evidence: bool  # the gathered evidence holds the expected values
    ms: float = 0.0
    answer_id: int | None = None

    @property
    def right(self) -> bool:
        return self.cited and self.values and self.tests


@dataclass
class Report:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)
    answers: bool = True  # False for a report of evidence only (the baseline has no answer)

    def share(self, what: str, kind: str | None = None) -> tuple[float, int]:
        chosen = [o for o in self.outcomes if kind is None or o.item.kind == kind]
        hits = sum(getattr(o, what) for o in chosen)
        return (hits / len(chosen) if chosen else 0.0), len(chosen)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kind in (None, *KINDS):
            right, n = self.share("right", kind)
            cited, _ = self.share("cited", kind)
            held, _ = self.share("evidence", kind)
            out[kind or "all"] = {"n": n, "right": round(right, 4), "cited": round(cited, 4),
                                  "evidence": round(held, 4)}
        return out


def _catalogue_standards(settings: Settings) -> dict[int, list[str]]:
    from agent.match.catalogue import load_catalogue

    return {t.id: [s.ref for s in t.standards] for t in load_catalogue(settings.catalogue or None).tests}


def _evidence_holds(item: QAItem, evidence: Sequence[dict[str, Any]]) -> bool:
    if item.answer_all:
        return holds_values(item, "\n".join(str(e.get("text", "")) for e in evidence))
    return cites_expected(item, evidence)


def score_answer(item: QAItem, record: Any, ms: float = 0.0) -> Outcome:
    from agent.graph.verify import citations_in

    body = body_of(record.answer)
    numbers = set(citations_in(body))
    cited = [e for e in record.evidence if e.get("n") in numbers]
    return Outcome(item, cites_expected(item, cited), holds_values(item, body), tests_ok(item, record.tests, body),
                   _evidence_holds(item, record.evidence), ms, record.answer_id)


def run_agent(assistant: Any, items: Sequence[QAItem], name: str = "spec-agent (offline)",
              scoped: bool = True) -> Report:
    """Each question in a thread of its own, offline; scoped to its document unless `scoped` is off
    (then the question must name its document, or the answer draws on every document)."""
    report = Report(name)
    for item in items:
        start = time.perf_counter()
        record = assistant.ask(item.question, thread_id=f"eval-{item.id}", doc=item.doc if scoped else None)
        report.outcomes.append(score_answer(item, record, (time.perf_counter() - start) * 1000))
        log.info("%s %s: %s", item.id, item.kind, report.outcomes[-1])
    return report


def run_baseline(baseline: NaiveBaseline, items: Sequence[QAItem], scoped: bool = True) -> Report:
    report = Report(f"naive RAG (text 1000/200, TF-IDF top-4){'' if scoped else ', unscoped'}", answers=False)
    for item in items:
        chunks = baseline.retrieve(item.question, item.doc if scoped else None)
        cited = baseline.cites(item, chunks)
        held = holds_values(item, chunk_texts(chunks)) if item.answer_all else cited
        report.outcomes.append(Outcome(item, cited, held, tests_ok(item, []), held))
    return report


# -- documents ----------------------------------------------------------------------------
def find_sources(docs: Sequence[str], given: Sequence[Path] = (), near: Path | None = None) -> dict[str, Path]:
    """Files of the question set's documents: the given files (by stem), else the question
    file's folder, the bundled sample, ../shared/corpus."""
    found = {Path(p).stem: Path(p) for p in given}
    folders = [f for f in (near, SAMPLE_DIR, SHARED_CORPUS) if f is not None]
    for doc in docs:
        for folder in folders:
            if doc in found:
                break
            for suffix in SUFFIXES:
                if (folder / f"{doc}{suffix}").is_file():
                    found[doc] = folder / f"{doc}{suffix}"
                    break
    return found


def prepare_index(settings: Settings, docs: Sequence[str], workdir: Path,
                  sources: dict[str, Path] | None = None) -> tuple[Settings, list[str]]:
    """Settings for an index holding `docs`: the given index if it has them all, else a new
    index under `workdir` with the documents' files ingested; notes say what was missing."""
    from agent.service import Assistant

    notes: list[str] = []
    offline = settings.with_(offline=True)
    if settings.index_dir.exists() and not sources:
        have = {d["doc"] for d in Assistant.open(offline).documents()}
        if set(docs) <= have:
            return offline, notes
        notes.append(f"the index {settings.index_dir} lacks {', '.join(sorted(set(docs) - have))}; "
                     f"ingesting the documents into a temporary index")
    sources = sources if sources is not None else find_sources(docs)
    temp = offline.with_(index_dir=workdir / "index", embedder="lsa")
    for doc in docs:
        if doc not in sources:
            notes.append(f"{doc}: no file found (give it with --docs, or is ../shared absent?); "
                         "its questions count as wrong")
    for outcome in Assistant.open(temp).ingest([str(p) for p in sources.values()]):
        if outcome.status == "failed":
            notes.append(f"ingest failed: {outcome.message}; its questions count as wrong")
    return temp, notes


def recalls(assistant: Any, sources: dict[str, Path]) -> list[Recall]:
    """Table recall of every PDF among the sources, against the index the assistant reads."""
    out = []
    for doc, path in sources.items():
        if path.suffix.lower() != ".pdf":
            continue
        try:
            ids = [t.id for t in assistant.index.document(doc).tables]
        except Exception:  # noqa: BLE001 - a document that failed to ingest has no tables
            ids = []
        out.append(table_recall(doc, document_pages(path), ids))
    return out


@dataclass
class Evaluation:
    reports: list[Report]
    recall: list[Recall]
    notes: list[str]


def evaluate_qa(path: Path, settings: Settings, *, files: Sequence[Path] = (), baseline: bool = True,
                with_feedback: bool = False, unscoped: bool = False) -> Evaluation:
    """The agent's report (offline; also unscoped when asked), the baseline's, table recall.

    The answers go to a throw-away feedback store, never the index's own. `with_feedback`: every
    answer of the first run gets a thumb (up when right, down when wrong) and the set is asked
    again with retrieval steered by those thumbs, to show that feedback causes no regression.
    """
    from agent.feedback.store import FeedbackStore
    from agent.service import Assistant

    items = resolve_tests(load_qa(path), _catalogue_standards(settings))
    docs = list(dict.fromkeys(i.doc for i in items))
    sources = find_sources(docs, files, Path(path).parent)
    with tempfile.TemporaryDirectory(prefix="spec-agent-qa-") as tmp:
        used, notes = prepare_index(settings, docs, Path(tmp), sources if files else None)
        assistant = Assistant.open(used)
        assistant.feedback = FeedbackStore(Path(tmp) / "eval-feedback.db")
        assistant.refresh()
        reports = [run_agent(assistant, items)]
        if with_feedback:
            for o in reports[0].outcomes:
                assistant.feedback.add_feedback(o.answer_id, 1 if o.right else -1, "eval qa", "eval")
            reports.append(run_agent(assistant, items, "spec-agent (offline, after thumbs)"))
        if unscoped:
            reports.append(run_agent(assistant, items, "spec-agent (offline, unscoped)", scoped=False))
        if baseline:
            naive = NaiveBaseline.build({d: p for d, p in sources.items() if d in docs})
            reports.append(run_baseline(naive, items))
        recall = recalls(assistant, {d: p for d, p in sources.items() if d in docs})
    return Evaluation(reports, recall, notes)


# -- printing -----------------------------------------------------------------------------
def summary_table(reports: Sequence[Report]) -> Any:
    """Right/cited and evidence per kind, the reports side by side (a rich Table)."""
    from rich.table import Table

    table = Table(title="QA evaluation (right = cited in the body + every value + expected test first)")
    table.add_column("kind")
    table.add_column("n", justify="right")
    for r in reports:
        if r.answers:
            table.add_column(f"{r.name}\nright & cited", justify="right")
        table.add_column(f"{r.name if not r.answers else ''}\nevidence holds", justify="right")
    for kind in (*KINDS, None):
        n = reports[0].share("right", kind)[1]
        if not n:
            continue
        cells = []
        for r in reports:
            if r.answers:
                cells.append(f"{r.share('right', kind)[0]:.1%}")
            cells.append(f"{r.share('evidence', kind)[0]:.1%}")
        table.add_row(kind or "all", str(n), *cells)
    return table


def recall_lines(recall: Sequence[Recall]) -> list[str]:
    lines = []
    for r in recall:
        miss = f" (missing: {', '.join(r.missing)})" if r.missing else ""
        lines.append(f"table recall {r.doc}: {len(r.indexed)}/{len(r.printed)} = {r.share:.1%}{miss}")
    return lines


def failures(report: Report) -> list[str]:
    """One line per wrong answer: id, kind, what failed, the question."""
    lines = []
    for o in report.outcomes:
        if not o.right:
            why = [w for w, ok in (("not cited", o.cited), ("value missing", o.values), ("tests", o.tests),
                                   ("evidence lacks value", o.evidence)) if not ok]
            lines.append(f"{o.item.id} {o.item.kind} ({', '.join(why)}): {o.item.question}")
    return lines
