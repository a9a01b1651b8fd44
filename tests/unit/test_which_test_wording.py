"""Which test, asked in an engineer's words: the wording's facets pick the clause and order its
tests; a clause that tests "in accordance with Table 7" takes its tests from that table's rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import Settings
from agent.graph.understand import understand
from agent.service import Assistant

LAYOUT = Path(__file__).resolve().parents[1] / "fixtures" / "layouts" / "EN-layout-sample.pdf"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Assistant:
    a = Assistant.open(Settings(index_dir=tmp_path_factory.mktemp("wording"), embedder="lsa", offline=True))
    [outcome] = a.ingest([str(LAYOUT)])
    assert outcome.status == "added"
    return a


@pytest.mark.parametrize("question, intent", [
    ("What emission measurement is needed on the power input wiring?", "which_test"),
    ("What static discharge check covers parts handled before assembly?", "which_test"),
    ("Near strong 50 Hz fields from the traction return: what do we need to demonstrate?", "which_test"),
    ("What supply voltage do I need to set on the bench supply?", "general"),  # no path named
    ("Which antenna type does the test equipment table require?", "general"),  # asks for a table's cell
    ("Which paragraph covers the acceptance test for the main barrier filters?", "reverse"),
    ("Powered ESD, air discharge: what is the top test voltage?", "table_value"),  # a value of the test
])
def test_soft_which_test_cues_need_a_path_in_the_wording(question, intent):
    assert understand(question).intent == intent


def test_a_clause_that_tests_by_a_table_takes_the_tests_of_its_rows(assistant):
    r = assistant.ask("which test does 6.4 require?", "t1")
    assert [t["id"] for t in r.tests] == [10, 7, 14]  # Table 7: magnetic field, RF field, ESD rows
    assert "Magnetic Field Immunity (IEC 61000-4-8), score" in r.answer  # the standard the row names
    assert r.answer.splitlines()[1].startswith("6.4 — Enclosure port. Standard tests: Magnetic Field Immunity")
    assert "is the row of Table 7: \"Item: 7.1; Environmental phenomenon: Power-frequency magnetic field;" in r.answer


def test_the_wording_puts_its_test_first_and_cites_its_row(assistant):
    r = assistant.ask("What do I need to run for ESD on the enclosure, and where is it specified?", "t2")
    assert r.tests[0]["id"] == 14
    row = next(c for c in r.citations if c["table"] == "Table 7" and "Electrostatic discharge" in c["text"])
    assert f"Electrostatic Discharge (ESD) - Powered-up Discharge is the row of Table 7: \"Item: 7.5;" in r.answer
    assert f"[{row['n']}]" in r.answer and row["clause"] == "6.4"


def test_a_port_and_a_phenomenon_find_the_table_of_that_port(assistant):
    r = assistant.ask("Which test do I run on the signal ports for surges?", "t3")
    assert r.tests[0]["id"] == 12
    assert r.answer.splitlines()[1].startswith("6.3 — Signal ports and telecommunication ports.")
    assert "is the row of Table 5: \"Item: 5.2; Environmental phenomenon: Surges, line to ground;" in r.answer


def test_without_a_path_in_the_wording_table_rows_do_not_decide(assistant):
    r = assistant.ask("Are widgets on rolling stock in scope, and which standard covers them?", "t4")
    assert r.tests == []
    assert "is the row of" not in r.answer


def test_the_cell_the_conditions_ask_for_is_pointed_out():
    from agent.graph.extractive import asked_cells
    row = ("Row: A3.1; Frequency range MHz: 0,15 to 0,50; Class A Quasi-peak dB(µV): 88 to 78; "
           "Class A Average dB(µV): 75 to 65; Class B Quasi-peak dB(µV): 70 to 60; Class B Average dB(µV): 60 to 50")
    assert asked_cells(row, "Quasi-peak limit for class B at 200 kHz?") == "Class B Quasi-peak dB(µV): 70 to 60"
    assert asked_cells(row, "class A limits at 200 kHz?") == ("Class A Quasi-peak dB(µV): 88 to 78; "
                                                            "Class A Average dB(µV): 75 to 65")
    assert asked_cells(row, "limits at 200 kHz?") == ""  # nothing singles a column out


def test_the_cell_asked_for_by_a_detector_abbreviated_in_the_header():
    from agent.graph.extractive import asked_cells
    row = "Band: MW; Class 5 limit dBµV Peak: 54; Class 5 limit dBµV QP: 41; Class 5 limit dBµV AV: 34"
    assert asked_cells(row, "Class 5, MW band: what's the quasi-peak limit?") == "Class 5 limit dBµV QP: 41"
    assert asked_cells(row, "and the average one?") == "Class 5 limit dBµV AV: 34"


def test_band_and_detector_acronyms_are_conditions():
    from agent.graph.conditions import conditions
    terms = conditions(understand("RE in the ALSE, FM band, AV detector, class 3: limit?"))
    assert {"FM", "AV", "ALSE", "3"} <= set(terms)


def test_emission_wording_of_spikes_put_back_onto_the_supply(assistant):
    from agent.match.facets import default_facets
    read = default_facets().read("what test covers the voltage spikes it throws back onto the battery feed?")
    assert set(read["direction"]) == {"emission"}
