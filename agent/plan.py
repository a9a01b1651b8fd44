"""Test plan export: every clause of a spec with its tests, standards, page and key table parameters."""

from __future__ import annotations

import csv
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

from agent.match.matcher import MatchResult, OutlineEntry
from agent.match.signals import standards_named
from agent.match.tables import TypedTable
from agent.match.units import Cell, Quantity, format_number, is_unit, normalise_unit, parse_quantity
from agent.schema import Clause, Document, Table

log = logging.getLogger(__name__)

NO_TEST = "no test"
JOIN = "; "
_LEVEL_DIMENSIONS = ("voltage", "current", "power")


@dataclass(frozen=True)
class PlanRow:
    """One clause of the plan; strings as they appear in the exported cells."""

    clause: str
    title: str
    page: str
    tests: str  # "0 Conducted Emission - Voltage Method"-style names joined "; ", or "no test"
    test_ids: str  # "13; 14"
    standards: str  # "CISPR 25; ISO 10605"
    frequency_range: str  # "0.15–108 MHz"
    limits: str  # "dB(µV): 18–70; kV: ±4–±15"
    units: str  # "dB(µV)"
    tables: str  # "Table 8-1"
    evidence: str  # why the first test was chosen (e.g. "engineer correction (alice, 2026-11-27)")


HEADER = ("clause", "title", "page", "tests", "test ids", "standards", "frequency range",
          "limits / levels", "units", "tables", "evidence")
assert len(HEADER) == len(fields(PlanRow))


def build_plan(index: Any, matcher: Any, doc: str) -> list[PlanRow]:
    """The plan of `doc` (NotFound for an unknown document), clauses in document order.

    `matcher` is a Matcher or a CorrectingMatcher (then corrections by (doc, clause) apply).
    """
    document: Document = index.document(doc)
    clauses = list(document.clauses)
    entries = [OutlineEntry(number=c.number, heading=c.title, text=c.text, parents=tuple(c.parents))
               for c in clauses]
    if hasattr(matcher, "correction_for"):
        results = matcher.match_outline(entries, doc=document.name)
    else:
        results = matcher.match_outline(entries)
    standards = {t.id: tuple(s.ref for s in t.standards) for t in matcher.catalogue.tests}
    tables = {t.id: t for t in document.tables}
    return [_row(c, r, standards, _tables_of(c, clauses, tables)) for c, r in zip(clauses, results)]


def _tables_of(clause: Clause, clauses: Sequence[Clause], tables: dict[str, Table]) -> list[Table]:
    """The clause's own tables, then its sub-clauses' tables, in document order, each once."""
    ids: list[str] = []
    for c in clauses:
        if c is clause or clause.number in c.parents:
            ids += [t for t in c.tables if t in tables and t not in ids]
            ids += [t.id for t in tables.values() if t.clause == c.number and t.id not in ids]
    return [tables[i] for i in ids]


def _row(clause: Clause, result: MatchResult, standards: dict[int, tuple[str, ...]],
         tables: list[Table]) -> PlanRow:
    # the standards the clause names for its tests, else each test's own first one
    refs = list(dict.fromkeys(ref for t in result.tests
                              for ref in (standards_named(t.evidence) or standards.get(t.id, ())[:1])))
    params = parameters(tables)
    return PlanRow(
        clause=clause.number,
        title=clause.title,
        page="" if clause.page is None else str(clause.page),
        tests=JOIN.join(t.name for t in result.tests) or NO_TEST,
        test_ids=JOIN.join(str(t.id) for t in result.tests),
        standards=JOIN.join(refs),
        frequency_range=params.frequency_range,
        limits=params.limits,
        units=params.units,
        tables=JOIN.join(t.id for t in tables),
        evidence=result.tests[0].evidence[0] if result.tests and result.tests[0].evidence else "",
    )


# -- key parameters from tables -----------------------------------------------------------------


@dataclass(frozen=True)
class Parameters:
    frequency_range: str = ""
    limits: str = ""
    units: str = ""


@dataclass(frozen=True)
class _Level:
    value: float
    plus_minus: bool


def parameters(tables: Iterable[Table]) -> Parameters:
    """Frequency range (min–max of the frequency columns) and levels per unit over `tables`."""
    lows: list[Quantity] = []
    highs: list[Quantity] = []
    levels: dict[str, list[_Level]] = {}
    for table in tables:
        typed = TypedTable.from_table(table)
        for position, column in enumerate(typed.columns):
            cells = [row.cells[position] for row in typed.rows]
            if _is_frequency_column(column.label, cells):
                for cell in cells:
                    _add_frequency(cell, lows, highs)
            else:
                for cell in cells:
                    for unit, level in _levels(cell, column.unit or _bracketed_unit(column.label)):
                        levels.setdefault(unit, []).append(level)
    return Parameters(
        frequency_range=_frequency_text(lows, highs),
        limits=JOIN.join(f"{display_unit(u)}: {_level_span(v)}" for u, v in levels.items()),
        units=JOIN.join(display_unit(u) for u in levels),
    )


def _bracketed_unit(label: str) -> str | None:
    """"Level 1 (mA)" -> "mA": the unit in brackets ending a label (unit_in_label skips it after a number)."""
    m = re.search(r"\(([^()]+)\)\s*$", label)
    return normalise_unit(m.group(1)) if m and is_unit(m.group(1)) else None


def _is_frequency_column(label: str, cells: Sequence[Cell]) -> bool:
    if not re.search(r"freq|range", label, re.IGNORECASE):
        return False
    return any(_frequency(q) for c in cells for q in _quantities(c))


def _quantities(cell: Cell) -> list[Quantity]:
    if cell.kind == "value" and cell.value is not None:
        return [cell.value]
    if cell.kind == "range" and cell.range is not None:
        return [q for q in (cell.range.low, cell.range.high) if q is not None]
    return []


def _frequency(q: Quantity | None) -> bool:
    return q is not None and q.dimension == "frequency"


def _add_frequency(cell: Cell, lows: list[Quantity], highs: list[Quantity]) -> None:
    if cell.kind == "range" and cell.range is not None:
        if _frequency(cell.range.low):
            lows.append(cell.range.low)  # type: ignore[arg-type]
        if _frequency(cell.range.high):
            highs.append(cell.range.high)  # type: ignore[arg-type]
    elif cell.kind == "value" and _frequency(cell.value):
        lows.append(cell.value)  # type: ignore[arg-type]
        highs.append(cell.value)  # type: ignore[arg-type]


def _hz(q: Quantity) -> float:
    return q.to("Hz").value


def _frequency_text(lows: list[Quantity], highs: list[Quantity]) -> str:
    if not lows and not highs:
        return ""
    low = min(lows or highs, key=_hz)
    high = max(highs or lows, key=_hz)
    if low.unit == high.unit:
        return f"{format_number(low.value)}–{format_number(high.value)} {low.unit}"
    return f"{format_number(low.value)} {low.unit}–{format_number(high.value)} {high.unit}"


def is_level_unit(unit: str) -> bool:
    """Units of limits and test levels: dB units, voltage/current/power, field strengths (V/m, A/m)."""
    if not unit or unit == "%":
        return False
    if unit.startswith("dB") or "/" in unit:
        return True
    return Quantity(0.0, unit).dimension in _LEVEL_DIMENSIONS


def _levels(cell: Cell, column_unit: str | None) -> list[tuple[str, _Level]]:
    """The levels a cell states: one value, or a list such as "±4 kV, ±6 kV, ±8 kV"."""
    if cell.kind == "value" and cell.value is not None:
        found = [(cell.value, cell.plus_minus)]
    elif cell.kind == "text" and not cell.formula:
        found = []
        for part in re.split(r"[,;]", cell.text):
            q = parse_quantity(part, column_unit)
            if q is not None:
                found.append((q, part.strip().startswith(("±", "+/-"))))
    else:
        return []
    found = [(Quantity(q.value, column_unit) if column_unit and not q.unit else q, pm) for q, pm in found]
    return [(q.unit, _Level(q.value, pm)) for q, pm in found if is_level_unit(q.unit)]


def _level_text(level: _Level, signed: bool) -> str:
    number = format_number(level.value)
    if level.plus_minus:
        return f"±{number}"
    return f"+{number}" if signed and level.value > 0 else number


def _level_span(values: list[_Level]) -> str:
    low = min(values, key=lambda v: v.value)
    high = max(values, key=lambda v: v.value)
    signed = low.value < 0 and not low.plus_minus
    if low == high or low.value == high.value:
        return _level_text(high, signed)
    return f"{_level_text(low, signed)}–{_level_text(high, signed)}"


def display_unit(unit: str) -> str:
    """How a plan shows a unit: "dBµV" -> "dB(µV)", "dBµV/m" -> "dB(µV/m)", others as they are."""
    m = re.fullmatch(r"dB(.+)", unit)
    return f"dB({m.group(1)})" if m else unit


# -- writing ------------------------------------------------------------------------------------


def write_plan(rows: Sequence[PlanRow], out: Path | str, title: str = "Test plan",
               extra: tuple[str, Mapping[str, str]] | None = None) -> Path:
    """Write the plan as .csv or .xlsx (by the file's suffix), atomically: temp file + os.replace.
    `extra` (label, {clause: text}) adds a last column, e.g. what changed since an old edition."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"{out.name}: cannot write a plan as {suffix or 'a file without suffix'}; "
                         "give a .csv or .xlsx file name")
    if not out.parent.is_dir():
        raise ValueError(f"{out}: folder {out.parent} does not exist; create it or choose another --out")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=suffix, dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if suffix == ".csv":
            _write_csv(rows, tmp, extra)
        else:
            _write_xlsx(rows, tmp, title, extra)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("wrote %d plan rows to %s", len(rows), out)
    return out


def _cells(rows: Sequence[PlanRow], extra: tuple[str, Mapping[str, str]] | None) -> Iterable[list[str]]:
    for r in rows:
        yield list(astuple(r)) + ([extra[1].get(r.clause, "")] if extra else [])


def _write_csv(rows: Sequence[PlanRow], path: Path, extra: tuple[str, Mapping[str, str]] | None = None) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(HEADER) + ([extra[0]] if extra else []))
        writer.writerows(_cells(rows, extra))


def _write_xlsx(rows: Sequence[PlanRow], path: Path, title: str,
                extra: tuple[str, Mapping[str, str]] | None = None) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Test plan"
    sheet.append(list(HEADER) + ([extra[0]] if extra else []))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cells in _cells(rows, extra):
        sheet.append(cells)
    sheet.freeze_panes = "A2"
    book.save(path)
