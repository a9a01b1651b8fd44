"""The Chainlit side of `Chat`: messages, steps, elements, ask-action and the document picker
(chat settings) over the current session."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ui.chat import DRAFT
from ui.render import ActionSpec, FileCard, PdfCard, SourceCard
from ui.scope import SETTING


def to_element(card: Any) -> Any:
    """A render card as the Chainlit element that shows it."""
    import chainlit as cl

    if isinstance(card, SourceCard):
        return cl.Text(name=card.name, content=card.content, display="side")
    if isinstance(card, PdfCard):
        return cl.Pdf(name=card.name, path=card.path, page=card.page, display="side")
    if isinstance(card, FileCard):
        return cl.File(name=card.name, content=card.content, mime=card.mime, display="inline")
    raise TypeError(f"no Chainlit element for {type(card).__name__}")


def to_action(spec: ActionSpec) -> Any:
    import chainlit as cl

    return cl.Action(name=spec.name, label=spec.label, payload=dict(spec.payload))


class ChainlitChat:
    """`Chat` over the current Chainlit session (messages, steps, elements, ask-action, the picker)."""

    def __init__(self, user: str, thread_id: str, scope: Sequence[str] = ()) -> None:
        self.user = user
        self.thread_id = thread_id
        self.scope = list(scope)

    @classmethod
    def current(cls) -> ChainlitChat:
        import chainlit as cl

        user = cl.user_session.get("user")
        settings = cl.context.session.chat_settings or {}
        return cls(getattr(user, "identifier", None) or "anonymous", cl.context.session.thread_id,
                   settings.get(SETTING) or ())

    async def send(self, content: str, *, elements: Sequence[Any] = (), actions: Sequence[ActionSpec] = (),
                   metadata: Mapping[str, Any] | None = None) -> None:
        import chainlit as cl

        await cl.Message(content=content, elements=[to_element(e) for e in elements],
                         actions=[to_action(a) for a in actions], metadata=dict(metadata or {})).send()

    async def start_answer(self) -> ChainlitAnswer:
        return ChainlitAnswer()

    async def step(self, name: str, input: str, output: str) -> None:
        import chainlit as cl

        async with cl.Step(name=name, type="tool", show_input="text") as step:
            step.input = input
            step.output = output

    async def start_progress(self, name: str, input: str) -> ChainlitProgress:
        import chainlit as cl

        step = cl.Step(name=name, type="tool", default_open=True, show_input="text")
        step.input = input
        await step.send()
        return ChainlitProgress(step)

    async def choose(self, question: str, actions: Sequence[ActionSpec]) -> dict[str, Any] | None:
        import chainlit as cl

        res = await cl.AskActionMessage(content=question, actions=[to_action(a) for a in actions],
                                        timeout=600).send()
        # Chainlit re-opens "a task is running" after an answer, which only a message handler
        # closes; asked from an action callback, close it or the message box stays locked.
        await cl.context.emitter.task_end()
        return dict(res.get("payload") or {}) if res else None

    async def offer_scope(self, documents: Sequence[str], scope: Sequence[str]) -> None:
        import chainlit as cl
        from chainlit.input_widget import MultiSelect

        self.scope = list(scope)
        if not documents:  # a picker needs something to pick; the scope is kept all the same
            cl.context.session.chat_settings = {**(cl.context.session.chat_settings or {}),
                                                SETTING: self.scope}
            return
        picker = MultiSelect(id=SETTING, label="Documents to answer from", values=list(documents),
                             initial=self.scope, description="None chosen: every document.")
        await cl.ChatSettings([picker]).send()


class ChainlitAnswer:
    """An answer: the model's draft streamed into an open step named after it (it closes and
    folds once verification is done), then the verified answer sent as the message."""

    def __init__(self) -> None:
        import chainlit as cl

        self.message = cl.Message(content="")
        self.draft: Any = None  # the cl.Step being streamed into

    async def token(self, text: str, draft: str = DRAFT) -> None:
        if self.draft is None or self.draft.name != draft:
            await self._close_draft()
            self.draft = _open_step(draft)
        await self.draft.stream_token(text)

    async def _close_draft(self) -> None:
        from chainlit.utils import utc_now

        if self.draft is not None:
            self.draft.end = utc_now()
            await self.draft.send()  # ends the stream, stores the step

    async def finish(self, content: str, *, elements: Sequence[Any] = (), actions: Sequence[ActionSpec] = (),
                     metadata: Mapping[str, Any] | None = None) -> None:
        await self._close_draft()
        self.message.content = content
        self.message.elements = [to_element(e) for e in elements]
        self.message.actions = [to_action(a) for a in actions]
        self.message.metadata = dict(metadata or {})
        await self.message.send()


def _open_step(name: str) -> Any:
    """A step under the running handler, started now and shown open while it streams."""
    import chainlit as cl
    from chainlit.utils import utc_now

    step = cl.Step(name=name, type="llm", default_open=True, auto_collapse=True, show_input=False)
    step.start = utc_now()
    parent = cl.context.current_step
    step.parent_id = parent.id if parent else None
    return step


class ChainlitProgress:
    """An ingest step whose output grows as files are parsed."""

    def __init__(self, step: Any) -> None:
        self.step = step

    async def update(self, output: str) -> None:
        self.step.output = output
        await self.step.update()

    async def finish(self, output: str) -> None:
        from chainlit.utils import utc_now

        self.step.output = output
        self.step.end = utc_now()
        await self.step.update()
