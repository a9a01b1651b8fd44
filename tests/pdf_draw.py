"""Drawing test PDFs with PyMuPDF: a fully ruled table, as word processors print one."""

from __future__ import annotations

import pymupdf


def ruled_table(page: pymupdf.Page, top: float, rows: list[list[str]], xs: list[float],
                row_height: float = 18, fontsize: float = 8) -> float:
    """`rows` in cells whose left edges are `xs[:-1]` (right edge `xs[-1]`), ruled across and
    down, from `top`; the y of the bottom rule."""
    y = top
    for row in rows:
        for c, text in enumerate(row):
            page.insert_text((xs[c] + 3, y + row_height - 5), text, fontsize=fontsize)
        y += row_height
    for k in range(len(rows) + 1):
        page.draw_line((xs[0], top + row_height * k), (xs[-1], top + row_height * k))
    for x in xs:
        page.draw_line((x, top), (x, y))
    return y
