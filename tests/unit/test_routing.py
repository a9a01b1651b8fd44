"""Several documents loaded, none named: a question plainly about one is answered from it, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import Settings
from agent.service import Assistant

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ROOT / "tests" / "fixtures" / "layouts" / "EN-layout-sample.pdf"
SAMPLE = ROOT / "agent" / "data" / "sample" / "ACME-EMC-CS-2026.pdf"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Assistant:
    a = Assistant.open(Settings(index_dir=tmp_path_factory.mktemp("routing"), embedder="lsa", offline=True))
    assert [o.status for o in a.ingest([str(LAYOUT), str(SAMPLE)])] == ["added", "added"]
    return a


def test_a_table_only_one_document_has_routes_there(assistant):
    r = assistant.ask("What does Table B.3 give at 0,25 MHz for quasi-peak?", "r1")
    assert r.answer.splitlines()[1] == ("From EN-layout-sample, the loaded document this question is about "
                                        "(name another to ask it).")
    assert {c["doc"] for c in r.citations} == {"EN-layout-sample"}


def test_a_clause_number_both_documents_have_is_not_routed(assistant):
    r = assistant.ask("What does clause 4.1 say?", "r2")
    assert "loaded document this question is about" not in r.answer


def test_a_named_document_needs_no_routing(assistant):
    r = assistant.ask("In ACME-EMC-CS-2026, which test does 8.2.2.1 require?", "r3")
    assert "loaded document this question is about" not in r.answer
    assert [t["id"] for t in r.tests] == [0]


def test_an_abbreviation_only_one_loaded_document_uses_routes_the_question_there():
    from types import SimpleNamespace

    from agent.graph.gather import _only_user
    from agent.schema import Clause

    clauses = {"A": [Clause("4.3", "Functional status classification (FSC)", "FSC I to FSC IV apply. The DUT …")],
               "B": [Clause("4.1", "General", "The DUT shall meet class A of the ALSE test.")],
               "C": [Clause("2", "Terms", "DUT: device under test; ALSE: absorber-lined shielded enclosure.")]}
    index = SimpleNamespace(generation="g1", clauses=lambda n: clauses[n],
                            document=lambda n: SimpleNamespace(tables=()))
    toolbox = SimpleNamespace(index=index)
    assert _only_user(toolbox, "where are the FSC classes defined?", ["A", "B", "C"]) == "A"
    assert _only_user(toolbox, "which ALSE test for the DUT?", ["A", "B", "C"]) is None  # B and C both say ALSE
    assert _only_user(toolbox, "what does the DUT need?", ["A", "B", "C"]) is None  # every document says DUT
