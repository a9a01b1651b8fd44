"""ui/render.py: sources, tables, the test matrix and its CSV, as the chat shows them."""

from __future__ import annotations

from agent.schema import Table
from ui import render

CLAUSE = {"n": 1, "doc": "ACME-EMC-CS-2026", "clause": "8.2.2.1", "title": "Conducted emissions – voltage method",
          "page": 5, "page_label": "5", "table": None, "text": "The DUT is supplied through one network."}
TABLE = Table(id="Table 8-1", caption="Conducted emissions, voltage method – limits", clause="8.2.2.1", page=5,
              header=(("Band", "Peak"), ("", "dBµV")), rows=(("0.15–0.3 MHz", "80"), ("FM | 76–108 MHz", "")),
              doc="ACME-EMC-CS-2026")


def test_source_name_names_document_clause_and_page():
    assert render.source_name(CLAUSE) == "[1] ACME-EMC-CS-2026 §8.2.2.1 p. 5"
    cite = {**CLAUSE, "n": 2, "table": "Table 8-1", "page_label": None}
    assert render.source_name(cite) == "[2] ACME-EMC-CS-2026 §8.2.2.1 Table 8-1 p. 5"


def test_source_markdown_of_a_clause():
    assert render.source_markdown(CLAUSE) == (
        "**§8.2.2.1 Conducted emissions – voltage method**\n\n"
        "Document: ACME-EMC-CS-2026 · page 5\n\n"
        "The DUT is supplied through one network.")


def test_table_markdown_keeps_rows_and_empty_cells_and_merges_header_rows():
    assert render.table_markdown(TABLE) == (
        "**Table 8-1** Conducted emissions, voltage method – limits\n\n"
        "| Band | Peak dBµV |\n"
        "|---|---|\n"
        "| 0.15–0.3 MHz | 80 |\n"
        "| FM / 76–108 MHz |  |")


def test_source_markdown_of_a_table_row_shows_the_row_then_the_whole_table():
    cite = {**CLAUSE, "table": "Table 8-1", "title": TABLE.caption, "row": 0, "text": "Band: 0.15–0.3 MHz; Peak: 80"}
    text = render.source_markdown(cite, TABLE)
    assert text.split("\n\n")[:3] == ["**§8.2.2.1 Conducted emissions, voltage method – limits**",
                                      "Document: ACME-EMC-CS-2026 · page 5",
                                      "Cited row: Band: 0.15–0.3 MHz; Peak: 80"]
    assert text.endswith(render.table_markdown(TABLE))


def test_answer_markdown_replaces_the_plain_sources_block():
    answer = "8.2.2.1 requires test 0 [1].\n\nSources:\n[1] ACME-EMC-CS-2026 §8.2.2.1, p. 5"
    assert render.answer_markdown(answer, ["[1] ACME-EMC-CS-2026 §8.2.2.1 p. 5"]) == (
        "8.2.2.1 requires test 0 [1].\n\n**Sources:**\n- [1] ACME-EMC-CS-2026 §8.2.2.1 p. 5")
    assert render.answer_markdown("No evidence.", []) == "No evidence."


ROWS = [
    {"clause": "8.2.2.1", "title": "Conducted emissions – voltage method",
     "tests": [{"id": 0, "name": "Conducted Emission - Voltage Method", "score": 0.98}], "abstain": False},
    {"clause": "8.2", "title": "Conducted emissions", "tests": [], "abstain": True},
]


def test_matrix_markdown_and_csv():
    assert render.matrix_markdown("ACME", ROWS) == (
        "**Test matrix: ACME** (2 clauses)\n\n"
        "| clause | title | tests | scores |\n|---|---|---|---|\n"
        "| 8.2.2.1 | Conducted emissions – voltage method | 0 Conducted Emission - Voltage Method | 0.98 |\n"
        "| 8.2 | Conducted emissions | – |  |")
    assert render.matrix_csv(ROWS).decode("utf-8") == (
        "clause,title,test_ids,tests,scores,abstain\n"
        "8.2.2.1,Conducted emissions – voltage method,0,0 Conducted Emission - Voltage Method,0.98,false\n"
        "8.2,Conducted emissions,,,,true\n")


def test_documents_and_keywords():
    docs = [{"doc": "ACME-EMC-CS-2026", "pages": 9, "clauses": 43, "tables": 14}]
    assert render.documents_markdown(docs) == (
        "| document | pages | clauses | tables |\n|---|---|---|---|\n| ACME-EMC-CS-2026 | 9 | 43 | 14 |")
    assert render.documents_markdown([]) == "No documents are indexed yet."
    assert render.keywords_markdown("§5.12", [["bulk current injection", 0.01234]]) == (
        "**Keywords of §5.12**\n\n| keyword | YAKE score (lower = more relevant) |\n|---|---|\n| bulk current injection | 0.0123 |")
