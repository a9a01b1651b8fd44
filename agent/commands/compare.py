"""CLI command `compare`: one test across documents, the limit or level each states at a frequency."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from agent.cli import settings_of
from agent.errors import SpecAgentError


def compare(
    ctx: typer.Context,
    test: str = typer.Option(..., "--test", help="Catalogue test id, code, OEM code or name (2, RE, \"RE 310\")."),
    at: str = typer.Option(..., "--at", help="The frequency, e.g. \"100 MHz\"."),
    docs: Annotated[list[str] | None, typer.Option(
        "--docs", help="Documents to compare (repeat, or give several); default: every indexed one.")] = None,
    more: Annotated[list[str] | None, typer.Argument(
        metavar="DOC", help="More documents, as in --docs A B (commas work too: --docs A,B).", show_default=False)] = None,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """For each document: the clauses that require the test (the matcher, with corrections) and its
    limit or level at the frequency from their tables, cited; the strictest where detector and
    unit agree, and which documents do not say."""
    from agent.commands.match import matcher_with_corrections
    from agent.compare.across import compare_test
    from agent.compare.text import render_comparison
    from agent.index import SpecIndex

    settings = settings_of(ctx)
    try:
        index = SpecIndex.open(settings)
        names = [n.strip() for d in [*(docs or []), *(more or [])] for n in d.split(",") if n.strip()]
        documents = [index.document(d) for d in names] if names else index.documents()
        if not documents:
            raise SpecAgentError("no documents are indexed; ingest some first (spec-agent ingest FILE).")
        result = compare_test(documents, matcher_with_corrections(settings), test, at)
    except (ValueError, OSError, SpecAgentError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_comparison(result))


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
