"""Command groups of the CLI; each module exposes `register(app)`."""

from __future__ import annotations

import importlib
from types import ModuleType

_NAMES = ("ingest", "match", "tables", "ask", "learn", "plan", "ui", "doctor", "diff", "compare")


def _load() -> list[ModuleType]:
    modules = []
    for name in _NAMES:
        try:
            modules.append(importlib.import_module(f"agent.commands.{name}"))
        except ModuleNotFoundError as err:
            if err.name != f"agent.commands.{name}":
                raise
    return modules


COMMAND_MODULES = _load()
