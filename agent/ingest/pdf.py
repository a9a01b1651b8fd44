"""PDF → `Document` (clauses, tables, pages, printed page labels) with PyMuPDF.

Public API: `parse_pdf(path, settings, *, name=None, sha256="", tables=TablePlan()) -> Document`.
Raises `Corrupt` (PyMuPDF cannot open it, or a damaged file yields too little text), `Encrypted`
(needs a password) and `Scanned` (fewer than `settings.min_chars_per_page` text characters per
page on average in an intact file, or in one whose pages are images); MemoryError where MuPDF
runs out of memory.
`TablePlan` keeps find_tables off pages where it crashed the parse child (isolate.py).

Pipeline: text rows per page (PyMuPDF lines on one baseline joined) → page furniture
(furniture.py) → table-of-contents pages → ruled tables where a caption or ruling lines
make them likely (pdf_tables.py) → heading candidates (clauses.split_heading, bold/size as a
weight) → the heaviest plausible heading sequence (clauses.select_headings) → `ClauseBuilder`.
Printed page labels: the PDF's own page labels when they say more than the page index,
otherwise the page numbers printed in headers/footers.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
import re
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

import pymupdf

if hasattr(pymupdf, "no_recommend_layout"):
    pymupdf.no_recommend_layout()  # we pass use_layout=False on purpose; no advice on stdout
pymupdf.TOOLS.mupdf_display_errors(False)  # MuPDF prints a damaged file's errors on stdout

from agent.config import Settings
from agent.errors import Corrupt, Encrypted, IngestError, Scanned
from agent.ingest.clauses import (
    QUALIFIER,
    ClauseBuilder,
    prose_rows,
    sheet_heading,
    is_toc_line,
    select_headings,
    split_heading,
    split_run_in,
)
from agent.ingest.columns import column_of, find_gutter, reading_key
from agent.ingest.furniture import find_furniture
from agent.ingest.pdf_tables import (
    RawTable,
    has_caption,
    has_grid,
    merge_continued,
    page_tables,
    segments,
    split_caption,
)
from agent.schema import Document, Table

log = logging.getLogger(__name__)

_FIG_ID = r"(?:[A-Z]{1,6}\d*-)?\d+(?:[.-]\d+)*[a-z]?"
FIGURE = re.compile(rf"^\s*(?:FIGURE\s+{_FIG_ID}(?:[.:]|\s|$)|(?:Figure|Fig\.)\s+{_FIG_ID}\s*[.:\u2013-]\s)")
_NUMBER_ONLY = re.compile(r"^\s*(?:\d{1,2}(?:\.\d{1,3})*\.?|[A-Z](?:\.\d{1,3})+\.?)\s*$")
_TOC_TITLE = re.compile(r"^\s*(?:table of )?contents|^\s*list of (?:figures|tables)|^\s*inhalt", re.IGNORECASE)
_TEXT_FLAGS = pymupdf.TEXTFLAGS_DICT & ~pymupdf.TEXT_PRESERVE_IMAGES
CHANGE_BARS = {"|", "||", "\u2502", "\u00a6"}  # revision bars in the margin, not text
WEAK = 0.3
BELOW_GAP = 40  # points between a table's bottom and a caption printed below it  # weight of a heading candidate set in body font (bold or larger ones weigh 1)


@dataclass(frozen=True)
class TablePlan:
    """Pages find_tables may run on: none when `off`, else all but `skip` (0-based pages where
    it crashed the parse child before). `running`, a shared int the parent reads after a crash,
    holds the page it runs on now (-1: none)."""

    skip: frozenset[int] = frozenset()
    off: bool = False
    running: Any = None  # multiprocessing RawValue("i") or None

    def allows(self, page: int) -> bool:
        return not self.off and page not in self.skip

    def mark(self, page: int) -> None:
        if self.running is not None:
            self.running.value = page


@dataclass
class Row:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    bold: bool
    size: float
    col: int = 0  # two-column pages: -1 across the gutter, 0 left, 1 right (0 on one-column pages)


def parse_pdf(path: str | Path, settings: Settings, *, name: str | None = None, sha256: str = "",
              tables: TablePlan = TablePlan()) -> Document:
    """Parse one PDF into clauses and tables (see module docstring)."""
    path = Path(path)
    started = time.perf_counter()
    pymupdf.TOOLS.mupdf_warnings()  # reset: from here on they tell whether this file is damaged
    try:
        doc = pymupdf.open(path)
    except Exception as exc:
        raise Corrupt(str(path)) from exc
    with doc:
        if doc.needs_pass:
            raise Encrypted(str(path))
        try:
            result = _parse_open(doc, path, settings, name or path.stem, sha256, tables)
        except IngestError:
            raise
        except Exception as exc:
            if _out_of_memory(exc):
                raise MemoryError(str(exc)) from exc
            if not _damaged(doc):
                raise
            raise Corrupt(str(path), f"damaged PDF ({type(exc).__name__}: {exc})") from exc
    log.info("parsed %s: %d pages, %d clauses, %d tables in %.2f s", path.name, result.pages,
             len(result.clauses), len(result.tables), time.perf_counter() - started)
    return result


def _parse_open(doc: pymupdf.Document, path: Path, settings: Settings, name: str, sha256: str,
                plan: TablePlan) -> Document:
    try:
        count = doc.page_count
    except Exception as exc:  # "Invalid number of pages"
        raise Corrupt(str(path), "damaged PDF (its page tree cannot be read)") from exc
    if count == 0:
        raise Corrupt(str(path), "PDF without pages")
    pages, heights = _read_pages(doc, path, count)
    chars = sum(len(r.text) for rows in pages for r in rows)
    if chars < settings.min_chars_per_page * count:
        _no_text(doc, path, count, chars // count)
    furniture = find_furniture([[(r.text, r.y0, r.y1) for r in rows] for rows in pages], heights)
    labels = _labels(doc, furniture.labels)
    kept = [[r for i, r in enumerate(rows) if i not in furniture.rows[p]] for p, rows in enumerate(pages)]
    toc = _toc_pages(kept)
    tables = _tables(doc, kept, toc, plan)
    items = _items(kept, toc, tables)
    builder = _build(items, labels, name, _body_size(kept))
    records = _table_records(tables, labels, name)
    return Document(name=name, path=str(path), sha256=sha256, kind="pdf", pages=count,
                    clauses=builder.build(), tables=records, title=_title(doc, pages))


def _read_pages(doc: pymupdf.Document, path: Path, count: int) -> tuple[list[list[Row]], list[float]]:
    """Text rows and height of every page, in one pass: MuPDF may repair a damaged file while
    it loads a page, and a second pass may then see fewer pages."""
    pages, heights = [], []
    for p in range(count):
        try:
            page = doc[p]
            pages.append(_page_rows(page))
            heights.append(page.rect.height)
        except Exception as exc:
            if _out_of_memory(exc):
                raise
            raise Corrupt(str(path), f"damaged PDF (page {p + 1} cannot be read)") from exc
    return pages, heights


def _no_text(doc: pymupdf.Document, path: Path, count: int, per_page: int) -> NoReturn:
    """Too little text. A damaged file (MuPDF repaired it or reported errors) whose pages are
    not images lost its text: OCR would not help. Otherwise it is a scan (or text drawn as
    outlines), and OCR is the way."""
    if _damaged(doc) and sum(_has_images(doc, p) for p in range(count)) < 0.5 * count:
        raise Corrupt(str(path), f"damaged PDF: no readable text on its pages ({per_page} characters per page)")
    raise Scanned(str(path), f"scanned PDF with no usable text layer ({per_page} characters per page)")


def _has_images(doc: pymupdf.Document, p: int) -> bool:
    try:
        return bool(doc[p].get_images())
    except Exception:
        log.debug("page %d: images cannot be listed", p + 1, exc_info=True)
        return False


def _damaged(doc: pymupdf.Document) -> bool:
    """Did MuPDF have to repair the file, or report errors reading it?"""
    return doc.is_repaired or bool(pymupdf.TOOLS.mupdf_warnings(reset=False))


def _out_of_memory(exc: Exception) -> bool:
    """MuPDF reports a failed allocation (the parse child's memory limit) as FzErrorSystem
    "malloc (N bytes) failed"."""
    return isinstance(exc, MemoryError) or "malloc" in str(exc)


def _title(doc: pymupdf.Document, pages: list[list[Row]]) -> str:
    """The file's title and the first page's opening rows (where the standard's number stands)."""
    opening = " ".join(r.text for r in pages[0][:12])[:300] if pages else ""
    return " ".join(filter(None, [(doc.metadata or {}).get("title") or "", opening]))


def _page_rows(page: pymupdf.Page) -> list[Row]:
    """Text rows of a page: PyMuPDF lines sharing a baseline joined left to right; on a page set
    in two columns, each column's rows apart, in reading order (columns.py)."""
    lines = []
    strikes = sorted((s for s in segments(page)[0] if s[1] - s[0] > 4), key=lambda s: s[2])
    heights = [s[2] for s in strikes]
    for block in page.get_text("dict", flags=_TEXT_FLAGS)["blocks"]:
        for line in block.get("lines", ()):
            flat = abs(line["dir"][1]) <= 0.1
            spans = [s for s in line["spans"] if s["text"].strip()
                     and not (flat and _words(s["text"]) and _struck(s["bbox"], line["bbox"], strikes, heights))]
            if spans and "".join(s["text"] for s in spans).strip() not in CHANGE_BARS:
                lines.append((line["bbox"], spans, abs(line["dir"][1]) > 0.1))
    gutter = find_gutter([(*b[:4], sum(len(s["text"].strip()) for s in sp)) for b, sp, rot in lines if not rot],
                         page.rect.width)
    if gutter is None:
        return _joined_rows(lines)
    groups: dict[int, list] = {}
    for line in lines:
        groups.setdefault(column_of(line[0][0], line[0][2], gutter), []).append(line)
    rows = [replace(r, col=col) for col, group in groups.items() for r in _joined_rows(group)]
    separators = sorted(r.y0 for r in rows if r.col == -1)
    return sorted(rows, key=lambda r: reading_key(r.y0, r.col, separators))


def _words(text: str) -> bool:
    """Does a span hold words (three letters or digits, not a formula's symbol beside a fraction bar)?"""
    return sum(ch.isalnum() for ch in text) >= 3


def _struck(bbox: tuple, line: tuple, strikes: list[tuple], heights: list[float]) -> bool:
    """Is the span struck through (deleted in an amendment): a rule across most of its width
    through the middle of its glyphs that starts and ends within its line (a plot's grid line
    or a table's rule runs on beyond the text; an underline lies under the glyphs)?
    `strikes` are the page's horizontal rules sorted by their y (`heights`)."""
    x0, y0, x1, y1 = bbox
    height, width = y1 - y0, x1 - x0
    if height <= 0 or width <= 0:
        return False
    lo, hi = bisect_left(heights, y0 + 0.3 * height), bisect_right(heights, y0 + 0.72 * height)
    return any(min(x1, b) - max(x0, a) >= 0.6 * width and a >= line[0] - 3 and b <= line[2] + 3
               for a, b, _ in strikes[lo:hi])


def _joined_rows(lines: list) -> list[Row]:
    lines = sorted(lines, key=lambda item: (round(item[0][1]), item[0][0]))
    rows: list[list] = []
    for bbox, spans, rotated in lines:
        row = None if rotated else next((r for r in reversed(rows[-3:]) if _same_row(r, bbox)), None)
        if row is None:
            rows.append([list(bbox), [(bbox[0], spans)]])
        else:
            row[0] = [min(row[0][0], bbox[0]), min(row[0][1], bbox[1]), max(row[0][2], bbox[2]),
                      max(row[0][3], bbox[3])]
            row[1].append((bbox[0], spans))
    return [_row(bbox, parts) for bbox, parts in rows]


def _same_row(row: list, bbox: tuple) -> bool:
    (_, y0, _, y1), parts = row
    if y1 - y0 > 2.5 * (bbox[3] - bbox[1]):  # a rotated line's row
        return False
    overlap = min(y1, bbox[3]) - max(y0, bbox[1])
    if overlap < 0.6 * min(y1 - y0, bbox[3] - bbox[1]):
        return False
    last_x1 = max(s["bbox"][2] for _, spans in parts for s in spans)
    short_left = len("".join(s["text"] for _, spans in parts for s in spans).strip()) <= 12
    gap = bbox[0] - last_x1
    return gap < 40 or (short_left and gap < 120)


def _row(bbox: list, parts: list) -> Row:
    parts.sort(key=lambda p: p[0])
    spans = [s for _, ss in parts for s in ss]
    text = re.sub(r"\s+", " ", " ".join(_spans_text(ss) for _, ss in parts)).strip()
    first = spans[0]
    bold = bool(first["flags"] & 16) or "bold" in first["font"].lower()
    return Row(text, *bbox, bold=bold, size=max(s["size"] for s in spans))


def _spans_text(spans: list[dict]) -> str:
    """Spans of one line joined; a visible gap between two spans is a space even where the PDF
    positions words instead of printing the space ("A.4" and "GENERAL" set apart)."""
    out = spans[0]["text"]
    for prev, span in zip(spans, spans[1:]):
        gap = span["bbox"][0] - prev["bbox"][2]
        joint = out[-1:] + span["text"][:1]
        out += (" " if gap > 0.2 * span["size"] and not joint.isspace() and " " not in joint else "") + span["text"]
    return out.strip()


def _labels(doc: pymupdf.Document, printed: tuple[str | None, ...]) -> list[str | None]:
    try:
        own = [doc[p].get_label() or None for p in range(len(printed))] if doc.get_page_labels() else []
    except Exception:  # a damaged page: the numbers printed on the pages serve
        log.debug("page labels cannot be read", exc_info=True)
        own = []
    if any(label != str(i + 1) for i, label in enumerate(own)):
        return own
    return list(printed)


def _toc_pages(pages: list[list[Row]]) -> set[int]:
    """Pages of contents / lists of figures and tables (dot leaders to page numbers)."""
    toc = set()
    for p, rows in enumerate(pages):
        leaders = sum(is_toc_line(r.text) for r in rows)
        titled = any(_TOC_TITLE.match(r.text) for r in rows[:4])
        if (leaders >= 3 and leaders >= 0.2 * len(rows)) or (titled and leaders >= 1):
            toc.add(p)
    return toc


def _tables(doc: pymupdf.Document, pages: list[list[Row]], toc: set[int],
            plan: TablePlan) -> dict[int, list[RawTable]]:
    """Ruled tables per page index, with ids and captions from caption rows above (or below).

    find_tables runs on pages with a caption row and on pages whose ruling lines form a grid
    with text in it (has_grid), so uncaptioned and oddly captioned tables are found too."""
    found: dict[int, list[RawTable]] = {}
    free: dict[int, list] = {}  # captions no table of their page claimed
    for p, rows in enumerate(pages):
        if p in toc or not plan.allows(p):
            continue
        try:
            tabs = _find_tables(doc[p], rows, plan)
        except Exception as exc:
            if _out_of_memory(exc):
                raise
            log.warning("page %d: tables cannot be read (%s: %s); indexed its text without them",
                        p + 1, type(exc).__name__, exc)
            continue
        captions = _captions(rows, tabs)
        for k, tab in enumerate(tabs):
            _caption(tab, captions, tabs)
            if not tab.id and k and tabs[k - 1].id and not _caption_between(rows, tabs[k - 1], tab) \
                    and _same_shape(tabs[k - 1], tab):
                tab.id, tab.caption, tab.continued = tabs[k - 1].id, tabs[k - 1].caption, True
        tabs = [t for t in tabs if t.id or not _figure_caption_near(rows, t)]
        _units_beside(tabs, rows)
        free[p] = captions
        if tabs:
            found[p] = tabs
    _captions_carried_over(pages, found, free)
    return found


PAGE_END_ROWS = 2  # rows a page may print below its last table (a footer) for a caption to carry over


def _captions_carried_over(pages: list[list[Row]], found: dict[int, list[RawTable]], free: dict[int, list]) -> None:
    """A caption set below a table but pushed to the top of the next page (the table fills its
    page): an uncaptioned table that ends its page takes the free caption that opens the next."""
    for p, tabs in found.items():
        last = tabs[-1]
        if last.id or sum(r.y0 >= last.bbox[3] for r in pages[p]) > PAGE_END_ROWS:
            continue
        opening = [r for r in pages[p + 1][: PAGE_END_ROWS + 1]] if p + 1 < len(pages) else []
        above_tables = [t.bbox[1] for t in found.get(p + 1, [])]
        pick = next(((r, c) for r, c in free.get(p + 1, []) if any((r.text, r.y0) == (o.text, o.y0) for o in opening)
                     and all(r.y1 <= top for top in above_tables)), None)
        if pick is not None:
            free[p + 1].remove(pick)
            last.id, last.caption, last.continued = pick[1]


def _find_tables(page: pymupdf.Page, rows: list[Row], plan: TablePlan) -> list[RawTable]:
    """The page's tables, top down; the plan marks the page while PyMuPDF's table finder runs
    (it can abort the process on a damaged page)."""
    words = page.get_text("words")
    plan.mark(page.number)
    try:
        if not (has_caption([r.text for r in rows]) or has_grid(page, words)):
            return []
        return sorted(page_tables(page, words), key=lambda t: t.bbox[1])
    finally:
        plan.mark(-1)


def _figure_caption_near(rows: list[Row], tab: RawTable) -> bool:
    """A figure caption just below (or above) an uncaptioned grid: a drawing, not a table."""
    return any(FIGURE.match(r.text) and (0 <= r.y0 - tab.bbox[3] < BELOW_GAP or 0 <= tab.bbox[1] - r.y1 < 15)
               for r in rows)


def _caption_between(rows: list[Row], upper: RawTable, lower: RawTable) -> bool:
    """Is a caption printed between two tables of a page (else the lower one, uncaptioned, is
    the second part of the upper one)?"""
    return any(upper.bbox[3] - 2 <= r.y0 and r.y1 <= lower.bbox[1] + 2 and split_caption(r.text) for r in rows)


def _captions(rows: list[Row], tabs: list[RawTable]) -> list[tuple[Row, tuple[str, str, bool]]]:
    """Caption rows of a page, each with its title completed from the rows that carry it on:
    a title set on the next row ("Table A4/1" / "Requirements …") or wrapped over two rows."""
    out = []
    outside = [r for r in rows if not _inside(r, tabs)]
    for i, row in enumerate(outside):
        found = split_caption(row.text)
        if not found:
            continue
        ident, caption, continued = found
        last = row
        for nxt in outside[i + 1: i + 3]:
            if not _carries_caption(last, nxt, caption, tabs):
                break
            caption = f"{caption} {nxt.text}".strip() if caption else nxt.text.strip()
            last = nxt
        caption = caption[:-1].rstrip() if caption.endswith(".") else caption
        out.append((Row(row.text, row.x0, row.y0, max(row.x1, last.x1), last.y1, row.bold, row.size),
                    (ident, caption, continued)))
    return out


def _carries_caption(row: Row, nxt: Row, caption: str, tabs: list[RawTable]) -> bool:
    """Does `nxt` carry on the caption of `row`: close below it, same weight, no table between,
    not a caption, heading or figure itself, and short like a title?"""
    height = row.y1 - row.y0
    if nxt.y0 - row.y1 > 0.9 * height or nxt.y0 < row.y0 or len(nxt.text) > 120:
        return False
    if split_caption(nxt.text) or split_heading(nxt.text) or FIGURE.match(nxt.text):
        return False
    if any(row.y1 <= t.bbox[1] <= nxt.y0 for t in tabs):
        return False
    if not caption or UNIT_LINE.match(nxt.text):
        return True  # the title on its own row; "Unit: mA" set under the title is the table's unit
    return nxt.bold == row.bold and not caption.endswith(".") and abs(nxt.size - row.size) < 0.6


UNIT_GAP = 20.0  # points between a table and a "Unit: mA" line set just above or below it


def _units_beside(tabs: list[RawTable], rows: list[Row]) -> None:
    """A "Unit: dBµV/m" line set just above or below a table (not in its caption) is the unit
    of the table it is nearest to: it joins that caption, where unitless columns take it from."""
    for r in rows:
        if not UNIT_LINE.match(r.text):
            continue
        gaps = [(max(t.bbox[1] - r.y1, r.y0 - t.bbox[3]), k) for k, t in enumerate(tabs)
                if r.x0 < t.bbox[2] and r.x1 > t.bbox[0] and not _inside(r, [t])]
        gap, k = min(gaps, default=(UNIT_GAP, -1))
        tab = tabs[k] if 0 <= gap < UNIT_GAP and k >= 0 else None
        if tab is not None and not any(UNIT_LINE.match(m) for m in re.findall(_UNIT_WORD, tab.caption or "", re.I)):
            tab.caption = f"{tab.caption} {r.text.strip()}".strip()


_UNIT_WORD = r"\(?\b(?:units?|unit of measure|einheit|unité)\b.*"
UNIT_LINE = re.compile(r"^\s*\(?\s*(?:units?|unit of measure|einheit|unité)\s*[:=]\s*\S{1,12}\s*\)?\s*$", re.IGNORECASE)


def _caption(tab: RawTable, captions: list, tabs: list[RawTable]) -> None:
    """Give `tab` the nearest free caption above it (no other table between), or the one just
    below it when that one is much closer, or a rotated caption beside it."""
    top, bottom = tab.bbox[1], tab.bbox[3]
    between = lambda y0, y1: any(t is not tab and y0 - 1 <= (t.bbox[1] + t.bbox[3]) / 2 <= y1 + 1 for t in tabs)
    above = [(top - r.y1, (r, c)) for r, c in captions if r.y1 <= top + 2 and not between(r.y1, top)]
    below = [(r.y0 - bottom, (r, c)) for r, c in captions
             if r.y0 >= bottom - 2 and r.y0 - bottom < BELOW_GAP and not between(bottom, r.y0)
             and not _heads_next(r, r.y0 - bottom, tab, tabs)]
    beside = [(0.0, (r, c)) for r, c in captions if r.y1 - r.y0 > 3 * (r.x1 - r.x0)  # rotated caption
              and r.y0 < bottom and r.y1 > top]
    near_above = min(above, key=lambda d: d[0], default=None)
    near_below = min(below, key=lambda d: d[0], default=None)
    if near_below is not None and (near_above is None or near_below[0] * 3 < near_above[0]):
        pick = near_below[1]
    elif near_above is not None:
        pick = near_above[1]
    else:
        pick = beside[0][1] if beside else None
    if pick is not None:
        captions.remove(pick)
        tab.id, tab.caption, tab.continued = pick[1]


def _same_shape(upper: RawTable, lower: RawTable) -> bool:
    """Can `lower` be the next part of `upper`: as many columns, or the same head over its first
    column (a long table printed in parts may split a cell or head its columns anew in each
    part)? A table of another width under another first head ("Req-ID") is another table."""
    width = lambda t: max((len(r) for r in t.rows), default=0)  # noqa: E731
    first = lambda t: " ".join(t.rows[0][0].split()).lower() if t.rows and t.rows[0] else ""  # noqa: E731
    return width(upper) == width(lower) or first(upper) == first(lower)


def _heads_next(caption: Row, gap_above: float, tab: RawTable, tabs: list[RawTable]) -> bool:
    """Is a caption below `tab` rather the caption of the table right under it (no closer to
    `tab` than to that one)? Captions set above their table are the rule."""
    under = [t.bbox[1] - caption.y1 for t in tabs if t is not tab and t.bbox[1] >= caption.y1 - 2]
    return bool(under) and min(under) <= gap_above + 2


def _inside(row: Row, tabs: list[RawTable]) -> bool:
    cx, cy = (row.x0 + row.x1) / 2, (row.y0 + row.y1) / 2
    return any(t.bbox[0] - 1 <= cx <= t.bbox[2] + 1 and t.bbox[1] - 1 <= cy <= t.bbox[3] + 1 for t in tabs)


def _items(pages: list[list[Row]], toc: set[int], tables: dict[int, list[RawTable]]) -> list[tuple]:
    """Document-order items: ("row", page, Row) and ("table", page, RawTable)."""
    items: list[tuple] = []
    for p, rows in enumerate(pages):
        if p in toc:
            continue
        tabs = tables.get(p, [])
        kept = [r for r in rows if not _inside(r, tabs)]
        right = [r.x0 for r in rows if r.col == 1]
        gutter = min(right) if right else None  # a page set in two columns
        cols = [column_of(t.bbox[0], t.bbox[2], gutter) for t in tabs]
        separators = sorted([r.y0 for r in kept if r.col == -1] + [t.bbox[1] for t, c in zip(tabs, cols) if c == -1])
        entries = [(reading_key(r.y0, r.col, separators), 0, ("row", p, r)) for r in kept]
        entries += [(reading_key(t.bbox[1], c, separators), 1, ("table", p, t)) for t, c in zip(tabs, cols)]
        items.extend(item for _, _, item in sorted(entries, key=lambda e: (e[0], e[1])))
    return items


def _body_size(pages: list[list[Row]]) -> float:
    sizes = Counter()
    for rows in pages:
        for r in rows:
            sizes[round(r.size, 1)] += len(r.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _candidates(items: list[tuple], body: float) -> list[tuple[int, str, str, float, int]]:
    """(item index, number, title, weight, rows used) for every row that reads as a heading."""
    out = []
    for i, (kind, p, row) in enumerate(items):
        if kind != "row" or split_caption(row.text) or FIGURE.match(row.text):
            continue
        nxt = items[i + 1][2] if i + 1 < len(items) and items[i + 1][0] == "row" and items[i + 1][1] == p else None
        used, text = 1, row.text
        if _NUMBER_ONLY.match(text) and nxt is not None:
            used, text = 2, f"{text} {nxt.text}"
        found = split_heading(text)
        if found is None:
            continue
        number, title = found
        strong = row.bold or row.size > body + 0.5
        last = row
        for _ in range(2):  # "Annex B" / "(normative)" / "Emission limits"
            cont = items[i + used][2] if i + used < len(items) and items[i + used][0] == "row" else None
            if cont is not None and not title and QUALIFIER.fullmatch(cont.text.strip()):
                used, last = used + 1, cont  # "(normative)" under "Annex B": the title comes next
                continue
            if cont is None or not _continues(last, title, cont, strong):
                break
            title = QUALIFIER.sub("", (f"{title} {cont.text}" if title else cont.text)).strip().rstrip(" .")
            used, last = used + 1, cont
            if title:
                break
        out.append((i, number, title, 1.0 if strong else WEAK, used))
    return out


def _continues(row: Row, title: str, nxt: Row, strong: bool) -> bool:
    """Does the next row carry on the heading's title (wrapped title, or title under "APPENDIX A")?"""
    if split_heading(nxt.text) or FIGURE.match(nxt.text) or split_caption(nxt.text):
        return False
    lines = 1.5 if title else 3.0  # a title set under "APPENDIX A" may stand further down
    close = nxt.y0 - row.y1 < lines * (row.y1 - row.y0) and nxt.y0 > row.y0
    if not close or len(nxt.text) > 90:
        return False
    if not title:
        return strong == (nxt.bold or nxt.size > row.size - 0.5) or not strong
    return strong and nxt.bold == row.bold and not title.endswith((".", ":"))


def _build(items: list[tuple], labels: list[str | None], name: str, body: float) -> ClauseBuilder:
    cands = _candidates(items, body)
    chosen = {cands[k][0]: cands[k] for k in select_headings([c[1] for c in cands], [c[3] for c in cands])}
    builder = ClauseBuilder(name)
    skip = 0
    for i, (kind, p, thing) in enumerate(items):
        if skip:
            skip -= 1
            continue
        if kind == "table":
            sheet = sheet_heading(thing.rows)
            if sheet is not None:  # a test sheet opens: a section of its own, its header read as text
                builder.heading(sheet[0], sheet[1], page=p + 1, page_label=labels[p])
                for line in sheet[2]:
                    builder.text(line)
            thing.clause = builder.current
            if thing.id:
                builder.table(thing.id)
            for line in prose_rows(thing.header, thing.body):  # requirements stated in a table's rows
                builder.text(line)
        elif i in chosen:
            _, number, title, _, used = chosen[i]
            title, body = split_run_in(title)
            builder.heading(number, title, page=p + 1, page_label=labels[p])
            builder.text(body)
            skip = used - 1
        elif FIGURE.match(thing.text):
            builder.figure(thing.text)
        else:
            builder.text(thing.text)
    return builder


def _table_records(tables: dict[int, list[RawTable]], labels: list[str | None], name: str) -> tuple[Table, ...]:
    ordered = [t for p in sorted(tables) for t in tables[p]]
    merged = merge_continued(ordered)
    records, used = [], Counter()
    for tab in merged:
        table_id = tab.id or f"Table on page {tab.page}"
        used[table_id] += 1
        if used[table_id] > 1:
            table_id = f"{table_id} ({used[table_id]})"
        records.append(Table(
            id=table_id, caption=tab.caption, clause=tab.clause, page=tab.page,
            header=tuple(tuple(r) for r in tab.header), rows=tuple(tuple(r) for r in tab.body),
            page_label=labels[tab.page - 1], doc=name,
        ))
    return tuple(records)
