"""Keyword extraction: domain stop words really honoured, standard ids and units kept whole."""

from __future__ import annotations

import pytest

from agent.match.keywords import DOMAIN_STOP_WORDS, extract_keywords, stop_words

CLAUSE = (
    "The DUT shall be tested according to ISO 11452-4. The test requirements are given in Table 5 "
    "and Figure 3. The EUT shall be exposed to 100 V/m in the ALSE per ISO 11452-2 and the radiated "
    "emission shall not exceed 30 dBµV/m per CISPR 25. See Annex B for the test setup. The injection "
    "probe shall be calibrated; the test level shall be recorded in the test report. Tests shall "
    "follow the requirements of clause 7; see Table 6 for the requirement per test."
)


def _words(keyword: str) -> list[str]:
    return [w.strip(".,;:()").lower() for w in keyword.split()]


def test_no_keyword_starts_or_ends_with_a_stop_word():
    keywords = extract_keywords(CLAUSE, n=20)
    stops = stop_words()
    assert len(keywords) == 20
    for keyword, _ in keywords:
        words = _words(keyword)
        assert words[0] not in stops and words[-1] not in stops, keyword
        assert keyword.lower() not in DOMAIN_STOP_WORDS


def test_domain_words_are_in_the_stop_list_with_plurals():
    stops = stop_words()
    for word in ("shall", "test", "tests", "requirement", "requirements", "dut", "figure", "table", "annex", "clause", "see", "according", "the"):
        assert word in stops


def test_standard_ids_and_units_stay_whole():
    keywords = [k for k, _ in extract_keywords(CLAUSE, n=20)]
    assert keywords[:10] == [
        "30 dBµV/m per CISPR 25", "ISO 11452-4", "ALSE per ISO 11452-2", "exposed to 100 V/m", "exceed 30 dBµV/m",
        "radiated emission", "CISPR 25", "100 V/m", "ALSE", "ISO 11452-2",
    ]


def test_scores_are_yake_scores_best_first():
    keywords = extract_keywords(CLAUSE, n=5)
    scores = [s for _, s in keywords]
    assert scores == sorted(scores)
    assert keywords[0] == ("30 dBµV/m per CISPR 25", pytest.approx(0.0463, abs=1e-4))


@pytest.mark.parametrize("text", ["", "   ", "shall the test"])
def test_nothing_to_extract(text):
    assert extract_keywords(text) == []
