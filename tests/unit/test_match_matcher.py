"""Matcher behaviour: abstention, multi-test clauses, parent inheritance, outlines, other languages."""

from __future__ import annotations

import pytest

from agent.match.catalogue import load_catalogue
from agent.match.matcher import THRESHOLD, Matcher, OutlineEntry


@pytest.fixture(scope="module")
def bare() -> Matcher:
    return Matcher(load_catalogue())


@pytest.mark.parametrize(
    ("heading", "note"),
    [
        ("1 Scope", "not a catalogue test: 'scope'"),
        ("3 Definitions", "not a catalogue test: 'definition'"),
        ("5.9 Supply Voltage Range", "not a catalogue test: 'supply voltage range', 'supply voltage'"),
        ("12 Test report", "not a catalogue test: 'test report'"),
        ("3.4.6 Slew rate of pulsed signals (SR-Test)", "not a catalogue test: 'slew rate', 'SR-test'"),
        ("11 HV - LV Coupling Attenuation", "not a catalogue test: 'HV-LV', 'coupling attenuation'"),
        ("20.0 Immunity from Power Cycling: CI 230", "not a catalogue test: 'power cycling'"),
    ],
)
def test_abstains_when_no_catalogue_test_applies(bare, heading, note):
    result = bare.match(heading)
    assert result.abstain is True
    assert result.tests == []
    assert result.notes == [note]


def test_heading_without_cues_abstains(bare):
    assert bare.match("Requirements").abstain is True


def test_generic_esd_is_both_esd_tests(bare):
    assert sorted(bare.match("Electrostatic Discharge").ids) == [13, 14]
    assert bare.match("Electrostatic discharge - Handling test (ESDH-Test)").ids == [13]
    assert bare.match("Electrostatic discharge (Powered Up) - Direct discharge (ESDD)").ids == [14]


def test_ri_114_is_alse_and_radar(bare):
    result = bare.match("12.6 Requirements: 360 – 3100 MHz: RI 114")
    assert result.ids == [7, 8]
    assert result.tests[0].evidence[0] == "OEM code: RI 114 (Ford)"


def test_conducted_emission_without_method_is_both_methods(bare):
    assert sorted(bare.match("7.1.3 conducted emission").ids) == [0, 1]
    assert bare.match("Conducted emissions - voltage method").ids == [0]


def test_scores_are_calibrated_and_best_first(bare):
    result = bare.match("Radiated Immunity: ALSE (ISO 11452-2)")
    scores = [t.score for t in result.tests]
    assert result.ids[0] == 7
    assert scores == sorted(scores, reverse=True)
    assert all(THRESHOLD <= s < 1.0 for s in scores)


def test_sub_clause_inherits_from_parent(bare):
    parents = ["5 DETAILED REQUIREMENTS", "5.12 CS114, conducted susceptibility, bulk cable injection"]
    result = bare.match("5.12.3.4 Procedures", context=parents)
    assert result.ids == [6]
    assert result.tests[0].evidence[0] == "inherited from parent 5.12"
    assert result.inherited_from == "5.12"


def test_sub_clause_with_its_own_cue_does_not_inherit(bare):
    result = bare.match("10.3 Powered On: Indirect", context=["10 ESD"])
    assert result.abstain is True


def test_family_comes_from_the_parent(bare):
    assert bare.match("8.1 ALSE", context=["8 Radiated Emissions"]).ids == [2]
    assert bare.match("9.3 ALSE", context=["9 Radiated Immunity"]).ids == [7]


@pytest.mark.parametrize(
    "heading",
    ["3.4 第三章 瞬态传导发射和传导抗扰 Transient Conducted Emissions (CE) and Conducted Immunity (CI)", "静电放电", "", "   "],
)
def test_other_languages_and_empty_headings_do_not_crash(bare, heading):
    result = bare.match(heading)
    assert isinstance(result.abstain, bool)


def test_chinese_mixed_heading_still_matches(bare):
    assert sorted(bare.match("3.5 静电放电 Electrostatic Discharge (ESD)").ids) == [13, 14]


def test_outline_group_heading_abstains_and_children_match(bare):
    entries = [
        OutlineEntry("6", "6 Conducted emission tests"),  # matches 0 and 1 on its own
        OutlineEntry("6.1", "6.1 Voltage Method", parents=("6",)),
        OutlineEntry("6.2", "6.2 Current Probe Method", parents=("6",)),
        OutlineEntry("7", "7 Bulk Current Injection"),
        OutlineEntry("7.1", "7.1 Test setup", parents=("7",)),
    ]
    results = bare.match_outline(entries)
    assert [r.ids for r in results] == [[], [0], [1], [6], [6]]
    assert results[0].notes == ["group heading: its sub-clauses 6.1, 6.2 carry the tests"]
    assert results[4].tests[0].evidence[0] == "inherited from parent 7"
