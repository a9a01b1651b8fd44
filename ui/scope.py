"""The documents a chat answers from: chosen in the chat settings' picker or with `/doc NAME …`
(`/doc all`: every document), and the document each question is then asked over.

The assistant takes one document a question (`doc=`). A scope of several documents asks the
question once per document, each answer under its document's name; a question that names an
indexed document itself ("in MIL-STD-461G …") is asked over that document, whatever the scope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from agent.graph.docnames import named_documents

SETTING = "docs"  # the chat setting that holds the scope: a list of document names, [] for all
ALL = "all"


class UnknownDocument(ValueError):
    """A document named in `/doc` that is not indexed (or names several)."""


def resolve(names: Sequence[str], documents: Sequence[str]) -> list[str]:
    """The indexed documents `names` mean: the exact name, else the one name that equals it or
    contains it ignoring case ("461g" → MIL-STD-461G). Raises UnknownDocument saying which."""
    chosen: list[str] = []
    for name in names:
        if name in documents:
            found = [name]
        else:
            found = [d for d in documents if d.lower() == name.lower()] or \
                    [d for d in documents if name.lower() in d.lower()]
        if len(found) != 1:
            indexed = ", ".join(documents) or "none yet"
            what = "names several documents: " + ", ".join(found) if found else "is not an indexed document"
            raise UnknownDocument(f"`{name}` {what} (indexed: {indexed})")
        if found[0] not in chosen:
            chosen.append(found[0])
    return chosen


def scope_line(scope: Sequence[str]) -> str:
    """What the chat answers from, in one line."""
    if not scope:
        return "Questions are answered from **every document**."
    listed = ", ".join(f"**{d}**" for d in scope)
    if len(scope) == 1:
        return f"Questions are answered from {listed} only."
    return (f"Questions are answered from {listed}: the assistant answers from one document at a time, "
            "so each question is asked once per document.")


def titles(assistant: Any) -> dict[str, str]:
    """Indexed document name → title."""
    return {d.name: d.title for d in assistant.index.documents()}


def targets(scope: Sequence[str], question: str, indexed: Mapping[str, str]) -> tuple[list[str | None], str]:
    """The documents to ask `question` over (None: every document) and a note for the user, or "".

    A question naming an indexed document is asked unscoped: the assistant then takes the named one.
    Scope entries no longer indexed are left out, and the note says so."""
    if not scope:
        return [None], ""
    named = list(named_documents(question, indexed))
    if named:
        outside = [d for d in named if d not in scope]
        return [None], (f"The question names {', '.join(outside)}: asked over it, not the chat's scope."
                        if outside else "")
    kept = [d for d in scope if d in indexed]
    gone = [d for d in scope if d not in indexed]
    note = f"No longer indexed, left out of the scope: {', '.join(gone)}." if gone else ""
    if not kept:
        return [None], (note + " Answered from every document.").strip()
    if len(kept) > 1:
        note = (note + " " + f"Asked once per document: {', '.join(kept)}.").strip()
    return list(kept), note


async def offer(assistant: Any, chat: Any) -> None:
    """(Re)show the picker over the indexed documents, the chat's scope kept where still indexed."""
    documents = [d["doc"] for d in await asyncio.to_thread(assistant.documents)]
    await chat.offer_scope(documents, [d for d in chat.scope if d in documents])
