"""Ruled tables of a PDF page (PyMuPDF `find_tables`), their captions, and continued tables.

Public API:
- `CAPTION`: regex of a table caption row ("TABLE VIII.  ESD test levels.", "Table 7-1: Limits").
- `split_caption(text) -> (id, caption) | None`: ("TABLE VIII", "ESD test levels").
- `has_caption(rows_text)`, `is_ruled(page)`: cheap tests whether `find_tables` is worth running
  (slow: ~0.1-0.2 s a page); the caller runs it on pages with a caption, on ruled pages after
  a table (continuations), and on ruled pages of documents that never caption tables.
- `page_tables(page, words) -> list[RawTable]`: the page's tables, cells as strings (empty cells
  stay ""), multi-line cell text joined with a space, header rows counted.
- `merge_continued(tables) -> list[RawTable]`: joins "TABLE V ... - Continued" parts (and
  caption-less tables whose header repeats the previous one) into one table.
"""

from __future__ import annotations

import inspect
import logging
import re
from dataclasses import dataclass, field

import pymupdf

if hasattr(pymupdf, "no_recommend_layout"):
    pymupdf.no_recommend_layout()  # we pass use_layout=False on purpose; no advice on stdout

log = logging.getLogger(__name__)

CAPTION = re.compile(
    r"^\s*(?P<id>(?:TABLE|Table|Tab\.)\s+(?:[A-Z]{1,2}-)?(?:[IVXLC]+|\d+(?:[-.]\d+)*[A-Za-z]?))"
    r"(?:\s*[.:\u2013\u2014-]\s*|\s+)(?P<caption>\S.*)?$"
)
_CONTINUED = re.compile(r"[\s(\u2013\u2014-]*\(?\s*continued\s*\)?\.?\s*$", re.IGNORECASE)
_USE_LAYOUT = "use_layout" in inspect.signature(pymupdf.table.find_tables).parameters
MIN_RULES = 3  # horizontal and vertical ruling segments before a page counts as ruled


@dataclass
class RawTable:
    page: int  # 1-based
    bbox: tuple[float, float, float, float]
    rows: list[list[str]]
    header_rows: int
    id: str = ""
    caption: str = ""
    continued: bool = False
    pages: list[int] = field(default_factory=list)
    clause: str | None = None

    @property
    def header(self) -> list[list[str]]:
        return self.rows[: self.header_rows]

    @property
    def body(self) -> list[list[str]]:
        return self.rows[self.header_rows :]


def split_caption(text: str) -> tuple[str, str, bool] | None:
    """(id as printed, caption without trailing dot, continued?) of a table caption row."""
    match = CAPTION.match(text.strip())
    if not match:
        return None
    caption = (match["caption"] or "").strip()
    continued = bool(_CONTINUED.search(caption)) or caption.lower() == "continued"
    caption = _CONTINUED.sub("", caption).strip() if continued else caption
    caption = caption[:-1].rstrip() if caption.endswith(".") else caption
    return match["id"], caption, continued


def has_caption(rows_text: list[str]) -> bool:
    return any(split_caption(t) for t in rows_text)


def is_ruled(page: pymupdf.Page) -> bool:
    """Enough horizontal and vertical ruling segments on the page to hold a grid."""
    across = down = 0
    for path in page.get_cdrawings():
        for item in path.get("items", ()):
            if item[0] == "re":
                across, down = across + 2, down + 2
            elif item[0] == "l":
                (x0, y0), (x1, y1) = item[1], item[2]
                across += abs(y0 - y1) < 1 and abs(x0 - x1) > 5
                down += abs(x0 - x1) < 1 and abs(y0 - y1) > 5
            if across >= MIN_RULES and down >= MIN_RULES:
                return True
    return False


def page_tables(page: pymupdf.Page, words: list[tuple]) -> list[RawTable]:
    """Ruled tables on `page`; cell text rebuilt from `page.get_text("words")` in reading order."""
    kwargs = {"use_layout": False} if _USE_LAYOUT else {}
    try:
        found = page.find_tables(**kwargs).tables
    except Exception:
        log.warning("find_tables failed on page %d", page.number + 1, exc_info=True)
        return []
    tables = []
    for tab in found:
        rows = [[_cell_text(cell, words) for cell in row.cells] for row in tab.rows]
        merged = [[cell is None for cell in row.cells] for row in tab.rows]
        if _useful(rows, merged):
            tables.append(RawTable(page.number + 1, tuple(tab.bbox), rows, _header_rows(merged),
                                   pages=[page.number + 1]))
    return tables


def _cell_text(cell: tuple | None, words: list[tuple]) -> str:
    if cell is None:
        return ""
    x0, y0, x1, y1 = cell
    inside = [w for w in words if x0 <= (w[0] + w[2]) / 2 <= x1 and y0 <= (w[1] + w[3]) / 2 <= y1]
    inside.sort(key=lambda w: (w[5], w[6], w[7]))
    return " ".join(w[4] for w in inside)


def _useful(rows: list[list[str]], merged: list[list[bool]]) -> bool:
    """At least two rows and columns, and a quarter of the (unmerged) cells hold text."""
    own = sum(not m for row in merged for m in row)
    filled = sum(bool(c) for row in rows for c in row)
    return len(rows) >= 2 and max(len(r) for r in rows) >= 2 and filled >= max(2, own // 4)


def _header_rows(merged: list[list[bool]]) -> int:
    """The first row, plus rows below it that continue its spanned cells (multi-row headers)."""
    count = 1
    while count < len(merged) - 1 and any(merged[count - 1]) and merged[count][0]:
        count += 1
    return count


def merge_continued(tables: list[RawTable]) -> list[RawTable]:
    """Join continued parts into the table they continue (header repeated: dropped once)."""
    out: list[RawTable] = []
    for tab in tables:
        prev = out[-1] if out else None
        same_id = prev is not None and tab.id and tab.id == prev.id
        uncaptioned_repeat = (prev is not None and not tab.id and tab.page == prev.pages[-1] + 1
                              and tab.header == prev.header)
        if prev is not None and (same_id or uncaptioned_repeat):
            body = tab.body if tab.header == prev.header else tab.rows
            prev.rows.extend(body)
            prev.pages.append(tab.page)
            continue
        out.append(tab)
    return out
