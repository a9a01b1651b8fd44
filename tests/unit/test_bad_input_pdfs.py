"""Damaged PDFs: told "damaged", never "scanned" or "print to PDF"; a table finder that aborts
the parse child costs that page's tables, not the file."""

from __future__ import annotations

import faulthandler
import logging
import os
from pathlib import Path

import pymupdf
import pytest

from agent.config import Settings
from agent.errors import Corrupt, Scanned
from agent.ingest import parse_isolated, pdf
from agent.ingest.furniture import find_furniture

SETTINGS = Settings(parse_timeout_s=60.0)
DAMAGED_ADVICE = "download or export it again."
BODY = "The DUT shall meet the conducted emission limits of this clause. " * 2


def text_pdf(pages: int = 4) -> bytes:
    document = pymupdf.open()
    for n in range(1, pages + 1):
        page = document.new_page()
        page.insert_text((72, 72), f"{n} Clause {n}", fontsize=12)
        page.insert_text((72, 100), BODY, fontsize=9)
    return document.tobytes()


def scanned_pdf() -> bytes:
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 100), False)
    pixmap.clear_with(200)
    document = pymupdf.open()
    for _ in range(3):
        document.new_page().insert_image(pymupdf.Rect(72, 72, 472, 272), pixmap=pixmap)
    return document.tobytes()


def cut_in_first_page(data: bytes) -> bytes:
    """Cut short inside the first page's content, an end marker kept (as a download resumed
    from a cached tail leaves it): MuPDF repairs it and finds pages without their text."""
    return data[: data.index(b"stream") + 20] + b"\n%%EOF\n"


TITLES = ["Scope", "Conducted emissions", "Radiated emissions", "Transients", "Immunity"]


def tabled_pdf(pages: int = 3) -> bytes:
    """A page per clause, each with a captioned ruled table "Table n" of two rows."""
    document = pymupdf.open()
    for n in range(1, pages + 1):
        page = document.new_page(width=595, height=842)
        page.insert_text((72, 80), f"{n} {TITLES[n - 1]}", fontname="hebo", fontsize=12)
        page.insert_text((72, 100), BODY[:60], fontsize=10)
        page.insert_text((72, 130), f"Table {n} - Limits of clause {n}", fontsize=10)
        for r, row in enumerate([("Band", "Limit"), (f"B{n}", f"{30 + n} dBuV")]):
            for c, text in enumerate(row):
                rect = pymupdf.Rect(72 + 120 * c, 140 + 20 * r, 192 + 120 * c, 160 + 20 * r)
                page.draw_rect(rect, color=(0, 0, 0), width=0.8)
                page.insert_text((rect.x0 + 4, rect.y1 - 6), text, fontsize=10)
    return document.tobytes()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def failure(path: Path, settings: Settings = SETTINGS):
    with pytest.raises(Exception) as caught:
        parse_isolated(path, settings)
    return caught.value


@pytest.mark.parametrize(("count", "what"), [
    (b"-4", "its page tree cannot be read"),  # MuPDF: RuntimeError("Invalid number of pages")
    (b"9", "page 5 cannot be read"),
])
def test_page_tree_damage_is_damaged_not_a_crash(tmp_path, count, what):
    """Both used to get "the parser failed ... (e.g. print to PDF)"."""
    err = failure(write(tmp_path, "tree.pdf", text_pdf().replace(b"/Count 4", b"/Count " + count)))
    assert (type(err), str(err)) == (Corrupt, f"tree.pdf: damaged PDF ({what}); {DAMAGED_ADVICE}")


def test_text_pdf_cut_short_is_damaged_not_scanned(tmp_path):
    err = failure(write(tmp_path, "cut.pdf", cut_in_first_page(text_pdf())))
    assert (type(err), str(err)) == (
        Corrupt,
        f"cut.pdf: damaged PDF: no readable text on its pages (0 characters per page); {DAMAGED_ADVICE}",
    )
    assert "scanned" not in str(err) and "OCR" not in str(err)


def test_scan_cut_short_is_still_a_scan(tmp_path):
    """Pages that are images need OCR, damaged or not."""
    for name, data in [("scan.pdf", scanned_pdf()), ("cut-scan.pdf", scanned_pdf()[:-40] + b"\n%%EOF\n")]:
        err = failure(write(tmp_path, name, data))
        assert type(err) is Scanned, str(err)
        assert str(err).startswith(f"{name}: scanned PDF with no usable text layer")


def test_furniture_of_pages_without_a_height():
    """A page MuPDF dropped while repairing has no height: it has no margins, not an IndexError."""
    footer = [("ACME-EMC-01", 10.0, 20.0), ("body text", 400.0, 410.0), ("- 3 -", 820.0, 830.0)]
    pages = [list(footer) for _ in range(4)]
    furniture = find_furniture(pages, [842.0, 842.0])
    assert furniture.rows == (frozenset({0, 2}), frozenset({0, 2}), frozenset(), frozenset())


def _abort_on_page_2(real):
    def page_tables(page, words):
        if page.number == 1:
            faulthandler.disable()  # pytest's traceback dump is noise here
            os.abort()  # as PyMuPDF's table finder does on some damaged pages
        return real(page, words)

    return page_tables


def test_table_finder_abort_costs_that_page_its_tables_only(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(pdf, "page_tables", _abort_on_page_2(pdf.page_tables))  # the forked child inherits it
    path = write(tmp_path, "tables.pdf", tabled_pdf())
    with caplog.at_level(logging.WARNING, logger="agent.ingest.isolate"):
        document = parse_isolated(path, SETTINGS)
    assert [c.number for c in document.clauses] == ["1", "2", "3"]
    assert "Table 2 - Limits of clause 2\nBand Limit\nB2 32 dBuV" in document.clauses[1].text  # text kept
    assert [(t.id, t.page, t.rows) for t in document.tables] == [
        ("Table 1", 1, (("B1", "31 dBuV"),)), ("Table 3", 3, (("B3", "33 dBuV"),))]
    assert caplog.messages == [
        "tables.pdf: PyMuPDF's table finder crashed on page(s) 2; their text is indexed without tables"]


def test_table_finder_aborting_everywhere_leaves_the_text(tmp_path, monkeypatch, caplog):
    def always(page, words):
        faulthandler.disable()
        os.abort()

    monkeypatch.setattr(pdf, "page_tables", always)
    path = write(tmp_path, "tables.pdf", tabled_pdf(pages=5))
    with caplog.at_level(logging.WARNING, logger="agent.ingest.isolate"):
        document = parse_isolated(path, SETTINGS)
    assert ([c.number for c in document.clauses], document.tables) == (["1", "2", "3", "4", "5"], ())
    assert caplog.messages == [
        "tables.pdf: PyMuPDF's table finder crashed on page(s) 1, 2, 3; the file is indexed without tables"]


def test_tables_parse_in_a_spawned_child_too(tmp_path):
    """The table plan (and its shared page marker) travels to a spawned child as well."""
    document = parse_isolated(write(tmp_path, "tables.pdf", tabled_pdf(pages=1)), SETTINGS,
                              _start_method="spawn")
    assert [(t.id, t.rows) for t in document.tables] == [("Table 1", (("B1", "31 dBuV"),))]
