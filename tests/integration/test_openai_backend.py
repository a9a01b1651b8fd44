"""SPEC_AGENT_LLM=openai: `spec-agent ask` through the real ChatOpenAI client against a scripted
OpenAI-compatible server: the verified answer with citations, the exact requests (probe, model,
messages), a server refusing tools (gather-then-compose), and an HTTP 500 (the extractive answer
with one line saying why)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import copy_index
from scripted_ollama import ScriptedOllama
from scripted_openai import ScriptedOpenAI
from typer.testing import CliRunner

from agent import llm
from agent.cli import _register_commands, app
from agent.config import Settings
from agent.graph import extractive
from agent.service import Assistant, FinalEvent, TokenEvent

DOC = "ACME-EMC-CS-2026"
MODEL = "llama3.1:8b"
QUESTION = "Which test does 8.2.2.1 require?"
ANSWER = "Clause 8.2.2.1 calls for the voltage method [1]."
PROBE = {"model": MODEL, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1, "stream": False}


@pytest.fixture
def index_dir(sample_index_master, tmp_path) -> Path:
    return copy_index(sample_index_master, tmp_path / "index")


@pytest.fixture(scope="module")
def extractive_body(sample_index_master, tmp_path_factory) -> str:
    index = copy_index(sample_index_master, tmp_path_factory.mktemp("offline") / "index")
    answer = Assistant.open(Settings(index_dir=index, embedder="lsa", offline=True)).ask(QUESTION).answer
    mark, _, body = answer.partition("\n")
    assert mark == extractive.OFFLINE_MARK
    return body


def run_ask(index_dir: Path, url: str, monkeypatch) -> dict:
    if not any(c.name == "ask" for c in app.registered_commands):
        _register_commands()
    monkeypatch.setenv("SPEC_AGENT_LLM", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("SPEC_AGENT_MODEL", MODEL)
    monkeypatch.setenv("SPEC_AGENT_EMBEDDER", "lsa")
    done = CliRunner().invoke(app, ["--index", str(index_dir), "ask", "--json", QUESTION])
    assert (done.exit_code, done.exception) == (0, None), done.output
    return json.loads(done.stdout)


def chat_bodies(server: ScriptedOpenAI) -> list[dict]:
    return server.bodies("/v1/chat/completions")


def test_ask_answers_with_the_models_verified_text_and_citations(index_dir, monkeypatch):
    with ScriptedOpenAI([MODEL], tools=True) as server:
        server.enqueue(text="ok")  # the tool probe
        server.enqueue(text=ANSWER)
        out = run_ask(index_dir, server.url, monkeypatch)
    assert (out["mode"], out["answer"]) == ("llm", ANSWER)
    assert [(c["n"], c["doc"], c["clause"], c["page"]) for c in out["citations"]] == [(1, DOC, "8.2.2.1", 5)]
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", "/v1/models"), ("POST", "/v1/chat/completions"), ("POST", "/v1/chat/completions")]
    probe, chat = chat_bodies(server)
    assert {k: probe[k] for k in PROBE} == PROBE and [t["function"]["name"] for t in probe["tools"]] == ["ping"]
    assert chat["model"] == MODEL and chat["temperature"] == 0.0
    assert [m["role"] for m in chat["messages"]] == ["system", "user"]
    assert chat["messages"][1]["content"].startswith(
        "<evidence>\n[1] ACME-EMC-CS-2026 §8.2.2.1 (Conducted emissions – voltage method), p. 5: The DUT")
    assert f"Question: {QUESTION}\n" in chat["messages"][1]["content"]
    ollama = ollama_request(index_dir)  # the same question through the Ollama backend
    assert [(m["role"], m["content"]) for m in chat["messages"]] == [
        (m["role"], m["content"]) for m in ollama["messages"]]
    def names(body: dict) -> list[tuple[str, list[str]]]:
        return [(t["function"]["name"], t["function"]["parameters"].get("required", [])) for t in body["tools"]]

    assert names(chat) == names(ollama) and ("get_clause", ["number"]) in names(chat)


def ollama_request(index_dir: Path) -> dict:
    with ScriptedOllama([MODEL], ["completion", "tools"]) as server:
        server.enqueue(text=ANSWER)
        settings = Settings(index_dir=index_dir, embedder="lsa", ollama_host=server.url, chat_model=MODEL)
        assert Assistant.open(settings).ask(QUESTION, "t").answer == ANSWER
    (body,) = server.bodies("/api/chat")
    return body


def test_a_tool_call_then_the_answer(index_dir, monkeypatch):
    with ScriptedOpenAI([MODEL], tools=True) as server:
        server.enqueue(text="ok")
        server.enqueue(tool_calls=[{"name": "get_clause", "arguments": {"number": "8.2.2.1"}}])
        server.enqueue(text=ANSWER)
        out = run_ask(index_dir, server.url, monkeypatch)
    assert (out["mode"], out["answer"]) == ("llm", ANSWER)
    second = chat_bodies(server)[2]["messages"]
    assert [m["role"] for m in second[-2:]] == ["assistant", "tool"]
    assert second[-2]["tool_calls"][0]["function"] == {"name": "get_clause", "arguments": '{"number": "8.2.2.1"}'}
    assert second[-1]["tool_call_id"] == "call_0" and "8.2.2.1" in second[-1]["content"]


def test_a_server_rejecting_tools_gets_the_compose_path(index_dir, monkeypatch):
    with ScriptedOpenAI([MODEL], tools=False) as server:
        server.enqueue(text=ANSWER)
        out = run_ask(index_dir, server.url, monkeypatch)
    assert (out["mode"], out["answer"]) == ("llm", ANSWER)
    assert [c["clause"] for c in out["citations"]] == ["8.2.2.1"]
    probe, chat = chat_bodies(server)
    assert probe["tools"] and "tools" not in chat  # refused once (400), then composed without tools
    assert chat["model"] == MODEL and "8.2.2.1" in json.dumps(chat["messages"])
    assert server.pending == 0


def test_http_500_ends_in_the_extractive_answer_with_one_line(index_dir, extractive_body, monkeypatch):
    with ScriptedOpenAI([MODEL], tools=False) as server:
        server.enqueue(status=500, error="CUDA out of memory")
        out = run_ask(index_dir, server.url, monkeypatch)
    line = (f"The language model failed (HTTP 500 from the OpenAI-compatible server at {server.url}: "
            "CUDA out of memory); this answer is extractive.")
    assert out["mode"] == "offline"
    assert out["answer"] == f"{line}\n{extractive_body}"
    assert [(c["n"], c["clause"]) for c in out["citations"]] == [(1, "8.2.2.1")]
    assert len(chat_bodies(server)) == 2  # the probe, then one try: no retries


def test_a_server_that_is_down_means_offline_with_the_reason(index_dir):
    settings = Settings(index_dir=index_dir, embedder="lsa", llm="openai",
                        openai_base_url="http://127.0.0.1:9/v1")
    assistant = Assistant.open(settings)
    assert assistant.mode == "offline"
    assert "the OpenAI-compatible server at http://127.0.0.1:9/v1 refused the connection" in assistant.status_note


def test_a_model_the_server_does_not_serve(index_dir):
    with ScriptedOpenAI(["qwen2.5-7b"]) as server:
        settings = Settings(index_dir=index_dir, embedder="lsa", llm="openai", openai_base_url=server.url)
        assistant = Assistant.open(settings)
    assert assistant.mode == "offline"
    assert f"serves no model {MODEL} (models: qwen2.5-7b)" in assistant.status_note



@pytest.mark.parametrize("mode", ["timeout", "drop"])
def test_no_reply_in_time_or_a_dropped_connection(index_dir, extractive_body, mode, monkeypatch):
    monkeypatch.setattr(llm, "CHAT_READ_TIMEOUT_S", 1.0)
    with ScriptedOpenAI([MODEL], tools=False) as server:
        server.enqueue(text=ANSWER, **({"stall_s": 3} if mode == "timeout" else {"drop_after": 2}))
        out = run_ask(index_dir, server.url, monkeypatch)
    reason = {"timeout": f"no reply from the OpenAI-compatible server at {server.url} within 1 s",
              "drop": f"the OpenAI-compatible server at {server.url} closed the connection mid-answer"}[mode]
    assert out["mode"] == "offline"
    assert out["answer"] == f"The language model failed ({reason}); this answer is extractive.\n{extractive_body}"


async def test_the_chat_streams_tokens_then_a_drop_ends_in_the_extractive_answer(index_dir, extractive_body):
    with ScriptedOpenAI([MODEL], tools=False) as server:
        server.enqueue(text="The voltage method applies [1].", drop_after=3)  # role, two words, cut
        settings = Settings(index_dir=index_dir, embedder="lsa", llm="openai", openai_base_url=server.url)
        events = [e async for e in Assistant.open(settings).astream(QUESTION, "t")]
    assert [e.text for e in events if isinstance(e, TokenEvent)] == ["The", " voltage"]
    (final,) = [e.answer for e in events if isinstance(e, FinalEvent)]
    line = (f"The language model failed (the OpenAI-compatible server at {server.url} closed the connection "
            "mid-answer); this answer is extractive.")
    assert final.answer == f"{line}\n{extractive_body}"


async def test_the_chat_streams_the_models_answer(index_dir):
    with ScriptedOpenAI([MODEL], tools=True) as server:
        server.enqueue(text="ok")
        server.enqueue(text=ANSWER)
        settings = Settings(index_dir=index_dir, embedder="lsa", llm="openai", openai_base_url=server.url)
        events = [e async for e in Assistant.open(settings).astream(QUESTION, "t")]
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == ANSWER
    (final,) = [e.answer for e in events if isinstance(e, FinalEvent)]
    assert (final.mode, final.answer) == ("llm", ANSWER)
    assert chat_bodies(server)[1]["stream"] is True


# -- embeddings from the same server: SPEC_AGENT_EMBEDDER=openai:<model> ------------------------


def test_an_index_embedded_by_the_servers_embeddings(tmp_path):
    from conftest import SAMPLE_PDF
    from scripted_ollama import hashed_embedding

    from agent.index import SpecIndex

    with ScriptedOpenAI(["nomic-embed-text"], embed_dim=32) as server:
        settings = Settings(index_dir=tmp_path / "index", embedder="openai:nomic-embed-text",
                            openai_base_url=server.url)
        index = SpecIndex.open(settings)
        (outcome,) = index.ingest([SAMPLE_PDF])
        hits = index.search("conducted emissions voltage method artificial network", k=3)
        again = SpecIndex.open(settings)
        vector = llm.make_embeddings(settings)[0].embed_query("voltage method")  # type: ignore[union-attr]
    assert (outcome.status, outcome.doc) == ("added", DOC)
    assert index.embedder_id == again.embedder_id == "openai:nomic-embed-text"
    assert "8.2.2.1" in [h.clause for h in hits]
    bodies = server.bodies("/v1/embeddings")
    assert {(b["model"], b["encoding_format"]) for b in bodies} == {("nomic-embed-text", "float")}
    first = bodies[0]["input"]
    assert isinstance(first, list) and all(isinstance(t, str) and t for t in first)
    assert [b["input"] for b in bodies[-2:]] == [["conducted emissions voltage method artificial network"],
                                               ["voltage method"]]
    assert vector == pytest.approx(hashed_embedding("voltage method", 32))


def test_the_openai_embedder_needs_a_base_url():
    with pytest.raises(ValueError, match="the embedder openai:e5 needs OPENAI_BASE_URL"):
        llm.make_embeddings(Settings(embedder="openai:e5"))
