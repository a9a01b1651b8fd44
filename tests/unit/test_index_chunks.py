"""Chunking: paragraph-boundary splits, clause headings and title paths, table chunks, tokens."""

from __future__ import annotations

from test_index_helpers import mil_doc

from agent.index.chunks import chunk_document, clean, markdown_table, split_paragraphs
from agent.index.refs import clauses_named, table_key, table_key_variants, tables_named
from agent.index.tokens import tokenize
from agent.schema import Clause, Document, Table

P1 = "First paragraph about the injection probe."  # 42 characters
P2 = "Second paragraph: calibrate the fixture."  # 40
P3 = "Third paragraph ends the clause here."  # 36


def test_split_packs_whole_paragraphs_up_to_the_limit():
    text = f"{P1}\n\n{P2}\n\n{P3}"
    assert split_paragraphs(text, 90) == [f"{P1}\n\n{P2}", P3]
    assert split_paragraphs(text, 50) == [P1, P2, P3]
    assert split_paragraphs(text, 1000) == [text]


def test_a_paragraph_longer_than_the_limit_is_cut_between_sentences():
    para = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota."
    assert split_paragraphs(para, 20) == ["Alpha beta gamma.", "Delta epsilon zeta.", "Eta theta iota."]


def test_clause_chunks_start_with_number_and_title_and_carry_path_and_page():
    long_text = f"{P1}\n\n{P2}\n\n{P3}"
    doc = Document(
        name="D", path="D.pdf", sha256="x", kind="pdf", pages=3, tables=(),
        clauses=(
            Clause("5", "GENERAL", "", page=1),
            Clause("5.12", "CS114, bulk cable injection", long_text, parents=("5",), page=2),
            Clause("5.13", "CS115", "Short.", parents=("5",), page=3),
        ),
    )
    chunks = chunk_document(doc, 90)
    assert [(c.id, c.clause, c.page) for c in chunks] == [
        ("D#5#0", "5", 1), ("D#5.12#0", "5.12", 2), ("D#5.12#1", "5.12", 2), ("D#5.13#0", "5.13", 3)]
    assert chunks[0].text == "5 GENERAL"
    assert chunks[1].text == f"5.12 CS114, bulk cable injection\n{P1}\n\n{P2}"
    assert chunks[2].text == f"5.12 CS114, bulk cable injection\n{P3}"
    assert chunks[2].title_path == "5 GENERAL > 5.12 CS114, bulk cable injection"
    assert {c.kind for c in chunks} == {"clause"}


def test_one_chunk_per_table_as_markdown_under_its_clause():
    chunks = chunk_document(mil_doc(), 1500)
    tables = [c for c in chunks if c.kind == "table"]
    assert [(c.id, c.table, c.clause, c.page) for c in tables] == [
        ("MIL-STD-461G#table:TABLE VIII", "TABLE VIII", "5.12.3", 63),
        ("MIL-STD-461G#table:Table 7-1", "Table 7-1", "5.21", 161),
    ]
    assert tables[0].text == (
        "TABLE VIII ESD test levels\n| Level | Voltage |\n|---|---|\n| 1 | 2 kV |\n| 2 | 4 kV \\| air |")
    assert tables[0].title_path == (
        "5 DETAILED REQUIREMENTS > 5.12 CS114, Conducted susceptibility, bulk cable injection"
        " > 5.12.3 CS114 test procedures > TABLE VIII")


def test_header_rows_merge_per_column_and_short_rows_are_padded():
    table = Table(id="T", caption="", clause=None, page=None,
                  header=(("Platform", "Army"), ("", "V/m")), rows=(("Ships",),))
    assert markdown_table(table) == "| Platform | Army V/m |\n|---|---|\n| Ships |  |"


def test_page_furniture_and_toc_leaders_are_dropped():
    text = "Real text.\nDownloaded from http://www.everyspec.com\n5.12 CS114 ........ 45\nMore text."
    assert clean(text) == "Real text.\nMore text."


def test_duplicate_clause_numbers_get_distinct_chunk_ids():
    doc = Document(name="D", path="", sha256="", kind="pdf", pages=1, tables=(),
                   clauses=(Clause("A.1", "One", "x"), Clause("A.1", "Again", "y")))
    assert [c.id for c in chunk_document(doc, 100)] == ["D#A.1#0", "D#A.1#0~1"]


def test_tokens_keep_clause_numbers_test_ids_standards_and_units():
    assert tokenize("5.12 CS114 per ISO 11452-4 at 60 dBµV, 5.16.3.1") == [
        "5.12", "cs114", "per", "iso", "11452-4", "11452", "4", "60", "dbuv", "5.16.3.1"]
    assert tokenize("dBμV") == tokenize("dBuV") == tokenize("DBµV") == ["dbuv"]
    assert tokenize("The cables of the bundles") == ["cable", "bundle"]


def test_references_in_queries():
    assert clauses_named("5.12 bulk cable injection") == ["5.12"]
    assert clauses_named("what does clause 5.21 require") == ["5.21"]
    assert clauses_named("procedure 5.16.3.1") == ["5.16.3.1"]
    assert clauses_named("10 V/m at 1.5 GHz") == []
    assert tables_named("levels of TABLE VIII and table 7-1") == ["VIII", "7-1"]
    assert table_key("Table viii.") == "VIII"
    assert table_key_variants("8") == ["VIII"] and table_key_variants("VIII") == ["8"]
    assert table_key_variants("7-1") == [] and table_key_variants("IIII") == []
