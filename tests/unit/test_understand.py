"""Deterministic question understanding: entities, intent, documents, follow-ups."""

from __future__ import annotations

import pytest

from agent.graph.understand import (
    Quantity,
    Understanding,
    canonical_unit,
    find_quantities,
    merge_followup,
    parse_number,
    understand,
)

DOCS = ["MIL-STD-461G", "MIL-STD-461F", "ACME-EMC-CS-2026"]


@pytest.mark.parametrize(
    "question, clauses",
    [
        ("What does 8.2.2.1 say?", ("8.2.2.1",)),
        ("Show 5.16.3.1 of 461G", ("5.16.3.1",)),
        ("Explain A.2.1 please", ("A.2.1",)),
        ("see section 5.13.", ("5.13",)),
        ("What does clause 7 require?", ("7",)),
        ("§4 and §5.2", ("4", "5.2")),
        ("Annex B and appendix c", ("Annex B", "Appendix C")),
        ("RE102 at 100 MHz, ±8 kV, 13.5 V and 1.5 MHz", ()),
        ("Figure 5.2 and Table 5.1", ()),
        ("MIL-STD-461G RS103 limit", ()),
    ],
)
def test_clause_numbers_not_values(question, clauses):
    assert understand(question, DOCS).clauses == clauses


@pytest.mark.parametrize(
    "question, tables",
    [
        ("What is in Table VIII?", ("Table VIII",)),
        ("values of TABLE 8-1", ("Table 8-1",)),
        ("see table ii and Table A.1", ("Table II", "Table A.1")),
        ("the table lists it", ()),
    ],
)
def test_table_ids(question, tables):
    assert understand(question).tables == tables


def test_quantities_with_units():
    text = (
        "±8 kV, 13.5 V, 150 kHz – 30 MHz, 62.4 dB(µV), 55 dBuV, 200 mA, 10-20 V/m, 13,5 V, 1,000 V"
    )
    assert find_quantities(text) == [
        Quantity(8.0, "kV", "±8 kV", True),
        Quantity(13.5, "V", "13.5 V"),
        Quantity(150.0, "kHz", "150 kHz"),
        Quantity(30.0, "MHz", "30 MHz"),
        Quantity(62.4, "dBµV", "62.4 dB(µV)"),
        Quantity(55.0, "dBµV", "55 dBuV"),
        Quantity(200.0, "mA", "200 mA"),
        Quantity(10.0, "V/m", "10 V/m"),
        Quantity(20.0, "V/m", "20 V/m"),
        Quantity(13.5, "V", "13,5 V"),
        Quantity(1000.0, "V", "1,000 V"),
    ]


def test_words_are_not_units():
    assert find_quantities("RE102 applies to 2 systems, 4 meters away, class 5") == []


@pytest.mark.parametrize(
    "unit, canonical",
    [
        ("dBuV", "dBµV"),
        ("dB(μV/m)", "dBµV/m"),
        ("dB µA", "dBµA"),
        ("KHz", "kHz"),
        ("mhz", "MHz"),
        ("uA", "µA"),
        ("ohm", "Ω"),
        ("kV", "kV"),
    ],
)
def test_canonical_units(unit, canonical):
    assert canonical_unit(unit) == canonical


def test_parse_number():
    assert (parse_number("13,5"), parse_number("1,000"), parse_number("62.4")) == (
        13.5,
        1000.0,
        62.4,
    )


@pytest.mark.parametrize(
    "question, intent",
    [
        ("What does 8.2.2.1 say?", "clause"),
        ("Which test does section 4.5 RF-Emissions map to?", "which_test"),
        ("What standard test is 'RI 114: RI, Anechoic Chamber'?", "which_test"),
        ("What is the RE limit at 100 MHz?", "table_value"),
        ("ESD test level for contact discharge", "table_value"),
        ("What bandwidth is used at 150 kHz?", "table_value"),
        ("What is in Table VIII?", "table_value"),
        ("Which clause covers ESD?", "reverse"),
        ("Where is bulk current injection described?", "reverse"),
        ("what section is RS103 in?", "reverse"),
        ("Keywords of 5.13", "keywords"),
        ("Which documents are loaded?", "documents"),
        ("list the specs", "documents"),
        ("Hello, who are you", "general"),
    ],
)
def test_intent(question, intent):
    assert understand(question, DOCS).intent == intent


def test_full_understanding_of_a_value_question():
    u = understand("RE102 limit at 100 MHz in 461G?", DOCS)
    assert u == Understanding(
        question="RE102 limit at 100 MHz in 461G?",
        intent="table_value",
        tests=("RE102",),
        quantities=(Quantity(100.0, "MHz", "100 MHz"),),
        documents=("MIL-STD-461G",),
    )
    assert u.document == "MIL-STD-461G"


@pytest.mark.parametrize(
    "question, documents",
    [
        ("ESD in MIL-STD-461F", ("MIL-STD-461F",)),
        ("ESD in mil std 461g", ("MIL-STD-461G",)),
        ("461F RS103", ("MIL-STD-461F",)),
        ("what does ACME-EMC-CS-2026 say", ("ACME-EMC-CS-2026",)),
        ("compare 461F and 461G", ("MIL-STD-461G", "MIL-STD-461F")),
        ("MIL-STD-461 in general", ("MIL-STD-461G", "MIL-STD-461F")),  # both editions: no one document
        ("the 2026 spec", ("ACME-EMC-CS-2026",)),  # a year with "spec", "edition": the document of that year
        ("CE102 limit at 461 MHz", ()),  # a number with a unit is no standard number
    ],
)
def test_documents_named(question, documents):
    u = understand(question, DOCS)
    assert u.documents == documents
    assert u.document == (documents[0] if len(documents) == 1 else None)


def test_tests_named():
    assert understand("CS114 and RE 102, then RI 114").tests == ("CS114", "RE102", "RI 114")


@pytest.mark.parametrize(
    "question, followup",
    [
        ("and its limits?", True),
        ("What about 5.13?", True),
        ("Is it the same in 461F?", True),
        ("same for Table II", True),
        ("What does it say?", True),
        ("What is the RE102 limit?", False),
        ("Which clause covers ESD?", False),
        ("What does 5.13 say about this test?", False),
    ],
)
def test_followup_detection(question, followup):
    assert understand(question, DOCS).followup is followup


def test_merge_carries_subject_document_and_intent():
    prev = understand("What is the RE102 limit at 100 MHz in 461G?", DOCS)
    cur = merge_followup(prev, understand("and in 461F?", DOCS))
    assert cur == Understanding(
        question="and in 461F?",
        intent="table_value",
        tests=("RE102",),
        quantities=(Quantity(100.0, "MHz", "100 MHz"),),
        documents=("MIL-STD-461F",),
        followup=True,
    )


def test_merge_new_subject_replaces_old_and_keeps_value_intent():
    prev = understand("What is the limit in 5.12 of 461G?", DOCS)
    cur = merge_followup(prev, understand("what about 5.13?", DOCS))
    assert (cur.intent, cur.clauses, cur.documents) == ("table_value", ("5.13",), ("MIL-STD-461G",))


def test_merge_its_limits_after_a_clause():
    prev = understand("What does 5.16.3.1 say?", DOCS)
    cur = merge_followup(prev, understand("and its limits?", DOCS))
    assert (cur.intent, cur.clauses, cur.documents) == ("table_value", ("5.16.3.1",), ())


def test_merge_new_quantity_replaces_old():
    prev = understand("RE102 limit at 100 MHz?", DOCS)
    cur = merge_followup(prev, understand("and at 200 MHz?", DOCS))
    assert (cur.tests, cur.quantities) == (("RE102",), (Quantity(200.0, "MHz", "200 MHz"),))


def test_merge_leaves_a_fresh_question_alone():
    prev = understand("RE102 limit at 100 MHz in 461G?", DOCS)
    fresh = understand("Which clause covers ESD?", DOCS)
    assert merge_followup(prev, fresh) is fresh
    assert merge_followup(None, understand("and its limits?")) == understand("and its limits?")


@pytest.mark.parametrize("question, tests, intent", [
    ("which ISO std does CI-05 use?", ("CI-05",), "which_test"),
    ("ESD test std for ESD-07?", ("ESD-07",), "which_test"),
    ("which std is EMC-P06 done to?", ("EMC-P06",), "which_test"),
    ("RE-02 L3 peak in the FM band?", ("RE-02",), "table_value"),
    ("CISPR-25 and MIL-STD-461 apply", (), "general"),  # standards' numbers are no OEM test ids
    ("RE102 and then RI 114", ("RE102", "RI 114"), "general"),
])
def test_oem_test_ids_in_questions(question, tests, intent):
    u = understand(question, DOCS)
    assert (u.tests, u.intent) == (tests, intent)


@pytest.mark.parametrize("question, intent, documents", [
    ("What changed in CS114 from 461F to 461G?", "changes", ("MIL-STD-461F", "MIL-STD-461G")),
    ("Compare the radiated emission limits of ACME and HM at 100 MHz", "compare", ("ACME-EMC-CS-2026", "HM-EMC-2025")),
    ("which is stricter at 100 MHz for RE, ACME or HM?", "compare", ("ACME-EMC-CS-2026", "HM-EMC-2025")),
    ("What is the RE102 limit in 461G?", "table_value", ("MIL-STD-461G",)),
    ("what's new in section 5?", "clause", ()),  # no two documents named: no diff
])
def test_two_documents_side_by_side(question, intent, documents):
    docs = ["MIL-STD-461F", "MIL-STD-461G", "ACME-EMC-CS-2026", "HM-EMC-2025"]
    u = understand(question, docs)
    assert (u.intent, u.documents) == (intent, documents)
