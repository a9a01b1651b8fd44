"""A comparison of one test across documents as plain lines, one row per document."""

from __future__ import annotations

from agent.compare.across import Comparison, Level, Row


def cite(source: dict) -> str:
    """"Table 8-3, row 4, column 'Peak limit dB(µV/m)', clause 8.3, page 6"."""
    parts = [source["table"], f"row {source['row']}", f"column {source['column']!r}", f"clause {source['clause']}"]
    if source.get("page"):
        parts.append(f"page {source['page']}")
    return ", ".join(parts)


def _value(level: Level | None) -> str:
    return "-" if level is None else level.text + (f" ({level.detector})" if level.detector else "")


def _row_lines(row: Row, strictest: str | None) -> list[str]:
    mark = "  ← strictest" if row.doc == strictest else ""
    clauses = "; ".join(f"{n} {t}" for n, t in row.clauses) or "-"
    lines = [f"{row.doc}: {_value(row.chosen)}{mark}", f"    clauses: {clauses}"]
    if row.chosen is not None:
        lines.append(f"    source: {cite(row.chosen.source)}")
    others = [lv for lv in row.levels if lv is not row.chosen]
    if others:
        lines.append("    also: " + "; ".join(f"{_value(lv)} [{lv.source['table']}]" for lv in others))
    if row.note:
        lines.append(f"    {row.note}")
    return lines


def render_comparison(c: Comparison) -> str:
    at = f"{c.at.value:g} {c.at.unit}"
    lines = [f"{c.test.name} (test {c.test.id}) at {at}"]
    for row in c.rows:
        lines += _row_lines(row, c.strictest)
    if c.strictest_by:
        rule = "lowest limit" if c.test.family != "immunity" else "highest level"
        lines.append(f"strictest ({rule}): " + "; ".join(f"{k}: {v}" for k, v in c.strictest_by.items()))
    lines += [f"note: {n}" for n in c.notes]
    return "\n".join(lines)


def comparison_markdown(c: Comparison) -> str:
    """The comparison as a chat message: one table row per document, the strictest marked."""
    at = f"{c.at.value:g} {c.at.unit}"
    lines = [f"**{c.test.name}** (test {c.test.id}) at {at}", "",
             "| document | clauses | value | source | strictest |", "|---|---|---|---|---|"]
    for row in c.rows:
        clauses = "; ".join(f"{n} {t}" for n, t in row.clauses) or "–"
        value = _value(row.chosen) if row.chosen else (row.note or "–")
        source = cite(row.chosen.source) if row.chosen else "–"
        mark = "✓" if row.doc == c.strictest else ""
        lines.append(f"| {row.doc} | {clauses} | {value} | {source} | {mark} |")
    if c.strictest_by:
        lines += ["", "Strictest by detector and unit: " + "; ".join(f"{k}: {v}" for k, v in c.strictest_by.items())]
    lines += [f"\n_{n}_" for n in c.notes]
    return "\n".join(lines)
