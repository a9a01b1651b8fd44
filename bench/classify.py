"""Benchmark: headings per second through `spec-agent classify` (start-up excluded) and the Python API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.config import Settings
from agent.match.labels import seed_examples
from agent.match.matcher import Matcher

WORDS = [
    "Conducted emissions voltage method", "RI 114 anechoic chamber", "Electrostatic discharge handling",
    "Transients on supply lines (TSUP)", "Scope", "Bulk current injection ISO 11452-4", "Test report",
    "Magnetic field immunity", "Radiated RF Emissions: RE 310", "Requirements", "Portable transmitters",
]


def headings(n: int) -> list[dict]:
    return [{"id": str(i), "heading": f"{i % 40}.{i % 7} {WORDS[i % len(WORDS)]}", "text": ""} for i in range(n)]


def run_cli(n: int) -> float:
    stdin = "".join(json.dumps(h) + "\n" for h in headings(n))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "agent.cli", "classify"], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, env=dict(os.environ), check=True)
    assert len(done.stdout.splitlines()) == n
    return time.perf_counter() - start


def main() -> None:
    big, small = 2000, 10
    runs = 2  # start-up dominates and varies on a shared machine: best of two each
    t_small = min(run_cli(small) for _ in range(runs))
    t_big = min(run_cli(big) for _ in range(runs))
    print(f"spec-agent classify: {big} headings {t_big:.2f} s, {small} headings {t_small:.2f} s "
          f"-> {(big - small) / (t_big - t_small):.0f} headings/s (start-up excluded)")
    settings = Settings.from_env()
    start = time.perf_counter()
    matcher = Matcher.from_settings(settings)
    print(f"matcher build (catalogue + {len(seed_examples(settings.labels_dir))} labelled examples): "
          f"{time.perf_counter() - start:.2f} s")
    items = headings(big)
    start = time.perf_counter()
    for h in items:
        matcher.match(h["heading"], h["text"])
    elapsed = time.perf_counter() - start
    print(f"Python API Matcher.match: {big / elapsed:.0f} headings/s ({elapsed * 1000 / big:.2f} ms each)")


if __name__ == "__main__":
    main()
