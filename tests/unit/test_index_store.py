"""Store and generations: SQLite/FAISS round trip, atomic CURRENT switch, kill -9, writer lock."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from test_index_helpers import mil_doc, open_index, write_doc

from agent.errors import SpecAgentError
from agent.index import generations
from agent.index.store import PAUSE_ENV, read_generation

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def test_round_trip_keeps_documents_chunks_and_vectors(tmp_path):
    index = open_index(tmp_path)
    index.ingest([write_doc(tmp_path / "in", mil_doc())])
    loaded = read_generation(tmp_path / "idx" / index.generation)
    doc = loaded.documents[0]
    original = mil_doc()
    assert doc.clauses == tuple(c.__class__(**{**c.__dict__, "doc": "MIL-STD-461G"}) for c in original.clauses)
    assert doc.tables[0].header == (("Level", "Voltage"),)
    assert doc.tables[0].rows == (("1", "2 kV"), ("2", "4 kV | air"))
    assert doc.tables[1].doc == "MIL-STD-461G"
    assert loaded.chunks == index.chunks()
    assert np.allclose(loaded.vectors, index._snap.vectors)
    assert np.allclose(np.linalg.norm(loaded.vectors, axis=1), 1.0, atol=1e-5)
    assert loaded.lsa is not None and loaded.lsa.dimension == index.dimension == 6


def test_manifest_records_embedder_dimension_counts_and_hashes(tmp_path):
    path = write_doc(tmp_path / "in", mil_doc())
    index = open_index(tmp_path)
    index.ingest([path])
    manifest = json.loads((tmp_path / "idx" / index.generation / "manifest.json").read_text())
    assert (manifest["embedder"], manifest["dimension"], manifest["generation"]) == ("lsa", 6, "gen-000001")
    assert manifest["counts"] == {"documents": 1, "clauses": 5, "tables": 2, "chunks": 7}
    from agent.index.spec_index import sha256_of

    assert manifest["files"] == [{"doc": "MIL-STD-461G", "path": str(path), "sha256": sha256_of(path)}]


def test_nothing_in_a_generation_is_pickled(tmp_path):
    index = open_index(tmp_path)
    index.ingest([write_doc(tmp_path / "in", mil_doc())])
    gen = tmp_path / "idx" / index.generation
    assert sorted(p.name for p in gen.iterdir()) == [
        "index.sqlite", "lsa.json", "lsa_components.npy", "lsa_idf.npy", "manifest.json", "vectors.faiss"]
    for npy in gen.glob("*.npy"):
        np.load(npy, allow_pickle=False)  # raises if an object array had been pickled


def test_each_ingest_switches_current_and_removes_the_old_generation(tmp_path):
    index = open_index(tmp_path)
    index.ingest([write_doc(tmp_path / "in", mil_doc())])
    assert (tmp_path / "idx" / "CURRENT").read_text() == "gen-000001\n"
    index.ingest([write_doc(tmp_path / "in", mil_doc("MIL-STD-461F", rs103="5.20"))])
    names = sorted(p.name for p in (tmp_path / "idx").iterdir())
    assert names == ["CURRENT", "gen-000002", "lock"]
    assert (tmp_path / "idx" / "CURRENT").read_text() == "gen-000002\n"


def test_stale_generations_of_killed_writers_are_ignored_then_removed(tmp_path):
    index = open_index(tmp_path)
    index.ingest([write_doc(tmp_path / "in", mil_doc())])
    (tmp_path / "idx" / "gen-000007").mkdir()  # a half-written generation, never switched to
    assert [d.name for d in open_index(tmp_path).documents()] == ["MIL-STD-461G"]
    index.ingest([write_doc(tmp_path / "in", mil_doc("B"))])
    assert (tmp_path / "idx" / "CURRENT").read_text() == "gen-000002\n"
    assert sorted(p.name for p in (tmp_path / "idx").glob("gen-*")) == ["gen-000002"]


_CHILD = textwrap.dedent("""
    import sys
    sys.path[:0] = [{here!r}, {root!r}]
    from pathlib import Path
    from test_index_helpers import open_index
    open_index(Path({tmp!r})).ingest([Path({path!r})])
""")


def test_kill_9_during_ingest_leaves_the_previous_index_whole(tmp_path):
    index = open_index(tmp_path)
    index.ingest([write_doc(tmp_path / "in", mil_doc())])
    before = index.chunks()
    new = write_doc(tmp_path / "in", mil_doc("MIL-STD-461F", rs103="5.20"))
    marker = tmp_path / "paused"
    script = _CHILD.format(here=str(HERE), root=str(ROOT), tmp=str(tmp_path), path=str(new))
    child = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, PAUSE_ENV: str(marker)})
    try:
        deadline = time.monotonic() + 300  # a loaded CI machine imports slowly
        while not marker.exists():
            assert child.poll() is None, "the ingest child died before pausing"
            assert time.monotonic() < deadline, "the ingest child never reached the pause"
            time.sleep(0.05)
        assert (tmp_path / "idx" / "gen-000002" / "index.sqlite").exists()  # half-written
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    reopened = open_index(tmp_path)
    assert [d.name for d in reopened.documents()] == ["MIL-STD-461G"]
    assert reopened.chunks() == before
    assert len(reopened.clauses("MIL-STD-461G")) == 5
    assert [h.clause for h in reopened.search("5.21", 1)] == ["5.21"]
    outcomes = reopened.ingest([new])  # the lock died with the child; the next ingest works
    assert [(o.status, o.doc) for o in outcomes] == [("added", "MIL-STD-461F")]
    assert sorted(p.name for p in (tmp_path / "idx").glob("gen-*")) == ["gen-000002"]
    assert (tmp_path / "idx" / "CURRENT").read_text() == "gen-000002\n"


def test_a_second_writer_is_refused_while_the_lock_is_held(tmp_path):
    index = open_index(tmp_path)
    (tmp_path / "idx").mkdir()
    with open(tmp_path / "idx" / "lock", "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(SpecAgentError) as err:
            index.ingest([write_doc(tmp_path / "in", mil_doc())])
    assert str(err.value) == (
        f"{tmp_path / 'idx'}: another spec-agent ingest is writing this index; wait for it to finish and retry.")
    assert generations.current(tmp_path / "idx") is None
