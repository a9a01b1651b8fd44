"""`spec-agent doctor [--json]`: what is wrong with this set-up and what to do, one line per check."""

from __future__ import annotations

import json

import typer

from agent.cli import settings_of


def doctor(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check the model server (Ollama or SPEC_AGENT_LLM=openai's), the model, the context size, the
    index and the chat databases. Exit 1 if any fails (--json: "problems" lists them)."""
    from agent.doctor import diagnose, failed

    report = diagnose(settings_of(ctx))
    checks = report.checks
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        for c in checks:
            typer.echo(f"{c.status:<4}  {c.name:<11}  {c.detail}" + (f"  → {c.advice}" if c.advice else ""))
    if failed(checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
