"""Heading, TOC and clause-tree rules of agent.ingest.clauses."""

from __future__ import annotations

import pytest

from agent.ingest.clauses import (
    ClauseBuilder,
    is_toc_line,
    plausible_step,
    select_headings,
    split_heading,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("8.2.2.1 Conducted emissions", ("8.2.2.1", "Conducted emissions")),
        ("5.12  CS114, conducted susceptibility, bulk cable injection.",
         ("5.12", "CS114, conducted susceptibility, bulk cable injection")),
        ("A.2.1 Title", ("A.2.1", "Title")),
        ("Annex B (normative) Title", ("Annex B", "Title")),
        ("APPENDIX A", ("Appendix A", "")),
        ("10.CV-test", ("10", "CV-test")),
        ("8.0\tRadiated RF Emissions: RE 310", ("8.0", "Radiated RF Emissions: RE 310")),
        ("4. GENERAL REQUIREMENTS", ("4", "GENERAL REQUIREMENTS")),
        ("A.4.1  (4.1) General.", ("A.4.1", "(4.1) General")),
        ("9 emitted electromagnetic radiation (RE01)", ("9", "emitted electromagnetic radiation (RE01)")),
    ],
)
def test_split_heading_reads_number_and_title(line, expected):
    assert split_heading(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "5.5 CE102 .......... 35",
        "5.5.3.4a(2) through 5.5.3.4a(4) for each power lead.",
        "10 kHz to 1 MHz",
        "11 December 2015",
        "1.5 V",
        "4.3.8",
        "(see 6.3).",
        "100 1k 10k 100k",
    ],
)
def test_split_heading_refuses_body_lines(line):
    assert split_heading(line) is None


def test_toc_lines():
    assert is_toc_line("5.5 CE102 .......... 35")
    assert is_toc_line("FIGURE CS114-1.  CS114 calibration limits. ........................ 67")
    assert is_toc_line("TABLE V.  Requirement matrix. ..........................xii")
    assert not is_toc_line("5.5 CE102, conducted emissions, radio frequency potential, power leads.")


def test_plausible_steps():
    assert plausible_step("5.12", "5.12.1")
    assert plausible_step("5.11.3.4", "5.12")
    assert plausible_step("4.3.10.2", "5")
    assert plausible_step("6.8", "Appendix A")
    assert plausible_step("Appendix A", "A.1")
    assert not plausible_step("5.12", "4.3")
    assert not plausible_step("5.12", "5.12")
    assert not plausible_step("5.12.1", "5.12")
    assert not plausible_step("A.3", "4.1")


def test_select_headings_drops_out_of_order_cross_references():
    numbers = ["1", "1.1", "5", "1.2", "2", "2.1", "4.3", "2.2", "3", "A.1", "A.2"]
    assert select_headings(numbers) == [0, 1, 3, 4, 5, 7, 8, 9, 10]


def test_select_headings_prefers_the_heavier_duplicate():
    # "2.1 of ISO 11452-4" in body font, then the real bold "2.1 Conducted emissions"
    assert select_headings(["1", "2", "2.1", "2.1", "2.1.1"], [1, 1, 0.3, 1, 1]) == [0, 1, 3, 4]


def test_clause_builder_parents_and_contents():
    b = ClauseBuilder("DOC")
    b.text("front matter")
    for number in ["5", "5.16", "5.16.3", "5.16.3.1", "8.0", "8.1", "Appendix A", "A.2", "A.2.1", "Annex B"]:
        b.heading(number, f"title {number}", page=3, page_label="1")
        b.text(f"body of {number}")
    b.table("TABLE VIII")
    b.figure("FIGURE B-1. Setup.")
    clauses = {c.number: c for c in b.build()}
    assert b.preamble == "front matter"
    assert clauses["5.16.3.1"].parents == ("5", "5.16", "5.16.3")
    assert clauses["5.16.3.1"].parent == "5.16.3"
    assert clauses["8.1"].parents == ("8.0",)
    assert clauses["A.2.1"].parents == ("Appendix A", "A.2")
    assert clauses["Annex B"].parents == ()
    assert clauses["Annex B"].tables == ("TABLE VIII",)
    assert clauses["Annex B"].figures == ("FIGURE B-1. Setup.",)
    assert clauses["Annex B"].text == "body of Annex B\nFIGURE B-1. Setup."
    assert clauses["5.16"].text == "body of 5.16"
    assert clauses["5.16"].doc == "DOC"
