"""Citation verifier: cited [n] exist, numbers appear in the evidence their sentence cites."""

from __future__ import annotations

from agent.graph.verify import VerifyResult, citations_in, verify

EVIDENCE = {
    1: "MIL-STD-461G Table VIII: contact discharge ±8 kV; air discharge ±15 kV.",
    2: "RE102 limit 62.4 dB(µV/m) at 100 MHz, measured with 100 kHz bandwidth.",
    3: "Limit (dBµV) | 150 kHz – 30 MHz | 55",
    4: "Supply voltage 13,5 V; current 200 mA.",
}


def test_a_faithful_answer_passes():
    answer = (
        "The contact discharge level is ±8 kV [1]. At 100 MHz the RE102 limit is 62.4 dBµV/m "
        "measured with a 100 kHz bandwidth [2].\n"
        "The supply is 13.5 V and the current 200 mA [4]."
    )
    assert verify(answer, EVIDENCE) == VerifyResult(True, [], [1, 2, 4])


def test_unit_spellings_are_normalised():
    answer = "The limit is 62.4 dBuV/m [2]. It applies from 150 KHz–30 MHz at 55 dB(μV) [3]."
    assert verify(answer, EVIDENCE) == VerifyResult(True, [], [2, 3])


def test_unknown_citation_is_reported():
    result = verify("The air discharge level is ±15 kV [1][3]. See also [7].", EVIDENCE)
    assert result == VerifyResult(
        False,
        ["[7] is not in the evidence list"],
        [1, 3],
    )


def test_number_missing_from_cited_evidence():
    result = verify("The conducted limit is 55 dBµV [2].", EVIDENCE)
    assert result.problems == ["the number 55 dBµV does not appear in evidence [2]"]
    assert result.ok is False


def test_number_checked_against_all_cited_items():
    assert verify("Contact ±8 kV at 13.5 V [1, 4].", EVIDENCE).ok
    result = verify("Contact ±6 kV at 13.5 V [1, 4].", EVIDENCE)
    assert result.problems == ["the number ±6 kV does not appear in evidence [1], [4]"]


def test_uncited_statement_and_uncited_number_are_flagged():
    answer = "The ESD generator uses a 150 pF network. The test is done with the device powered up."
    assert verify(answer, EVIDENCE).problems == [
        (
            'the statement "The ESD generator uses a 150 pF network." gives 150 pF '
            "without a citation [n]"
        ),
        'the statement "The test is done with the device powered up." has no citation [n]',
    ]


def test_exempt_sentences():
    answer = (
        "## ESD levels\n"
        "The levels are:\n"
        "- contact: ±8 kV [1]\n"
        "The loaded documents do not answer the question about BCI.\n"
        "Anything else?\n"
        "Short phrase."
    )
    assert verify(answer, EVIDENCE) == VerifyResult(True, [], [1])


def test_list_items_take_the_citations_of_their_lead_in():
    answer = "Table VIII gives two levels [1]:\n- contact discharge ±8 kV\n- air discharge ±15 kV"
    assert verify(answer, EVIDENCE).ok
    bad = "Table VIII gives two levels [1]:\n- contact discharge ±8 kV\n- air discharge ±25 kV"
    assert verify(bad, EVIDENCE).problems == ["the number ±25 kV does not appear in evidence [1]"]


def test_citation_after_the_full_stop_belongs_to_its_sentence():
    answer = "The limit is 62.4 dBµV/m. [2] The bandwidth is 100 kHz. [2]"
    assert verify(answer, EVIDENCE) == VerifyResult(True, [], [2])


def test_abbreviations_do_not_split_sentences():
    answer = "The limit is given in MIL-STD-461G, p. 12, e.g. 62.4 dBµV/m at 100 MHz [2]."
    assert verify(answer, EVIDENCE).ok


def test_empty_answer():
    assert verify("  ", EVIDENCE) == VerifyResult(
        False, ["the answer is empty; answer from the evidence with [n] citations"], []
    )


def test_citations_in():
    assert citations_in("a [1] b [2, 3] c [4][5] d [6–8] e [2]") == [1, 2, 3, 4, 5, 6, 7, 8]
