"""Scoring of `eval qa`: value tokens, citations in the answer body, both record formats, table recall."""

from __future__ import annotations

import json
from types import SimpleNamespace

from agent.evaluate import qa_set
from agent.evaluate.qa_set import has_value, item_from_dict, load_qa
from agent.evaluate.run import score_answer
from agent.evaluate.table_recall import printed_captions, table_recall

NEW = {"id": "m07", "doc": "D", "kind": "clause", "question": "Over what range?", "cite_any": ["A.4.1", "A.4"],
       "answer_all": ["10 kHz", "20 MHz"], "page": 58, "evidence": "..."}


def test_values_are_whole_tokens():
    assert has_value("five times", "at least five times the diagonal")
    assert has_value("10 kHz", "from 10kHz through 20 MHz")
    assert has_value("dB(µV)", "56 dBuV") and has_value("230 to 1 000", "230 to 1\u2009000")
    assert not has_value("80", "180 dB") and not has_value("1.5", "11.5 GHz")


def test_both_record_formats(tmp_path):
    old = {"id": "q1", "doc": "D", "type": "reverse", "question": "q", "expect_clause": "5.13",
           "expect_table": None, "expect_values": ["CS114"], "expect_tests": []}
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps(NEW) + "\n" + json.dumps(old) + "\n", encoding="utf-8")
    new_item, old_item = load_qa(path)
    assert (new_item.kind, new_item.cite_any, new_item.answer_all) == ("clause", ("A.4.1", "A.4"), ("10 kHz", "20 MHz"))
    assert (old_item.kind, old_item.cite_any, old_item.answer_all) == ("covers", ("5.13",), ("CS114",))


def test_which_test_needs_an_expected_test_first():
    item = item_from_dict({**NEW, "kind": "which_test", "test_any": [6]})
    assert qa_set.tests_ok(item, [{"id": 6}, {"id": 7}]) and not qa_set.tests_ok(item, [{"id": 7}, {"id": 6}])
    assert not qa_set.tests_ok(item, [])


def test_cited_means_cited_in_the_body_not_only_in_sources():
    item = item_from_dict(NEW)
    evidence = [{"n": 1, "doc": "D", "clause": "A.4.1", "table": None, "text": "from 10 kHz through 20 MHz"},
                {"n": 2, "doc": "D", "clause": "3.1", "table": None, "text": "other"}]
    body_only = SimpleNamespace(answer="Measured from 10 kHz through 20 MHz [2].\n\nSources:\n[1] D §A.4.1",
                                evidence=evidence, tests=[], answer_id=None)
    right = SimpleNamespace(answer="Measured from 10 kHz through 20 MHz [1].", evidence=evidence, tests=[],
                            answer_id=None)
    assert (score_answer(item, body_only).cited, score_answer(item, body_only).evidence) == (False, True)
    assert score_answer(item, right).right


def test_table_recall_counts_captions_not_references_or_contents():
    pages = ["CONTENTS\nTable 1 Limits ........ 4\nTable 2 Levels ........ 5\nTable 3 x ........ 6",
             "Table B.2 – Requirements for class A\nTable 5 gives the limits.\nTABLE B-II.  PCI source",
             "Table A4/1\nRequirements to be tested\nTable 2 (continued)\nTable A.1 shall be used to select the tests."]
    assert printed_captions(pages) == ["TABLE B.2", "TABLE B-II", "TABLE A4/1", "TABLE 2"]
    recall = table_recall("D", pages, ["Table B.2", "TABLE A4/1", "Table on page 3"])
    assert (recall.share, recall.missing) == (0.5, ("TABLE B-II", "TABLE 2"))


def test_test_any_may_name_standards_and_which_clause_is_covers():
    item = item_from_dict({**NEW, "kind": "which_test", "test_any": ["ISO 11452-4", "ISO 16750-2"]})
    [resolved] = qa_set.resolve_tests([item], {6: ["ISO 11452-4"], 7: ["ISO 11452-2"]})
    assert resolved.test_any == (6, "ISO 16750-2")
    assert qa_set.tests_ok(resolved, [{"id": 6}]) and not qa_set.tests_ok(resolved, [{"id": 7}])
    assert qa_set.tests_ok(resolved, [{"id": 7}], "3.4.2 CI 230 calls for the ISO 16750-2 starting profile")
    assert item_from_dict({**NEW, "kind": "which_clause"}).kind == "covers"
