"""Page furniture of PDFs: running headers/footers, printed page numbers and watermarks.

Public API:
- `find_furniture(pages, heights) -> Furniture`: which text rows of which pages are furniture,
  and the printed page number of each page. A page is a list of `(text, y0, y1)` rows; a page
  without a height (`heights` shorter, a damaged page) has no margins, so no furniture.
  A row is furniture when it sits in the top or bottom margin band of the page and
  (a) the same text (any page number counting as one text) recurs at the same height on many
  pages, or (b) it is short and sits in a band where such recurring furniture was found
  (e.g. the section tag "CS114" beside the page number), or (c) it matches a known watermark.
- `page_number_of(text) -> str | None`: "63", "ix", "Page 5 of 40" → "5", "- 7 -" → "7".
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

Row = tuple[str, float, float]  # text, top, bottom

WATERMARKS = (
    re.compile(r"^\s*downloaded from\b", re.IGNORECASE),
    re.compile(r"everyspec\.com", re.IGNORECASE),
)
_PAGE_NO = re.compile(
    r"^\s*(?:-\s*)?(?:(?:page|seite|p\.)\s*)?(?P<n>\d{1,4}|[ivxlcdm]{1,7})"
    r"(?:\s*(?:of|von|/)\s*\d{1,4})?\s*(?:-)?\s*$",
    re.IGNORECASE,
)
_LEADING_NO = re.compile(r"^(?P<n>\d{1,4})\s+(?=\S)")  # "27 10 December 2007"
_TRAILING_NO = re.compile(r"(?<=\D)\s+(?:page\s+)?(?P<n>\d{1,4})$", re.IGNORECASE)  # "ACME spec 12"
_DASHED_NO = re.compile(r"[\u2013\u2014-]\s*(?P<n>\d{1,4})\s*[\u2013\u2014-]\s*$")  # "© IEC 2015 – 27 –"
MARGIN = 0.12  # top and bottom share of the page height where furniture may sit
MIN_SHARE = 0.1  # share of pages a recurring row must appear on
BAND_TEXT_MAX = 40


@dataclass(frozen=True)
class Furniture:
    rows: tuple[frozenset[int], ...]  # per page: indices of furniture rows
    labels: tuple[str | None, ...]  # per page: printed page number, when found


def page_number_of(text: str) -> str | None:
    """The page number printed in a header/footer row, or None."""
    match = _PAGE_NO.match(text)
    return match["n"] if match else None


def is_watermark(text: str) -> bool:
    return any(p.search(text) for p in WATERMARKS)


def _key(text: str) -> str:
    """Recurrence key of a margin row: page numbers, also at either end of a row, become <page>."""
    if page_number_of(text):
        return "<page>"
    text = re.sub(r"\s+", " ", text.strip().lower())
    text = _LEADING_NO.sub("<page> ", text)
    return re.sub(r"\d+", "#", _TRAILING_NO.sub(" <page>", text))  # "© IEC 2015 – 27 –", dates


_PAGE_OF = re.compile(r"\b(?:page|p\.|sheet|seite)\s*(?P<n>\d{1,4})\s*(?:/|of|von|de)\s*\d{1,4}\b", re.IGNORECASE)


def _label_candidates(text: str) -> list[str]:
    """Possible page numbers of a furniture row: the whole row, or a number at its start or end."""
    found = page_number_of(text)
    if found:
        return [found]
    text = text.strip()
    of = _PAGE_OF.search(text)  # "Issue 2.1 • Page 5 / 12", "Sheet 5 of 12": the page, not the count
    if of:
        return [of["n"]]
    return [m["n"] for m in (_LEADING_NO.match(text), _TRAILING_NO.search(text), _DASHED_NO.search(text)) if m]


def _choose_labels(candidates: list[list[str]]) -> list[str | None]:
    """Per page the candidate that counts on with a neighbouring page (printed = index + offset);
    a page number standing alone in its row is kept without that check."""
    offsets = [{int(c) - p for c in cands if c.isdigit()} for p, cands in enumerate(candidates)]
    labels: list[str | None] = []
    for p, cands in enumerate(candidates):
        near = (offsets[p - 1] if p else set()) | (offsets[p + 1] if p + 1 < len(offsets) else set())
        fits = [c for c in cands if c.isdigit() and int(c) - p in near]
        constant = any(cands == candidates[q] for q in (p - 1, p + 1) if 0 <= q < len(candidates))
        labels.append(fits[0] if fits else (cands[0] if len(cands) == 1 and not constant
                                            and not _is_year(cands[0]) else None))
    return labels


def _is_year(text: str) -> bool:
    return text.isdigit() and len(text) == 4 and text[:2] in ("19", "20")


def _marginal(row: Row, height: float | None) -> bool:
    if height is None:
        return False
    return row[2] <= height * MARGIN or row[1] >= height * (1 - MARGIN)


def find_furniture(pages: list[list[Row]], heights: list[float | None]) -> Furniture:
    """Furniture rows and printed page numbers of every page (see module docstring)."""
    heights = [*heights, *[None] * (len(pages) - len(heights))]
    need = max(2, math.ceil(MIN_SHARE * len(pages)))
    seen: dict[tuple[str, int], set[int]] = defaultdict(set)
    for p, rows in enumerate(pages):
        for text, y0, y1 in rows:
            if text.strip() and _marginal((text, y0, y1), heights[p]):
                seen[(_key(text), round(y0 / 3))].add(p)
    recurring = {key for key, where in seen.items() if len(where) >= need}
    texts: dict[str, set[int]] = defaultdict(set)
    for (text, _), where in seen.items():
        texts[text] |= where
    common = {text for text, where in texts.items() if len(where) >= need}
    bands = sorted({(y0, y1) for p, rows in enumerate(pages) for text, y0, y1 in rows
                    if (_key(text), round(y0 / 3)) in recurring})
    result_rows, labels = [], []
    for p, rows in enumerate(pages):
        marked = _page_furniture(rows, heights[p], recurring, common, bands)
        result_rows.append(frozenset(marked))
        labels.append([c for i in sorted(marked) for c in _label_candidates(rows[i][0])])
    return Furniture(tuple(result_rows), tuple(_choose_labels(labels)))


def _page_furniture(rows: list[Row], height: float | None, recurring: set, common: set[str],
                    bands: list[tuple[float, float]]) -> set[int]:
    """Furniture rows of one page: recurring rows, common texts at the page's edges, band rows."""
    order = sorted((i for i in range(len(rows)) if rows[i][0].strip() and not is_watermark(rows[i][0])),
                   key=lambda i: rows[i][1])
    edges = set(order[:1]) | set(order[-1:])
    edges |= {i for i in order[:2] + order[-2:] if page_number_of(rows[i][0])}
    marked = set()
    for i, (text, y0, y1) in enumerate(rows):
        key = _key(text)
        if is_watermark(text) or not text.strip() or _marginal((text, y0, y1), height) and (
            (key, round(y0 / 3)) in recurring or (i in edges and key in common)
            or (len(text.strip()) <= BAND_TEXT_MAX and _in_band(y0, y1, bands))
        ):
            marked.add(i)
    local = [(rows[i][1], rows[i][2]) for i in marked]
    for i, (text, y0, y1) in enumerate(rows):  # e.g. a section tag beside a shifted page number
        if i not in marked and _marginal((text, y0, y1), height) and len(text.strip()) <= BAND_TEXT_MAX \
                and _in_band(y0, y1, local):
            marked.add(i)
    return marked


def _in_band(y0: float, y1: float, bands: list[tuple[float, float]], slack: float = 2.0) -> bool:
    return any(abs(y0 - b0) <= slack and abs(y1 - b1) <= slack for b0, b1 in bands)
