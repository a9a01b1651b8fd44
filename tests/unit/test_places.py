""""Which clause covers …": a location question is asked in many words; the clause titled by
its topic comes first, front matter last; the first place is quoted from its opening sentence;
a value question's supporting quote is a sentence that states a value."""

from __future__ import annotations

import pytest

from agent.graph.extractive import answer, hits, lead_sentence, states_value
from agent.graph.places import rank_places, title_fit
from agent.graph.understand import understand
from agent.schema import Citation


def _c(n: int, clause: str, title: str, text: str, table: str | None = None) -> Citation:
    return Citation(n=n, doc="SPEC", clause=clause, title=title, page=n, table=table, text=text)


@pytest.mark.parametrize("question", [
    "Which section tells me how to calibrate the field for the ALSE immunity test?",
    "RE limits given as a range across a band - what part of the spec explains how to read them?",
    "Where's the harness length laid down?",
    "Which paragraph lists what the test report has to contain?",
    "In which chapter is the load simulator specified?",
])
def test_location_questions_ask_for_a_place(question):
    assert understand(question).intent == "reverse"


@pytest.mark.parametrize("question, intent", [
    ("What does 5.3.2 say about the harness?", "clause"),  # a clause named: a clause question
    ("Which section number is RE102?", "general"),  # "section number" is not a place in the text
    ("What do I have to run on the harness for injected RF currents?", "which_test"),
])
def test_questions_that_are_not_places(question, intent):
    assert understand(question).intent == intent


def test_title_fit_prefers_a_short_title_made_of_the_topic():
    topic = "how to calibrate the field for the ALSE immunity test"
    assert title_fit("Field calibration", topic) == 2.0
    assert title_fit("RI 114 — Radiated Immunity, ALSE (ISO 11452-2)", topic) == pytest.approx(4 / 3)
    assert title_fit("Test set-up", topic) == 0.0


def test_titled_clauses_first_front_matter_last_search_order_kept_otherwise():
    found = [
        _c(1, "2.3", "Abbreviations", "ALSE absorber lined shielded enclosure"),
        _c(2, "3.3.1", "Test set-up", "The field probe is placed ..."),
        _c(3, "3.3.2.2", "Field calibration", "The substitution method shall be used."),
        _c(4, "2.1", "Normative references", "ISO 11452-2 Component test methods"),
        _c(5, "3.3.4", "Acceptance", "No deviation of the field is permitted."),
    ]
    ranked = rank_places(found, "how to calibrate the field for the ALSE test")
    assert [c.clause for c in ranked] == ["3.3.2.2", "3.3.1", "3.3.4", "2.3", "2.1"]
    asked = rank_places(found, "which abbreviations are defined")
    assert [c.clause for c in asked][:2] == ["2.3", "3.3.1"]  # front matter asked for stays in place


def test_the_first_place_is_quoted_whole_when_short_else_from_its_opening_sentence():
    text = ("3.3.2.2 Field calibration. The substitution method shall be used. The field shall be calibrated "
            "without the DUT, with an isotropic field probe at the reference point.")
    assert lead_sentence(text, "3.3.2.2 Field calibration") == "The substitution method shall be used."
    question = "Which section tells me how to calibrate the field?"
    said = hits([_c(1, "3.3.2.2", "Field calibration", text)], "calibrate field", question)
    assert said.splitlines()[1] == (
        '- 3.3.2.2 — Field calibration (SPEC §3.3.2.2, p. 1): "The substitution method shall be used. '
        'The field shall be calibrated without the DUT, with an isotropic field probe at the reference point." [1]')
    long_text = text + " " + " ".join(f"Filler sentence {n} about the probe cable routing." for n in range(20))
    said = hits([_c(1, "3.3.2.2", "Field calibration", long_text)], "calibrate field", question)
    assert said.splitlines()[1].startswith(
        '- 3.3.2.2 — Field calibration (SPEC §3.3.2.2, p. 1): "The substitution method shall be used. … '
        'The field shall be calibrated without the DUT')


@pytest.mark.parametrize("text, stated", [
    ("the supply lines shall be 200 mm long", True),
    ("measured with the voltage method of CISPR 25 and the limits of Table 3-4 for 3.1.3", False),
    ("in accordance with ISO 11452-2 and RE 310", False),
    ("three discharges per point", True),
])
def test_a_value_is_a_number_that_names_nothing(text, stated):
    assert states_value(text) is stated


def test_a_value_question_is_supported_by_the_sentence_stating_a_value():
    evidence = [
        _c(1, "3.2.1", "CE 420 — Conducted emissions, voltage method",
           "The conducted disturbance voltage shall be measured on each supply line with the voltage method "
           "of CISPR 25, using the AN measurement port."),
        _c(2, "3.2.1.4", "Harness", "The supply lines between the DUT connector and the AN shall be 200 mm long."),
    ]
    question = "For conducted emissions with the voltage method, how long must the supply leads between DUT and AN be?"
    said = answer("general", evidence, {"matches": [], "lookup": {"table": "T"}, "question": question})
    assert said.splitlines()[-1] == (
        'What it says: "The supply lines between the DUT connector and the AN shall be 200 mm long." [2]')


def test_a_clause_no_catalogue_test_covers_names_the_standards_it_calls_for():
    from agent.graph.extractive import standards_in, which_test
    text = "The DUT shall be tested for the supply voltage characteristics of ISO 16750-2 as listed in Table 7-7."
    assert standards_in("per ISO 16750-2 and ISO  7637-2, see CISPR 25:2021") == ["ISO 16750-2", "ISO 7637-2", "CISPR 25"]
    match = {"clause": "7.7.1", "title": "Test method (EMC-I07)", "doc": "SPEC", "tests": [], "abstain": True}
    said = which_test(match, [_c(1, "7.7.1", "Test method (EMC-I07)", text)], {})
    assert said == ("7.7.1 — Test method (EMC-I07). No standard test of the catalogue applies to this clause [1]. "
                    "It names ISO 16750-2 [1].")
