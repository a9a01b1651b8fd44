"""Pages set in two columns: where the gutter is, and the order a reader reads such a page in.

A two-column page is read column by column between the things that run across the full width
(a title block, a wide table, a heading set over both columns): each such full-width item
starts a band, and inside a band the left column is read before the right one. Lines of the
two columns that share a baseline are never joined into one row.

- `find_gutter(lines, width) -> float | None`: the x where the right column starts, for a page
  whose prose runs in two columns side by side; None for a single-column page. A table with a
  column of values at mid-page is not taken for a second column: both columns' lines must run
  on to near their column's edge, as wrapped prose does.
- `column_of(x0, x1, gutter) -> int`: -1 for an item across the gutter, 0 left, 1 right.
- `reading_key(y0, col, separators) -> tuple`: sort key of an item given the y of the page's
  full-width items (its band, then its column, then its height on the page).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence

Box = tuple[float, float, float, float, int]  # x0, y0, x1, y1, characters

PROSE_CHARS = 8  # a line shorter than this says nothing about the layout
MIN_LINES = 5  # lines each column needs for a page to be set in two columns
FILL = 0.75  # the share of its column's width a wrapped prose line reaches, at least (median)
MAX_CROSSING = 0.5  # lines across the gutter, at most, per line in the columns


def find_gutter(lines: Sequence[Box], width: float) -> float | None:
    """The x where the right column starts, or None for a page in one column."""
    mid = width / 2
    near_mid = [round(x0) for x0, _, _, _, n in lines if n >= PROSE_CHARS and abs(x0 - mid) < 0.15 * width]
    if not near_mid:
        return None
    start = Counter(near_mid).most_common(1)[0][0]
    right = [b for b in lines if abs(b[0] - start) <= 3 and b[4] >= PROSE_CHARS]
    left = [b for b in lines if b[2] <= start - 4 and b[0] < mid - 0.15 * width and b[4] >= PROSE_CHARS]
    if len(right) < MIN_LINES or len(left) < MIN_LINES:
        return None
    left_edge = min(b[0] for b in left)
    right_edge = max(b[2] for b in right)
    if not (_fills([b[2] - left_edge for b in left], start - left_edge)
            and _fills([b[2] - start for b in right], right_edge - start)):
        return None  # short cells beside each other: a table, not two columns of prose
    if not _side_by_side(left, right):
        return None
    crossing = sum(1 for b in lines if b[0] < start - 4 and b[2] > start + 4)
    if crossing > MAX_CROSSING * (len(left) + len(right)):
        return None
    return start - 2


def _fills(reach: list[float], column_width: float) -> bool:
    reach = sorted(reach)
    return column_width > 0 and reach[len(reach) // 2] >= FILL * column_width


def _side_by_side(left: Sequence[Box], right: Sequence[Box]) -> bool:
    """Do the two columns share most of their height (not a left block above a right block)?"""
    top, bottom = max(min(b[1] for b in left), min(b[1] for b in right)), min(
        max(b[3] for b in left), max(b[3] for b in right))
    span = max(max(b[3] for b in left), max(b[3] for b in right)) - min(min(b[1] for b in left),
                                                                         min(b[1] for b in right))
    return span > 0 and (bottom - top) > 0.3 * span


def column_of(x0: float, x1: float, gutter: float | None) -> int:
    if gutter is None:
        return 0
    if x0 < gutter - 2 and x1 > gutter + 2:
        return -1
    return 1 if x0 >= gutter - 2 else 0


def reading_key(y0: float, col: int, separators: Sequence[float]) -> tuple[int, int, float]:
    """(band, column, y): a full-width item opens its band (column -1 sorts first in it)."""
    return bisect_right(separators, y0 + 0.5), col, y0
