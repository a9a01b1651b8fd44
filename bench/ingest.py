"""Benchmark of ingest and search on MIL-STD-461G (and 461F): prints figures, asserts nothing.

Run: .venv/bin/python bench/ingest.py
"""

from __future__ import annotations

import logging
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
QUERIES = ["bulk cable injection", "RS103 radiated susceptibility electric field", "5.21", "Table VIII",
           "ESD test levels", "CE102 limits dBµV", "LISN impedance", "antenna positions above 200 MHz",
           "CS101 power leads", "5.16.3.1 test procedure"]


def bench_parse(pdf: Path) -> list:
    from agent.config import Settings
    from agent.index.chunks import chunk_document
    from agent.ingest import parse_file

    t = time.perf_counter()
    doc = parse_file(pdf, Settings())
    dt = time.perf_counter() - t
    warm = []
    for _ in range(2):  # the same parse again, modules loaded and caches warm: the steady rate
        t = time.perf_counter()
        parse_file(pdf, Settings())
        warm.append(time.perf_counter() - t)
    print(f"parse {pdf.name} in-process: {doc.pages} pages, {len(doc.clauses)} clauses, "
          f"{len(doc.tables)} tables in {dt:.2f} s = {doc.pages / dt:.1f} pages/s (first call); "
          f"again {min(warm):.2f} s = {doc.pages / min(warm):.1f} pages/s (best of 2)")
    return chunk_document(doc, Settings().chunk_chars)


def bench_embed(chunks: list) -> None:
    from agent.index.lsa import LsaEmbeddings

    texts = [f"{c.title_path}\n{c.text}" for c in chunks]
    tracemalloc.start()
    t = time.perf_counter()
    model = LsaEmbeddings()
    model.fit_embed(texts)
    fitted = time.perf_counter()
    model.embed_array(texts[:100])
    done = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"lsa embedding: {len(texts)} chunks fitted and embedded in {fitted - t:.2f} s "
          f"({model.dimension} dimensions, Python heap peak {peak / 2**20:.1f} MiB); "
          f"query-style embedding {1000 * (done - fitted) / 100:.2f} ms per text")


def bench_cli(pdf: Path, index_dir: Path) -> None:
    cmd = [sys.executable, "-m", "agent.cli", "--index", str(index_dir), "ingest", str(pdf), "--embedder", "lsa"]
    t = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    dt = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"`spec-agent ingest {pdf.name}` (fresh index, lsa): {dt:.2f} s wall (target < 15 s), "
          f"exit {result.returncode}, peak RSS of a child {rss:.0f} MiB")
    print("   " + (result.stdout.strip() or result.stderr.strip()).replace("\n", "\n   "))


def bench_search(index_dir: Path) -> None:
    from agent.config import Settings
    from agent.index import SpecIndex

    t = time.perf_counter()
    index = SpecIndex.open(Settings(index_dir=index_dir, embedder="lsa"))
    opened = time.perf_counter()
    index.search("warm up", 5)
    warmed = time.perf_counter()
    times = []
    for _ in range(5):
        for q in QUERIES:
            s = time.perf_counter()
            index.search(q, 6)
            times.append((time.perf_counter() - s) * 1000)
    times.sort()
    docs = ", ".join(d.name for d in index.documents())
    print(f"search over {docs} ({len(index.chunks())} chunks): open {1000 * (opened - t):.0f} ms, "
          f"first search (builds BM25) {1000 * (warmed - opened):.0f} ms, then p50 {statistics.median(times):.1f} ms, "
          f"p95 {times[int(0.95 * len(times)) - 1]:.1f} ms over {len(times)} queries")


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    g, f = CORPUS / "MIL-STD-461G.pdf", CORPUS / "MIL-STD-461F.pdf"
    if not g.exists():
        print(f"skipped: {g} is absent (../shared not checked out beside the project)")
        return 0
    sys.path.insert(0, str(ROOT))
    bench_embed(bench_parse(g))
    with tempfile.TemporaryDirectory() as tmp:
        bench_cli(g, Path(tmp) / "idx")
        if f.exists():
            bench_cli(f, Path(tmp) / "idx")
        bench_search(Path(tmp) / "idx")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
