"""Ruled tables of a PDF page (PyMuPDF `find_tables`), their captions, and continued tables.

Public API:
- `CAPTION`: regex of a table caption row ("TABLE VIII.  ESD test levels.", "Table 7-1: Limits",
  "Table B.2 – Limits …", "TABLE B-II.", "Table A4/1" with its title on the next row).
- `split_caption(text) -> (id, caption, continued) | None`: ("TABLE VIII", "ESD test levels", False);
  references in running text ("Table 5 gives …") are not captions.
- `has_caption(rows_text)`, `has_grid(page, words)`: cheap tests whether `find_tables` is worth
  running (slow: ~0.1-0.2 s a page); the caller runs it on pages with a caption and on every
  page whose ruling lines form a grid with text in it.
- `page_tables(page, words) -> list[RawTable]`: the page's tables, cells as strings (empty cells
  stay ""), multi-line cell text joined with a space, header rows counted; a body cell that
  spans rows (or columns) gives its text to every cell it covers.
- `merge_continued(tables) -> list[RawTable]`: joins continued parts ("TABLE V … - Continued",
  "Table 2 (continued)", or an uncaptioned table right after a table with as many columns, on
  the same page or at the top of the next) into one table, a repeated header dropped.
"""

from __future__ import annotations

import inspect
import logging
import re
from dataclasses import dataclass, field

import pymupdf

from agent.schema import TABLE_WORD

if hasattr(pymupdf, "no_recommend_layout"):
    pymupdf.no_recommend_layout()  # we pass use_layout=False on purpose; no advice on stdout

log = logging.getLogger(__name__)

# the caption word as printed: capitalised or upper case ("Table", "TABELLE"), never lower case
_TABLE_WORDS = "|".join(w for word in TABLE_WORD[3:-1].split("|") for w in (word.capitalize(), word.upper()))
CAPTION = re.compile(
    rf"^\s*(?P<id>(?:{_TABLE_WORDS})\s+(?:(?:[A-Z]{{1,2}}[.\-]?)?\d+(?:[./\-]\d+)*[a-z]?(?![\w/])"
    r"|(?:[A-Z]{1,2}-)?[IVXLC]+\b(?![.\-/]\d)))"
    r"(?P<sep>\s*[.:\u2013\u2014-]\s*|\s+)?(?P<caption>\S.*)?$"
)
_CONTINUED = re.compile(r"[\s(\u2013\u2014-]*\(?\s*continued\s*\)?\.?\s*$", re.IGNORECASE)
_USE_LAYOUT = "use_layout" in inspect.signature(pymupdf.table.find_tables).parameters
MIN_CROSSINGS = 6  # ruling crossings before a page may hold a table (a frame has 4)


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
    if match["caption"] and not (match["sep"] or "").strip() and (
            match["caption"][0].islower() or match["caption"][0] in ",;)"):
        return None  # "Table 5 gives the limits", "Table 3, the modes …": a reference in running text
    caption = (match["caption"] or "").strip()
    continued = bool(_CONTINUED.search(caption)) or caption.lower() == "continued"
    caption = _CONTINUED.sub("", caption).strip() if continued else caption
    caption = caption[:-1].rstrip() if caption.endswith(".") else caption
    return match["id"], caption, continued


def has_caption(rows_text: list[str]) -> bool:
    return any(split_caption(t) for t in rows_text)


def segments(page: pymupdf.Page) -> tuple[list[tuple], list[tuple]]:
    """Horizontal (x0, x1, y) and vertical (y0, y1, x) ruling segments: lines, thin rectangles
    and the edges of other rectangles."""
    across, down = [], []
    for path in page.get_cdrawings():
        for item in path.get("items", ()):
            if item[0] == "re":
                r = pymupdf.Rect(item[1])
                if r.height < 2.5:
                    across.append((r.x0, r.x1, (r.y0 + r.y1) / 2))
                elif r.width < 2.5:
                    down.append((r.y0, r.y1, (r.x0 + r.x1) / 2))
                else:
                    across += [(r.x0, r.x1, r.y0), (r.x0, r.x1, r.y1)]
                    down += [(r.y0, r.y1, r.x0), (r.y0, r.y1, r.x1)]
            elif item[0] == "l":
                (x0, y0), (x1, y1) = item[1], item[2]
                if abs(y0 - y1) < 1 and abs(x0 - x1) > 10:
                    across.append((min(x0, x1), max(x0, x1), y0))
                elif abs(x0 - x1) < 1 and abs(y0 - y1) > 5:
                    down.append((min(y0, y1), max(y0, y1), x0))
    return across, down


def _crossings(across: list[tuple], down: list[tuple]) -> list[tuple[float, float]]:
    return [(h[2], v[2]) for h in across for v in down
            if h[0] - 2 <= v[2] <= h[1] + 2 and v[0] - 2 <= h[2] <= v[1] + 2]


def has_grid(page: pymupdf.Page, words: list[tuple]) -> bool:
    """Cheap pre-check for `find_tables`: ruling lines that cross (rows and columns) and enclose
    text in at least half as many words as the grid has cells (a plot's grid holds few words,
    a page frame has no inner crossings)."""
    crossings = _crossings(*segments(page))
    if len(crossings) < MIN_CROSSINGS:
        return False
    ys, xs = sorted({round(y) for y, _ in crossings}), sorted({round(x) for _, x in crossings})
    if len(ys) < 2 or len(xs) < 2:
        return False
    inside = sum(xs[0] <= (w[0] + w[2]) / 2 <= xs[-1] and ys[0] <= (w[1] + w[3]) / 2 <= ys[-1] for w in words)
    return inside >= max(6, 0.5 * (len(ys) - 1) * (len(xs) - 1))


def page_tables(page: pymupdf.Page, words: list[tuple]) -> list[RawTable]:
    """Ruled tables on `page`; cell text rebuilt from `page.get_text("words")` in reading order."""
    across, down = segments(page)
    kwargs = {"use_layout": False} if _USE_LAYOUT else {}
    try:  # rulings that never cross make no cell: a captioned page of prose skips the finder
        found = page.find_tables(**kwargs).tables if len(_crossings(across, down)) >= MIN_CROSSINGS else []
    except Exception:
        log.warning("find_tables failed on page %d", page.number + 1, exc_info=True)
        return []
    tables = []
    for tab in found:
        rows = [[_cell_text(cell, words) for cell in row.cells] for row in tab.rows]
        merged = [[cell is None for cell in row.cells] for row in tab.rows]
        if _useful(rows, merged):
            header = _header_rows(merged)
            rows, boxes = split_stacked(rows, [list(row.cells) for row in tab.rows], words, header)
            _fill_spans(rows, boxes, header)
            tables.append(RawTable(page.number + 1, tuple(tab.bbox), rows, header, pages=[page.number + 1]))
    tables += boxed_lists(page, words, [t.bbox for t in tables], (across, down))
    return tables + ruled_rows(page, words, [t.bbox for t in tables], (across, down))


def boxed_lists(page: pymupdf.Page, words: list[tuple], taken: list[tuple],
                segments: tuple[list[tuple], list[tuple]]) -> list[RawTable]:
    """One-column tables (a ruled box whose rows are items: `find_tables` wants two columns):
    three or more rules of the same span closed by a rule down each end and none between."""
    across, down = segments
    rules: dict[tuple[int, int], set[float]] = {}
    for x0, x1, y in _joined(across):
        if x1 - x0 > 60:
            rules.setdefault((round(x0 / 3), round(x1 / 3)), set()).add(round(y, 1))
    out = []
    for (a, b), ys in rules.items():
        x0, x1, ys_sorted = a * 3, b * 3, sorted(ys)
        if len(ys_sorted) < 3 or any(_overlaps((x0, ys_sorted[0], x1, ys_sorted[-1]), t) for t in taken):
            continue
        top, bottom = ys_sorted[0], ys_sorted[-1]
        def covered(x: float) -> float:
            return sum(min(v1, bottom) - max(v0, top) for v0, v1, vx in down if abs(vx - x) < 4 and v1 > top and v0 < bottom)
        inner = any(x0 + 6 < vx < x1 - 6 and v1 - v0 > 0.3 * (bottom - top) for v0, v1, vx in down)
        if inner or covered(x0) < 0.8 * (bottom - top) or covered(x1) < 0.8 * (bottom - top):
            continue
        rows = [[_cell_text((x0, y0, x1, y1), words)] for y0, y1 in zip(ys_sorted, ys_sorted[1:])]
        rows = [r for r in rows if r[0]]
        if len(rows) >= 2:
            out.append(RawTable(page.number + 1, (x0, top, x1, bottom), rows, 1, pages=[page.number + 1]))
    return out


COLUMN_GAP = 8.0  # points of blank, all the way down the rows, that part two columns (a word space is ~3)
MAX_ROW = 100.0  # points between two rules of one table (a row of several wrapped lines)


def ruled_rows(page: pymupdf.Page, words: list[tuple], taken: list[tuple],
               segments: tuple[list[tuple], list[tuple]]) -> list[RawTable]:
    """Tables ruled only across (a rule under each row, no column rules; `find_tables` needs
    both): three or more rules of one span, text between each two. Columns part where most
    body rows leave COLUMN_GAP of blank; a row's text that runs across a parting (a cell
    spanning columns) fills each column it covers."""
    across, down = segments
    out = []
    for x0, x1, ys in _rule_runs(across):
        bands = list(zip(ys, ys[1:]))
        inside = [[w for w in words if x0 <= (w[0] + w[2]) / 2 <= x1 and a <= (w[1] + w[3]) / 2 <= b] for a, b in bands]
        while inside and not inside[-1]:  # a page's footer rule just below the table
            bands, inside = bands[:-1], inside[:-1]
        while inside and not inside[0]:
            bands, inside = bands[1:], inside[1:]
        if len(bands) < 2 or not all(inside):
            continue
        top, bottom = bands[0][0], bands[-1][1]
        box = (x0, top, x1, bottom)
        if any(_overlaps(box, t) for t in taken) or any(
                x0 + 6 < vx < x1 - 6 and v1 > top + 2 and v0 < bottom - 2 for v0, v1, vx in down):
            continue
        runs = [_runs(band) for band in inside]
        cuts = _column_cuts(inside[0], runs[1:])
        if not cuts:
            continue
        edges = [x0, *cuts, x1]
        rows = []
        for band_runs in runs:
            row = [""] * (len(edges) - 1)
            for left, right, text in band_runs:
                for c, (a, b) in enumerate(zip(edges, edges[1:])):
                    if min(right, b) - max(left, a) > 1:
                        row[c] = f"{row[c]} {text}".strip()
            rows.append(row)
        rows = _drop_spill(rows)
        if len(rows[0]) >= 2:
            out.append(RawTable(page.number + 1, box, rows, 1, pages=[page.number + 1]))
    return out


def _rule_runs(across: list[tuple]) -> list[tuple[float, float, list[float]]]:
    """(x0, x1, levels) of three or more rules of one span, each within MAX_ROW of the next."""
    spans: dict[tuple[int, int], list[float]] = {}
    for x0, x1, y in _joined(across):
        if x1 - x0 > 60:
            spans.setdefault((round(x0 / 3), round(x1 / 3)), []).append(y)
    runs = []
    for (a, b), levels in spans.items():
        run: list[float] = []
        for y in sorted(levels) + [float("inf")]:
            if run and y - run[-1] < 1.5:
                continue
            if run and y - run[-1] > MAX_ROW:
                if len(run) >= 3:
                    runs.append((a * 3.0, b * 3.0, run))
                run = []
            run.append(y)
    return sorted(runs, key=lambda r: r[2][0])


def _runs(words: list[tuple]) -> list[tuple[float, float, str]]:
    """(x0, x1, text) of the groups of a row's words that no COLUMN_GAP parts (a cell's lines)."""
    groups: list[list[tuple]] = []
    for w in sorted(words, key=lambda w: w[0]):
        if groups and w[0] - max(g[2] for g in groups[-1]) < COLUMN_GAP:
            groups[-1].append(w)
        else:
            groups.append([w])
    return [(min(w[0] for w in g), max(w[2] for w in g),
             " ".join(w[4] for w in sorted(g, key=lambda w: (w[5], w[6], w[7])))) for g in groups]


def _column_cuts(head: list[tuple], rows: list[list[tuple[float, float, str]]]) -> list[float]:
    """Where columns part: blanks of COLUMN_GAP that all body rows but a quarter leave (a
    quarter may hold cells spanning columns), cut where the most rows are blank and the header
    row's words (`head`) leave room."""
    if not rows:
        return []
    lo = int(min(r[0] for row in rows for r in row))
    hi = int(max(r[1] for row in rows for r in row))
    need = len(rows) - max(len(rows) // 4, 1 if len(rows) >= 3 else 0)
    count = [sum(not any(a <= x <= b for a, b, _ in row) for row in rows) for x in range(lo, hi + 1)]
    open_head = [not any(w[0] <= x <= w[2] for w in head) for x in range(lo, hi + 1)]
    cuts, start = [], None
    for i, n in enumerate(count + [0]):
        if n >= need and start is None:
            start = i
        elif n < need and start is not None:
            room = [k for k in range(start, i) if open_head[k]]
            if i - start >= COLUMN_GAP - 1 and room:
                best = max(count[k] for k in room)
                at = [k for k in room if count[k] == best]
                cuts.append(lo + (at[0] + at[-1]) / 2)
            start = None
    return cuts


def _drop_spill(rows: list[list[str]]) -> list[list[str]]:
    """Columns whose cells only repeat the cell on their left (one long cell running past a
    blank that the other rows leave) joined to that column."""
    keep = [c for c in range(len(rows[0])) if c == 0 or any(r[c] and r[c] != r[c - 1] for r in rows)]
    return [[r[c] for c in keep] for r in rows]


def _joined(across: list[tuple]) -> list[tuple[float, float, float]]:
    """Horizontal segments on one level that touch joined into one rule."""
    out: list[list[float]] = []
    for x0, x1, y in sorted(across, key=lambda s: (round(s[2]), s[0])):
        if out and abs(out[-1][2] - y) < 1.5 and x0 <= out[-1][1] + 3:
            out[-1][1] = max(out[-1][1], x1)
        else:
            out.append([x0, x1, y])
    return [tuple(s) for s in out]


def _overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


STACK_TOLERANCE = 0.45  # lines of two cells are on one level when their middles are this many line heights apart
_VALUE_LINE = re.compile(r"^[^A-Za-z]*\d[^\s]*(?:\s+\S+){0,3}$")  # "5,000", "1,000 3", "800/ or 500 4", "±8 kV"


def split_stacked(rows: list[list[str]], boxes: list[list[tuple | None]], words: list[tuple],
                  header: int) -> tuple[list[list[str]], list[list[tuple | None]]]:
    """Body rows that stack several logical rows with no ruling between them (a column of values
    one above the other, level with the lines of another column) split into one row per level.
    A column's lines above the first level (a group title, "Commercial Power Lines") head every
    level; an outdented line between levels heads the levels below it; a column with one line
    gives it to every level."""
    out_rows, out_boxes = rows[:header], boxes[:header]
    for r in range(header, len(rows)):
        parts = _stacked(boxes[r], words)
        if parts is None:
            out_rows.append(rows[r])
            out_boxes.append(boxes[r])
            continue
        out_rows += [texts for texts, _ in parts]
        out_boxes += [bxs for _, bxs in parts]
    return out_rows, out_boxes


def _cell_lines(cell: tuple, words: list[tuple]) -> list[tuple[float, float, float, str]]:
    """(middle y, height, x0, text) of each text line inside a cell, top to bottom."""
    x0, y0, x1, y1 = cell
    lines: dict[tuple[int, int], list[tuple]] = {}
    for w in words:
        if x0 <= (w[0] + w[2]) / 2 <= x1 and y0 <= (w[1] + w[3]) / 2 <= y1:
            lines.setdefault((w[5], w[6]), []).append(w)
    out = [((min(w[1] for w in ws) + max(w[3] for w in ws)) / 2, max(w[3] for w in ws) - min(w[1] for w in ws),
            min(w[0] for w in ws), " ".join(w[4] for w in sorted(ws, key=lambda w: w[7]))) for ws in lines.values()]
    return sorted(out)


def _stacked(cells: list[tuple | None], words: list[tuple]) -> list[tuple[list[str], list[tuple | None]]] | None:
    per_cell = [_cell_lines(c, words) if c is not None else [] for c in cells]
    heights = sorted(h for lines in per_cell for _, h, _, _ in lines)
    if len(heights) < 4:
        return None
    tol = STACK_TOLERANCE * heights[len(heights) // 2]
    levels: list[list[float]] = []  # [middle y, number of cells with a line there]
    for y, c in sorted((y, c) for c, lines in enumerate(per_cell) for y, _, _, _ in lines):
        if levels and y - levels[-1][0] <= tol:
            levels[-1][1].add(c)
        else:
            levels.append([y, {c}])
    shared = [y for y, owners in levels if len(owners) >= 2]
    if len(shared) < 2 or len(shared) > 40:
        return None
    def level_of(y: float) -> int | None:
        return next((k for k, s in enumerate(shared) if abs(y - s) <= tol), None)
    stacked_values = any(
        len({level_of(y) for y, _, _, _ in lines} - {None}) >= 2 and all(_VALUE_LINE.match(t) for *_, t in lines)
        for lines in per_cell)
    if not stacked_values:
        return None
    texts = [[""] * len(cells) for _ in shared]
    for c, lines in enumerate(per_cell):
        if len(lines) == 1 or not any(level_of(y) is not None for y, *_ in lines):
            for row in texts:
                row[c] = " ".join(t for *_, t in lines)
            continue
        for k, parts in enumerate(_distribute(lines, level_of, len(shared))):
            texts[k][c] = " ".join(parts)
    bounds = [cells_top(cells)] + [(a + b) / 2 for a, b in zip(shared, shared[1:])] + [cells_bottom(cells)]
    return [(texts[k], [None if c is None else (c[0], bounds[k], c[2], bounds[k + 1]) for c in cells])
            for k in range(len(shared))]


def _distribute(lines: list[tuple[float, float, float, str]], level_of, count: int) -> list[list[str]]:
    """A column's lines given to the levels: a line on a level goes there (left to right), a
    line above the first level or outdented between levels is a group title heading the levels
    below it, any other line continues the level above."""
    own: list[list[tuple[float, str]]] = [[] for _ in range(count)]
    heads: list[tuple[float, str]] = []  # (x0, text) of the group titles over the levels below
    given: list[str] = [""] * count
    last = None
    for i, (y, _, x0, t) in enumerate(lines):
        k = level_of(y)
        if k is not None:
            if not own[k]:
                given[k] = " ".join(h for _, h in heads)
            own[k].append((x0, t))
            last = k
            continue
        nxt = lines[i + 1][2] if i + 1 < len(lines) else None
        if last is None or (nxt is not None and x0 < nxt - 1):
            heads = [h for h in heads if h[0] < x0 - 1] + [(x0, t)]
        else:
            own[last].append((float("inf"), t))
    return [[p for p in [given[k], *(t for _, t in sorted(own[k], key=lambda p: p[0]))] if p] for k in range(count)]


def cells_top(cells: list[tuple | None]) -> float:
    return min(c[1] for c in cells if c is not None)


def cells_bottom(cells: list[tuple | None]) -> float:
    return max(c[3] for c in cells if c is not None)


def _fill_spans(rows: list[list[str]], boxes: list[list[tuple | None]], header: int) -> None:
    """Body cells covered by a spanning cell (None from find_tables) take its text: the cell
    above when its box reaches down over this row, else the cell to the left reaching across.
    A header cell spanning columns ("Class A" over quasi-peak and average) heads each of them."""
    for r in range(min(header, len(rows)) if header > 1 else 0):
        for c, box in enumerate(boxes[r]):
            if box is not None or rows[r][c] or c == 0:
                continue
            left = next((k for k in range(c - 1, -1, -1) if boxes[r][k] is not None), None)
            if left is not None and rows[r][left] and boxes[r][left][2] > _column_middle(boxes, c):
                rows[r][c] = rows[r][left]
    for r in range(header, len(rows)):
        for c, box in enumerate(boxes[r]):
            if box is not None or rows[r][c]:
                continue
            mid_y = _row_middle(boxes[r])
            for k in range(r - 1, -1, -1):
                above = boxes[k][c] if c < len(boxes[k]) else None
                if above is not None:
                    if mid_y is not None and above[3] >= mid_y and k >= header:
                        rows[r][c] = rows[k][c]
                    break
            else:
                continue
            if not rows[r][c] and c > 0 and boxes[r][c - 1] is None and rows[r][c - 1]:
                rows[r][c] = rows[r][c - 1]  # spans a row and columns: follow the left one
            elif not rows[r][c]:
                left = next((k for k in range(c - 1, -1, -1) if boxes[r][k] is not None), None)
                if left is not None and boxes[r][left][2] > _column_middle(boxes, c):
                    rows[r][c] = rows[r][left]


def _row_middle(cells: list[tuple | None]) -> float | None:
    ys = [(b[1] + b[3]) / 2 for b in cells if b is not None]
    return min(ys) if ys else None


def _column_middle(boxes: list[list[tuple | None]], c: int) -> float:
    xs = [(row[c][0] + row[c][2]) / 2 for row in boxes if c < len(row) and row[c] is not None]
    return min(xs) if xs else float("inf")


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
        if prev is not None and _continues(prev, tab):
            body = tab.body if tab.header == prev.header else tab.rows
            prev.rows.extend(body)
            if tab.page not in prev.pages:
                prev.pages.append(tab.page)
            continue
        out.append(tab)
    return out


def _continues(prev: RawTable, tab: RawTable) -> bool:
    if tab.id:
        return tab.id == prev.id
    width = max(len(r) for r in tab.rows)
    near = tab.page in (prev.pages[-1], prev.pages[-1] + 1)
    if tab.clause and prev.clause and tab.clause != prev.clause:
        return False  # a heading between the two: the lower one is another clause's table
    return near and (tab.header == prev.header or width == max(len(r) for r in prev.rows))
