"""`spec-agent doctor [--json]`: what is wrong with this set-up and what to do, one line per check."""

from __future__ import annotations

import json

import typer

from agent.cli import settings_of


def doctor(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check Ollama, the model, the context size, the index and the chat databases. Exit 1 if any fails."""
    from agent.doctor import failed, run_checks

    checks = run_checks(settings_of(ctx))
    if as_json:
        typer.echo(json.dumps({"checks": [c.as_dict() for c in checks], "ok": not failed(checks)},
                              indent=2, ensure_ascii=False))
    else:
        for c in checks:
            typer.echo(f"{c.status:<4}  {c.name:<11}  {c.detail}" + (f"  → {c.advice}" if c.advice else ""))
    if failed(checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
