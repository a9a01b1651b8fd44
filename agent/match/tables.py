"""Tables as typed data (merged headers, sections, continuation rows) and "value at X" lookups."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from agent.errors import NotFound, SpecAgentError
from agent.match.formula import parse_formula
from agent.match.units import (
    CANONICAL_UNITS,
    SCALES,
    Cell,
    Quantity,
    detector_spellings,
    fold,
    format_number,
    parse_cell,
    parse_quantity,
    unit_in_label,
)
from agent.schema import TABLE_WORD, Table

log = logging.getLogger(__name__)

_DANGLING = ("~", "-", "–", "—", "+", "/", "(", "·")
_NUMTOK = r"[+-]?\d+(?:[.,]\d+)?"
_LABEL_UNITS = {"hz": "Hz", "khz": "kHz", "mhz": "MHz", "ghz": "GHz", "kv": "kV"}


# --------------------------------------------------------------------------- text fragments
def join_fragments(a: str, b: str, header: bool = False) -> str:
    """Two pieces of one cell that the PDF tool put on separate lines, joined as printed.

    "Bandwi"+"dth" → "Bandwidth", "dB(μ"+"V)" → "dB(μV)", "B"+"5" → "B5", "68 –"+"25.13" → "68 – 25.13".
    """
    a, b = a.strip(), b.strip()
    if not a or not b:
        return a or b
    last, first = a[-1], b[0]
    if a.count("(") > a.count(")") or last in "~/(" or first in ")~/":
        return a + b
    if last in "-\u2010" and len(a) > 1 and not a[-2].isspace():
        return a + b  # "Stepped-" + "Tuned"
    if b == "-":
        return a + b
    if re.search(r"(?:^|\s)[A-Z]$", a) and re.match(r"\d+$", b):
        return a + b  # row label "B" + "5"
    if header and re.match(r"[A-Z] \S", a) and re.fullmatch(r"[a-z][a-z.]{0,2}", b):
        return a[0] + b + a[1:]  # "N Band name" + "o." → "No. Band name"
    if first.islower() and last.isalpha():
        word = b.split(" ")[0].rstrip(".,;:")
        if word.isalpha() and word.islower() and (len(word) <= 3 or not re.search(r"[aeiouy]", word)):
            return a + b  # "Bandwi" + "dth", "Limit" + "s"
    if last == "." and a[-2:-1].isdigit() and first.isdigit():
        return a + b
    return f"{a} {b}"


def _repair_detached(lines: list[str]) -> list[str]:
    """PyMuPDF puts a range dash or a decimal point on its own line: "30 Hz 1 kHz" / "-"."""
    if len(lines) == 2 and lines[1] in ("-", "–", "—"):
        m = re.fullmatch(rf"({_NUMTOK}\s*[A-Za-zµμ]*)\s+({_NUMTOK}.*)", lines[0])
        if m:
            return [f"{m[1]} - {m[2]}"]
    if len(lines) == 2 and lines[1] == ".":
        m = re.fullmatch(r"(\d+) (\d+)(.*)", lines[0])
        if m:
            return [f"{m[1]}.{m[2]}{m[3]}"]
    return lines


def cell_text(value: Any, header: bool = False) -> str:
    """A cell as one line of text (None → "", its own line breaks joined)."""
    if value is None:
        return ""
    lines = [ln.strip() for ln in re.split(r"\r\n|\r|\n", str(value)) if ln.strip()]
    text = ""
    for line in _repair_detached(lines):
        text = join_fragments(text, line, header)
    return text


def _tidy_label(label: str) -> str:
    tokens = []
    for token in re.sub(r"\s+", " ", label.replace("\u03bc", "\u00b5")).strip().split(" "):
        bare = token.strip("()")
        if bare.lower() in _LABEL_UNITS:
            token = token.replace(bare, _LABEL_UNITS[bare.lower()])
        tokens.append(token)
    return re.sub(r"(?<=[A-Za-z])- (?=[A-Za-z])", "-", " ".join(t for t in tokens if t))


# --------------------------------------------------------------------------- typed table
@dataclass(frozen=True)
class Column:
    """One column: its merged header label and the unit the header names."""

    index: int  # position in the source Table's rows
    label: str
    unit: str | None


@dataclass(frozen=True)
class Row:
    """A data row, continuation lines merged in, with the section it sits under."""

    index: int  # index in the source Table's rows of its first line
    cells: tuple[Cell, ...]  # one per TypedTable column
    section: str | None = None
    lines: tuple[int, ...] = ()  # every source row merged into this one


def _is_data_line(texts: Sequence[str]) -> bool:
    parsed = [parse_cell(t) for t in texts]
    numeric = [p for p in parsed if p.kind in ("value", "range")]
    if any(p.kind == "range" for p in numeric) or len(numeric) >= 2:
        return True
    return bool(parsed) and parsed[0].kind == "value" and any(p.kind != "empty" for p in parsed[1:])


def _is_section_line(texts: Sequence[str]) -> bool:
    filled = [i for i, t in enumerate(texts) if t]
    if filled != [0]:
        return False
    t = texts[0]
    return (
        parse_cell(t).kind == "text"
        and len(t) >= 4
        and re.search(r"[A-Za-z]", t) is not None
        and not t[0].islower()
        and (" " in t or re.search(r"[a-z]", t) is not None)
        and not t.lower().startswith("note")
        and t.count(")") <= t.count("(")
    )


def _is_note_line(texts: Sequence[str]) -> bool:
    """"Note:" lines, and footnote text under a table ("1/ Rise time is ...", "* For ...")."""
    filled = [t for t in texts if t]
    if filled and re.match(r"notes?\b", filled[0], re.IGNORECASE):
        return True
    return len(filled) == 1 and bool(re.match(r"(?:\d{1,2}/|\d{1,2}\)|\*+)\s*[A-Z][a-z]+ ", filled[0]))


def _merge_header(lines: list[list[str]], width: int) -> list[str]:
    """One label per column; a group label ("PK" over Limits and Bandwidth) spans right."""
    grid = [list(r) for r in lines]
    for r in range(len(grid) - 1):
        for c in range(1, width):
            above_empty = all(not grid[k][c] for k in range(r + 1))
            below = any(grid[k][c] for k in range(r + 1, len(grid)))
            left_below = any(grid[k][c - 1] for k in range(r + 1, len(grid)))
            if above_empty and below and left_below and grid[r][c - 1]:
                grid[r][c] = grid[r][c - 1]
    labels = []
    for c in range(width):
        label = ""
        for r in range(len(grid)):
            label = join_fragments(label, grid[r][c], header=True)
        labels.append(_tidy_label(label))
    return labels


def _unique(labels: list[str]) -> list[str]:
    out: list[str] = []
    for i, label in enumerate(labels):
        label = label or f"Column {i + 1}"
        name, n = label, 2
        while name in out:
            name, n = f"{label} ({n})", n + 1
        out.append(name)
    return out


def _choose_key(labels: list[str], parsed: list[list[Cell]]) -> int | None:
    """The column that identifies a row: the frequency column, else the most-filled numeric one."""
    if not parsed:
        return None
    width = len(labels)
    numeric = [sum(r[c].kind in ("value", "range") for r in parsed) for c in range(width)]
    ranges = [sum(r[c].kind == "range" for r in parsed) for c in range(width)]
    freq = [c for c in range(width) if "freq" in labels[c].lower() and numeric[c]]
    if freq:
        return freq[0]
    full = [c for c in range(width) if numeric[c] >= 0.5 * len(parsed)]
    if not full:
        return None
    with_ranges = [c for c in full if ranges[c]]
    return max(with_ranges, key=lambda c: (ranges[c], -c)) if with_ranges else full[0]


def _continues(prev: list[str] | None, texts: list[str], key: int | None) -> bool:
    """A line that finishes the row above: no key value, or it completes a dangling cell."""
    if prev is None:
        return False
    if key is not None and not texts[key]:
        return True
    return any(
        t and re.search(r"\w", p) and (p.endswith(_DANGLING) or p.count("(") > p.count(")"))
        for p, t in zip(prev, texts)
    )


@dataclass(frozen=True)
class TypedTable:
    """A schema `Table` read as data: labelled columns with units, typed cells, sections."""

    table: Table
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    key: int | None  # position in `columns` of the column that identifies a row
    header_lines: int = 0  # header lines found inside `table.rows`
    notes: tuple[str, ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(c.label for c in self.columns)

    @classmethod
    def from_table(cls, table: Table) -> TypedTable:
        width = max([len(r) for r in (*table.header, *table.rows)] or [0])
        pad = lambda r, h: [cell_text(c, h) for c in r] + [""] * (width - len(r))
        header = [pad(r, True) for r in table.header]
        body = [pad(r, False) for r in table.rows]
        start = _header_end(header, body)
        header += [h for h in (pad(r, True) for r in table.rows[:start]) if h not in header]
        labels = _unique(_merge_header(header, width)) if header else _unique([""] * width)
        units = _caption_unit([unit_in_label(lb) for lb in labels], table.caption, body[start:])
        rows, notes, key = _build_rows(body, start, labels, units)
        keep = [c for c in range(width) if not labels[c].startswith("Column ")
                or any(r.cells[c].kind != "empty" for r in rows)]
        columns = tuple(Column(c, labels[c], units[c]) for c in keep)
        rows = [replace(r, cells=tuple(r.cells[c] for c in keep)) for r in rows]
        key_pos = keep.index(key) if key in keep else None
        return cls(table, columns, tuple(rows), key_pos, start, tuple(notes))

    def column(self, name: str) -> int:
        """Position of the column whose label best matches `name` (fuzzy); NotFound if none."""
        scores = [_label_score(name, c.label) for c in self.columns]
        best = max(range(len(scores)), key=lambda i: (scores[i], -i), default=None)
        if best is None or scores[best] <= 0:
            raise NotFound(
                f"{self.table.id}: no column like {name!r}; columns are {', '.join(self.labels)}."
            )
        return best

    def cells_of(self, row: Row) -> dict[str, Cell]:
        return {c.label: cell for c, cell in zip(self.columns, row.cells)}


def _caption_unit(units: list[str | None], caption: str, body: list[list[str]]) -> list[str | None]:
    """A level unit the caption gives ("Limits for radiated emissions, dBµV/m") goes to every
    column without a unit of its own whose cells are bare numbers ("Class 3": "30")."""
    unit = unit_in_label(caption or "")
    if unit is None or unit not in CANONICAL_UNITS or SCALES.get(unit, ("",))[0] in ("frequency", "length"):
        return units
    def numeric(c: int) -> bool:
        cells = [parse_cell(r[c]) for r in body if c < len(r) and r[c].strip()]
        bare = [x for x in cells if x.kind == "value" and x.value is not None and not x.value.unit]
        return bool(cells) and len(bare) >= 0.6 * len(cells)
    return [u if u is not None or not numeric(c) else unit for c, u in enumerate(units)]


def _header_end(header: list[list[str]], body: list[list[str]]) -> int:
    """How many leading body lines are still header (section lines before the first data stay body)."""
    first = next((i for i, r in enumerate(body) if _is_data_line(r)), None)
    if first is None:
        return 0 if header or not body else 1
    end = first
    while end > 0 and _is_section_line(body[end - 1]):
        end -= 1
    return end


def _build_rows(
    body: list[list[str]], start: int, labels: list[str], units: list[str | None]
) -> tuple[list[Row], list[str], int | None]:
    candidates = [r for r in body[start:] if not _is_section_line(r) and not _is_note_line(r)]
    key = _choose_key(labels, [[parse_cell(t, u) for t, u in zip(r, units)] for r in candidates])
    merged: list[tuple[int, list[str], str | None, list[int]]] = []
    notes: list[str] = []
    section: str | None = None
    prev: list[str] | None = None
    for i in range(start, len(body)):
        texts = body[i]
        if notes or _is_note_line(texts):
            notes.append(" ".join(t for t in texts if t))
        elif _is_section_line(texts) and not _continues(prev, texts, None):
            section, prev = texts[0], None
        elif _continues(prev, texts, key) and merged:
            row = merged[-1]
            row[1][:] = [join_fragments(p, t) for p, t in zip(row[1], texts)]
            row[3].append(i)
        else:
            merged.append((i, list(texts), section, [i]))
            prev = merged[-1][1]
    rows = [Row(i, tuple(_typed_cell(t, u) for t, u in zip(texts, units)), sec, tuple(lines))
            for i, texts, sec, lines in merged]
    return rows, notes, key


def _typed_cell(text: str, unit: str | None) -> Cell:
    cell = parse_cell(text, unit)
    if cell.kind == "text":
        formula = parse_formula(cell.text)
        if formula is not None:
            return replace(cell, formula=formula.text)
    return cell


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"\w+", fold(text).lower()))


def _label_score(query: str, label: str) -> float:
    q, lb = fold(query).lower(), fold(label).lower()
    if not q or not lb:
        return 0.0
    if q == lb:
        return 100.0
    if q in lb:
        return 50.0 - len(lb) / 100
    if lb in q:
        return 40.0 - len(lb) / 100
    tq, tl = _tokens(q), _tokens(lb)
    return 30.0 * len(tq & tl) / len(tq | tl) if tq | tl else 0.0


# --------------------------------------------------------------------------- lookups
@dataclass(frozen=True)
class Selected:
    """A cell a lookup picked: its row (source index), column label and typed cell."""

    row: int
    column: str
    cell: Cell


@dataclass(frozen=True)
class RowView:
    row: int  # index in the source Table's rows
    section: str | None
    cells: Mapping[str, Cell]  # by merged column label


@dataclass(frozen=True)
class LookupResult:
    """The rows and cells a lookup selected, with what a citation needs."""

    table: str
    doc: str
    clause: str | None
    page: int | None
    caption: str
    rows: tuple[RowView, ...]
    cells: tuple[Selected, ...]
    at: Quantity | None = None
    at_column: str | None = None

    def cell(self, column: str, row: int | None = None) -> Cell:
        """The selected (else any matched-row) cell whose column label best matches `column`."""
        pool = [(s.row, s.column, s.cell) for s in self.cells]
        pool += [(r.row, label, c) for r in self.rows for label, c in r.cells.items()]
        pool = [p for p in pool if row is None or p[0] == row]
        scored = [(_label_score(column, label), -k, cell) for k, (_, label, cell) in enumerate(pool)]
        best = max(scored, key=lambda s: (s[0], s[1]), default=None)
        if best is None or best[0] <= 0:
            raise NotFound(f"{self.table}: no selected cell in a column like {column!r}.")
        return best[2]

    def to_json(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "table": self.table,
            "clause": self.clause,
            "page": self.page,
            "rows": [{"row": r.row, "section": r.section, "cells": {k: c.raw for k, c in r.cells.items()}}
                     for r in self.rows],
            "cells": [
                {
                    "row": s.row,
                    "column": s.column,
                    "raw": s.cell.raw,
                    "value": _cell_number(s.cell),
                    "unit": _cell_unit(s.cell),
                    "formula": s.cell.formula,
                }
                for s in self.cells
            ],
        }


def _cell_number(cell: Cell) -> float | None:
    return cell.value.value if cell.value is not None else None


def _cell_unit(cell: Cell) -> str | None:
    if cell.value is not None:
        return cell.value.unit or None
    if cell.range is not None:
        end = cell.range.low or cell.range.high
        return end.unit or None if end else None
    return None


def _match_level(cell: Cell, query: str, unit: str | None) -> int:
    """2: the cell says the query (unit-aware, ± ignored); 1: the query's words are in it; 0: no."""
    q = parse_cell(query, unit)
    if q.kind == "value" and q.value is not None:
        if cell.kind == "value" and cell.value is not None:
            v = cell.value.comparable(q.value)
            return 2 if v is not None and math.isclose(v, cell.value.value, rel_tol=1e-9, abs_tol=1e-12) else 0
        if cell.kind == "range" and cell.range is not None:
            return 1 if cell.range.contains(q.value) else 0
    if q.kind == "range" and q.range is not None and cell.kind == "range" and cell.range is not None:
        return 2 if _same_range(cell, q) else 0
    ct, qt = fold(cell.text).lower(), fold(q.text or query).lower()
    if not qt:
        return 0
    if ct == qt:
        return 2
    return 1 if re.search(rf"(?<!\w){re.escape(qt)}(?!\w)", ct) else 0


def _same_range(a: Cell, b: Cell) -> bool:
    assert a.range is not None and b.range is not None
    for x, y in ((a.range.low, b.range.low), (a.range.high, b.range.high)):
        if (x is None) != (y is None):
            return False
        if x is not None and y is not None:
            v = x.comparable(y)
            if v is None or not math.isclose(v, x.value, rel_tol=1e-9):
                return False
    return True


def _filter_where(typed: TypedTable, rows: list[Row], column: str, value: str) -> tuple[list[Row], int]:
    c = typed.column(column)
    unit = typed.columns[c].unit
    levels = [(_match_level(r.cells[c], value, unit), r) for r in rows]
    best = max((lv for lv, _ in levels), default=0)
    return ([r for lv, r in levels if lv == best] if best else []), c


def _at_column(typed: TypedTable, q: Quantity) -> int:
    """The column of bands (or single values) that `q` can be compared with."""
    def comparable(cell: Cell) -> bool:
        ends = [cell.value] if cell.value is not None else []
        if cell.range is not None:
            ends += [e for e in (cell.range.low, cell.range.high) if e is not None]
        return any(e.unit and e.comparable(q) is not None for e in ends) or (
            bool(ends) and not any(e.unit for e in ends) and not q.unit
        )
    scores = [sum(comparable(r.cells[c]) for r in typed.rows) for c in range(len(typed.columns))]
    if typed.key is not None and scores[typed.key]:
        scores[typed.key] += 0.5
    if q.dimension == "frequency":
        scores = [s + (0.5 if s and "freq" in typed.columns[c].label.lower() else 0) for c, s in enumerate(scores)]
    best = max(range(len(scores)), key=lambda c: (scores[c], -c), default=None)
    if best is None or scores[best] <= 0:
        raise NotFound(f"{typed.table.id}: no column of values comparable with {q}; columns are "
                       f"{', '.join(typed.labels)}.")
    return best


def _rows_at(typed: TypedTable, rows: list[Row], c: int, q: Quantity) -> list[Row]:
    inside = [r for r in rows if r.cells[c].range is not None and r.cells[c].range.contains(q)]
    singles = [(abs(v - r.cells[c].value.value), r) for r in rows if r.cells[c].value is not None
               and (v := r.cells[c].value.comparable(q)) is not None]
    exact = [r for d, r in singles if d <= 1e-9 * max(1.0, abs(q.value))]
    if inside or exact:
        return [r for r in rows if r in inside or r in exact]
    if singles:
        nearest = min(d for d, _ in singles)
        return [r for d, r in singles if math.isclose(d, nearest)]
    return []


def _log_linear(cell: Cell, band: Cell, q: Quantity, unit: str | None) -> Cell:
    """A limit printed as "66 to 56" across a band: linear in lg f between the band edges,
    evaluated at q (0.1 dB), with how it was computed kept as the cell's formula."""
    lim, edges = cell.range, band.range
    if lim is None or edges is None or None in (lim.low, lim.high, edges.low, edges.high):
        return cell
    f0, f1, f = edges.low.value, edges.high.value, edges.low.comparable(q)
    if f is None or not (0 < f0 < f1) or f <= 0:
        return cell
    a, b = lim.low.value, lim.high.value
    value = round(a + (b - a) * math.log10(f / f0) / math.log10(f1 / f0), 1)
    how = (f"{format_number(a)} to {format_number(b)} linear in lg f across {format_number(f0)}–"
           f"{format_number(f1)} {edges.low.unit}: {format_number(a)} + ({format_number(b)} − {format_number(a)})·"
           f"lg({format_number(f)}/{format_number(f0)})/lg({format_number(f1)}/{format_number(f0)})")
    return replace(cell, kind="value", value=Quantity(value, unit or lim.low.unit or ""), formula=how)


def _evaluate(cell: Cell, row: Row, typed: TypedTable, at_c: int, q: Quantity, unit: str | None) -> Cell:
    """A formula cell with its value at frequency q (f in the band column's unit), 0.1 dB; a
    "66 to 56" limit across the row's band, interpolated in lg f."""
    band = row.cells[at_c]
    if cell.kind == "range" and cell is not band and q.dimension == "frequency" and band.range is not None:
        return _log_linear(cell, band, q, unit)
    formula = parse_formula(cell.text) if cell.formula else None
    if formula is None:
        return cell
    f_unit = formula.unit or typed.columns[at_c].unit or _cell_unit(band) or "MHz"
    try:
        f = q.to(f_unit).value if q.unit else q.value
        value = round(formula.evaluate(f), 1)
    except ValueError as err:
        log.info("formula %r not evaluated at %s: %s", cell.text, q, err)
        return cell
    return replace(cell, kind="value", value=Quantity(value, unit or ""))


def lookup_table(
    table: Table | TypedTable,
    where: Mapping[str, str] | None = None,
    at: str | Quantity | None = None,
    columns: Sequence[str] | None = None,
    terms: Sequence[str] = (),
) -> LookupResult:
    """Rows matching every `where` {column: value} and whose band contains `at`; their cells.
    `terms` (conditions as written: "3 m", "quasi-peak", "AC mains", "B2.3") then keep the rows
    that say most of them, counting only terms that tell the rows apart.

    Formula limits are evaluated at `at`. `columns` narrows the selected cells (fuzzy labels);
    by default every non-empty cell of the matched rows outside the matching columns.
    """
    typed = table if isinstance(table, TypedTable) else TypedTable.from_table(table)
    rows, used = list(typed.rows), set()
    for column, value in (where or {}).items():
        rows, c = _filter_where(typed, rows, column, value)
        used.add(c)
    q, at_c = None, None
    if at is not None:
        q = at if isinstance(at, Quantity) else parse_quantity(at)
        if q is None:
            raise SpecAgentError(f"{at!r} is not a quantity; give a value such as \"100 MHz\".")
        at_c = _at_column(typed, q)
        rows = _rows_at(typed, rows, at_c, q)
        used.add(at_c)
    if terms:
        rows = _best_rows(typed, rows, terms)
    wanted = {typed.column(name) for name in columns} if columns else None
    views, selected = [], []
    for row in rows:
        cells = list(row.cells)
        if q is not None and at_c is not None:
            cells = [_evaluate(cell, row, typed, at_c, q, col.unit) for cell, col in zip(cells, typed.columns)]
        views.append(RowView(row.index, row.section, {col.label: cell for col, cell in zip(typed.columns, cells)}))
        for c, (col, cell) in enumerate(zip(typed.columns, cells)):
            keep = c in wanted if wanted is not None else c not in used and cell.kind != "empty"
            if keep:
                selected.append(Selected(row.index, col.label, cell))
    t = typed.table
    log.info("table %s: %d rows, %d cells", t.id, len(views), len(selected))
    return LookupResult(t.id, t.doc, t.clause, t.page, t.caption, tuple(views), tuple(selected), q,
                        typed.columns[at_c].label if at_c is not None else None)


def _says(cell: Cell, term: str, unit: str | None) -> bool:
    """Does the cell say the term: the same quantity (unit-aware), a band holding it, or the
    words as a whole ("peak" is not in "Quasi-peak")."""
    if _match_level(cell, term, unit) >= 2 or (cell.kind == "range" and _match_level(cell, term, unit)):
        return True
    text = fold(cell.text or cell.raw).lower()
    if re.fullmatch(r"\d+", term):  # a bare number ("class 3" → "3") is no digit of "3.5" or "3 400"
        return re.search(rf"(?<![\w.,-])(?<!\d ){term}(?![\w.,-]| \d{{3}}(?!\d))", text) is not None
    spellings = detector_spellings(term) or (fold(term).lower(),)
    return any(w and re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text) for w in spellings)


def _best_rows(typed: TypedTable, rows: list[Row], terms: Sequence[str]) -> list[Row]:
    """The rows that say the most of `terms` (a row's section counts as its text); terms said by
    every row or by none do not count. All rows when no term tells them apart."""
    said = []
    for row in rows:
        cells = list(zip(row.cells, typed.columns))
        section = parse_cell(row.section) if row.section else None
        said.append({t for t in terms if any(_says(c, t, col.unit) for c, col in cells)
                     or (section is not None and _says(section, t, None))})
    telling = {t for t in terms if 0 < sum(t in s for s in said) < len(rows)}
    scores = [len(s & telling) for s in said]
    best = max(scores, default=0)
    return [r for r, score in zip(rows, scores) if score == best] if best else rows


# --------------------------------------------------------------------------- which table?
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
_TABLE_REF = re.compile(rf"\b{TABLE_WORD}\s+(?:([a-z])\s*-\s*)?([ivxlcdm]+|\d+)(?:\s*[-.]\s*(\d+))?\b", re.IGNORECASE)
_STOP = {"the", "and", "for", "what", "which", "table", "with", "from", "that", "this", "are", "is", "at"}


def _roman(text: str) -> int | None:
    total, prev = 0, 0
    for ch in reversed(text.lower()):
        v = _ROMAN.get(ch)
        if v is None:
            return None
        total, prev = (total - v, prev) if v < prev else (total + v, v)
    return total


def table_key(text: str) -> tuple[str, ...] | None:
    """A table reference in one spelling: "TABLE VIII" / "table 8" → ("8",), "Table 7-1" → ("7", "1")."""
    m = _TABLE_REF.search(fold(text))
    if not m:
        return None
    main = m[2] if m[2].isdigit() else str(_roman(m[2]))
    return tuple(p for p in ((m[1] or "").upper(), main, m[3] or "") if p)


def find_tables(tables: Iterable[Table], query: str) -> list[Table]:
    """The tables a question means, best first: a named table ("Table II"), else caption words."""
    ref = table_key(query)
    words = {w for w in _tokens(query) if len(w) > 2 and w not in _STOP}
    scored = []
    for n, t in enumerate(tables):
        score = 100.0 if ref is not None and table_key(f"table {t.id}" if not re.search("table", t.id, re.IGNORECASE)
                                                       else t.id) == ref else 0.0
        score += 5.0 * len(words & _tokens(f"{t.id} {t.caption}"))
        head = " ".join(" ".join(r) for r in (*t.header, *t.rows[:3]))
        score += 1.0 * len(words & _tokens(head))
        if score > 0:
            scored.append((score, -n, t))
    return [t for _, _, t in sorted(scored, key=lambda s: (s[0], s[1]), reverse=True)]


def describe_cell(cell: Cell) -> str:
    """A cell as a person reads it: "62.4 dBµV (68 – 25.13·lg(f/30))", "±8 kV", "0.28 - 30 MHz"."""
    if cell.formula and cell.value is not None:
        return f"{format_number(cell.value.value)} {cell.value.unit} ({cell.formula})".replace("  ", " ")
    if cell.value is not None:
        return f"{'±' if cell.plus_minus else ''}{format_number(cell.value.value)} {cell.value.unit}".strip()
    if cell.range is not None:
        return str(cell.range)
    return cell.text
