"""Edition diff reports for people: plain text (most significant first), HTML and XLSX for a review."""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from agent.compare.editions import EditionDiff, PairDiff
from agent.compare.tables import TableDiff

SECTIONS = ("Limits and levels changed", "Other values changed (bands, times, lengths)",
            "Table wording changed", "Wording changed")
LABEL_WIDTH = 60  # a column label or row key longer than this is cut in reports
DIFF_WIDTH = 600  # characters of a word diff shown in the text report


def _cut(text: str, width: int = LABEL_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _numbers(p: PairDiff) -> str:
    return p.pair.old.number if not p.pair.renumbered else f"{p.pair.old.number} → {p.pair.new.number}"


def table_lines(t: TableDiff) -> Iterator[str]:
    """One line per change of a table: rows and columns added or removed, cells old → new."""
    name = t.old.id if t.old.id == t.new.id else f"{t.old.id} → {t.new.id}"
    for cell in t.cells:
        yield f"{name}, row {_cut(cell.row)!r}, column {_cut(cell.column)!r}: {cell.old!r} → {cell.new!r}"
    for label, rows in (("row removed", t.rows_removed), ("row added", t.rows_added),
                        ("column removed", t.columns_removed), ("column added", t.columns_added)):
        for key in rows:
            yield f"{name}: {label} {_cut(key)!r}"


def pair_lines(p: PairDiff) -> Iterator[str]:
    yield f"{_numbers(p)}  {p.pair.new.title}"
    if p.title_changed:
        yield f"    heading was: {p.pair.old.title}"
    for old, new in p.values.changed():
        yield f"    value: {old} → {new}"
    single = {v for pair in p.values.changed() for v in pair}
    removed = [v for v in p.values.removed if v not in single]
    added = [v for v in p.values.added if v not in single]
    if removed:
        yield f"    values removed: {', '.join(removed)}"
    if added:
        yield f"    values added: {', '.join(added)}"
    for t in p.tables:
        for line in table_lines(t):
            yield f"    {line}"
    if p.diff:
        yield f"    text: {_cut(p.diff, DIFF_WIDTH)}"


def _top_renumbered(d: EditionDiff) -> list[PairDiff]:
    """Renumbered pairs whose parent kept its number (children of a moved clause move with it)."""
    moved = {p.pair.old.number for p in d.pairs if p.pair.renumbered}
    return [p for p in d.pairs if p.pair.renumbered and p.pair.old.parent not in moved]


def render_text(d: EditionDiff) -> str:
    s = d.summary()
    head = (f"{d.old.name} → {d.new.name}: {s['pairs']} clauses paired ({s['renumbered']} renumbered, "
            f"{s['changed']} changed: {s['levels_changed']} limits or levels, "
            f"{s['values_changed'] - s['levels_changed']} other values), "
            f"{s['removed']} removed, {s['added']} added")
    lines = [head]
    for rank, title in enumerate(SECTIONS):
        chosen = [p for p in d.pairs if p.rank == rank]
        if chosen:
            lines += ["", f"{title} ({len(chosen)}):"]
            for p in chosen:
                lines += [f"  {line}" for line in pair_lines(p)]
    for title, clauses in (("Removed", d.removed), ("Added", d.added)):
        if clauses:
            lines += ["", f"{title} ({len(clauses)}):"] + [f"  {c.number}  {c.title}" for c in clauses]
    for title, tables in (("Tables removed", d.tables_removed), ("Tables added", d.tables_added)):
        if tables:
            lines += ["", f"{title}:"] + [f"  {t.id}  {t.caption}  (clause {t.clause})" for t in tables]
    moved = _top_renumbered(d)
    if moved:
        lines += ["", f"Renumbered ({len(moved)}, sub-clauses move with them):"]
        lines += [f"  {p.pair.old.number} → {p.pair.new.number}  {p.pair.new.title}" for p in moved]
    return "\n".join(lines)


def _rows(d: EditionDiff) -> list[tuple[str, str, str, str, str, str]]:
    """(kind, old, new, title, change, reason) rows for HTML and XLSX, most significant first."""
    rows = []
    for rank, title in enumerate(SECTIONS):
        for p in (p for p in d.pairs if p.rank == rank):
            changes = list(pair_lines(p))[1:]
            rows.append((title, p.pair.old.number, p.pair.new.number, p.pair.new.title,
                         "\n".join(c.strip() for c in changes), f"{p.pair.reason} ({p.pair.score})"))
    rows += [("Removed", c.number, "", c.title, "", "") for c in d.removed]
    rows += [("Added", "", c.number, c.title, "", "") for c in d.added]
    return rows


HEADER = ("kind", "old clause", "new clause", "title", "changes", "paired by")


def render_html(d: EditionDiff) -> str:
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v).replace(chr(10), '<br>')}</td>" for v in row) + "</tr>\n"
        for row in _rows(d))
    head = "".join(f"<th>{h}</th>" for h in HEADER)
    s = d.summary()
    title = html.escape(f"{d.old.name} → {d.new.name}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            "<style>td,th{border:1px solid #ccc;padding:4px;vertical-align:top;text-align:left}"
            "table{border-collapse:collapse}</style></head><body>"
            f"<h1>{title}</h1><p>{s['pairs']} clauses paired, {s['renumbered']} renumbered, "
            f"{s['changed']} changed, {s['removed']} removed, {s['added']} added.</p>"
            f"<table><tr>{head}</tr>\n{cells}</table></body></html>\n")


def write_report(d: EditionDiff, out: Path) -> None:
    """Write the report as .html or .xlsx (atomically: a temporary file, then a rename)."""
    suffix = out.suffix.lower()
    if suffix not in (".html", ".xlsx"):
        raise ValueError(f"{out.name}: give a .html or .xlsx file name for --out")
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=suffix)
    os.close(fd)
    try:
        if suffix == ".html":
            Path(tmp).write_text(render_html(d), encoding="utf-8")
        else:
            _write_xlsx(d, Path(tmp))
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_xlsx(d: EditionDiff, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "diff"
    sheet.append([f"{d.old.name} → {d.new.name}"])
    sheet.append(list(HEADER))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in _rows(d):
        sheet.append(list(row))
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDEF", (24, 10, 10, 40, 80, 30)):
        sheet.column_dimensions[letter].width = width
    book.save(path)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def diff_markdown(d: EditionDiff, limit: int = 25) -> str:
    """The diff as a chat message: the figures, a table of the most significant changes (old and
    new clause side by side), then what was removed and added."""
    s = d.summary()
    lines = [(f"**{d.old.name} → {d.new.name}**: {s['pairs']} clauses paired ({s['renumbered']} renumbered, "
             f"{s['changed']} changed), {s['removed']} removed, {s['added']} added"), ""]
    changed = sorted((p for p in d.pairs if p.changed), key=lambda p: p.rank)
    if changed:
        lines += ["| old | new | title | what changed |", "|---|---|---|---|"]
        for p in changed[:limit]:
            what = [line.strip() for line in pair_lines(p)][1:]
            lines.append(f"| {p.pair.old.number} | {p.pair.new.number} | {_md(p.pair.new.title)} | "
                         f"{_md(_cut(chr(10).join(what), DIFF_WIDTH))} |")
        if len(changed) > limit:
            lines.append(f"\n… and {len(changed) - limit} more changed clauses (`spec-agent diff` lists all).")
    for title, clauses in (("Removed", d.removed), ("Added", d.added)):
        if clauses:
            lines += ["", f"**{title}**: " + "; ".join(f"{c.number} {c.title}" for c in clauses)]
    return "\n".join(lines)
