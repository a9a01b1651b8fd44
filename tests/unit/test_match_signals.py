"""Each signal of the matcher on its own: standard references, OEM codes, keywords, cosine, nearest example."""

from __future__ import annotations

import pytest

from agent.match.catalogue import load_catalogue
from agent.match.labels import Example
from agent.match.matcher import Matcher
from agent.match.signals import clause_number, compile_phrase, family_of, strip_number


@pytest.fixture(scope="module")
def bare() -> Matcher:
    """The built-in catalogue, no labelled examples."""
    return Matcher(load_catalogue())


@pytest.mark.parametrize("text", ["RI 114", "RI114", "ri-114", "Ford RI 114:", "RI_114"])
def test_code_pattern_ignores_spacing_and_case(text):
    assert compile_phrase("RI 114").search(text)


@pytest.mark.parametrize("text", ["RI 1140", "PRI 114", "RI 11"])
def test_code_pattern_keeps_word_boundaries(text):
    assert not compile_phrase("RI 114").search(text)


def test_short_capital_abbreviations_match_capitals_only():
    assert compile_phrase("AN-test").search("9. AN-test")
    assert not compile_phrase("AN-test").search("an test of the harness")
    assert compile_phrase("emission*").search("Emissions")


def test_clause_numbers():
    assert clause_number("8.0\tRadiated RF Emissions: RE 310") == "8"
    assert clause_number("10.CV-test") == "10"
    assert clause_number("Appendix A") == ""
    assert strip_number("12.5 Requirements 1 -400 MHz: RI 112") == "Requirements 1 -400 MHz: RI 112"


def test_family_of_heading():
    assert family_of("Radiated Immunity") == "immunity"
    assert family_of("CE, Transients.") == "emission"
    assert family_of("10 ESD") == "esd"
    assert family_of("Transient Conducted Emissions (CE) and Conducted Immunity (CI)") is None


def test_standard_reference_signal(bare):
    result = bare.match("Test per ISO 11452-4")
    assert result.ids == [6]
    assert result.tests[0].evidence[0] == "standard reference: ISO 11452-4"


def test_cispr_25_needs_its_method_words(bare):
    assert bare.match("CISPR 25 voltage method").ids == [0]
    assert bare.match("CISPR 25 voltage method").tests[0].evidence[0] == "standard reference: CISPR 25"
    assert bare.match("CISPR 25").abstain is True  # names a family of tests, not one test


def test_oem_code_signal(bare):
    result = bare.match("Conducted Emissions: CE 421")
    assert result.ids == [1]
    assert result.tests[0].evidence[0] == "OEM code: CE 421 (Ford)"


def test_alias_signal(bare):
    result = bare.match("3.4.10 Transients on supply lines (TSUP-Test)")
    assert result.ids == [11]
    assert "alias: TSUP-test" in result.tests[0].evidence


def test_keyword_signal_and_family_gate(bare):
    emission = bare.match("Magnetic field emissions")
    immunity = bare.match("Magnetic field immunity")
    assert emission.ids == [3]
    assert immunity.ids == [10]
    assert "keyword: 'magnetic field emission'" in emission.tests[0].evidence


def test_cosine_signal_explains_itself(bare):
    result = bare.match("Bulk current injection")
    assert any(e.startswith("similar to the catalogue description (cosine ") for e in result.tests[0].evidence)


def test_nearest_example_signal_and_leave_one_spec_out():
    examples = [
        Example("5.3 Shaker coupling disturbance", (12,), source="ACME", spec="ACME"),
        Example("2 Shaker coupling disturbance", (12,), source="OTHER", spec="OTHER"),
    ]
    matcher = Matcher(load_catalogue(), examples)
    result = matcher.match("7.1 Shaker coupling disturbance")
    assert result.ids == [12]
    assert "nearest labelled example: ACME 5.3 Shaker coupling disturbance (similarity 1.00)" in result.tests[0].evidence
    loso = matcher.without_spec("ACME").match("7.1 Shaker coupling disturbance")
    assert not any("ACME" in e for t in loso.tests for e in t.evidence)
    assert "nearest labelled example: OTHER 2 Shaker coupling disturbance (similarity 1.00)" in loso.tests[0].evidence


def test_correction_with_higher_weight_is_named_in_evidence():
    matcher = Matcher(load_catalogue()).with_examples(
        [Example("Vibration coupled noise", (12,), source="engineer correction (alice, 2026-11-27)", weight=2.0, kind="correction")]
    )
    result = matcher.match("Vibration coupled noise")
    assert result.ids == [12]
    assert "engineer correction (alice, 2026-11-27): 'Vibration coupled noise' (similarity 1.00)" in result.tests[0].evidence
