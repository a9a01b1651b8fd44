"""What the handlers need from a chat session: the `Chat` protocol and its answer and progress handles.

`ui/chainlit_chat.py` implements it over Chainlit; tests drive the handlers with a recording fake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ui.render import ActionSpec

DRAFT = "draft (not yet verified)"  # the step a model's draft streams into
REDRAFT = "draft, written again (not yet verified)"  # after the first draft failed verification


class AnswerHandle(Protocol):
    """One answer: the model's draft streamed into a step of its own (`draft` names it: DRAFT or
    REDRAFT), then the verified answer shown as the message by `finish`."""

    async def token(self, text: str, draft: str = DRAFT) -> None: ...
    async def finish(self, content: str, *, elements: Sequence[Any] = (), actions: Sequence[ActionSpec] = (),
                     metadata: Mapping[str, Any] | None = None) -> None: ...


class ProgressHandle(Protocol):
    async def update(self, output: str) -> None: ...
    async def finish(self, output: str) -> None: ...


class Chat(Protocol):
    """What the handlers need from a chat session. `scope`: the documents questions are answered
    from (empty: all), as the chat settings hold it."""

    user: str
    thread_id: str
    scope: list[str]

    async def send(self, content: str, *, elements: Sequence[Any] = (), actions: Sequence[ActionSpec] = (),
                   metadata: Mapping[str, Any] | None = None) -> None: ...
    async def start_answer(self) -> AnswerHandle: ...
    async def step(self, name: str, input: str, output: str) -> None: ...
    async def start_progress(self, name: str, input: str) -> ProgressHandle: ...
    async def choose(self, question: str, actions: Sequence[ActionSpec]) -> dict[str, Any] | None: ...
    async def offer_scope(self, documents: Sequence[str], scope: Sequence[str]) -> None:
        """Show the document picker (chat settings) over `documents` with `scope` chosen, and keep
        `scope` as this chat's."""
        ...
