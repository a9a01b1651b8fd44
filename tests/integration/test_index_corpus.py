"""The index on the real corpus: MIL-STD-461G and 461F parsed, chunked, embedded (lsa), searched."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from agent.config import Settings
from agent.index import SpecIndex

pytestmark = pytest.mark.slow
_CACHE: dict[str, object] = {}
_TOC_LINE = re.compile(r"\.{5,}\s*[\w-]*\s*$", re.MULTILINE)


@pytest.fixture
def corpus(mil461g, mil461f, tmp_path_factory):
    """Both editions ingested once for the module (parsing takes a while)."""
    if "index" not in _CACHE:
        root = tmp_path_factory.mktemp("corpus-index")
        index = SpecIndex.open(Settings(index_dir=root, embedder="lsa", offline=True))
        _CACHE["outcomes"] = {o.path.rsplit("/", 1)[-1]: o for o in index.ingest([mil461g, mil461f])}
        _CACHE["index"], _CACHE["root"] = index, root
    return _CACHE["index"]


def test_461g_is_added_whole(corpus):
    outcome = _CACHE["outcomes"]["MIL-STD-461G.pdf"]
    assert (outcome.status, outcome.doc, outcome.pages) == ("added", "MIL-STD-461G", 280)
    assert corpus.document("MIL-STD-461G").pages == 280


def test_461f_is_added_beside_461g(corpus):
    outcome = _CACHE["outcomes"]["MIL-STD-461F.pdf"]
    assert (outcome.status, outcome.doc, outcome.pages) == ("added", "MIL-STD-461F", 269)
    assert corpus.get_clause("5.20", doc="MIL-STD-461F").clause.title.startswith("RS103")


def test_bulk_cable_injection_finds_cs114(corpus):
    hits = corpus.search("bulk cable injection", doc="MIL-STD-461G")
    assert hits[0].clause == "5.12" or hits[0].clause.startswith("5.12.")
    assert hits[0].doc == "MIL-STD-461G"


def test_rs103_is_clause_5_21_of_461g(corpus):
    view = corpus.get_clause("5.21", doc="MIL-STD-461G")
    assert view.clause.title.startswith("RS103")
    assert view.parents[0][0] == "5"
    assert corpus.search("5.21", 1, doc="MIL-STD-461G")[0].clause == "5.21"


def test_table_viii_is_found_by_id(corpus):
    assert corpus.get_table("table 8", doc="MIL-STD-461G").id == "TABLE VIII"
    hit = corpus.search("Table VIII", 1, doc="MIL-STD-461G")[0]
    assert (hit.table, hit.score) == ("TABLE VIII", 1.0)


def test_no_chunk_carries_page_furniture_or_toc_leaders(corpus):
    chunks = corpus.chunks()
    assert [c.id for c in chunks if "Downloaded from" in c.text] == []
    assert [c.id for c in chunks if _TOC_LINE.search(c.text)] == []


def test_docs_command_lists_the_corpus(corpus):
    from agent.cli import _register_commands, app

    if not any(c.name == "docs" for c in app.registered_commands):
        _register_commands()
    result = CliRunner().invoke(app, ["--index", str(_CACHE["root"]), "docs", "--json"],
                                env={"SPEC_AGENT_EMBEDDER": "lsa"})
    assert result.exit_code == 0, result.stderr
    rows = {r["doc"]: r for r in json.loads(result.stdout)}
    assert (rows["MIL-STD-461G"]["pages"], rows["MIL-STD-461G"]["sha256"]) == (
        280, "4416cd908ec256f03e3eb41bc556f47b3079b0069281c19e16778448d80407a4")
