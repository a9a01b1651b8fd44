"""CLI command `diff`: what changed between two editions of a spec, clause by clause."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from agent.cli import settings_of
from agent.errors import SpecAgentError


def diff(
    ctx: typer.Context,
    old: str = typer.Argument(..., help="The older edition, an ingested document (e.g. MIL-STD-461F)."),
    new: str = typer.Argument(..., help="The newer edition (e.g. MIL-STD-461G)."),
    clause: str | None = typer.Option(
        None, "--clause", help="Only this clause and its sub-clauses (old number, else new) or a test code (CS114)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    out: Annotated[Path | None, typer.Option(
        "--out", help="Also write the report to report.html or report.xlsx.")] = None,
) -> None:
    """Clauses paired by content (test code, heading, body), renumbering, word-level changes, values
    and table cells that changed; clauses removed and added. Limits and levels first."""
    from agent.compare.editions import diff_editions
    from agent.compare.report import render_text, write_report
    from agent.index import SpecIndex

    try:
        index = SpecIndex.open(settings_of(ctx))
        result = diff_editions(index.document(old), index.document(new), clause)
        if out is not None:
            write_report(result, out)
    except (ValueError, OSError, SpecAgentError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(result))
    if out is not None:
        typer.echo(f"wrote {out}", err=True)


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)
