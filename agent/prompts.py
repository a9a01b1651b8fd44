"""Prompt templates (prompts/*.md with {named} slots): the one loader, and the evidence block.

- ``render(name, **slots) -> str``: ``prompts/<name>.md`` with every ``{slot}`` filled;
  ``ValueError`` names a missing or unknown slot (or an unknown prompt). ``{{``/``}}`` are
  literal braces. Slot values are inserted as they are (never re-parsed).
- ``slots(name) -> frozenset[str]``: the slots a prompt needs.
- ``names() -> list[str]``: the prompts there are.
- ``evidence_block(citations) -> str``: the numbered evidence lines that go between
  ``<evidence>`` and ``</evidence>``: ``[n] DOC §clause (title), p. X, Table Y, row r: text``.
  Document text cannot close the block or start a line with a fake ``[n]``: delimiter tags in it
  are defused and its continuation lines are indented.

The prompts: ``system`` (who the assistant is, citation and injection rules; slot
``documents``), ``answer`` (evidence + question), ``understand`` (JSON-mode parse of a
question), ``retry`` (regenerate once, saying what failed), ``no_evidence`` (the reply shown
to the user when retrieval found nothing; no model is called).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from agent.schema import Citation

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"
_TAG = re.compile(r"</?\s*evidence\s*>", re.IGNORECASE)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def names() -> list[str]:
    """The prompt names (file stems under prompts/), sorted."""
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.md"))


@cache
def _template(name: str) -> tuple[str, frozenset[str]]:
    path = PROMPTS_DIR / f"{name}.md"
    if not _IDENT.match(name) or not path.is_file():
        raise ValueError(f"unknown prompt {name!r}; known prompts: {names()}")
    text = path.read_text(encoding="utf-8")
    found = set()
    for _literal, field, _spec, _conv in string.Formatter().parse(text):
        if field is None:
            continue
        if not _IDENT.match(field):
            raise ValueError(f"prompt {name!r} has a slot {{{field}}} that is not a plain name")
        found.add(field)
    return text, frozenset(found)


def slots(name: str) -> frozenset[str]:
    """The slot names prompt ``name`` needs."""
    return _template(name)[1]


def render(name: str, **values: object) -> str:
    """Prompt ``name`` with its slots filled; ValueError names a missing or unknown slot."""
    text, needed = _template(name)
    missing = sorted(needed - values.keys())
    if missing:
        raise ValueError(f"prompt {name!r} needs slot(s) {missing}; given: {sorted(values)}")
    unknown = sorted(values.keys() - needed)
    if unknown:
        raise ValueError(f"prompt {name!r} has no slot(s) {unknown}; its slots: {sorted(needed)}")
    return text.format(**{k: str(v) for k, v in values.items()})


def evidence_line(c: Citation) -> str:
    """One evidence item: ``[n] DOC §clause (title), p. X, Table Y, row r: text``."""
    where = [c.doc or "unknown document"]
    if c.clause:
        where[0] += f" §{c.clause}" + (f" ({c.title})" if c.title else "")
    page = c.page_label or c.page
    if page is not None:
        where.append(f"p. {page}")
    elif c.position is not None:
        where.append(f"paragraph {c.position}")
    if c.table:
        where.append(c.table if c.table.lower().startswith("table") else f"Table {c.table}")
    if c.row is not None:
        where.append(f"row {c.row}")
    text = _TAG.sub("(evidence tag removed)", c.text.strip())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()] or [""]
    body = "\n    ".join(lines)  # continuation lines indented: no line of text starts with [n]
    return f"[{c.n}] {', '.join(where)}: {body}"


def evidence_block(citations: Sequence[Citation]) -> str:
    """The evidence items, one per line (continuations indented), in the order given."""
    return "\n".join(evidence_line(c) for c in citations)
