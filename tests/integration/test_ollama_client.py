"""The LLM layer against a scripted Ollama through the real clients (ollama, ChatOllama,
OllamaEmbeddings): probing, exact requests, streaming, tool calls, the no-tools 400, embeddings."""

from __future__ import annotations

import math
import time

import ollama
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.tools import tool
from langchain_ollama import OllamaEmbeddings
from scripted_ollama import ScriptedOllama, hashed_embedding

from agent.config import Settings
from agent.errors import OllamaUnavailable
from agent.llm import OllamaStatus, make_chat_model, probe_ollama, supports_tools

MODELS = ["llama3.1:8b", "llama3:latest", "nomic-embed-text:latest"]
CAPS = {
    "llama3.1:8b": ["completion", "tools"],
    "llama3": ["completion"],
    "nomic-embed-text": ["embedding"],
}


@pytest.fixture
def server():
    with ScriptedOllama(MODELS, CAPS) as s:
        yield s


def _settings(server: ScriptedOllama, **kw) -> Settings:
    return Settings(ollama_host=server.url, **kw)


@tool
def get_clause(number: str, doc: str | None = None) -> str:
    """The text of a numbered clause."""
    return number


# -- probe --------------------------------------------------------------------------------
def test_probe_with_tools_capability(server):
    status = probe_ollama(_settings(server))
    assert status == OllamaStatus(True, MODELS, ["completion", "tools"], None)
    assert supports_tools(status) is True
    assert [(r.method, r.path, r.body) for r in server.requests] == [
        ("GET", "/api/tags", {}),
        ("POST", "/api/show", {"model": "llama3.1:8b"}),
    ]


def test_probe_model_without_tools(server):
    status = probe_ollama(_settings(server, chat_model="llama3"))
    assert status == OllamaStatus(True, MODELS, ["completion"], None)
    assert supports_tools(status) is False


def test_probe_model_not_pulled(server):
    status = probe_ollama(_settings(server, chat_model="qwen2.5:7b"))
    assert status == OllamaStatus(
        False,
        MODELS,
        [],
        (
            "Ollama has no model qwen2.5:7b "
            "(models: llama3.1:8b, llama3:latest, nomic-embed-text:latest); "
            "run `ollama pull qwen2.5:7b` or choose one with --model."
        ),
    )
    assert supports_tools(status) is False


def test_probe_closed_port_is_quick_and_says_why():
    url = ScriptedOllama.closed_url()
    start = time.monotonic()
    status = probe_ollama(Settings(ollama_host=url))
    assert time.monotonic() - start < 1.5
    assert status == OllamaStatus(
        False,
        [],
        [],
        (
            f"Ollama at {url} refused the connection (not running?); start it with `ollama serve` "
            "or set OLLAMA_HOST, or use --offline."
        ),
    )


def test_probe_times_out_on_a_silent_server():
    with ScriptedOllama(MODELS, CAPS, delay_s=1.5) as slow:
        start = time.monotonic()
        status = probe_ollama(Settings(ollama_host=slow.url, ollama_timeout_s=0.2))
        assert time.monotonic() - start < 1.0
    assert status.available is False
    assert status.error == (
        f"Ollama at {slow.url} did not answer within 0.2 s; start it with "
        "`ollama serve` or set OLLAMA_HOST, or use --offline."
    )


def test_probe_offline_sends_nothing(server):
    status = probe_ollama(_settings(server, offline=True))
    assert status == OllamaStatus(
        False, [], [], "offline mode (--offline / SPEC_AGENT_OFFLINE): Ollama is not called."
    )
    assert server.requests == []


def test_server_down_after_start():
    s = ScriptedOllama(MODELS, CAPS).start()
    settings = Settings(ollama_host=s.url)
    assert probe_ollama(settings).available is True
    s.down()
    assert probe_ollama(settings).error.startswith(f"Ollama at {s.url} refused the connection")


# -- chat model ---------------------------------------------------------------------------
def test_chat_model_sends_exact_messages_and_options(server):
    settings = _settings(server, num_ctx=4096, temperature=0.0)
    model = make_chat_model(settings, probe_ollama(settings))
    server.enqueue(text="The limit is 34 dBµV/m [1].")
    reply = model.invoke([SystemMessage("You are spec-agent."), HumanMessage("RE102 limit?")])
    assert isinstance(reply, AIMessage)
    assert reply.content == "The limit is 34 dBµV/m [1]."
    assert reply.response_metadata["done_reason"] == "stop"
    body = server.bodies("/api/chat")[0]
    assert body["model"] == "llama3.1:8b"
    assert body["stream"] is True
    assert body["options"] == {"num_ctx": 4096, "temperature": 0.0, "num_predict": 1024}  # answers stop at the budget
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("system", "You are spec-agent."),
        ("user", "RE102 limit?"),
    ]
    assert body["tools"] == []  # the ollama client always sends the (empty) tools list


def test_make_chat_model_refuses_when_unavailable():
    status = OllamaStatus(False, error="Ollama at http://127.0.0.1:9 refused the connection.")
    with pytest.raises(
        OllamaUnavailable, match=r"^Ollama at http://127.0.0.1:9 refused the connection\.$"
    ):
        make_chat_model(Settings(), status)


def test_streaming_tokens_arrive_in_order(server):
    settings = _settings(server)
    model = make_chat_model(settings, probe_ollama(settings))
    server.enqueue(chunks=["The ", "contact ", "level ", "is ", "±8 kV ", "[1]."])
    chunks = list(model.stream("ESD level?"))
    # one chunk per NDJSON line, then Ollama's done line, then langchain-core's closing chunk
    assert [c.content for c in chunks] == [
        "The ",
        "contact ",
        "level ",
        "is ",
        "±8 kV ",
        "[1].",
        "",
        "",
    ]
    assert chunks[-2].response_metadata["done_reason"] == "stop"
    assert chunks[-2].usage_metadata == {"input_tokens": 2, "output_tokens": 6, "total_tokens": 8}
    assert chunks[-1].chunk_position == "last"


async def test_async_streaming_tokens_arrive_in_order(server):
    settings = _settings(server)
    model = make_chat_model(settings, probe_ollama(settings))
    server.enqueue(text="Air discharge is ±15 kV [2].")
    pieces = [chunk.content async for chunk in model.astream("ESD air level?")]
    assert pieces == ["Air", " discharge", " is", " ±15", " kV", " [2].", "", ""]


def test_tool_call_is_parsed(server):
    settings = _settings(server)
    model = make_chat_model(settings, probe_ollama(settings)).bind_tools([get_clause])
    server.enqueue(
        tool_calls=[{"name": "get_clause", "arguments": {"number": "5.13", "doc": "MIL-STD-461G"}}]
    )
    reply = model.invoke("What does 5.13 of 461G say?")
    assert reply.content == ""
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("get_clause", {"number": "5.13", "doc": "MIL-STD-461G"})
    ]
    sent = server.bodies("/api/chat")[0]["tools"]
    assert sent == [
        {
            "type": "function",
            "function": {
                "name": "get_clause",
                "description": "The text of a numbered clause.",
                "parameters": {
                    "type": "object",
                    "required": ["number"],
                    "properties": {
                        "number": {"type": "string"},
                        # the ollama client's Tool model keeps only type/items/description/enum of
                        # a property: an Optional[str]'s anyOf is lost, so tools should use defaults
                        "doc": {},
                    },
                },
            },
        }
    ]


def test_tools_on_a_model_without_tools_gets_the_400(server):
    settings = _settings(server, chat_model="llama3")
    status = probe_ollama(settings)
    model = make_chat_model(settings, status).bind_tools([get_clause])
    with pytest.raises(ollama.ResponseError) as info:
        model.invoke("What does 5.13 say?")
    assert info.value.status_code == 400
    assert info.value.error == "registry.ollama.ai/library/llama3:latest does not support tools"
    assert "does not support tools" in str(info.value)
    assert server.pending == 0 and len(server.bodies("/api/chat")) == 1


def test_json_mode_is_sent(server):
    settings = _settings(server)
    model = make_chat_model(settings, probe_ollama(settings))
    server.enqueue(
        lambda body: (
            '{"intent": "clause", "clauses": ["5.13"]}'
            if body.get("format") == "json"
            else "not json mode"
        )
    )
    reply = model.invoke("what does 5.13 say", format="json")
    assert reply.content == '{"intent": "clause", "clauses": ["5.13"]}'
    assert server.bodies("/api/chat")[0]["format"] == "json"


def test_empty_queue_fails_loudly(server):
    settings = _settings(server)
    model = make_chat_model(settings, probe_ollama(settings))
    with pytest.raises(ollama.ResponseError, match="no reply queued"):
        model.invoke("hello")


# -- the raw client ----------------------------------------------------------------------
def test_raw_client_chat_generate_and_errors(server):
    client = ollama.Client(host=server.url)
    server.enqueue(text="one two")
    server.enqueue(text="three")
    server.enqueue(text="", status=500, error="model runner crashed")
    full = client.chat(
        model="llama3.1:8b", messages=[{"role": "user", "content": "hi"}], stream=False
    )
    assert (full.message.content, full.done, full.done_reason, full.eval_count) == (
        "one two",
        True,
        "stop",
        2,
    )
    gen = client.generate(model="llama3", prompt="say three")
    assert (gen.response, gen.done) == ("three", True)
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model="llama3.1:8b", messages=[{"role": "user", "content": "again"}])
        # a streamed request raises when iterated
    assert (info.value.error, info.value.status_code) == ("model runner crashed", 500)
    with pytest.raises(ollama.ResponseError) as missing:
        client.show("mistral")
    assert (missing.value.error, missing.value.status_code) == (
        'model "mistral" not found, try pulling it first',
        404,
    )


def test_raw_client_streams_tool_calls(server):
    client = ollama.Client(host=server.url)
    server.enqueue(
        text="Looking", tool_calls=[{"function": {"name": "search", "arguments": {"q": "ESD"}}}]
    )
    parts = list(
        client.chat(
            model="llama3.1:8b",
            messages=[{"role": "user", "content": "ESD?"}],
            tools=[{"type": "function", "function": {"name": "search"}}],
            stream=True,
        )
    )
    assert [p.message.content for p in parts] == ["Looking", "", ""]
    assert parts[1].message.tool_calls[0].function.name == "search"
    assert dict(parts[1].message.tool_calls[0].function.arguments) == {"q": "ESD"}
    assert [p.done for p in parts] == [False, False, True]


# -- embeddings ---------------------------------------------------------------------------
def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(
        sum(x * x for x in a) * sum(y * y for y in b)
    )


def test_embed_returns_deterministic_vectors(server):
    emb = OllamaEmbeddings(base_url=server.url, model="nomic-embed-text")
    texts = [
        "radiated emission limit RE102",
        "RE102 radiated emission limits",
        "electrostatic discharge gun",
    ]
    vectors = emb.embed_documents(texts)
    assert vectors == [hashed_embedding(t, 64) for t in texts]
    assert [len(v) for v in vectors] == [64, 64, 64]
    assert _cos(vectors[0], vectors[1]) > 0.5 > _cos(vectors[0], vectors[2])
    assert emb.embed_query(texts[2]) == vectors[2]
    assert server.bodies("/api/embed")[0]["input"] == texts
    assert server.bodies("/api/embed")[0]["model"] == "nomic-embed-text"
