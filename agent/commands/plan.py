"""CLI command `plan`: export a spec's test plan (clauses, tests, standards, key parameters) as CSV or XLSX."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from agent.cli import settings_of
from agent.errors import SpecAgentError

log = logging.getLogger(__name__)


def plan(
    ctx: typer.Context,
    doc: str = typer.Option(..., "--doc", help="Ingested document to plan (see `spec-agent documents`)."),
    out: Path = typer.Option(..., "--out", help="plan.xlsx or plan.csv (written atomically)."),
    since: str | None = typer.Option(
        None, "--since", help="An older edition: a last column says what changed since (what to re-test)."),
) -> None:
    """Every clause of a spec in document order with its tests (corrections applied), standards,
    page, frequency range and limits from its tables; clauses without a test say "no test".
    With --since OLD, each row also says what changed in its requirement since OLD."""
    from agent.commands.match import matcher_with_corrections
    from agent.index import SpecIndex
    from agent.plan import build_plan, write_plan

    settings = settings_of(ctx)
    try:
        if out.suffix.lower() not in (".csv", ".xlsx"):
            raise ValueError(f"{out.name}: give a .csv or .xlsx file name for --out")
        index = SpecIndex.open(settings)
        rows = build_plan(index, matcher_with_corrections(settings), doc)
        extra = None
        if since:
            from agent.compare.editions import changes_since

            old_doc = index.document(since)
            extra = (f"changed since {old_doc.name}", changes_since(old_doc, index.document(doc)))
        write_plan(rows, out, title=index.document(doc).name, extra=extra)
    except (ValueError, OSError, SpecAgentError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    tested = sum(1 for r in rows if r.test_ids)
    changed_text = ""
    if extra:
        from agent.compare.editions import requirement_changed

        changed = sum(1 for r in rows if requirement_changed(extra[1].get(r.clause, "")))
        changed_text = f", {changed} to re-test since {since}"
    typer.echo(f"wrote {len(rows)} clauses ({tested} with tests{changed_text}) to {out}")


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
