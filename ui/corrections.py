"""Corrections of the matcher: "Correct the test" under a which-test answer, the catalogue
buttons it asks with, and the correction stored with the user's name (the matcher reloads)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from ui.chat import Chat
from ui.render import ActionSpec

CORRECT_TEST = "correct_test"


def correction_actions(record: Any) -> list[ActionSpec]:
    """ "Correct the test" under a which-test answer, naming the clause it classified."""
    cited = next((c for c in record.citations if c.get("clause") and not c.get("table")), None)
    if not record.tests or cited is None:
        return []
    payload = {"answer_id": record.answer_id, "doc": cited["doc"], "clause": cited["clause"],
               "wrong": [t["id"] for t in record.tests]}
    return [ActionSpec(CORRECT_TEST, "Correct the test", payload)]


def catalogue_tests(assistant: Any) -> list[tuple[int, str]]:
    return [(t.id, t.name) for t in assistant.toolbox.matcher.catalogue.tests]


async def correct_from_action(assistant: Any, chat: Chat, payload: Mapping[str, Any]) -> None:
    """Ask which test the clause really requires (catalogue buttons), then record it."""
    choices = [ActionSpec("pick_test", f"{i} {name}", {"test": i}) for i, name in catalogue_tests(assistant)]
    choices.append(ActionSpec("pick_test", "No test of the catalogue", {"test": None}))
    chosen = await chat.choose(f"Which test does {payload['doc']} §{payload['clause']} require?", choices)
    if chosen is None:
        await chat.send("No correction recorded (no test chosen).")
        return
    right = [] if chosen.get("test") is None else [int(chosen["test"])]
    await record_correction(assistant, chat, payload["clause"], right, payload["doc"], payload.get("wrong"))


async def record_correction(assistant: Any, chat: Chat, number: str, right: list[int], doc: str | None,
                            wrong: Sequence[int] | None = None) -> None:
    """Store "clause requires these tests" (catalogue ids) in the feedback store and reload the matcher."""
    names = dict(catalogue_tests(assistant))
    saved = await asyncio.to_thread(_store_correction, assistant, number, right, doc, wrong, chat.user)
    tests = "; ".join(f"{i} {names[i]}" for i in saved.right) or "no test of the catalogue"
    was = f" (the matcher said: {'; '.join(f'{i} {names.get(i, i)}' for i in saved.wrong) or 'none'})" \
        if saved.wrong is not None else ""
    await chat.send(f"Correction recorded: {saved.doc} §{saved.clause} {saved.heading.split(' ', 1)[-1]} "
                    f"requires **{tests}**{was}. The next answers use it.")


def _store_correction(assistant: Any, number: str, right: list[int], doc: str | None,
                      wrong: Sequence[int] | None, user: str) -> Any:
    clause = assistant.index.get_clause(number, doc).clause
    if wrong is None:
        wrong = [t["id"] for t in assistant.toolbox.match_tests(clause=clause.number, doc=clause.doc).data["tests"]]
    saved = assistant.feedback.add_correction(f"{clause.number} {clause.title}", right, text=clause.text,
                                              doc=clause.doc, clause=clause.number, wrong=list(wrong), user=user)
    assistant.refresh()
    return saved
