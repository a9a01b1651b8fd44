"""The model's draft in the chat, through the real Ollama client against the scripted server: it
streams into a step named "draft (not yet verified)", a draft that fails verification is written
again into a step of its own, and only the verified answer becomes the message."""

from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock

import pytest
from conftest import copy_index
from scripted_ollama import ScriptedOllama

from agent.config import Settings
from agent.service import Assistant
from ui import conversation
from ui.chainlit_chat import ChainlitChat
from ui.chat import DRAFT, REDRAFT

QUESTION = "Which test does 8.2.2.1 require?"
BAD = "Clause 8.2.2.1 calls for the voltage method [4]."  # there is no [4]: verification fails
GOOD = "Clause 8.2.2.1 calls for the Conducted Emission - Voltage Method test (CISPR 25) [1]."


@pytest.fixture
def assistant(sample_index_master, tmp_path):
    index = copy_index(sample_index_master, tmp_path / "index")
    with ScriptedOllama(["llama3:latest"], {"llama3": ["completion"]}) as server:
        server.enqueue(text=BAD)
        server.enqueue(text=GOOD)
        yield Assistant.open(Settings(index_dir=index, embedder="lsa", ollama_host=server.url, chat_model="llama3"))
        assert server.pending == 0


def chainlit_context() -> MagicMock:
    """A Chainlit context for this task (as in Chainlit's backend tests); its emitter records."""
    from chainlit.context import ChainlitContext, context_var

    session = MagicMock()
    session.thread_id = "thread-draft"
    session.chat_settings = {}
    session.persist_file = AsyncMock(return_value={"id": "file-key"})
    emitter = MagicMock()
    for name in ("send_step", "update_step", "stream_start", "send_token", "send_element", "emit"):
        setattr(emitter, name, AsyncMock())
    context_var.set(ChainlitContext(session, emitter))
    return emitter


async def test_drafts_stream_as_drafts_and_the_verified_answer_is_the_message(assistant):
    emitter = chainlit_context()
    chat = ChainlitChat("ada", "thread-draft")
    await conversation.answer(assistant, chat, QUESTION)

    started = [c.args[0] for c in emitter.stream_start.await_args_list]
    assert [(s["name"], s["type"]) for s in started] == [(DRAFT, "llm"), (REDRAFT, "llm")]
    tokens = {s["id"]: s["output"] for s in started}
    for call in emitter.send_token.await_args_list:
        tokens[call.kwargs["id"]] += call.kwargs["token"]
    assert list(tokens.values()) == [BAD, GOOD]  # each draft streamed whole, into its own step

    sent = [c.args[0] for c in emitter.send_step.await_args_list]
    shown: list[tuple[str, str]] = []  # each step and the message, in the order they first appear
    for name, args, _ in emitter.mock_calls:
        if name in ("stream_start", "send_step") and args[0]["id"] not in {i for i, _ in shown}:
            shown.append((args[0]["id"], args[0]["name"]))
    assert [n for _, n in shown] == ["understand", "tool: match_tests", DRAFT, "compose", "verify", REDRAFT,
                                     "retry", "verify", "spec-agent"]
    closed = {s["id"]: s for s in sent if s["id"] in tokens}
    assert [(s["output"], bool(s["end"])) for s in closed.values()] == [(BAD, True), (GOOD, True)]
    (message,) = [s for s in sent if s["type"] == "assistant_message"]
    assert message["output"].startswith(GOOD + "\n\n**Sources:**\n- [1] ACME-EMC-CS-2026 §8.2.2.1 p. 5")
    assert "[4]" not in message["output"] and message["id"] not in tokens  # the draft never was the message
    assert sent.index(message) == len(sent) - 1  # shown once verification is done
