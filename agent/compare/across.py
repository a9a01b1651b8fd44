"""One test across documents: the clauses that require it (the matcher, with corrections), the limit
or level each states at a frequency from its tables, and which document is strictest."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.compare.values import is_level
from agent.errors import NotFound, SpecAgentError
from agent.match.catalogue import Catalogue, CatalogueTest
from agent.match.matcher import OutlineEntry
from agent.match.tables import describe_cell, lookup_table
from agent.match.units import (
    DETECTOR_OF,
    Quantity,
    fold,
    format_number,
    is_unit,
    normalise_unit,
    parse_quantity,
    unit_in_label,
)
from agent.schema import Clause, Document, Table

log = logging.getLogger(__name__)

DETECTOR_ORDER = ("peak", "quasi-peak", "average", "")  # the detector compared when several are common


@dataclass(frozen=True)
class Level:
    """A limit or level one table states at the frequency asked, with where it stands."""

    value: float
    unit: str
    detector: str  # "peak", "quasi-peak", "average" or "" when the column names none
    kind: str  # what is compared across documents: "peak dBµV/m", "mA", "Level 2 mA"
    text: str  # as a person reads it: "46.4 dBµV/m (52 – 25.1·lg(f/30))"
    source: dict[str, Any]  # doc, clause, title, page, table, row, column, text

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit, "detector": self.detector, "kind": self.kind,
                "text": self.text,
                "source": self.source}


@dataclass(frozen=True)
class Row:
    doc: str
    clauses: tuple[tuple[str, str], ...]  # (number, title) of the clauses that require the test
    levels: tuple[Level, ...] = ()
    chosen: Level | None = None  # the level compared with the other documents
    note: str = ""  # why there is no value, when there is none

    def to_json(self) -> dict[str, Any]:
        c = self.chosen
        return {
            "doc": self.doc,
            "clauses": [{"clause": n, "title": t} for n, t in self.clauses],
            "value": c.value if c else None, "unit": c.unit if c else None,
            "detector": c.detector if c else None, "text": c.text if c else None,
            "source": c.source if c else None,
            "levels": [lv.to_json() for lv in self.levels],
            "note": self.note,
        }


@dataclass(frozen=True)
class Comparison:
    test: CatalogueTest
    at: Quantity
    rows: tuple[Row, ...]
    strictest: str | None
    strictest_by: dict[str, str] = field(default_factory=dict)  # "peak dBµV/m" → doc
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"test": {"id": self.test.id, "name": self.test.name}, "at": _quantity(self.at),
                "rows": [r.to_json() for r in self.rows], "strictest": self.strictest,
                "strictest_by": self.strictest_by, "notes": list(self.notes)}


def _quantity(q: Quantity) -> str:
    return f"{format_number(q.value)} {q.unit}".strip()


def find_test(catalogue: Catalogue, ref: str) -> CatalogueTest:
    """The catalogue test `ref` names: its id, code, an OEM code, its name or an alias (any case)."""
    key = fold(ref).lower()
    if key.isdigit():
        try:
            return catalogue.by_id(int(key))
        except KeyError:
            pass
    squash = re.sub(r"[\s-]", "", key)
    for test in catalogue.tests:
        names = [test.code, test.name, *test.aliases, *(o.code for o in test.oem_codes)]
        if any(re.sub(r"[\s-]", "", fold(n).lower()) == squash for n in names):
            return test
    partial = [t for t in catalogue.tests if key and key in t.name.lower()]
    if len(partial) == 1:
        return partial[0]
    known = ", ".join(f"{t.id} {t.name}" for t in catalogue.tests)
    raise SpecAgentError(f"no test {ref!r} in the catalogue; give an id or name: {known}.")


def requiring_clauses(document: Document, matcher: Any, test_id: int) -> list[Clause]:
    """The clauses of `document` whose tests (the matcher's, corrections applied) include `test_id`."""
    clauses = list(document.clauses)
    entries = [OutlineEntry(number=c.number, heading=c.title, text=c.text, parents=tuple(c.parents))
               for c in clauses]
    if hasattr(matcher, "correction_for"):
        results = matcher.match_outline(entries, doc=document.name)
    else:
        results = matcher.match_outline(entries)
    return [c for c, r in zip(clauses, results) if any(t.id == test_id for t in r.tests)]


def _tables_under(document: Document, clause: Clause) -> list[Table]:
    """Tables of the clause and of its sub-clauses, in document order."""
    inside = {c.number for c in document.clauses if c.number == clause.number or clause.number in c.parents}
    named = {t for c in document.clauses if c.number in inside for t in c.tables}
    return [t for t in document.tables if t.clause in inside or t.id in named]


def _detector(label: str) -> str:
    words = re.findall(r"[a-z]+(?:-[a-z]+)?", fold(label).lower().replace("quasi peak", "quasi-peak"))
    return next((DETECTOR_OF[w] for w in words if w in DETECTOR_OF), "")


def levels_at(table: Table, at: Quantity, clause: Clause) -> list[Level]:
    """The limit or level cells of `table` in the row whose band holds `at`."""
    try:
        result = lookup_table(table, at=at)
    except (NotFound, SpecAgentError) as err:
        log.info("%s %s: no lookup at %s: %s", table.doc, table.id, _quantity(at), err)
        return []
    found = []
    for s in result.cells:
        v = s.cell.value
        unit = (v.unit or _label_unit(s.column)) if v is not None else ""
        if v is None or not is_level(f"{format_number(v.value)} {unit}"):
            continue
        source = {"doc": table.doc, "clause": table.clause or clause.number, "title": clause.title,
                  "page": table.page, "table": table.id, "row": s.row, "column": s.column, "text": s.cell.raw}
        text = describe_cell(s.cell) if v.unit else f"{s.cell.raw} {unit}"
        found.append((v.value, unit, _detector(s.column), text, source))
    return [Level(value, unit, detector, _kind_of(detector, unit, source["column"], found), text, source)
            for value, unit, detector, text, source in found]


def _label_unit(label: str) -> str:
    """The unit a column label gives its bare numbers: "Level 1 (mA)" → "mA"."""
    m = re.search(r"\(([^()]+)\)\s*$", label)
    unit = unit_in_label(label) or (normalise_unit(m.group(1)) if m and is_unit(m.group(1)) else None)
    return unit or ""


def _kind_of(detector: str, unit: str, column: str, found: list[tuple]) -> str:
    """The detector and unit; the column's own words too when the table has several such columns."""
    if detector or sum(1 for f in found if f[1] == unit and not f[2]) <= 1:
        return f"{detector} {unit}".strip()
    words = fold(re.sub(r"\([^()]*\)\s*$", "", column)).strip()
    return f"{words} {unit}".strip()


def _row(document: Document, matcher: Any, test: CatalogueTest, at: Quantity) -> Row:
    clauses = requiring_clauses(document, matcher, test.id)
    named = tuple((c.number, c.title) for c in clauses)
    if not clauses:
        return Row(document.name, named, note=f"no clause requires {test.name}")
    seen: set[str] = set()
    levels: list[Level] = []
    for clause in clauses:
        for table in _tables_under(document, clause):
            if table.id not in seen:
                seen.add(table.id)
                levels += levels_at(table, at, clause)
    if not levels:
        tables = ", ".join(sorted(seen)) or "no table"
        return Row(document.name, named, note=f"no limit or level at {_quantity(at)} ({tables})")
    return Row(document.name, named, tuple(levels))


def _kind(level: Level) -> str:
    return level.kind


def _pick(rows: list[Row], lower_is_stricter: bool) -> tuple[list[Row], str | None, dict[str, str], list[str]]:
    """Choose each row's compared level (a detector and unit every document states) and the strictest."""
    stated = [r for r in rows if r.levels]
    if not stated:
        return rows, None, {}, []
    common = set.intersection(*({_kind(lv) for lv in r.levels} for r in stated))
    by: dict[str, str] = {}
    for kind in sorted(common) if len(stated) > 1 else ():
        best = (min if lower_is_stricter else max)(
            stated, key=lambda r: next(lv.value for lv in r.levels if _kind(lv) == kind))
        by[kind] = best.doc
    notes = []
    if common:
        kind = min(common, key=lambda k: (_order(k), k))
        chosen = {r.doc: next(lv for lv in r.levels if _kind(lv) == kind) for r in stated}
        strictest = by[kind] if len(stated) > 1 else None
    else:
        chosen = {r.doc: r.levels[0] for r in stated}
        strictest = None
        shown = "; ".join(f"{r.doc}: {', '.join(sorted({_kind(lv) for lv in r.levels}))}" for r in stated)
        notes.append(f"not compared: the documents state different detectors or units ({shown})")
    out = [Row(r.doc, r.clauses, r.levels, chosen.get(r.doc), r.note) for r in rows]
    return out, strictest, by, notes


def _order(kind: str) -> int:
    detector = kind.split(" ")[0] if " " in kind else ""
    return DETECTOR_ORDER.index(detector) if detector in DETECTOR_ORDER else len(DETECTOR_ORDER)


def compare_test(documents: Sequence[Document], matcher: Any, test: str, at: str) -> Comparison:
    """Each document's clauses for `test` and its limit or level at frequency `at`; the strictest
    (lowest limit for an emission, highest level for an immunity test) among those stating the
    same detector and unit."""
    catalogue = matcher.catalogue
    found = find_test(catalogue, test)
    q = parse_quantity(at)
    if q is None or q.dimension != "frequency":
        raise SpecAgentError(f"{at!r} is not a frequency; give one such as \"100 MHz\".")
    rows = [_row(d, matcher, found, q) for d in documents]
    lower = found.family != "immunity"  # emission limits: lower is stricter; test levels: higher
    picked, strictest, by, notes = _pick(rows, lower)
    silent = [r.doc for r in picked if not r.levels]
    if silent:
        notes.append(f"no value at {_quantity(q)} in {', '.join(silent)}")
    return Comparison(found, q, tuple(picked), strictest, by, tuple(notes))
