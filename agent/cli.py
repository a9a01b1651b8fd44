"""The `spec-agent` command line: global options, then one module per command group."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import typer

from agent.config import Settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Local assistant for automotive EMC specifications: ingest, search, match tests, ask.",
)


@app.callback()
def _global(
    ctx: typer.Context,
    index: Optional[Path] = typer.Option(
        None, "--index", envvar="SPEC_AGENT_INDEX", help="Index directory (default .spec-agent/)."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what happens."),
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = Settings.from_env(index_dir=index)


def settings_of(ctx: typer.Context, **overrides: object) -> Settings:
    """The global settings with a command's own flags applied (None = not given)."""
    base: Settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings.from_env()
    given = {k: v for k, v in overrides.items() if v is not None}
    return base.with_(**given) if given else base


def _register_commands() -> None:
    from agent.commands import COMMAND_MODULES

    for module in COMMAND_MODULES:
        module.register(app)


def main() -> None:
    _register_commands()
    app()


if __name__ == "__main__":
    main()
