"""The test catalogue: built-in content, a user's own YAML, validation messages."""

from __future__ import annotations

import pytest

from agent.match.catalogue import load_catalogue
from agent.match.matcher import Matcher

CODES = ["CE-V", "CE-I", "RE", "RE-H", "CV", "TE", "BCI", "ALSE-I", "RADAR", "PTT", "MFI", "TI-S", "TI-SIG", "ESD-U", "ESD-P"]

USER_YAML = """
tests:
  - id: 6
    code: BCI
    name: "Bulk Current Injection: Immunity"
    family: immunity
    description: RF current injected on the harness with a probe, ISO 11452-4.
    standards: [{ref: ISO 11452-4}]
    oem_codes:
      - {code: CS114, oem: MIL-STD-461}
  - id: 15
    code: STRIP
    name: Stripline immunity
    family: immunity
    description: Immunity in a stripline, ISO 11452-5.
    standards: [{ref: ISO 11452-5}]
    keywords: {"stripline": 1.0}
"""


def test_builtin_catalogue_keeps_the_prototype_ids_and_codes():
    cat = load_catalogue()
    assert cat.ids == tuple(range(15))
    assert [t.code for t in cat.tests] == CODES
    assert cat.by_id(6).standards[0].ref == "ISO 11452-4"
    assert [c.code for c in cat.by_id(7).oem_codes] == ["RI 114", "RS103"]
    assert cat.by_id(13).family == "esd"


def test_user_catalogue_adds_a_test_and_an_alias_without_code(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(USER_YAML, encoding="utf-8")
    matcher = Matcher(load_catalogue(path))
    cs114 = matcher.match("5.12 CS114")
    assert cs114.ids == [6]
    assert cs114.tests[0].evidence[0] == "OEM code: CS114 (MIL-STD-461)"
    assert matcher.match("Stripline method, ISO 11452-5").ids == [15]


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("tests: []", "needs a non-empty 'tests' list"),
        ("tests:\n  - {id: 3, code: X, name: N, family: emission}", "test id 3: field 'description' is missing"),
        ("tests:\n  - {id: 3, code: X, name: N, family: radio, description: d}", "test id 3: field 'family' is 'radio'"),
        ("tests:\n  - {id: 3, code: X, name: N, family: esd, description: d, colour: red}", "test id 3: unknown field(s) ['colour']"),
        ("tests:\n  - {id: 3, code: X, name: N, family: esd, description: d, keywords: {esd: 5}}", "weight of 'esd' must be a number in (0, 2]"),
        ("tests:\n  - {id: 1, code: X, name: N, family: esd, description: d}\n  - {id: 1, code: Y, name: M, family: esd, description: d}", "test id 1: duplicate id 1"),
        ("tests:\n  - {id: 1, code: X, name: N, family: esd, description: d, oem_codes: [{oem: Ford}]}", "test id 1: field 'oem_codes' entries need a 'code'"),
    ],
)
def test_bad_catalogue_names_the_entry_and_field(tmp_path, yaml_text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_catalogue(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_missing_catalogue_file_says_so(tmp_path):
    with pytest.raises(ValueError, match="cannot be read"):
        load_catalogue(tmp_path / "absent.yaml")
