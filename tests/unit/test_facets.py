"""Free wording → the test it means: facets read from questions and scored against the catalogue."""

import pytest

from agent.match.catalogue import load_catalogue, parse_catalogue
from agent.match.facets import default_facets, parse_facets

CATALOGUE = load_catalogue()
FACETS = default_facets()


def test_every_catalogue_test_declares_known_facet_values():
    known = {d.name: {v for v, _ in d.patterns} for d in FACETS.dimensions}
    for test in CATALOGUE.tests:
        assert test.facets, f"test {test.id} declares no facets"
        for dim, values in test.facets:
            assert dim in known and set(values) <= known[dim], (test.id, dim, values)


def test_read_names_each_dimension_with_the_words_that_said_it():
    read = FACETS.read("What do I have to run on those bus lines to prove they ride through transients?")
    assert read == {"path": {"transient": "transients"}, "direction": {"immunity": "ride through"},
                    "lines": {"signal": "bus"}}


def test_transient_silences_the_conducted_path_of_on_the_lines():
    assert FACETS.read("spikes on the supply lines")["path"] == {"transient": "spikes"}


def test_powered_off_a_bus_is_a_supply_not_an_unpowered_state():
    read = FACETS.read("The unit is powered off a 28 VDC bus")
    assert "state" not in read
    assert read["lines"] == {"supply": "powered off"}  # "powered off a …": fed from it


@pytest.mark.parametrize(
    "question, best",
    [
        ("What do I have to run on those bus lines to prove they ride through transients?", 12),
        ("Is there a spike test on the 12 V battery feed for immunity?", 11),
        ("How much noise voltage does the module put back onto its power leads?", 0),
        ("What must the harness survive in terms of injected RF currents?", 6),
        ("The part is handled on the production line before it is wired: which static discharge check?", 13),
        ("ESD while the unit is operating", 14),
        ("Must it keep working when exposed to airport radar?", 8),
        ("Mounted next to strong 50 Hz magnetic fields from the traction return: what must we show?", 10),
        ("What field strength must it withstand from a handheld transceiver used in the cabin?", 9),
    ],
)
def test_rank_puts_the_meant_test_first(question, best):
    ranked = FACETS.rank(question, CATALOGUE)
    assert ranked[0].test_id == best
    assert ranked[0].score > ranked[1].score


def test_a_test_that_leaves_a_dimension_open_neither_gains_nor_loses():
    catalogue = parse_catalogue({"tests": [
        {"id": 0, "code": "A", "name": "A", "family": "esd", "description": "a", "facets": {"path": "esd"}},
        {"id": 1, "code": "B", "name": "B", "family": "esd", "description": "b",
         "facets": {"path": "esd", "state": "powered"}},
    ]})
    facets = parse_facets({"dimensions": {
        "path": {"weight": 2, "values": {"esd": ["esd"]}},
        "state": {"weight": 1, "values": {"unpowered": ["unpowered"], "powered": ["operating"]}},
    }})
    scores = {s.test_id: s.score for s in facets.rank("ESD on an unpowered part", catalogue)}
    assert scores == {0: 2.0, 1: 1.0}


def test_bad_pattern_names_the_dimension_and_value():
    with pytest.raises(ValueError, match="dimension path: value esd: bad pattern"):
        parse_facets({"dimensions": {"path": {"values": {"esd": ["(unclosed"]}}}})


def test_the_modal_can_is_no_can_bus():
    assert "lines" not in FACETS.read("Can the module withstand ESD while operating?")
    assert FACETS.read("Must the CAN wiring survive spikes?")["lines"] == {"signal": "CAN"}


def test_a_phrase_the_question_denies_is_not_named():
    facets = default_facets()
    assert facets.read("transients on signal lines, not supply - which test?") == {
        "path": {"transient": "transients"}, "lines": {"signal": "signal"}}
    assert facets.read("ESD other than the handling test") == {"path": {"esd": "ESD"}}
