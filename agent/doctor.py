"""`spec-agent doctor`'s checks: backend, model, tools, context size, embedder, index, chat databases.

Each check is a ``Check(name, status, detail, advice)``: ``status`` is "ok", "warn" (works, but
not as well as it could) or "fail" (something a user must fix). ``run_checks(settings)`` never
raises and opens the index and the databases read-only; nothing here starts a browser.
``diagnose(settings) -> Report`` runs the same checks and keeps the facts behind them (backend,
model, tools, num_ctx, embedder, index, chat_data) for `doctor --json`; ``problems`` are the
failed checks. The backend is the one settings.llm names: Ollama, or the OpenAI-compatible
server at settings.openai_base_url (GET /models, then agent.llm's one-token tool probe).
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from agent.config import Settings
from agent.errors import OllamaUnavailable, SpecAgentError
from agent.graph.budget import ANSWER_RESERVE, CHARS_PER_TOKEN, count_messages, count_tokens
from agent.index import generations
from agent.index.store import DB, FORMAT, MANIFEST, VECTORS
from agent.llm import OllamaStatus, backend, probe_ollama, resolve_embedder, supports_tools

log = logging.getLogger(__name__)

Status = Literal["ok", "warn", "fail"]
CHAT_DATABASES = ("chat.db", "threads.db", "feedback.db")
TYPICAL_QUESTION = "Which test does clause 5.12 require, and what are its limits?"


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, what was found, what to do about it."""

    name: str
    status: Status
    detail: str
    advice: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class IndexFacts:
    """What the current generation holds (read-only); `problem` set when it cannot be trusted."""

    generation: Path | None = None
    manifest: dict[str, Any] | None = None
    documents: tuple[str, ...] = ()
    chunk_texts: tuple[str, ...] = ()
    vectors: int | None = None
    problem: Check | None = None


@dataclass(frozen=True)
class Report:
    """The checks, and the facts they found (for `doctor --json`)."""

    checks: list[Check]
    facts: dict[str, Any]

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def as_dict(self) -> dict[str, Any]:
        return {**self.facts, "problems": [c.as_dict() for c in self.problems],
                "checks": [c.as_dict() for c in self.checks], "ok": not self.problems}


def diagnose(settings: Settings) -> Report:
    """Every check, in the order the report prints them, and what they found; never raises."""
    root = Path(settings.index_dir)
    backend_check, status = check_backend(settings)
    facts = read_index(root)
    model, tools = check_model(settings, backend_check, status)
    embedder, recorded, wanted = _embedder(settings, facts)
    databases = [check_database(root / name) for name in CHAT_DATABASES]
    index = check_index(settings, facts)
    checks = [backend_check, model, tools, check_context(settings, status, facts), embedder, index, *databases]
    return Report(checks, {
        "backend": _backend_facts(settings, backend_check, status),
        "model": {"name": settings.chat_model, "available": None if status is None else status.available},
        "tools": None if status is None or not status.available else supports_tools(status),
        "num_ctx": {"configured": settings.num_ctx, "needed": _needed(settings, status, facts)},
        "embedder": {"index": recorded, "configured": wanted},
        "index": {"path": str(root), "generation": facts.generation.name if facts.generation else None,
                  "documents": list(facts.documents), "chunks": len(facts.chunk_texts) if facts.manifest else None,
                  "vectors": facts.vectors, "status": index.status},
        "chat_data": {c.name: c.status for c in databases},
    })


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order the report prints them; never raises."""
    return diagnose(settings).checks


def failed(checks: list[Check]) -> bool:
    return any(c.status == "fail" for c in checks)


def _backend_facts(settings: Settings, check: Check, status: OllamaStatus | None) -> dict[str, Any]:
    try:
        kind: str | None = backend(settings)
    except ValueError:
        kind = None
    url = settings.openai_base_url.rstrip("/") if kind == "openai" else settings.ollama_host.rstrip("/")
    reachable = None if settings.offline else status is not None
    return {"kind": kind, "url": url, "reachable": reachable, "offline": settings.offline,
            "models": list(status.models) if status else []}


def _needed(settings: Settings, status: OllamaStatus | None, facts: IndexFacts) -> int | None:
    try:
        return context_needs(settings, status, facts)["needed"]
    except Exception:  # noqa: BLE001 - check_context says why
        return None


# --- backend, model, tools ---------------------------------------------------------------------


def check_backend(settings: Settings) -> tuple[Check, OllamaStatus | None]:
    """The backend settings.llm names answers (Ollama: GET /api/version; an OpenAI-compatible
    server: GET /models) within settings.ollama_timeout_s; then agent.llm probes the model."""
    if settings.offline:
        return Check("backend", "ok", "offline mode (SPEC_AGENT_OFFLINE): no model is called; answers "
                     "come from the documents only", "unset SPEC_AGENT_OFFLINE to answer with a model"), None
    try:
        kind = backend(settings)
    except ValueError as err:
        return Check("backend", "fail", str(err).split("; set it", 1)[0], "set SPEC_AGENT_LLM=ollama or openai"), None
    if kind == "openai":
        return _check_openai(settings)
    host = settings.ollama_host.rstrip("/")
    try:
        version = _version(host, settings.ollama_timeout_s)
    except (httpx.HTTPError, OSError, ValueError) as err:
        log.info("ollama version probe failed: %r", err)
        why = "did not answer in time" if isinstance(err, httpx.TimeoutException) else "is not reachable"
        return Check("backend", "warn", f"Ollama at {host} {why}; answers will be extractive (no model)",
                     "start it with `ollama serve` (or set OLLAMA_HOST), or use --offline"), None
    return Check("backend", "ok", f"Ollama {version} at {host}"), probe_ollama(settings)


def _check_openai(settings: Settings) -> tuple[Check, OllamaStatus | None]:
    base = settings.openai_base_url.rstrip("/")
    if not base:
        return Check("backend", "fail", "SPEC_AGENT_LLM=openai but OPENAI_BASE_URL is not set",
                     "set OPENAI_BASE_URL (e.g. http://gpu-server:8000/v1), or SPEC_AGENT_LLM=ollama"), None
    server = f"OpenAI-compatible server at {base}"
    try:
        response = httpx.get(f"{base}/models", timeout=settings.ollama_timeout_s,
                             headers={"Authorization": f"Bearer {settings.openai_api_key or 'none'}"})
        response.raise_for_status()
        count = len(response.json().get("data", []))
    except (httpx.HTTPError, OSError, ValueError, AttributeError) as err:
        log.info("openai-compatible probe failed: %r", err)
        if isinstance(err, httpx.HTTPStatusError):
            why = f"answered GET /models with HTTP {err.response.status_code}"
        else:
            why = "did not answer in time" if isinstance(err, httpx.TimeoutException) else "is not reachable"
        return Check("backend", "warn", f"the {server} {why}; answers will be extractive (no model)",
                     "start the server (vLLM, llama-server, LM Studio…) or check OPENAI_BASE_URL and "
                     "OPENAI_API_KEY, or use --offline"), None
    return Check("backend", "ok", f"{server} lists {count} model(s)"), probe_ollama(settings)


def _version(host: str, timeout_s: float) -> str:
    """Ollama's version; a server without /api/version (a proxy, an old Ollama) that lists its
    models at /api/tags counts as reachable, version unknown."""
    response = httpx.get(f"{host}/api/version", timeout=timeout_s)
    if response.status_code == 404:
        httpx.get(f"{host}/api/tags", timeout=timeout_s).raise_for_status()
        return "(version unknown)"
    response.raise_for_status()
    return str(response.json().get("version", "(version unknown)"))


def check_model(settings: Settings, backend_check: Check, status: OllamaStatus | None) -> list[Check]:
    """The chat model is pulled (Ollama) or served (OpenAI-compatible), and whether it calls tools
    (agent.llm's probe)."""
    model = settings.chat_model
    if status is None:
        why = "offline mode" if settings.offline else "no backend"
        return [Check("model", backend_check.status, f"{model}: not checked ({why})", ""),
                Check("tools", backend_check.status, "tool calling: not checked", "")]
    openai = backend(settings) == "openai"
    if not status.available:
        missing = any(status.models) or "has no model" in (status.error or "")
        if openai:
            advice = "set SPEC_AGENT_MODEL to a model the server lists" if missing else "see the detail"
        else:
            advice = f"run `ollama pull {model}` or set SPEC_AGENT_MODEL" if missing else "see the detail"
        return [Check("model", "fail", status.error or f"{model} is not available", advice),
                Check("tools", "warn", "tool calling: not checked (no model)", "")]
    if openai:
        tools = (Check("tools", "ok", f"{model} calls tools (the server accepted a tool in the probe)")
                 if supports_tools(status) else
                 Check("tools", "warn", f"the server refused tools for {model}; answers use gather-then-compose",
                       "for tool calling start vLLM with --enable-auto-tool-choice or llama-server with --jinja"))
        return [Check("model", "ok", f"{model} is served"), tools]
    tools = (Check("tools", "ok", f"{model} calls tools (capabilities: {', '.join(status.capabilities)})")
             if supports_tools(status) else
             Check("tools", "warn", f"{model} has no tool calling (capabilities: "
                   f"{', '.join(status.capabilities) or 'none'}); answers use gather-then-compose",
                   "for tool calling use a model with tools, e.g. SPEC_AGENT_MODEL=llama3.1:8b"))
    return [Check("model", "ok", f"{model} is pulled"), tools]


# --- context size --------------------------------------------------------------------------------


def tool_definitions() -> list[dict[str, Any]]:
    """The tool definitions a tool-calling request sends, as agent.graph builds them."""
    from langchain_core.tools import StructuredTool
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from agent.tools import TOOL_SPECS

    return [convert_to_openai_tool(StructuredTool.from_function(lambda **_: "", name=name, description=doc,
                                                                args_schema=schema))
            for name, schema, doc in TOOL_SPECS]


def typical_evidence_tokens(settings: Settings, chunk_texts: tuple[str, ...]) -> int:
    """Tokens of top_k evidence items: the index's longest chunks (as quoted), or full-length ones."""
    from agent import prompts
    from agent.schema import Citation
    from agent.tools import CLAUSE_TEXT_CHARS

    texts = sorted(chunk_texts, key=len, reverse=True)[: settings.top_k]
    if not texts:
        return settings.top_k * math.ceil(CLAUSE_TEXT_CHARS / CHARS_PER_TOKEN)
    items = [Citation(n=i, doc="DOC", clause="1.2.3", title="Title", page=1, table=None,
                      text=t[:CLAUSE_TEXT_CHARS]) for i, t in enumerate(texts, start=1)]
    return count_tokens(prompts.evidence_block(items))


def context_needs(settings: Settings, status: OllamaStatus | None, facts: IndexFacts) -> dict[str, int]:
    """Token counts (agent.graph.budget's estimate) of what one answer puts into the context."""
    from agent import prompts

    system = prompts.render("system", documents=", ".join(facts.documents) or "none")
    answer = prompts.render("answer", evidence="", question=TYPICAL_QUESTION)
    with_tools = status is None or supports_tools(status)  # unknown: count the larger request
    tools = count_messages([json.dumps(tool_definitions(), ensure_ascii=False)]) if with_tools else 0
    fixed = count_messages([system, answer]) + tools + ANSWER_RESERVE
    evidence = typical_evidence_tokens(settings, facts.chunk_texts)
    return {"prompts": count_messages([system, answer]), "tools": tools, "evidence": evidence,
            "reserve": ANSWER_RESERVE, "fixed": fixed, "needed": fixed + evidence}


def check_context(settings: Settings, status: OllamaStatus | None, facts: IndexFacts) -> Check:
    """num_ctx against system prompt + tool definitions + top_k evidence items + answer reserve:
    fail when not even the prompts fit beside the reserve, warn when evidence is trimmed or the tool
    definitions do not fit (agent.graph then composes without tools)."""
    try:
        need = context_needs(settings, status, facts)
    except Exception as err:  # noqa: BLE001 - a report line, never a crash
        return Check("num_ctx", "warn", f"could not count the prompt ({type(err).__name__}: {err})", "")
    have = settings.num_ctx
    detail = (f"num_ctx {have}, needed about {need['needed']} tokens (prompts {need['prompts']} + tools "
              f"{need['tools']} + {settings.top_k} evidence items {need['evidence']} + answer {need['reserve']})")
    advice = f"set SPEC_AGENT_NUM_CTX={_round_up(need['needed'])} (the model must support it)"
    if have < need["fixed"] - need["tools"]:
        return Check("num_ctx", "fail", detail + "; no evidence fits", advice)
    if have < need["fixed"]:  # agent.graph then composes without tools, from trimmed evidence
        return Check("num_ctx", "warn", detail + "; the tool definitions do not fit: answers use "
                     "gather-then-compose with trimmed evidence", advice)
    if have < need["needed"]:
        return Check("num_ctx", "warn", detail + "; evidence will be trimmed",
                     f"set SPEC_AGENT_NUM_CTX={_round_up(need['needed'])} for whole evidence")
    return Check("num_ctx", "ok", detail)


def _round_up(tokens: int) -> int:
    return -(-tokens // 1024) * 1024


# --- index ---------------------------------------------------------------------------------------


def read_index(root: Path) -> IndexFacts:
    """The current generation's manifest, documents, chunk texts and vector count, read-only."""
    try:
        gen = generations.current(root)
    except SpecAgentError as err:
        return IndexFacts(problem=Check("index", "fail", str(err), "re-ingest your documents"))
    if gen is None:
        return IndexFacts(problem=Check("index", "warn", f"no index at {root} yet",
                                        "run `spec-agent ingest FILES` (PDF/DOCX files or folders)"))
    reingest = f"delete {root} and run `spec-agent ingest FILES` again"
    if not gen.is_dir():
        return IndexFacts(gen, problem=Check(
            "index", "fail", f"{root / generations.CURRENT} names {gen.name}, which does not exist", reingest))
    try:
        manifest = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return IndexFacts(gen, problem=Check("index", "fail", f"{gen.name}: {MANIFEST} is missing", reingest))
    except ValueError as err:
        return IndexFacts(gen, problem=Check("index", "fail", f"{gen.name}: {MANIFEST} is damaged ({err})", reingest))
    try:
        documents, texts = _rows(gen / DB)
        vectors = _vector_count(gen / VECTORS)
    except Exception as err:  # noqa: BLE001 - sqlite, faiss or the disk: all mean a damaged generation
        return IndexFacts(gen, manifest, problem=Check(
            "index", "fail", f"{gen.name}: cannot read {DB} / {VECTORS} ({err})", reingest))
    return IndexFacts(gen, manifest, documents, texts, vectors)


def _rows(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path.name} is missing")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        docs = tuple(r[0] for r in con.execute("SELECT name FROM documents ORDER BY ord"))
        texts = tuple(r[0] or "" for r in con.execute("SELECT text FROM chunks ORDER BY vec"))
    finally:
        con.close()
    return docs, texts


def _vector_count(path: Path) -> int:
    import faiss

    if not path.is_file():
        raise FileNotFoundError(f"{path.name} is missing")
    return int(faiss.read_index(str(path)).ntotal)


def check_index(settings: Settings, facts: IndexFacts) -> Check:
    """Manifest present, CURRENT names a generation, FAISS vectors = SQLite chunks."""
    if facts.problem is not None:
        return facts.problem
    assert facts.generation is not None and facts.manifest is not None
    gen, manifest, chunks = facts.generation.name, facts.manifest, len(facts.chunk_texts)
    reindex = "run `spec-agent ingest --reindex` (or delete the index and ingest again)"
    if manifest.get("format") != FORMAT:
        return Check("index", "fail", f"{gen}: index format {manifest.get('format')} is not {FORMAT}", reindex)
    if facts.vectors != chunks:
        return Check("index", "fail", f"{gen}: {chunks} chunks in {DB} but {facts.vectors} vectors in {VECTORS}",
                     reindex)
    recorded = manifest.get("counts", {}).get("chunks")
    if recorded != chunks:
        return Check("index", "fail", f"{gen}: the manifest records {recorded} chunks, {DB} holds {chunks}", reindex)
    return Check("index", "ok", f"{gen}: {len(facts.documents)} documents, {chunks} chunks = {facts.vectors} "
                 f"vectors, embedder {manifest.get('embedder')}")


def check_embedder(settings: Settings, facts: IndexFacts) -> Check:
    """The index's embedder (its manifest) against settings.embedder (agent.llm's resolution)."""
    return _embedder(settings, facts)[0]


def _embedder(settings: Settings, facts: IndexFacts) -> tuple[Check, str | None, str | None]:
    """check_embedder's check, the index's embedder and the one the settings resolve to."""
    from agent.index.spec_index import mismatch_message

    recorded = facts.manifest.get("embedder") if facts.manifest and facts.chunk_texts else None
    try:
        wanted = resolve_embedder(settings, recorded)
    except OllamaUnavailable as err:
        return Check("embedder", "warn", f"index embedded with {recorded}; Ollama is down, so search "
                     "uses words only", str(err).split("; ", 1)[-1]), recorded, None
    except ValueError as err:
        return Check("embedder", "fail", str(err), "set SPEC_AGENT_EMBEDDER to one of those"), recorded, None
    if recorded is None:
        return Check("embedder", "ok", f"no index yet; the next ingest embeds with {wanted}"), None, wanted
    if wanted != recorded:
        message = mismatch_message(recorded, wanted)
        what, _, advice = message.partition("; ")
        return Check("embedder", "fail", what, advice), recorded, wanted
    return Check("embedder", "ok", f"index and settings both use {recorded}"), recorded, wanted


# --- chat data-layer databases --------------------------------------------------------------------


def check_database(path: Path) -> Check:
    """`path` opens read-only and passes PRAGMA quick_check; absent is fine (made on first use)."""
    if not path.exists():
        return Check(path.name, "ok", f"{path} not created yet (made on first use)")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = [str(r[0]) for r in con.execute("PRAGMA quick_check")]
        finally:
            con.close()
    except sqlite3.Error as err:
        rows = [str(err)]
    if rows == ["ok"]:
        return Check(path.name, "ok", f"{path} passes quick_check")
    return Check(path.name, "fail", f"{path} is damaged: {'; '.join(rows)[:200]}",
                 f"restore it from a backup, or move it aside (`mv {path} {path}.broken`): "
                 "spec-agent makes an empty one")
