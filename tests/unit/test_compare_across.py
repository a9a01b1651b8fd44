"""`spec-agent compare`: one test across the sample spec ACME-EMC-CS-2026 and a second generated
OEM spec (HM-EMC-2025): one row per document, cited, the strictest marked; units and detectors that
differ are not compared."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import FIXTURES, SAMPLE_PDF
from typer.testing import CliRunner

from agent.cli import _register_commands, app
from agent.compare.across import compare_test, find_test
from agent.config import Settings
from agent.errors import SpecAgentError
from agent.index import SpecIndex
from agent.match.matcher import Matcher
from agent.schema import Clause, Document, Table

if not any(c.name == "compare" for c in app.registered_commands):
    _register_commands()

_spec = importlib.util.spec_from_file_location("make_editions", FIXTURES / "editions" / "make_editions.py")
assert _spec and _spec.loader
make_editions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_editions)

ACME, HM = "ACME-EMC-CS-2026", make_editions.NAME_OEM


def _src(doc, clause, title, page, table, row, column, text):
    return {"doc": doc, "clause": clause, "title": title, "page": page, "table": table, "row": row,
            "column": column, "text": text}


def _level(value, unit, detector, source):
    return {"value": value, "unit": unit, "detector": detector, "kind": f"{detector} {unit}",
            "text": f"{value:g} {unit}", "source": source}


ACME_PEAK = _src(ACME, "8.3", "Radiated emissions", 6, "Table 8-3", 4, "Peak limit dB(µV/m)", "32")
ACME_AV = _src(ACME, "8.3", "Radiated emissions", 6, "Table 8-3", 4, "Average limit dB(µV/m)", "12")
HM_PEAK = _src(HM, "7.2", "Radiated emissions", None, "Table 7-2", 1, "Peak limit dB(µV/m)", "28")
HM_AV = _src(HM, "7.2", "Radiated emissions", None, "Table 7-2", 1, "Average limit dB(µV/m)", "18")

EXPECTED = {
    "test": {"id": 2, "name": "Radiated Emission"}, "at": "100 MHz",
    "rows": [
        {"doc": ACME, "clauses": [{"clause": "8.3", "title": "Radiated emissions"}],
         "value": 32.0, "unit": "dBµV/m", "detector": "peak", "text": "32 dBµV/m", "source": ACME_PEAK,
         "levels": [_level(32.0, "dBµV/m", "peak", ACME_PEAK), _level(12.0, "dBµV/m", "average", ACME_AV)],
         "note": ""},
        {"doc": HM, "clauses": [{"clause": "7.2", "title": "Radiated emissions"}],
         "value": 28.0, "unit": "dBµV/m", "detector": "peak", "text": "28 dBµV/m", "source": HM_PEAK,
         "levels": [_level(28.0, "dBµV/m", "peak", HM_PEAK), _level(18.0, "dBµV/m", "average", HM_AV)],
         "note": ""},
    ],
    "strictest": HM,
    "strictest_by": {"average dBµV/m": ACME, "peak dBµV/m": HM},
    "notes": [],
}

TEXT = f"""\
Radiated Emission (test 2) at 100 MHz
{ACME}: 32 dBµV/m (peak)
    clauses: 8.3 Radiated emissions
    source: Table 8-3, row 4, column 'Peak limit dB(µV/m)', clause 8.3, page 6
    also: 12 dBµV/m (average) [Table 8-3]
{HM}: 28 dBµV/m (peak)  ← strictest
    clauses: 7.2 Radiated emissions
    source: Table 7-2, row 1, column 'Peak limit dB(µV/m)', clause 7.2
    also: 18 dBµV/m (average) [Table 7-2]
strictest (lowest limit): average dBµV/m: {ACME}; peak dBµV/m: {HM}
"""


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("compare")
    (_, _, oem) = make_editions.generate(root / "in", oem=True)
    index = SpecIndex.open(Settings(index_dir=root / "idx", embedder="lsa", offline=True))
    assert [o.status for o in index.ingest([SAMPLE_PDF, oem])] == ["added", "added"]
    return root / "idx"


def _compare(index_dir: Path, *args: str):
    return CliRunner().invoke(app, ["--index", str(index_dir), "compare", *args],
                              env={"SPEC_AGENT_EMBEDDER": "lsa"})


def test_compare_json_one_row_per_document(index_dir):
    result = _compare(index_dir, "--test", "2", "--at", "100 MHz", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == EXPECTED


def test_compare_text_marks_the_strictest(index_dir):
    result = _compare(index_dir, "--test", "RE 310", "--at", "100 MHz")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == TEXT


def test_compare_names_the_documents_that_do_not_say(index_dir):
    result = _compare(index_dir, "--test", "BCI", "--at", "100 MHz", "--docs", ACME, HM, "--json")
    data = json.loads(result.stdout)
    for spelled in (["--docs", ACME, "--docs", HM], ["--docs", f"{ACME},{HM}"]):
        assert _compare(index_dir, "--test", "BCI", "--at", "100 MHz", *spelled, "--json").stdout == result.stdout
    assert [(r["doc"], r["value"], r["unit"], r["note"]) for r in data["rows"]] == [
        (ACME, 60.0, "mA", ""), (HM, None, None, "no clause requires Bulk Current Injection: Immunity")]
    assert [lv["kind"] for lv in data["rows"][0]["levels"]] == ["Level 1 mA", "Level 2 mA", "Level 3 mA"]
    assert (data["strictest"], data["notes"]) == (None, [f"no value at 100 MHz in {HM}"])


def test_compare_errors_are_one_line(index_dir):
    bad_at = _compare(index_dir, "--test", "2", "--at", "3 m")
    assert (bad_at.exit_code, bad_at.stderr) == (1, ("error: '3 m' is not a frequency; give one such as "
                                                    "\"100 MHz\".\n"))
    bad_test = _compare(index_dir, "--test", "warp drive", "--at", "100 MHz")
    assert bad_test.exit_code == 1
    assert bad_test.stderr.startswith("error: no test 'warp drive' in the catalogue; give an id or name: 0 ")


def _doc(name: str, header: tuple[str, ...], row: tuple[str, ...]) -> Document:
    clause = Clause(number="4", title="Radiated emissions", text="Measured in an ALSE with an antenna at 1 m.",
                    tables=("Table 4-1",), doc=name)
    table = Table(id="Table 4-1", caption="Radiated emission limits", clause="4", page=3,
                  header=(header,), rows=(row,), doc=name)
    return Document(name=name, path=f"{name}.docx", sha256="0", kind="docx", pages=0, clauses=(clause,),
                    tables=(table,))


def test_different_units_or_detectors_are_not_compared():
    matcher = Matcher.from_settings(Settings())
    docs = [_doc("OEM-A", ("Frequency range (MHz)", "Peak limit dB(µV/m)"), ("30 – 200", "30")),
            _doc("OEM-B", ("Frequency range (MHz)", "Quasi-peak limit dB(µV/m)"), ("30 – 200", "25"))]
    result = compare_test(docs, matcher, "2", "100 MHz")
    assert [(r.doc, r.chosen.text if r.chosen else None) for r in result.rows] == [
        ("OEM-A", "30 dBµV/m"), ("OEM-B", "25 dBµV/m")]
    assert (result.strictest, result.strictest_by) == (None, {})
    assert result.notes == (("not compared: the documents state different detectors or units "
                            "(OEM-A: peak dBµV/m; OEM-B: quasi-peak dBµV/m)"),)


def test_tests_are_found_by_id_code_oem_code_and_name():
    catalogue = Matcher.from_settings(Settings()).catalogue
    assert [find_test(catalogue, ref).id for ref in ("2", "RE", "re 310", "RE102", "Radiated Emission",
                                                       "bulk current")] == [2, 2, 2, 2, 2, 6]
    with pytest.raises(SpecAgentError):
        find_test(catalogue, "99")


def test_a_chat_question_comparing_two_oems_is_answered_through_compare_test(index_dir):
    from agent.service import Assistant
    a = Assistant.open(Settings(index_dir=index_dir, embedder="lsa", offline=True))
    r = a.ask("Compare the radiated emission limits of ACME and HM at 100 MHz", "cmp")
    lines = r.answer.splitlines()
    assert lines[1] == "Radiated Emission at 100 MHz:"
    assert lines[2:4] == [f"- {ACME}: 32 dBµV/m, peak [1]", f"- {HM}: 28 dBµV/m, peak [2]"]
    assert f"Strictest: {HM}." in lines
    assert (r.citations[1]["doc"], r.citations[1]["table"], r.citations[1]["row"]) == (HM, "Table 7-2", 1)
