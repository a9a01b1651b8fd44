"""The pieces of the edition diff: values with units, word diff, clause alignment, table cells."""

from __future__ import annotations

from agent.compare.align import align_clauses, code_of
from agent.compare.tables import diff_tables, pair_tables
from agent.compare.values import extract_values, is_level, value_changes
from agent.compare.words import word_diff
from agent.schema import Clause, Table


def test_values_are_read_with_their_units_and_folded():
    text = "limit 34 dBuV from 10 kHz to 200 MHz, ±8 kV, 77 dBμA, 1,000 Hz, clause 5.13, 3 dB(µV), 20 %"
    assert extract_values(text) == ["34 dBµV", "10 kHz", "200 MHz", "±8 kV", "77 dBµA", "1000 Hz", "3 dBµV",
                                    "20 %"]
    assert [is_level(v) for v in ("34 dBµV", "200 V/m", "±8 kV", "100 mA", "10 kHz", "5 cm")] == [
        True, True, True, True, False, False]


def test_value_changes_count_repeats_and_pair_a_lone_change():
    changes = value_changes("34 dBµV at 2 MHz and 2 MHz", "32 dBµV at 2 MHz, 5 V/m")
    assert changes.to_json() == {"removed": ["34 dBµV", "2 MHz"], "added": ["32 dBµV", "5 V/m"]}
    assert changes.changed() == [("34 dBµV", "32 dBµV")]
    assert changes.levels and not value_changes("a 5 cm b", "a 5 cm b")


def test_word_diff_marks_changes_and_cuts_long_unchanged_runs():
    assert word_diff("same words", "same  words") == ""
    assert word_diff("a b c d e f g h i j k l m n o p", "a b c d e f g X i j k l m n o p q") == (
        "d e f g [-h-]{+X+} i j k l m n o p {+q+}")
    assert word_diff("x a b c d e f g h i j", "y a b c d e f g h i j") == "[-x-]{+y+} a b c d"


def _c(number: str, title: str, text: str = "") -> Clause:
    parents = tuple(".".join(number.split(".")[:k]) for k in range(1, number.count(".") + 1))
    return Clause(number=number, title=title, text=text, parents=parents)


def test_clauses_pair_by_code_then_heading_under_their_parent():
    old = [_c("5", "Requirements"), _c("5.1", "CS106 transients"), _c("5.1.1", "Purpose", "withstand spikes"),
           _c("5.2", "CS114 bulk cable injection, 10 kHz to 200 MHz"), _c("5.2.1", "CS114 limit", "curve 5"),
           _c("5.2.2", "Purpose", "withstand RF on cables")]
    new = [_c("5", "Requirements"), _c("5.1", "CS114 bulk cable injection"), _c("5.1.1", "CS114 limit", "curve 4"),
           _c("5.1.2", "Purpose", "withstand RF on cables"), _c("5.2", "CS117 lightning"),
           _c("5.2.1", "Purpose", "withstand lightning spikes")]
    aligned = align_clauses(old, new)
    assert [(p.old.number, p.new.number, p.reason) for p in aligned.pairs] == [
        ("5", "5", "same heading"), ("5.2", "5.1", "test code CS114"), ("5.2.1", "5.1.1", "test code CS114"),
        ("5.2.2", "5.1.2", "same heading, body 1.00")]
    assert [c.number for c in aligned.removed] == ["5.1", "5.1.1"]  # CS106's Purpose is not CS117's
    assert [c.number for c in aligned.added] == ["5.2", "5.2.1"]
    assert [code_of(t) for t in ("RE 310 Radiated", "CI-220", "CE102, power leads", "Scope")] == [
        "RE310", "CI220", "CE102", None]


def _t(table_id: str, clause: str, rows: list[list[str]], caption: str = "Limits") -> Table:
    return Table(id=table_id, caption=caption, clause=clause, page=None, header=(tuple(rows[0]),),
                 rows=tuple(tuple(r) for r in rows[1:]))


def test_tables_pair_by_caption_and_compare_rows_by_key():
    old = _t("TABLE VII", "5.20", [["Band", "Limit (V/m)"], ["2 MHz - 30 MHz", "200"], ["30 MHz - 1 GHz", "10"],
                                   ["Ships (below decks)", "50"]])
    new = _t("TABLE XI", "5.21", [["Band", "Limit (V/m)"], ["2 MHz – 30 MHz", "200"], ["30 MHz - 1 GHz", "20"],
                                  ["1 GHz - 18 GHz", "60"], ["Ships (below deck)", "50"]])
    other = _t("TABLE XII", "5.21", [["A", "B"], ["1", "2"]], caption="Tuner positions")
    assert pair_tables([old], [other, new], {"5.20": "5.21"}) == [(old, new)]
    diff = diff_tables(old, new)
    assert [(c.row, c.column, c.old, c.new) for c in diff.cells] == [
        ("30 MHz - 1 GHz", "Limit (V/m)", "10", "20"), ("Ships (below deck)", "Band", "Ships (below decks)", "Ships (below deck)")]
    assert (diff.rows_removed, diff.rows_added) == ((), ("1 GHz - 18 GHz",))
    assert diff.levels_changed and diff.values_changed
