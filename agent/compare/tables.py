"""Table comparison between editions: tables paired by caption and id, rows by their key column,
cells compared as printed (dash, mu and spacing variants are no change)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.compare.values import extract_values, is_level
from agent.compare.words import normal, ratio
from agent.match.tables import TypedTable
from agent.match.units import fold, parse_cell
from agent.schema import Table

LABEL_THRESHOLD = 0.6  # least similarity of two column labels taken as the same
ROW_THRESHOLD = 0.75  # least similarity of two row keys in words taken as the same row
_FOOTNOTE = re.compile(r"\s*(\*+|\d/)\s*$")


@dataclass(frozen=True)
class CellChange:
    row: str  # the row's key as the new edition prints it
    column: str
    old: str
    new: str

    @property
    def numeric(self) -> bool:
        """Does either side state a number (a limit, a level, a band) rather than words?"""
        return any(parse_cell(v).kind in ("value", "range") or re.search(r"\d", v) for v in (self.old, self.new))

    @property
    def level(self) -> bool:
        """Does either side state a limit or level with its unit ("77 dBµA", "200 V/m")?"""
        return any(is_level(v) for side in (self.old, self.new) for v in extract_values(side))

    def to_json(self) -> dict[str, str]:
        return {"row": self.row, "column": self.column, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class TableDiff:
    """How one table changed: rows and columns only one edition has, and changed cells."""

    old: Table
    new: Table
    rows_removed: tuple[str, ...] = ()
    rows_added: tuple[str, ...] = ()
    columns_removed: tuple[str, ...] = ()
    columns_added: tuple[str, ...] = ()
    cells: tuple[CellChange, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return bool(self.rows_removed or self.rows_added or self.columns_removed
                    or self.columns_added or self.cells or self.old.caption != self.new.caption)

    @property
    def values_changed(self) -> bool:
        """A number moved: a changed cell with a number in it, or a row of a band added or removed."""
        return any(c.numeric for c in self.cells) or any(
            re.search(r"\d", r) for r in (*self.rows_removed, *self.rows_added))

    @property
    def levels_changed(self) -> bool:
        """A cell that states a limit or level changed (a level column with bare numbers counts
        when the caption or the column names a level: "LIMIT", "LEVEL", "V/m", "dB")."""
        return any(c.level or (c.numeric and _level_words(f"{self.new.caption} {c.column}"))
                   for c in self.cells)

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old.id, "new": self.new.id, "caption": self.new.caption or self.old.caption,
            "old_clause": self.old.clause, "new_clause": self.new.clause,
            "old_page": self.old.page, "new_page": self.new.page,
            "rows_removed": list(self.rows_removed), "rows_added": list(self.rows_added),
            "columns_removed": list(self.columns_removed), "columns_added": list(self.columns_added),
            "cells": [c.to_json() for c in self.cells],
        }


def _level_words(text: str) -> bool:
    return bool(re.search(r"\b(limit|level)s?\b|V/m|dB", text, re.IGNORECASE))


def _label(text: str) -> str:
    return _FOOTNOTE.sub("", fold(text))


def pair_tables(old: Sequence[Table], new: Sequence[Table],
                clause_map: Mapping[str, str]) -> list[tuple[Table, Table]]:
    """Tables of two editions that are the same table: same caption, preferring the one in the
    paired clause, then the same id; `clause_map` maps old clause numbers to new ones."""
    taken: set[int] = set()
    pairs = []
    for t in old:
        home = clause_map.get(t.clause or "")
        ranked = []
        for k, u in enumerate(new):
            if k in taken:
                continue
            same_caption = bool(t.caption) and normal(t.caption) == normal(u.caption)
            same_id = normal(t.id) == normal(u.id)
            in_home = home is not None and u.clause == home
            if same_caption or (same_id and (in_home or not t.caption or not u.caption)) or (
                    in_home and not t.caption and not u.caption):
                ranked.append((-(2 * same_caption + 2 * in_home + same_id), k, u))
        if ranked:
            _, k, u = min(ranked, key=lambda r: r[:2])
            taken.add(k)
            pairs.append((t, u))
    return pairs


def _key_column(typed: TypedTable) -> int | None:
    """The column that names each row: the first filled, mostly distinct one."""
    rows = typed.rows
    for c in range(len(typed.columns)):
        values = [normal(r.cells[c].raw) for r in rows if normal(r.cells[c].raw)]
        if rows and len(values) >= 0.6 * len(rows) and len(set(values)) >= 0.8 * len(values):
            return c
    return None


def _keys(typed: TypedTable, key: int | None) -> list[str]:
    """Row keys as printed; a repeated key gets " (2)", " (3)"; without a key column, "row N"."""
    seen: Counter[str] = Counter()
    keys = []
    for n, row in enumerate(typed.rows, 1):
        text = fold(row.cells[key].raw) if key is not None else ""
        text = text or f"row {n}"
        seen[normal(text)] += 1
        keys.append(text if seen[normal(text)] == 1 else f"{text} ({seen[normal(text)]})")
    return keys


def _match(old: list[str], new: list[str], rows: bool) -> dict[int, int]:
    """Old index → new index: equal texts first, then similar ones; row keys with a digit
    (a band, a test code such as CS106) only ever match exactly."""
    threshold = ROW_THRESHOLD if rows else LABEL_THRESHOLD
    out: dict[int, int] = {}
    used: set[int] = set()
    for i, a in enumerate(old):
        j = next((j for j, b in enumerate(new) if j not in used and normal(a) == normal(b)), None)
        if j is not None:
            out[i] = j
            used.add(j)
    scored = sorted(
        ((ratio(a, b), i, j) for i, a in enumerate(old) if i not in out
         for j, b in enumerate(new) if j not in used
         and not (rows and (re.search(r"\d", a) or re.search(r"\d", b)))),
        key=lambda s: (-s[0], s[1], s[2]))
    for score, i, j in scored:
        if score >= threshold and i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


def diff_tables(old: Table, new: Table) -> TableDiff:
    """Cell-by-cell changes from `old` to `new`, rows matched by key, columns by label."""
    a, b = TypedTable.from_table(old), TypedTable.from_table(new)
    labels_a = [_label(c.label) for c in a.columns]
    labels_b = [_label(c.label) for c in b.columns]
    columns = _match(labels_a, labels_b, rows=False)
    key_a = _key_column(a)
    key_b = columns.get(key_a) if key_a is not None else None
    keys_a, keys_b = _keys(a, key_a), _keys(b, key_b)
    rows = _match(keys_a, keys_b, rows=True)
    cells = []
    for i, j in sorted(rows.items()):
        for ca, cb in sorted(columns.items()):
            va, vb = a.rows[i].cells[ca].raw, b.rows[j].cells[cb].raw
            if normal(va) != normal(vb):
                cells.append(CellChange(keys_b[j], labels_b[cb], fold(va), fold(vb)))
    return TableDiff(
        old, new,
        rows_removed=tuple(k for i, k in enumerate(keys_a) if i not in rows),
        rows_added=tuple(k for j, k in enumerate(keys_b) if j not in rows.values()),
        columns_removed=tuple(lb for i, lb in enumerate(labels_a) if i not in columns),
        columns_added=tuple(lb for j, lb in enumerate(labels_b) if j not in columns.values()),
        cells=tuple(cells),
    )
