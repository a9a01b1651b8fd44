"""A spec drawn by another PDF producer (reportlab): tables ruled only across, OEM test codes in
captions, a landscape table and a table continued on the next page."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import Settings
from agent.service import Assistant

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "heldout_rl" / "HMC-EMC-CS-3100.pdf"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Assistant:
    a = Assistant.open(Settings(index_dir=tmp_path_factory.mktemp("hmc"), embedder="lsa", offline=True))
    [outcome] = a.ingest([str(SPEC)])
    assert outcome.status == "added"
    return a


def test_tables_ruled_only_across_are_indexed_under_their_captions(assistant):
    table = assistant.index.get_table("Table 3-3", "HMC-EMC-CS-3100")
    assert table.header[0][:3] == ("Frequency range", "RBW (−6 dB)", "Step size")
    assert table.rows[0][:2] == ("150 kHz – 30 MHz", "9 kHz")


def test_the_test_code_named_picks_the_table_its_caption_names(assistant):
    r = assistant.ask("RE 310 class 5 peak limit in the FM band?", "c1")
    assert r.answer.splitlines()[1].startswith("Table 3-6 (RE 310 limits in service bands")
    assert "the cell asked for: Class 5 Peak: 38 dBµV/m" in r.answer


def test_an_unscoped_value_question_says_which_document_answered_and_which_others_could(tmp_path):
    other = SPEC.parents[1] / "heldout_docx2" / "VEN-EMC-0042.pdf"
    a = Assistant.open(Settings(index_dir=tmp_path, embedder="lsa", offline=True))
    assert [o.status for o in a.ingest([str(SPEC), str(other)])] == ["added", "added"]
    r = a.ask("What is the class 5 average RE limit in the FM band?", "u1")
    note, table = r.answer.splitlines()[1:3]
    assert note == ("No document was named: this answer is from VEN-EMC-0042; other loaded documents also have "
                    "such a table: HMC-EMC-CS-3100 (Table 3-6) (name one to ask it).")
    assert table.startswith("Table 5 (Limits for radiated emissions, ALSE method (RE-110), dBµV/m), VEN-EMC-0042:")
    assert "the cell asked for: Class 5: 18 dBµV/m" in r.answer


def test_the_limits_of_a_clause_are_in_the_table_its_requirement_box_points_to(tmp_path):
    spec = SPEC.parents[1] / "heldout_docx2" / "VEN-EMC-0042.docx"  # "After the discharges of Table B.5 …"
    a = Assistant.open(Settings(index_dir=tmp_path, embedder="lsa", offline=True))
    a.ingest([str(spec)])
    r = a.ask("What are the limits of 6.7.1?", "box")
    assert r.answer.splitlines()[1] == "Table B.5 (ESD test levels (ESD-1, ESD-2)), VEN-EMC-0042:"
