"""CLI command `table`: look up rows and cells of one table ("the limit at 100 MHz")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from agent.cli import settings_of
from agent.config import Settings
from agent.errors import SpecAgentError
from agent.match.csv_tables import read_csv_table
from agent.match.tables import LookupResult, describe_cell, lookup_table
from agent.schema import Table


def _parse_where(pairs: list[str]) -> dict[str, str]:
    where = {}
    for pair in pairs:
        column, sep, value = pair.partition("=")
        if not sep or not column.strip() or not value.strip():
            raise SpecAgentError(f"--where {pair!r} is not COLUMN=VALUE; write e.g. --where \"Level=3\".")
        where[column.strip()] = value.strip()
    return where


def load_table(settings: Settings, ref: str | None, doc: str | None, csv_files: list[Path]) -> Table:
    """The table to look in: CSV file(s) when given, else `ref` from the document index."""
    if csv_files:
        return read_csv_table(csv_files, table_id=ref, doc=doc or "")
    if not ref:
        raise SpecAgentError("no table named; give a table id such as \"Table II\" (or --csv FILE).")
    from agent.index import SpecIndex  # the index is only needed when no CSV is given

    return SpecIndex.open(settings).get_table(ref, doc)


def _show(result: LookupResult, console: Console) -> None:
    where = ", ".join(p for p in (result.doc, f"clause {result.clause}" if result.clause else "",
                                  f"page {result.page}" if result.page else "") if p)
    title = f"{result.table} {result.caption}".strip() + (f"  ({where})" if where else "")
    if not result.rows:
        console.print(f"{title}: no row matches.")
        return
    labels = list(result.rows[0].cells)
    grid = RichTable(title=title, show_lines=False)
    grid.add_column("row", justify="right")
    grid.add_column("section")
    for label in labels:
        grid.add_column(label)
    picked = {(s.row, s.column): s.cell for s in result.cells}
    for view in result.rows:
        shown = [describe_cell(picked.get((view.row, k), c)) if (view.row, k) in picked else c.raw
                 for k, c in view.cells.items()]
        grid.add_row(str(view.row), view.section or "", *shown)
    console.print(grid)


def table(
    ctx: typer.Context,
    ref: str | None = typer.Argument(None, help="Table id, e.g. \"Table II\" or \"TABLE VIII\"."),
    doc: str | None = typer.Option(None, "--doc", help="Document name (default: any)."),
    where: Annotated[list[str] | None, typer.Option(
        "--where", help="COLUMN=VALUE (fuzzy column label); repeatable.")] = None,
    at: str | None = typer.Option(None, "--at", help="A frequency or value, e.g. \"100 MHz\"."),
    csv_files: Annotated[list[Path] | None, typer.Option(
        "--csv", help="Read the table from CSV file(s) instead; repeat for continuation pages.")] = None,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Rows and cells of a table: by column value (--where) and/or by frequency (--at)."""
    try:
        source = load_table(settings_of(ctx), ref, doc, csv_files or [])
        result = lookup_table(source, where=_parse_where(where or []) or None, at=at)
    except SpecAgentError as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        _show(result, Console())


def register(app: typer.Typer) -> None:
    app.command("table")(table)
