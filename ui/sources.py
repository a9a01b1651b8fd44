"""The sources under an answer: a text card per citation (tables as markdown tables), the PDF at
the cited page, and the lines naming them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agent.errors import SpecAgentError
from ui import render
from ui.render import PdfCard, SourceCard


def source_elements(assistant: Any, citations: Sequence[Mapping[str, Any]]) -> tuple[list[Any], list[str]]:
    """A text element per citation (tables as markdown tables), plus the PDF at the cited page;
    and the lines naming them under the answer."""
    elements: list[Any] = []
    lines: list[str] = []
    for c in citations:
        name = render.source_name(c)
        elements.append(SourceCard(name, render.source_markdown(c, cited_table(assistant, c),
                                                                clause_tables(assistant, c))))
        line = name
        path = assistant.source_path(c["doc"])
        if path and path.lower().endswith(".pdf") and Path(path).is_file():
            pdf_name = f"[{c['n']}] {Path(path).name}" + (f" p. {c['page']}" if c.get("page") else "")
            elements.append(PdfCard(pdf_name, path, c.get("page")))
            line += f" · {pdf_name}"
        lines.append(line)
    return elements, lines


def cited_table(assistant: Any, c: Mapping[str, Any]) -> Any:
    """The table a citation names, or None."""
    if not c.get("table"):
        return None
    try:
        return assistant.index.get_table(c["table"], c.get("doc"))
    except SpecAgentError:
        return None


def clause_tables(assistant: Any, c: Mapping[str, Any]) -> tuple:
    """The tables printed in a cited clause (limits, levels), shown with its text."""
    if c.get("table") or not c.get("clause"):
        return ()
    try:
        return tuple(getattr(assistant.index.get_clause(c["clause"], c.get("doc")), "tables", ()))
    except SpecAgentError:
        return ()
