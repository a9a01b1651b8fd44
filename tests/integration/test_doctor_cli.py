"""`spec-agent doctor [--json]` through the real CLI over a real index and the scripted Ollama:
exact statuses, the advice a user gets, exit 0 only when no check fails."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import faiss
import numpy as np
import pytest
import typer
from conftest import copy_index
from scripted_ollama import ScriptedOllama
from scripted_openai import ScriptedOpenAI
from typer.testing import CliRunner

from agent import cli
from agent.commands import doctor

NAMES = ["backend", "model", "tools", "num_ctx", "embedder", "index", "chat.db", "threads.db", "feedback.db"]


@pytest.fixture
def index_dir(sample_index_master, tmp_path) -> Path:
    return copy_index(sample_index_master, tmp_path / "index")


@pytest.fixture
def run(monkeypatch):
    """doctor --json with the environment given; (exit code, {name: check})."""
    for name in ("SPEC_AGENT_INDEX", "SPEC_AGENT_OFFLINE", "SPEC_AGENT_NUM_CTX", "SPEC_AGENT_MODEL", "SPEC_AGENT_LLM",
                 "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SPEC_AGENT_EMBEDDER", "lsa")
    app = typer.Typer()
    app.callback()(cli._global)
    doctor.register(app)

    def invoke(index: Path, host: str, *args: str, **env: str) -> tuple[int, dict[str, dict], dict]:
        monkeypatch.setenv("OLLAMA_HOST", host)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        result = CliRunner().invoke(app, ["--index", str(index), "doctor", "--json", *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        out = json.loads(result.stdout)
        assert [c["name"] for c in out["checks"]] == NAMES
        assert all(list(c) == ["name", "status", "detail", "advice"] for c in out["checks"])
        assert out["ok"] is (result.exit_code == 0)
        return result.exit_code, {c["name"]: c for c in out["checks"]}, out

    return invoke


def statuses(checks: dict[str, dict]) -> dict[str, str]:
    return {name: c["status"] for name, c in checks.items()}


def test_healthy_index_and_model_with_tools_all_ok(run, index_dir):
    sqlite3.connect(index_dir / "chat.db").execute("CREATE TABLE t (x)").connection.close()
    with ScriptedOllama(models=["llama3.1:8b"], capabilities=["completion", "tools"]) as ollama:
        code, checks, out = run(index_dir, ollama.url)
    assert code == 0 and out["ok"] is True
    assert statuses(checks) == dict.fromkeys(NAMES, "ok")
    assert checks["backend"]["detail"] == f"Ollama 0.6.8 at {ollama.url}"
    assert checks["model"]["detail"] == "llama3.1:8b is pulled"
    assert checks["tools"]["detail"] == "llama3.1:8b calls tools (capabilities: completion, tools)"
    assert checks["num_ctx"]["detail"].startswith("num_ctx 8192, needed about ")
    assert "tools " in checks["num_ctx"]["detail"] and "6 evidence items" in checks["num_ctx"]["detail"]
    assert checks["embedder"]["detail"] == "index and settings both use lsa"
    assert checks["index"]["detail"].startswith("gen-000001: 1 documents, ")
    assert checks["index"]["detail"].endswith(" vectors, embedder lsa")
    assert checks["chat.db"]["detail"].endswith("chat.db passes quick_check")
    assert checks["threads.db"]["detail"].endswith("not created yet (made on first use)")
    assert [r.path for r in ollama.requests][:3] == ["/api/version", "/api/tags", "/api/show"]


def test_missing_model_fails_with_pull_advice(run, index_dir):
    with ScriptedOllama(models=["llama3:latest"]) as ollama:
        code, checks, _ = run(index_dir, ollama.url)
    assert code == 1
    assert statuses(checks)["model"] == "fail" and statuses(checks)["tools"] == "warn"
    assert checks["model"]["advice"] == "run `ollama pull llama3.1:8b` or set SPEC_AGENT_MODEL"
    assert "Ollama has no model llama3.1:8b (models: llama3:latest)" in checks["model"]["detail"]


def test_model_without_tools_warns(run, index_dir):
    with ScriptedOllama(models=["llama3:latest"], capabilities=["completion"]) as ollama:
        code, checks, _ = run(index_dir, ollama.url, SPEC_AGENT_MODEL="llama3")
    assert code == 0
    assert statuses(checks) == {**dict.fromkeys(NAMES, "ok"), "tools": "warn"}
    assert checks["tools"]["detail"].startswith("llama3 has no tool calling (capabilities: completion)")
    assert "tools 0 " in checks["num_ctx"]["detail"]  # no tool definitions are sent


def test_no_ollama_warns_and_the_other_checks_run(run, index_dir):
    code, checks, _ = run(index_dir, ScriptedOllama.closed_url())
    assert code == 0
    assert statuses(checks) == {**dict.fromkeys(NAMES, "ok"), "backend": "warn", "model": "warn", "tools": "warn"}
    assert "is not reachable" in checks["backend"]["detail"]
    assert checks["backend"]["advice"] == "start it with `ollama serve` (or set OLLAMA_HOST), or use --offline"
    assert checks["model"]["detail"] == "llama3.1:8b: not checked (no backend)"


def test_offline_mode_is_ok(run, index_dir):
    code, checks, _ = run(index_dir, ScriptedOllama.closed_url(), SPEC_AGENT_OFFLINE="1")
    assert code == 0
    assert statuses(checks)["backend"] == "ok" and checks["backend"]["detail"].startswith("offline mode")


def test_vector_count_differs_from_chunk_count(run, index_dir):
    vectors = index_dir / "gen-000001" / "vectors.faiss"
    old = faiss.read_index(str(vectors))
    short = faiss.IndexFlatIP(old.d)
    short.add(old.reconstruct_n(0, old.ntotal - 1).astype(np.float32))
    faiss.write_index(short, str(vectors))
    code, checks, _ = run(index_dir, ScriptedOllama.closed_url())
    assert code == 1 and checks["index"]["status"] == "fail"
    assert checks["index"]["detail"] == (f"gen-000001: {old.ntotal} chunks in index.sqlite but "
                                         f"{old.ntotal - 1} vectors in vectors.faiss")
    assert "spec-agent ingest --reindex" in checks["index"]["advice"]


def test_current_names_a_missing_generation(run, index_dir):
    (index_dir / "CURRENT").write_text("gen-000007\n", encoding="utf-8")
    code, checks, _ = run(index_dir, ScriptedOllama.closed_url())
    assert code == 1 and checks["index"]["status"] == "fail"
    assert checks["index"]["detail"] == f"{index_dir / 'CURRENT'} names gen-000007, which does not exist"
    assert checks["index"]["advice"] == f"delete {index_dir} and run `spec-agent ingest FILES` again"


def test_missing_manifest(run, index_dir):
    (index_dir / "gen-000001" / "manifest.json").unlink()
    code, checks, _ = run(index_dir, ScriptedOllama.closed_url())
    assert code == 1 and checks["index"]["detail"] == "gen-000001: manifest.json is missing"


def test_embedder_mismatch_fails_with_reindex_command(run, index_dir):
    code, checks, _ = run(index_dir, ScriptedOllama.closed_url(), SPEC_AGENT_EMBEDDER="ollama:nomic-embed-text")
    assert code == 1 and checks["embedder"]["status"] == "fail"
    assert checks["embedder"]["detail"] == "index built with lsa, settings ask for ollama:nomic-embed-text"
    assert checks["embedder"]["advice"] == ("re-index with `spec-agent ingest --reindex --embedder "
                                            "ollama:nomic-embed-text` or set SPEC_AGENT_EMBEDDER=lsa")


def test_context_too_small_fails_with_the_numbers(run, index_dir):
    code, checks, _ = run(index_dir, ScriptedOllama.closed_url(), SPEC_AGENT_NUM_CTX="1024")
    assert code == 1 and checks["num_ctx"]["status"] == "fail"
    assert checks["num_ctx"]["detail"].startswith("num_ctx 1024, needed about ")
    assert checks["num_ctx"]["detail"].endswith("; no evidence fits")
    assert checks["num_ctx"]["advice"].startswith("set SPEC_AGENT_NUM_CTX=")


def test_context_without_room_for_the_tools_warns(run, index_dir):
    """At 2048 the tool definitions do not fit, but the prompts and some evidence do: the graph
    composes without tools (tests/integration/test_real_llama_cpp.py answers so at n_ctx 2048)."""
    with ScriptedOllama(models=["llama3.1:8b"], capabilities=["completion", "tools"]) as ollama:
        code, checks, out = run(index_dir, ollama.url, SPEC_AGENT_NUM_CTX="2048")
    assert code == 0 and checks["num_ctx"]["status"] == "warn" and out["problems"] == []
    assert checks["num_ctx"]["detail"].endswith(
        "; the tool definitions do not fit: answers use gather-then-compose with trimmed evidence")
    assert checks["num_ctx"]["advice"].startswith("set SPEC_AGENT_NUM_CTX=")


def test_damaged_chat_database_fails(run, index_dir):
    (index_dir / "feedback.db").write_bytes(b"this is not a database" * 100)
    code, checks, _ = run(index_dir, ScriptedOllama.closed_url())
    assert code == 1 and checks["feedback.db"]["status"] == "fail"
    assert "is damaged: file is not a database" in checks["feedback.db"]["detail"]
    assert checks["feedback.db"]["advice"].startswith("restore it from a backup, or move it aside")


def test_plain_output_one_line_per_check(monkeypatch, index_dir):
    monkeypatch.setenv("SPEC_AGENT_EMBEDDER", "lsa")
    monkeypatch.setenv("OLLAMA_HOST", ScriptedOllama.closed_url())
    app = typer.Typer()
    app.callback()(cli._global)
    doctor.register(app)
    result = CliRunner().invoke(app, ["--index", str(index_dir), "doctor"])
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and len(lines) == len(NAMES)
    assert lines[0].startswith("warn  backend      Ollama at ")
    assert lines[0].endswith("→ start it with `ollama serve` (or set OLLAMA_HOST), or use --offline")
    assert lines[5].startswith("ok    index        gen-000001: ")


# -- the JSON facts, and SPEC_AGENT_LLM=openai (an OpenAI-compatible server) ----------------------


def test_json_carries_the_facts_beside_the_checks(run, index_dir):
    with ScriptedOllama(models=["llama3.1:8b"], capabilities=["completion", "tools"]) as ollama:
        code, checks, out = run(index_dir, ollama.url)
    assert code == 0 and list(out) == ["backend", "model", "tools", "num_ctx", "embedder", "index", "chat_data",
                                       "problems", "checks", "ok"]
    assert out["backend"] == {"kind": "ollama", "url": ollama.url, "reachable": True, "offline": False,
                              "models": ["llama3.1:8b"]}
    assert (out["model"], out["tools"]) == ({"name": "llama3.1:8b", "available": True}, True)
    assert out["num_ctx"]["configured"] == 8192 and f"needed about {out['num_ctx']['needed']} tokens" in (
        checks["num_ctx"]["detail"])
    assert out["embedder"] == {"index": "lsa", "configured": "lsa"}
    index = out["index"]
    assert (index["path"], index["generation"], index["documents"], index["status"]) == (
        str(index_dir), "gen-000001", ["ACME-EMC-CS-2026"], "ok")
    assert index["chunks"] == index["vectors"] and f"{index['chunks']} chunks = " in checks["index"]["detail"]
    assert out["chat_data"] == {"chat.db": "ok", "threads.db": "ok", "feedback.db": "ok"}
    assert out["problems"] == []


def test_json_problems_are_the_failed_checks(run, index_dir):
    (index_dir / "gen-000001" / "manifest.json").unlink()
    code, checks, out = run(index_dir, ScriptedOllama.closed_url())
    assert code == 1 and out["ok"] is False
    assert out["problems"] == [checks["index"]] and checks["index"]["status"] == "fail"
    assert out["backend"]["reachable"] is False and (out["model"]["available"], out["tools"]) == (None, None)
    assert (out["index"]["generation"], out["index"]["chunks"], out["index"]["status"]) == ("gen-000001", None, "fail")


def openai_env(url: str) -> dict[str, str]:
    return {"SPEC_AGENT_LLM": "openai", "OPENAI_BASE_URL": url, "SPEC_AGENT_MODEL": "llama3.1:8b"}


def test_openai_server_with_tools_all_ok(run, index_dir):
    with ScriptedOpenAI(["llama3.1:8b"], tools=True) as server:
        server.enqueue(text="ok")  # the tool probe
        code, checks, out = run(index_dir, ScriptedOllama.closed_url(), **openai_env(server.url))
    assert code == 0 and statuses(checks) == dict.fromkeys(NAMES, "ok")
    assert checks["backend"]["detail"] == f"OpenAI-compatible server at {server.url} lists 1 model(s)"
    assert checks["model"]["detail"] == "llama3.1:8b is served"
    assert checks["tools"]["detail"] == "llama3.1:8b calls tools (the server accepted a tool in the probe)"
    assert out["backend"] == {"kind": "openai", "url": server.url, "reachable": True, "offline": False,
                              "models": ["llama3.1:8b"]}
    assert out["tools"] is True
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", "/v1/models"), ("GET", "/v1/models"), ("POST", "/v1/chat/completions")]
    assert server.bodies()[0]["tools"][0]["function"]["name"] == "ping"


def test_openai_server_refusing_tools_warns(run, index_dir):
    with ScriptedOpenAI(["llama3.1:8b"], tools=False) as server:
        code, checks, out = run(index_dir, ScriptedOllama.closed_url(), **openai_env(server.url))
    assert code == 0 and statuses(checks) == {**dict.fromkeys(NAMES, "ok"), "tools": "warn"}
    assert checks["tools"]["detail"] == "the server refused tools for llama3.1:8b; answers use gather-then-compose"
    assert checks["tools"]["advice"] == ("for tool calling start vLLM with --enable-auto-tool-choice or "
                                         "llama-server with --jinja")
    assert out["tools"] is False and "tools 0 " in checks["num_ctx"]["detail"]


def test_openai_server_without_the_model_fails(run, index_dir):
    with ScriptedOpenAI(["qwen2.5-7b"]) as server:
        code, checks, out = run(index_dir, ScriptedOllama.closed_url(), **openai_env(server.url))
    assert code == 1 and out["problems"] == [checks["model"]]
    assert "serves no model llama3.1:8b (models: qwen2.5-7b)" in checks["model"]["detail"]
    assert checks["model"]["advice"] == "set SPEC_AGENT_MODEL to a model the server lists"
    assert out["model"] == {"name": "llama3.1:8b", "available": False}


def test_openai_server_down_warns_not_about_ollama(run, index_dir):
    url = ScriptedOllama.closed_url() + "/v1"
    code, checks, out = run(index_dir, ScriptedOllama.closed_url(), **openai_env(url))
    assert code == 0
    assert statuses(checks) == {**dict.fromkeys(NAMES, "ok"), "backend": "warn", "model": "warn", "tools": "warn"}
    assert checks["backend"]["detail"] == (f"the OpenAI-compatible server at {url} is not reachable; answers "
                                           "will be extractive (no model)")
    assert "OPENAI_BASE_URL" in checks["backend"]["advice"] and "ollama" not in checks["backend"]["advice"]
    assert out["backend"]["kind"] == "openai" and out["backend"]["reachable"] is False


def test_openai_without_a_base_url_fails(run, index_dir, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    code, checks, _ = run(index_dir, ScriptedOllama.closed_url(), SPEC_AGENT_LLM="openai")
    assert code == 1 and checks["backend"]["status"] == "fail"
    assert checks["backend"]["detail"] == "SPEC_AGENT_LLM=openai but OPENAI_BASE_URL is not set"


def test_an_unknown_backend_fails(run, index_dir):
    code, checks, out = run(index_dir, ScriptedOllama.closed_url(), SPEC_AGENT_LLM="vllm")
    assert code == 1 and checks["backend"]["status"] == "fail"
    assert checks["backend"]["detail"] == "unknown SPEC_AGENT_LLM 'vllm'; allowed: ollama, openai"
    assert out["backend"]["kind"] is None
