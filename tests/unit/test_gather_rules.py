"""How a question becomes tool calls: frequencies (edges, ranges), row selectors, tables chosen
by caption, list quotes for "which clause…" answers — pure rules, then the sample spec."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_index

from agent.config import Settings
from agent.graph.extractive import best_sentence
from agent.graph.gather import frequency, frequency_label, selector, topic_of
from agent.graph.understand import understand
from agent.service import Assistant

SAMPLE = Path(__file__).resolve().parents[2] / "agent" / "data" / "sample" / "ACME-EMC-CS-2026.pdf"


@pytest.mark.parametrize("question, lookup, label", [
    ("RE limit at 100 MHz?", "100 MHz", "100 MHz"),
    ("tuner positions above 600 MHz", "600.06 MHz", "above 600 MHz"),
    ("absorption below 250 MHz", "249.975 MHz", "below 250 MHz"),
    ("dwell time, 150 kHz - 30 MHz?", "2121320.344 Hz", "150 kHz - 30 MHz"),
    ("what is Table VIII level 3?", None, None),
])
def test_frequency_for_lookup_and_as_said(question, lookup, label):
    u = understand(question)
    assert frequency(u) == lookup
    assert frequency_label(u) == label


@pytest.mark.parametrize("question, expected", [
    ("Us and required class for pulse 2a", {"pulse": "2a"}),
    ("BCI current for level 3 at 100 MHz", {"level": "3"}),
    ("limit in the FM band", {"band": "FM"}),
    ("what is the limit at 30 MHz", None),
])
def test_row_selector(question, expected):
    assert selector(question) == expected


@pytest.mark.parametrize("question, intent", [
    ("461F para 5.20 - what's the equivalent test in our catalogue?", "which_test"),
    ("Which standard applies to clause 9.1?", "which_test"),
    ("map RS101 / 5.19 to the test catalogue", "which_test"),
    ("What is the test voltage of level 3?", "table_value"),
    ("Us and required class for pulse 2a", "table_value"),
    ("what test equipment does 5.12.3.2 list?", "clause"),
])
def test_intent_wording(question, intent):
    assert understand(question).intent == intent


def test_topic_drops_question_words():
    assert topic_of("Which clause covers ESD on unpowered parts?") == "ESD unpowered parts"


def test_best_sentence_skips_the_heading_and_keeps_the_list_it_opens():
    text = ("4.3.1 Measurement tolerances\nUnless otherwise stated, the tolerance shall be as follows:\n"
            "a. Distance: ±5%\nb. Frequency: ±2%\nThe next sentence is about something else.")
    quote = best_sentence(text, "what is the frequency tolerance?", "4.3.1 Measurement tolerances")
    assert quote == ("Unless otherwise stated, the tolerance shall be as follows: a. Distance: ±5% "
                     "b. Frequency: ±2%")


@pytest.fixture(scope="module")
def assistant(sample_index_master, tmp_path_factory) -> Assistant:
    index = copy_index(sample_index_master, tmp_path_factory.mktemp("gather") / "index")
    return Assistant.open(Settings(index_dir=index, embedder="lsa", offline=True))


def test_equally_fitting_tables_both_answer(assistant):
    r = assistant.ask("what is the CE limit in the MW band?", "t1")
    # the rows first; a value question found by search also quotes the text around it (a clause)
    assert [(c["table"], c["row"]) for c in r.citations if c["row"] is not None] == [("Table 8-2", 1), ("Table 8-1", 1)]
    assert [c["n"] for c in r.citations if c["row"] is not None] == [1, 2]
    assert "Quasi-peak limit dB(µV): 41" in r.answer and "Quasi-peak limit dB(µA): 13" in r.answer


def test_the_caption_that_says_the_abbreviation_wins(assistant):
    r = assistant.ask("what is the RE limit at 100 MHz?", "t2")
    assert [(c["table"], c["row"]) for c in r.citations if c["row"] is not None] == [("Table 8-3", 4)]
    assert r.citations[0]["table"] == "Table 8-3"
    assert "Band: FM; Frequency range (MHz): 76 – 108; Peak limit dB(µV/m): 32;" in r.answer


def test_edge_and_sign_as_printed(assistant):
    r = assistant.ask("Us and required class for pulse 2a", "t3")
    assert "Pulse: 2a; Us (V): +50; Test time / pulses: 500 pulses; Class: B [1]" in r.answer


def test_a_docx_clause_is_cited_by_paragraph(tmp_path):
    """DOCX has no pages: the citation names the heading's paragraph in body order."""
    a = Assistant.open(Settings(index_dir=tmp_path, embedder="lsa", offline=True))
    [outcome] = a.ingest([str(SAMPLE.with_suffix(".docx"))])
    assert outcome.status == "added"
    clause = a.index.get_clause("9.1", "ACME-EMC-CS-2026").clause
    r = a.ask("which test does 9.1 require?", "docx")
    assert [(c["clause"], c["page"], c["position"]) for c in r.citations] == [("9.1", None, clause.position)]
    assert f"[1] ACME-EMC-CS-2026 §9.1, paragraph {clause.position}" in r.answer
    assert [t["id"] for t in r.tests] == [6]


def test_a_which_test_question_that_also_asks_a_level_gets_the_rows_of_the_clause_found(assistant):
    r = assistant.ask("which test do we run for ESD on the powered module, and what air discharge level?", "t4")
    lines = r.answer.splitlines()
    assert lines[1].startswith("10.3 — ESD – powered-up, under 10 — Electrostatic discharge [2]. Standard test: "
                               "Electrostatic Discharge (ESD) - Powered-up Discharge (ISO 10605)")
    assert [(c["table"], c["row"]) for c in r.citations if c["row"] is not None] == [
        ("Table 10-2", 2), ("Table 10-2", 3), ("Table 10-2", 4)]
    assert "- Discharge mode: Air, outside the vehicle; Test level: ±25 kV; Network: 150 pF / 2 kΩ; Class: C [8]" in lines


def test_a_subject_no_catalogue_test_covers_is_answered_so_with_its_clause(assistant):
    r = assistant.ask("which std covers how the shield is terminated at the connector backshell?", "t5")
    assert r.answer.splitlines()[1] == "11.2.2 — Shield termination. No standard test of the catalogue applies to this clause [1]."
    assert (r.citations[0]["clause"], r.citations[0]["table"]) == ("11.2.2", None)


@pytest.mark.parametrize("question", [
    "which std for the transients coupled onto signal lines with the clamp?",
    "radiated immunity in the chamber with the antenna - which ISO part?",
    "what norm is the ESD test under?",
])
def test_asking_for_the_standard_asks_which_test(question):
    assert understand(question).intent == "which_test"


def test_a_row_that_names_itself_by_a_word_and_a_label_is_a_condition():
    from agent.graph.conditions import conditions
    assert conditions(understand("fast b on signal lines, SG 2, what Us?")) == ["fast", "signal", "lines", "SG", "fast b"]
