"""CLI commands `learn`, `corrections` and `export`: engineers' corrections in, training data out."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import typer

from agent.cli import settings_of
from agent.errors import SpecAgentError
from agent.feedback.export import export as export_records
from agent.feedback.store import Correction, FeedbackStore
from agent.match.catalogue import load_catalogue

_KEYS = {"heading", "text", "tests", "doc", "clause", "wrong"}
_EXAMPLE = '{"heading": "6.2 Current Probe Method", "text": "", "tests": [1]}'


def read_corrections(lines: Iterable[str], known_ids: Collection[int]) -> list[dict[str, Any]]:
    """JSON lines of corrections, checked (test ids must be in the catalogue); a ValueError
    names the first bad line."""
    items = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            items.append(_correction_line(number, line, known_ids))
    if not items:
        raise ValueError(f"no corrections on standard input; give one JSON object a line, e.g. {_EXAMPLE}")
    return items


def _correction_line(number: int, line: str, known_ids: Collection[int]) -> dict[str, Any]:
    def bad(what: str) -> ValueError:
        return ValueError(f"line {number}: {what}; expected e.g. {_EXAMPLE}")

    try:
        data = json.loads(line)
    except json.JSONDecodeError as err:
        raise bad(f"not JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(data, dict):
        raise bad("not a JSON object")
    if unknown := sorted(set(data) - _KEYS):
        raise bad(f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_KEYS))})")
    if not isinstance(data.get("heading"), str) or not data["heading"].strip():
        raise bad('"heading" must be a non-empty string')
    if not isinstance(data.get("text"), str):
        raise bad('"text" must be a string (may be empty)')
    for key in ("doc", "clause"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise bad(f'"{key}" must be a string')
    for key in ("tests", "wrong"):
        if key == "wrong" and data.get(key) is None:
            continue
        ids = data.get(key)
        if not isinstance(ids, list) or any(isinstance(t, bool) or not isinstance(t, int) for t in ids):
            raise bad(f'"{key}" must be a list of test ids (integers)')
        if unknown_ids := [t for t in ids if t not in known_ids]:
            raise bad(f'"{key}": no test {", ".join(map(str, unknown_ids))} in the catalogue '
                      f"(ids {', '.join(map(str, sorted(known_ids)))})")
    return {
        "heading": data["heading"].strip(),
        "text": data["text"],
        "right": data["tests"],
        "wrong": data.get("wrong"),
        "doc": data.get("doc"),
        "clause": data.get("clause"),
    }


def _fail(err: Exception) -> typer.Exit:
    typer.echo(f"error: {err}", err=True)
    return typer.Exit(1)


def login_name() -> str:
    """Who runs the command where $USER is unset (containers, services): the login name, else
    "unknown" (a uid without a passwd entry)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):
        return "unknown"


def learn(
    ctx: typer.Context,
    user: str | None = typer.Option(None, "--user", envvar="USER",
                                    help="Who corrects (default $USER, else the login name)."),
) -> None:
    """Store corrections read as JSON lines from standard input:
    {"heading", "text", "tests": [ids], "doc" (optional), "clause" (optional)}."""
    settings = settings_of(ctx)
    user = user or login_name()
    try:
        items = read_corrections(sys.stdin, load_catalogue(settings.catalogue or None).ids)
        stored = FeedbackStore.open(settings).add_corrections(items, user=user)
    except (ValueError, SpecAgentError) as err:
        raise _fail(err) from None
    typer.echo(f"stored {len(stored)} correction(s) by {user} in {settings.index_dir}")


def _as_json(c: Correction) -> dict[str, Any]:
    return {
        "id": c.id,
        "doc": c.doc,
        "clause": c.clause,
        "heading": c.heading,
        "text": c.text,
        "wrong": None if c.wrong is None else list(c.wrong),
        "right": list(c.right),
        "user": c.user,
        "created_at": c.created_at,
    }


def _line(c: Correction) -> str:
    where = " ".join(p for p in (c.doc, c.clause) if p)
    tests = " ".join(map(str, c.right)) or "none"
    was = f" (was {' '.join(map(str, c.wrong)) or 'none'})" if c.wrong is not None else ""
    gone = f"  [removed {c.removed_at[:10]}]" if c.removed_at else ""
    place = f"{where}  " if where else ""
    return f"#{c.id}  {c.created_at[:10]}  {c.user}  {place}{c.heading} -> {tests}{was}{gone}"


def corrections(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of lines."),
    remove: int | None = typer.Option(None, "--remove", metavar="ID", help="Revert correction ID."),
    show_all: bool = typer.Option(False, "--all", help="Include removed corrections (audit)."),
) -> None:
    """List engineers' corrections, or revert one with --remove ID."""
    try:
        store = FeedbackStore.open(settings_of(ctx))
        if remove is not None:
            removed = store.remove_correction(remove)
            typer.echo(f"removed correction #{removed.id} ({removed.heading})")
            return
        found = store.corrections(include_removed=show_all)
    except SpecAgentError as err:
        raise _fail(err) from None
    if as_json:
        rows = [_as_json(c) | ({"removed_at": c.removed_at} if show_all else {}) for c in found]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not found:
        typer.echo("no corrections yet; add some with `spec-agent learn`")
    else:
        for c in found:
            typer.echo(_line(c))


def export(
    ctx: typer.Context,
    kind: str = typer.Argument(..., metavar="labels|sft|dpo", help="What to export."),
    out: Path = typer.Option(..., "--out", help="JSON-lines file to write."),
    with_seed: bool = typer.Option(False, "--with-seed", help="labels: include the seed labels."),
) -> None:
    """Export training data as JSON lines: matcher labels, SFT conversations or DPO pairs."""
    settings = settings_of(ctx)
    try:
        store = FeedbackStore.open(settings)
        names = {t.id: t.name for t in load_catalogue(settings.catalogue or None).tests}
        count = export_records(kind, store, out, labels_dir=settings.labels_dir, with_seed=with_seed,
                               test_names=names)
    except (ValueError, SpecAgentError, OSError) as err:
        raise _fail(err) from None
    typer.echo(f"wrote {count} {kind} record(s) to {out}")


def register(app: typer.Typer) -> None:
    app.command("learn")(learn)
    app.command("corrections")(corrections)
    app.command("export")(export)

