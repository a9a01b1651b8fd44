"""`spec-agent --index DIR ask --json --offline "..."`: the JSON shape, exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_index

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "agent" / "data" / "sample" / "ACME-EMC-CS-2026.pdf"


@pytest.fixture(scope="module")
def index_dir(sample_index_master, tmp_path_factory) -> Path:
    return copy_index(sample_index_master, tmp_path_factory.mktemp("cli") / "index")


def ask(index_dir: Path, question: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agent.cli", "--index", str(index_dir), "ask", "--json",
                           "--offline", question], capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)


def test_ask_json_offline_shape(index_dir):
    done = ask(index_dir, "Which test does 8.2.2.1 require?")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert list(out) == ["answer", "mode", "citations", "tests"]
    assert out["mode"] == "offline"
    assert out["answer"].startswith("Offline answer (from the documents, no language model):\n8.2.2.1 — ")
    (cite,) = out["citations"]
    assert list(cite) == ["n", "doc", "clause", "title", "page", "table", "text"]
    assert {k: cite[k] for k in ("n", "doc", "clause", "title", "page", "table")} == {
        "n": 1, "doc": "ACME-EMC-CS-2026", "clause": "8.2.2.1",
        "title": "Conducted emissions – voltage method", "page": 5, "table": None}
    assert cite["text"].startswith("The DUT is supplied through one artificial network per supply line")
    assert out["tests"] == [{"id": 0, "name": "Conducted Emission - Voltage Method", "score": 0.98}]


def test_ask_json_table_row(index_dir):
    out = json.loads(ask(index_dir, "What is the average limit in the FM band for Table 8-1?").stdout)
    assert [(c["n"], c["table"], c["page"]) for c in out["citations"]] == [(1, "Table 8-1", 5)]
    assert out["citations"][0]["text"].endswith("Average limit dB(µV): 18; RBW kHz: 120")
    assert out["tests"] == []
