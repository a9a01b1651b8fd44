"""parse_pdf on tiny PDFs generated here with PyMuPDF: headings, TOC, furniture, a ruled table."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from agent.config import Settings
from agent.errors import Corrupt, Encrypted, Scanned
from agent.ingest.pdf import parse_pdf

BODY = "Components shall meet the limits of this clause when operated at nominal voltage."


def _page(doc: pymupdf.Document, printed: str, rows: list[tuple[str, bool]]) -> pymupdf.Page:
    page = doc.new_page(width=595, height=842)
    page.insert_text((250, 40), "ACME-EMC-01", fontname="helv", fontsize=10)
    page.insert_text((290, 810), printed, fontname="helv", fontsize=10)
    page.insert_text((200, 830), "Downloaded from http://www.everyspec.com", fontname="helv", fontsize=7)
    y = 110
    for text, bold in rows:
        page.insert_text((72, y), text, fontname="hebo" if bold else "helv", fontsize=11)
        y += 18
    return page


def _ruled_table(page: pymupdf.Page, top: float, cells: list[list[str]]) -> None:
    widths = [60, 120, 120]
    for r, row in enumerate(cells):
        x = 72
        for c, text in enumerate(row):
            rect = pymupdf.Rect(x, top + 20 * r, x + widths[c], top + 20 * (r + 1))
            page.draw_rect(rect, color=(0, 0, 0), width=0.8)
            if text:
                page.insert_text((rect.x0 + 4, rect.y1 - 6), text, fontname="helv", fontsize=10)
            x += widths[c]


def make_spec(path: Path) -> Path:
    doc = pymupdf.open()
    _page(doc, "i", [
        ("CONTENTS", True),
        ("1 Scope ............................................ 1", False),
        ("2 Requirements ..................................... 1", False),
        ("2.1 Conducted emissions ............................ 2", False),
    ])
    _page(doc, "1", [
        ("1 Scope", True),
        ("This standard applies to electronic components of passenger cars.", False),
        ("2 Requirements", True),
        ("Tests shall be performed as described in clause", False),
        ("2.1 of this standard and in accordance with ISO 11452-4.", False),
    ])
    page = _page(doc, "2", [
        ("2.1 Conducted emissions", True),
        (BODY, False),
        ("Table 1 - Conducted emission limits", False),
    ])
    _ruled_table(page, 170, [["Band", "Frequency", "Limit"], ["1", "0.15 MHz", ""], ["2", "30 MHz", "40 dBuV"]])
    page.insert_text((72, 260), "2.1.1 Voltage method", fontname="hebo", fontsize=11)
    page.insert_text((72, 278), "Use an artificial network as specified in 2.1.", fontname="helv", fontsize=11)
    doc.save(path)
    return path


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    path = make_spec(tmp_path_factory.mktemp("pdf") / "ACME-EMC-01.pdf")
    return parse_pdf(path, Settings(), sha256="abc")


def test_document_fields(parsed):
    assert (parsed.name, parsed.kind, parsed.pages, parsed.sha256) == ("ACME-EMC-01", "pdf", 3, "abc")


def test_clause_numbers_titles_parents_pages(parsed):
    got = [(c.number, c.title, c.parents, c.page, c.page_label) for c in parsed.clauses]
    assert got == [
        ("1", "Scope", (), 2, "1"),
        ("2", "Requirements", (), 2, "1"),
        ("2.1", "Conducted emissions", ("2",), 3, "2"),
        ("2.1.1", "Voltage method", ("2", "2.1"), 3, "2"),
    ]


def test_cross_reference_and_furniture_stay_out(parsed):
    clauses = {c.number: c for c in parsed.clauses}
    assert clauses["2"].text == ("Tests shall be performed as described in clause\n"
                                 "2.1 of this standard and in accordance with ISO 11452-4.")
    assert clauses["2.1"].text == f"{BODY}\nTable 1 - Conducted emission limits"
    assert clauses["2.1.1"].text == "Use an artificial network as specified in 2.1."
    everything = "\n".join(c.text for c in parsed.clauses)
    assert "ACME-EMC-01" not in everything and "Downloaded" not in everything and "...." not in everything


def test_ruled_table_keeps_empty_cell(parsed):
    (table,) = parsed.tables
    assert (table.id, table.caption, table.clause, table.page, table.page_label, table.doc) == (
        "Table 1", "Conducted emission limits", "2.1", 3, "2", "ACME-EMC-01")
    assert table.header == (("Band", "Frequency", "Limit"),)
    assert table.rows == (("1", "0.15 MHz", ""), ("2", "30 MHz", "40 dBuV"))
    assert parsed.clauses[2].tables == ("Table 1",)


def test_scanned_pdf_is_refused(tmp_path):
    doc = pymupdf.open()
    doc.new_page().draw_rect(pymupdf.Rect(50, 50, 300, 300), fill=(0.5, 0.5, 0.5))
    doc.save(tmp_path / "scan.pdf")
    with pytest.raises(Scanned, match="scan.pdf: scanned PDF"):
        parse_pdf(tmp_path / "scan.pdf", Settings())


def test_encrypted_pdf_is_refused(tmp_path):
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret")
    doc.save(tmp_path / "locked.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw", owner_pw="pw")
    with pytest.raises(Encrypted, match="locked.pdf: password-encrypted"):
        parse_pdf(tmp_path / "locked.pdf", Settings())


def test_corrupt_pdf_is_refused(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"this is not a PDF at all")
    with pytest.raises(Corrupt, match="broken.pdf: corrupt"):
        parse_pdf(tmp_path / "broken.pdf", Settings())
