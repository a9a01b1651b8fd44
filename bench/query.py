"""Latency of `ask` without the LLM: the offline graph (understand + tools + extractive answer +
respond) over the QA set, p50 and p95, with MIL-STD-461F, MIL-STD-461G and the sample spec
ingested (lsa). Prints figures; not a timed test.

    .venv/bin/python bench/query.py [--index DIR] [--qa tests/fixtures/qa/qa.jsonl] [--rounds 3]

Without --index (or when it lacks a document) the documents are ingested into a temporary index.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.config import Settings
from agent.evaluate.qa_set import load_qa
from agent.evaluate.run import prepare_index
from agent.service import Assistant

DOCS = ["MIL-STD-461F", "MIL-STD-461G", "ACME-EMC-CS-2026"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--qa", type=Path, default=ROOT / "tests" / "fixtures" / "qa" / "qa.jsonl")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    items = load_qa(args.qa)
    with tempfile.TemporaryDirectory(prefix="spec-agent-bench-") as tmp:
        base = Settings(index_dir=args.index or Path(tmp) / "none", embedder="lsa", offline=True)
        settings, notes = prepare_index(base, DOCS, Path(tmp))
        for note in notes:
            print(f"note: {note}")
        assistant = Assistant.open(settings)
        print("documents:", ", ".join(d["doc"] for d in assistant.documents()))
        graph = assistant.graph
        graph.invoke({"question": items[0].question, "doc": None}, {"configurable": {"thread_id": "warm"}})
        times: list[float] = []
        for r in range(args.rounds):
            for item in items:
                config = {"configurable": {"thread_id": f"bench-{r}-{item.id}"}}
                start = time.perf_counter()
                graph.invoke({"question": item.question, "doc": None}, config, durability="exit")  # as Assistant.ask
                times.append((time.perf_counter() - start) * 1000)
    print(f"{len(items)} questions x {args.rounds} rounds, offline graph invoke (no LLM):")
    print(f"p50 {statistics.median(times):.1f} ms   p95 {percentile(times, 0.95):.1f} ms   "
          f"max {max(times):.1f} ms")


if __name__ == "__main__":
    main()
