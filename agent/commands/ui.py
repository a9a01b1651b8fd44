"""`spec-agent ui`: the chat in the browser (Chainlit), over the index given by --index."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import typer

from agent.cli import settings_of

LOOPBACK_NAMES = {"localhost"}


def app_path() -> Path:
    """ui/app.py of this installation (the `ui` package sits beside `agent`)."""
    return Path(__file__).resolve().parents[2] / "ui" / "app.py"


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def login_configured(env: dict[str, str]) -> bool:
    """The same rule as ui.auth.auth_enabled: a JWT secret and an existing users file."""
    users = env.get("SPEC_AGENT_USERS")
    return bool(env.get("CHAINLIT_AUTH_SECRET")) and bool(users) and Path(users).is_file()


def chainlit_command(host: str, port: int, headless: bool) -> list[str]:
    cmd = [sys.executable, "-m", "chainlit", "run", str(app_path()), "--host", host, "--port", str(port)]
    return cmd + (["--headless"] if headless else [])


def ui(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default: this machine only)."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    headless: bool = typer.Option(False, "--headless", help="Do not open a browser."),
) -> None:
    """Start the chat UI (Chainlit) on http://HOST:PORT."""
    settings = settings_of(ctx)
    env = dict(os.environ)
    env["SPEC_AGENT_INDEX"] = str(Path(settings.index_dir).resolve())
    env.setdefault("CHAINLIT_APP_ROOT", str(app_path().parents[1]))  # .chainlit/config.toml, chainlit.md
    if not is_loopback(host) and not login_configured(env):
        typer.echo(f"warning: listening on {host} without login: anyone who reaches this port can read your "
                   "specifications. Set CHAINLIT_AUTH_SECRET and SPEC_AGENT_USERS "
                   "(add users with `python -m ui.auth add USER`).", err=True)
    typer.echo(f"spec-agent chat on http://{host}:{port} (index {env['SPEC_AGENT_INDEX']})", err=True)
    try:
        code = subprocess.call(chainlit_command(host, port, headless), env=env, cwd=env["CHAINLIT_APP_ROOT"])
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
