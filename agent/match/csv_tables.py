"""Ragged CSV tables (as a PDF table tool and pandas wrote them) read into `agent.schema.Table`."""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Sequence
from pathlib import Path

from agent.errors import NotFound, SpecAgentError
from agent.schema import Table

log = logging.getLogger(__name__)

_UNNAMED = re.compile(r"^Unnamed: \d+$")
_DEDUP = re.compile(r"^(?P<base>.*)\.(?P<n>\d+)$")
_FLOATISH = re.compile(r"^-?\d+(?:\.\d+)?$")


def _join_wrapped(text: str) -> str:
    """A cell's own line breaks (the tool wrapped a word: "87.\\r255", "AMP\\rS") joined back."""
    parts = [p.strip() for p in re.split(r"\r\n|\r|\n", text)]
    out = ""
    for part in parts:
        if not part:
            continue
        if not out:
            out = part
            continue
        a, b = out[-1], part[0]
        glue = b.isdigit() or b.islower() or (a.isupper() and b.isupper()) or a in "~/(-."
        out += part if glue and not a.isspace() else " " + part
    return out


def _undo_pandas_header(cells: list[str]) -> list[str]:
    """pandas renamed repeated header cells "X" to "X.1", "X.2": undo that ("-.1" → "-")."""
    seen: set[str] = set()
    out = []
    for cell in cells:
        m = _DEDUP.match(cell)
        if m and m["base"] in seen:
            cell = m["base"]
        seen.add(cell)
        out.append(cell)
    return out


def _undo_float_columns(rows: list[list[str]]) -> None:
    """A column pandas read as floats shows "22.0", "1000.0": back to the printed "22", "1000"."""
    width = max((len(r) for r in rows), default=0)
    for c in range(width):
        numbers = [r[c] for r in rows[1:] if c < len(r) and _FLOATISH.match(r[c])]
        if len(numbers) >= 2 and all(n.endswith(".0") for n in numbers):
            for r in rows[1:]:
                if c < len(r) and _FLOATISH.match(r[c]):
                    r[c] = r[c][:-2]


def read_csv_rows(path: str | Path) -> list[list[str]]:
    """The cleaned cells of one CSV file, every line a row (header lines included)."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            raw = [list(r) for r in csv.reader(fh)]
    except FileNotFoundError as err:
        raise NotFound(f"{p.name}: no such CSV file; check the path.") from err
    except (UnicodeDecodeError, csv.Error) as err:
        raise SpecAgentError(f"{p.name}: not a readable UTF-8 CSV table ({err}); export it again.") from err
    rows = [["" if _UNNAMED.match(c.strip()) else _join_wrapped(c) for c in r] for r in raw]
    if rows:
        rows[0] = _undo_pandas_header(rows[0])
    _undo_float_columns(rows)
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows if any(c for c in r)]


def _fold_into_used_columns(base: list[list[str]], more: list[list[str]]) -> list[list[str]]:
    """Continuation rows whose cells sit in a column the first part never uses move left.

    The table tool split "No. Band name" into two columns on one page and not on the other.
    """
    width = max([len(r) for r in base + more] or [0])
    used = [any(c < len(r) and r[c] for r in base) for c in range(width)]
    out = []
    for row in more:
        row = row + [""] * (width - len(row))
        for c in range(1, width):
            if not used[c] and row[c]:
                left = max((i for i in range(c) if used[i]), default=None)
                if left is not None:
                    row[left] = f"{row[left]} {row[c]}".strip()
                    row[c] = ""
        out.append(row)
    return out


def read_csv_table(
    paths: str | Path | Sequence[str | Path],
    table_id: str | None = None,
    caption: str = "",
    clause: str | None = None,
    page: int | None = None,
    doc: str = "",
) -> Table:
    """One table from a CSV file and its continuation files (the same table on later pages).

    Everything goes into `rows`; `agent.match.tables.TypedTable` finds the header rows.
    """
    files = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not files:
        raise NotFound("no CSV file given; name at least one table CSV.")
    rows = read_csv_rows(files[0])
    for extra in files[1:]:
        rows += _fold_into_used_columns(rows, read_csv_rows(extra))
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    log.info("read %d rows x %d columns from %s", len(rows), width, ", ".join(map(str, files)))
    return Table(
        id=table_id or Path(files[0]).stem,
        caption=caption,
        clause=clause,
        page=page,
        header=(),
        rows=tuple(tuple(r) for r in rows),
        doc=doc,
    )
