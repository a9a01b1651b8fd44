"""A language model that fails mid-answer (HTTP 500, no reply in time, the connection dropped
mid-stream) on both answering paths: `spec-agent ask` still answers, extractively, with one line
saying why, and exits 0; a server whose Ollama was down at start uses it once it answers."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_index
from scripted_ollama import ScriptedOllama
from typer.testing import CliRunner

from agent import llm
from agent.cli import _register_commands, app
from agent.config import Settings
from agent.graph import extractive
from agent.service import Assistant, FinalEvent, TokenEvent

ROOT = Path(__file__).resolve().parents[2]
DOC = "ACME-EMC-CS-2026"
QUESTION = "Which test does 8.2.2.1 require?"
MODELS = ["llama3.1:8b", "llama3:latest"]
CAPS = {"llama3.1:8b": ["completion", "tools"], "llama3": ["completion"]}
CRASH = "llama runner process has terminated: exit status 2"
TOOLS, COMPOSE = "llama3.1:8b", "llama3"  # the tool-calling path; gather-then-compose


@pytest.fixture
def index_dir(sample_index_master, tmp_path) -> Path:
    return copy_index(sample_index_master, tmp_path / "index")


@pytest.fixture(scope="module")
def extractive_body(sample_index_master, tmp_path_factory) -> str:
    """The offline answer to QUESTION without its first line ("Offline answer …")."""
    index = copy_index(sample_index_master, tmp_path_factory.mktemp("offline") / "index")
    answer = Assistant.open(Settings(index_dir=index, embedder="lsa", offline=True)).ask(QUESTION).answer
    mark, _, body = answer.partition("\n")
    assert mark == extractive.OFFLINE_MARK and body.startswith("8.2.2.1 — Conducted emissions – voltage method.")
    return body


@pytest.fixture
def server():
    with ScriptedOllama(MODELS, CAPS) as s:
        yield s


@pytest.fixture
def short_read_timeout(monkeypatch):
    """Chat replies time out after 1 s (the default waits minutes for a slow first token)."""
    monkeypatch.setattr(llm, "CHAT_READ_TIMEOUT_S", 1.0)


def failure_line(reason: str) -> str:
    return f"The language model failed ({reason}); this answer is extractive."


def reasons(url: str) -> dict[str, str]:
    return {"500": f"HTTP 500 from Ollama at {url}: {CRASH}",
            "timeout": f"no reply from Ollama at {url} within 1 s",
            "drop": f"Ollama at {url} closed the connection mid-answer"}


def script_failure(server: ScriptedOllama, mode: str) -> None:
    text = "The voltage method applies [1]."
    if mode == "500":
        server.enqueue(status=500, error=CRASH)
    elif mode == "timeout":
        server.enqueue(text=text, stall_s=3)
    else:
        server.enqueue(text=text, drop_after=2)  # two tokens, then the connection closes


def run_ask(index_dir: Path, url: str, model: str, *flags: str, monkeypatch):
    """`spec-agent ask` in this process (so that the read timeout can be short)."""
    if not any(c.name == "ask" for c in app.registered_commands):
        _register_commands()
    monkeypatch.setenv("OLLAMA_HOST", url)
    monkeypatch.setenv("SPEC_AGENT_EMBEDDER", "lsa")
    return CliRunner().invoke(app, ["--index", str(index_dir), "ask", "--model", model, *flags, QUESTION])


MODES = ["500", "timeout", "drop"]


@pytest.mark.parametrize("model", [TOOLS, COMPOSE])
@pytest.mark.parametrize("mode", MODES)
def test_ask_answers_extractively_when_the_model_fails(index_dir, server, extractive_body, model, mode,
                                                       short_read_timeout, monkeypatch):
    script_failure(server, mode)
    done = run_ask(index_dir, server.url, model, monkeypatch=monkeypatch)
    assert (done.exit_code, done.exception) == (0, None), done.output
    assert "Traceback" not in done.output
    line = failure_line(reasons(server.url)[mode])
    assert [x for x in done.stdout.splitlines() if "language model" in x] == [line]
    assert done.stdout.endswith(f"{line}\n{extractive_body}\n")
    assert done.stdout.count("[1] ACME-EMC-CS-2026 §8.2.2.1, p. 5") == 1
    chats = server.bodies("/api/chat")
    assert [bool(b.get("tools")) for b in chats] == [model == TOOLS]  # one try, no second wait


@pytest.mark.parametrize("mode", MODES)
def test_ask_json_names_the_failure_and_cites_the_clause(index_dir, server, extractive_body, mode,
                                                          short_read_timeout, monkeypatch):
    script_failure(server, mode)
    done = run_ask(index_dir, server.url, TOOLS, "--json", monkeypatch=monkeypatch)
    assert (done.exit_code, done.exception) == (0, None), done.output
    out = json.loads(done.stdout)
    assert out["mode"] == "offline"
    assert out["answer"] == f"{failure_line(reasons(server.url)[mode])}\n{extractive_body}"
    assert [(c["n"], c["doc"], c["clause"], c["page"]) for c in out["citations"]] == [(1, DOC, "8.2.2.1", 5)]
    assert out["tests"] == [{"id": 0, "name": "Conducted Emission - Voltage Method", "score": 0.98}]


def test_plain_llama3_rejecting_tools_then_failing(index_dir, server, extractive_body):
    """Tools forced on a model without them: Ollama's 400, then the plain chat fails with a 500."""
    server.enqueue(status=500, error=CRASH)
    settings = Settings(index_dir=index_dir, embedder="lsa", ollama_host=server.url, chat_model=COMPOSE)
    record = Assistant.open(settings, tool_calling=True).ask(QUESTION, "t")
    assert [bool(b.get("tools")) for b in server.bodies("/api/chat")] == [True, False]
    assert record.answer == f"{failure_line(reasons(server.url)['500'])}\n{extractive_body}"
    assert (record.mode, record.notes) == ("offline", [])


def test_failure_after_a_tool_call_answers_from_the_gathered_evidence(index_dir, server, extractive_body):
    server.enqueue(tool_calls=[{"name": "get_clause", "arguments": {"number": "8.2.2.2"}}])
    server.enqueue(text="The current probe is clamped", drop_after=3)
    settings = Settings(index_dir=index_dir, embedder="lsa", ollama_host=server.url)
    record = Assistant.open(settings).ask(QUESTION, "t")
    assert len(server.bodies("/api/chat")) == 2
    assert record.answer == f"{failure_line(reasons(server.url)['drop'])}\n{extractive_body}"
    assert [(c["n"], c["clause"]) for c in record.citations] == [(1, "8.2.2.1")]


async def test_streamed_tokens_then_a_drop_still_end_in_the_extractive_answer(index_dir, server,
                                                                              extractive_body):
    """The chat's path (astream): the tokens that came before the drop, then the answer."""
    server.enqueue(text="The voltage method applies [1].", drop_after=2)
    settings = Settings(index_dir=index_dir, embedder="lsa", ollama_host=server.url, chat_model=COMPOSE)
    events = [e async for e in Assistant.open(settings).astream(QUESTION, "t")]
    assert [e.text for e in events if isinstance(e, TokenEvent)] == ["The", " voltage"]
    (final,) = [e.answer for e in events if isinstance(e, FinalEvent)]
    assert final.answer == f"{failure_line(reasons(server.url)['drop'])}\n{extractive_body}"


def test_ask_subprocess_exits_0_without_a_traceback(index_dir, server, extractive_body):
    """The real console: no rich traceback, exit 0."""
    server.enqueue(status=500, error=CRASH)
    env = {**os.environ, "OLLAMA_HOST": server.url, "SPEC_AGENT_EMBEDDER": "lsa"}
    done = subprocess.run([sys.executable, "-m", "agent.cli", "--index", str(index_dir), "ask", QUESTION],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert (done.stderr, "Traceback" in done.stdout) == ("", False)
    assert done.stdout.endswith(f"{failure_line(reasons(server.url)['500'])}\n{extractive_body}\n")


# -- re-probing: an Ollama that comes up after the server started ------------------------------


async def test_server_uses_an_ollama_started_later(index_dir):
    url = ScriptedOllama.closed_url()
    port = int(url.rsplit(":", 1)[1])
    settings = Settings(index_dir=index_dir, embedder="lsa", ollama_host=url)
    assistant = Assistant.open(settings)  # as the chat server does, once
    assert assistant.mode == "offline"
    with ScriptedOllama(MODELS, CAPS, port=port) as server:
        server.enqueue(text="Clause 8.2.2.1 calls for the voltage method [1].")
        first = assistant.ask(QUESTION, "t1")  # just probed: no second probe yet
        assert first.mode == "offline" and server.requests == []
        await asyncio.sleep(llm.REPROBE_FIRST_S + 0.1)
        events = [e async for e in assistant.astream(QUESTION, "t2")]
        (final,) = [e.answer for e in events if isinstance(e, FinalEvent)]
        assert [r.path for r in server.requests] == ["/api/tags", "/api/show", "/api/chat"]
        assert (assistant.mode, assistant.model_name, assistant.tool_calling) == ("llm", TOOLS, True)
        assert (final.mode, final.answer) == ("llm", "Clause 8.2.2.1 calls for the voltage method [1].")
        assert assistant.status_note == ""


def test_reprobe_backs_off_while_the_model_stays_unavailable(monkeypatch):
    """An Ollama without the chat model is probed again after 1 s, then 2, 4, … at most every
    30 s; never in offline mode."""
    clock = [1000.0]
    monkeypatch.setattr(llm, "monotonic", lambda: clock[0])
    with ScriptedOllama(["nomic-embed-text"]) as server:
        settings = Settings(ollama_host=server.url)
        assert not llm.probe_ollama(settings).available
        probed_at = []
        for _ in range(90):
            clock[0] += 1.0
            tags = len(server.bodies("/api/tags"))
            assert llm.reprobe(settings) is None
            if len(server.bodies("/api/tags")) > tags:
                probed_at.append(clock[0] - 1000.0)
        assert probed_at == [1.0, 3.0, 7.0, 15.0, 31.0, 61.0]
        clock[0] += 100
        assert llm.reprobe(settings.with_(offline=True)) is None
        assert len(server.bodies("/api/tags")) == 7
