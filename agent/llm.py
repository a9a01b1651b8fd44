"""The only place that builds models: embedders (this part) and chat models (added beside it).

Chat part: ``probe_ollama(settings) -> OllamaStatus`` (GET /api/tags + POST /api/show within
settings.ollama_timeout_s; never raises), ``supports_tools(status)`` ("tools" capability),
``make_chat_model(settings, status) -> BaseChatModel`` (ChatOllama, num_ctx and timeouts always
explicit), ``reprobe(settings)`` (a chat model once an Ollama that was unavailable answers; with
backoff) and ``describe_failure(settings, err)`` (why a chat request failed, in words).
The same functions serve ``settings.llm == "openai"`` (any OpenAI-compatible server at
settings.openai_base_url, through ChatOpenAI): the probe lists /models and sends one tiny request
with a tool; a server that refuses it gets the gather-then-compose path, as plain llama3 does.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from time import monotonic
from typing import TYPE_CHECKING, Any

import httpx
from langchain_core.embeddings import Embeddings

from agent.config import EMBEDDER_KINDS, Settings
from agent.errors import OllamaUnavailable, SpecAgentError

if TYPE_CHECKING:  # the chat clients load in about 2 s: only where a chat model is built
    from langchain_core.language_models import BaseChatModel

log = logging.getLogger(__name__)

LSA = "lsa"

ANSWER_TOKENS = 1024  # the most tokens an answer may take; the context budget keeps this much free


# --- embeddings ------------------------------------------------------------------------------


def ollama_answers(settings: Settings) -> bool:
    """Whether an Ollama server answers GET /api/tags at settings.ollama_host in time."""
    if settings.offline:
        return False
    try:
        response = httpx.get(f"{settings.ollama_host.rstrip('/')}/api/tags", timeout=settings.ollama_timeout_s)
        return response.status_code == 200
    except (httpx.HTTPError, OSError):
        return False


def resolve_embedder(settings: Settings, recorded: str | None = None) -> str:
    """The embedder id `settings.embedder` stands for.

    `auto` keeps an index's `recorded` embedder; otherwise it is
    `ollama:<settings.ollama_embed_model>` when Ollama answers, else `lsa` (logged).
    Raises OllamaUnavailable when `auto` must keep a recorded Ollama embedder that is down.
    """
    name = settings.embedder.strip()
    if name != "auto":
        _check_name(name)
        return name
    if recorded and not recorded.startswith("ollama:"):
        return recorded
    if ollama_answers(settings):
        return recorded or f"ollama:{settings.ollama_embed_model}"
    if recorded:
        raise OllamaUnavailable(
            f"the index was embedded with {recorded} but no Ollama answers at {settings.ollama_host}; "
            "start Ollama, or re-index with `spec-agent ingest --reindex --embedder lsa`."
        )
    log.warning("no Ollama at %s; using the built-in lsa embedder", settings.ollama_host)
    return LSA


def _check_name(name: str) -> None:
    kind, _, model = name.partition(":")
    if name == LSA or (kind in ("ollama", "sentence-transformers", "openai") and model):
        return
    raise ValueError(f"unknown embedder {name!r}; allowed: {', '.join(EMBEDDER_KINDS)}")


def make_embeddings(settings: Settings, recorded: str | None = None) -> tuple[Embeddings | None, str]:
    """The embedder `settings.embedder` asks for, and its id (recorded in the index).

    Returns (None, "lsa") for the built-in LSA embedder: it is fitted on an index's own chunks,
    so `agent.index` builds it. `recorded` is the id an existing index was built with.
    """
    embedder_id = resolve_embedder(settings, recorded)
    kind, _, name = embedder_id.partition(":")
    if kind == "ollama":
        from langchain_ollama import OllamaEmbeddings

        return OllamaEmbeddings(model=name, base_url=settings.ollama_host), embedder_id
    if kind == "openai":
        return _openai_embeddings(settings, name), embedder_id
    if kind == "sentence-transformers":
        return SentenceTransformerEmbeddings(name), embedder_id
    return None, LSA


class SentenceTransformerEmbeddings(Embeddings):
    """sentence-transformers from a local name or path (`pip install -e .[st]`), hub offline."""

    def __init__(self, name_or_path: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as err:
            raise ValueError(
                "the sentence-transformers embedder needs the optional extra: pip install -e '.[st]'"
            ) from err
        try:
            self._model: Any = SentenceTransformer(name_or_path)
        except Exception as err:  # any load failure means the same to a user
            raise ValueError(
                f"cannot load sentence-transformers model {name_or_path!r} offline ({err}); "
                "give a local model folder or a model installed with the [st] extra"
            ) from err

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._model.encode(texts, normalize_embeddings=True).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


# --- chat model (LLM layer) -------------------------------------------------------------------
# probe_ollama: GET /api/tags and POST /api/show for settings.chat_model within
# settings.ollama_timeout_s; never raises: an unreachable server, a missing model or offline
# mode give available=False with the reason (a sentence a user can act on) in `error`.
# make_chat_model: ChatOllama with base_url, model, temperature and num_ctx always explicit
# (Ollama's own default context, 2048 tokens, is far too small for cited evidence), and a read
# timeout: the ollama client waits forever by default, so a hung server would hang the answer.

CHAT_READ_TIMEOUT_S = 300.0  # longest silence in a chat reply (loading the model, reading 8k tokens on a CPU)
REPROBE_FIRST_S = 1.0  # an unavailable Ollama is probed again after 1 s, then 2, 4, …
REPROBE_MAX_S = 30.0  # … and at most every 30 s
LLM_BACKENDS = ("ollama", "openai")
TOOL_PROBE_TIMEOUT_S = 30.0  # the OpenAI tool probe generates a token: a cold GPU server is slower than a list


@dataclass(frozen=True)
class OllamaStatus:
    """What the probe found: is the chat model usable, which models exist, what it can do."""

    available: bool
    models: list[str] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)  # of settings.chat_model
    error: str | None = None


def _same_model(wanted: str, name: str) -> bool:
    """'llama3' names 'llama3:latest'; 'llama3.1:8b' names only itself."""
    return name in (wanted, wanted if ":" in wanted else f"{wanted}:latest")


def _unreachable(settings: Settings, exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        what = f"did not answer within {settings.ollama_timeout_s:g} s"
    elif type(exc).__name__ == "ResponseError":  # ollama's, without importing the client here
        what = f"answered with an error: {exc.error} (HTTP {exc.status_code})"
    elif isinstance(exc, (ConnectionError, httpx.ConnectError)):
        what = "refused the connection (not running?)"
    else:
        what = f"could not be queried ({type(exc).__name__}: {exc})"
    return (
        f"Ollama at {settings.ollama_host} {what}; start it with `ollama serve` or set "
        "OLLAMA_HOST, or use --offline."
    )


class UnknownBackend(SpecAgentError, ValueError):
    """SPEC_AGENT_LLM names no backend (a ValueError; the CLI prints it as one line)."""


def backend(settings: Settings) -> str:
    """settings.llm, checked: raises UnknownBackend (a ValueError) naming the allowed backends."""
    name = settings.llm.strip().lower()
    if name not in LLM_BACKENDS:
        raise UnknownBackend(f"unknown SPEC_AGENT_LLM {settings.llm!r}; allowed: {', '.join(LLM_BACKENDS)}; "
                             "set it to one of them.")
    return name


def _endpoint(settings: Settings) -> str:
    """The server the chat backend talks to."""
    return settings.openai_base_url.rstrip("/") if backend(settings) == "openai" else settings.ollama_host


def _server(settings: Settings) -> str:
    """The chat server, in words ("Ollama at …")."""
    if backend(settings) == "openai":
        return f"the OpenAI-compatible server at {_endpoint(settings)}"
    return f"Ollama at {settings.ollama_host}"


def probe_ollama(settings: Settings) -> OllamaStatus:
    """Ask the chat backend (Ollama, or the OpenAI-compatible server when settings.llm is
    "openai") which models it has and what the chat model can do; never raises except for an
    unknown backend (ValueError). A failed probe is remembered for `reprobe`."""
    status = _probe_openai(settings) if backend(settings) == "openai" else _probe(settings)
    if not settings.offline:
        _remember(settings, status)
    return status


def _probe(settings: Settings) -> OllamaStatus:
    if settings.offline:
        return OllamaStatus(
            False, error="offline mode (--offline / SPEC_AGENT_OFFLINE): Ollama is not called."
        )
    import ollama

    client = ollama.Client(host=settings.ollama_host, timeout=settings.ollama_timeout_s)
    try:
        models = [m.model for m in client.list().models if m.model]
        if not any(_same_model(settings.chat_model, m) for m in models):
            have = ", ".join(models) or "none"
            return OllamaStatus(False, models, error=(
                f"Ollama has no model {settings.chat_model} (models: {have}); "
                f"run `ollama pull {settings.chat_model}` or choose one with --model."))
        caps = list(client.show(settings.chat_model).capabilities or [])
    except Exception as exc:  # noqa: BLE001 - the probe reports, it never raises
        log.info("ollama probe failed: %r", exc)
        return OllamaStatus(False, error=_unreachable(settings, exc))
    finally:
        client.close()
    log.info("ollama %s: %s can %s", settings.ollama_host, settings.chat_model, caps)
    return OllamaStatus(True, models, caps)


# --- re-probing: an Ollama started (or a model pulled) after the server opened ----------------
# What this process knows of each (host, chat model) whose last probe failed: when, and how long
# to wait before the next probe. A probe refused by a closed port is cheap; one of a silent host
# costs settings.ollama_timeout_s, so the waits grow from REPROBE_FIRST_S to REPROBE_MAX_S.


@dataclass
class _Unavailable:
    probed_at: float
    wait_s: float


_UNAVAILABLE: dict[tuple[str, str], _Unavailable] = {}
_UNAVAILABLE_LOCK = threading.Lock()


def _remember(settings: Settings, status: OllamaStatus) -> None:
    key = (_endpoint(settings), settings.chat_model)
    with _UNAVAILABLE_LOCK:
        if status.available:
            _UNAVAILABLE.pop(key, None)
            return
        before = _UNAVAILABLE.get(key)
        wait = min(2 * before.wait_s, REPROBE_MAX_S) if before else REPROBE_FIRST_S
        _UNAVAILABLE[key] = _Unavailable(monotonic(), wait)


def reprobe(settings: Settings) -> tuple[BaseChatModel, bool] | None:
    """(chat model, calls tools) when Ollama, unavailable at its last probe, answers now.

    Probes only once the wait after the last failed probe has passed (one caller at a time);
    None otherwise, in offline mode, and for a host never probed."""
    key = (_endpoint(settings), settings.chat_model)
    with _UNAVAILABLE_LOCK:
        last = _UNAVAILABLE.get(key)
        if settings.offline or last is None or monotonic() - last.probed_at < last.wait_s:
            return None
        last.probed_at = monotonic()  # concurrent callers skip: this probe answers for them
    status = probe_ollama(settings)
    if not status.available:
        return None
    log.info("%s answers now; answering with %s", _server(settings), settings.chat_model)
    return make_chat_model(settings, status), supports_tools(status)


def supports_tools(status: OllamaStatus) -> bool:
    """Whether the chat model accepts tool definitions (Ollama's "tools" capability, or an
    OpenAI-compatible server that accepted the probe's tool)."""
    return status.available and "tools" in status.capabilities


def make_chat_model(settings: Settings, status: OllamaStatus) -> BaseChatModel:
    """A ChatOllama (or ChatOpenAI, settings.llm "openai") for settings.chat_model; raises
    OllamaUnavailable when the probe said no."""
    if not status.available:
        raise OllamaUnavailable(status.error or f"{_server(settings)} is not available.")
    if backend(settings) == "openai":
        return _chat_openai(settings)
    from langchain_ollama import ChatOllama

    timeout = httpx.Timeout(CHAT_READ_TIMEOUT_S, connect=settings.ollama_timeout_s)
    return ChatOllama(
        base_url=settings.ollama_host,
        model=settings.chat_model,
        temperature=settings.temperature,
        num_ctx=settings.num_ctx,
        num_predict=ANSWER_TOKENS,
        client_kwargs={"timeout": timeout},
    )


def describe_failure(settings: Settings, err: BaseException) -> str:
    """Why a chat request failed, for "The language model failed (…)": the HTTP status and
    Ollama's message, a timeout, a refused or dropped connection."""
    if backend(settings) == "openai":
        return _describe_openai_failure(settings, err)
    host = settings.ollama_host
    if type(err).__name__ == "ResponseError":  # ollama's, without importing the client here
        status, message = getattr(err, "status_code", None), str(getattr(err, "error", "") or "").strip()
        return f"HTTP {status} from Ollama at {host}" + (f": {message[:200]}" if message else "")
    if isinstance(err, httpx.TimeoutException):
        return f"no reply from Ollama at {host} within {_read_timeout(err):g} s"
    if isinstance(err, (httpx.ConnectError, ConnectionRefusedError)):
        return f"Ollama at {host} refused the connection (not running?)"
    if isinstance(err, (httpx.RemoteProtocolError, httpx.ReadError, ConnectionError)):
        return f"Ollama at {host} closed the connection mid-answer"
    return f"{type(err).__name__}: {str(err)[:200]}"


def _read_timeout(err: httpx.TimeoutException) -> float:
    try:
        return float(err.request.extensions["timeout"]["read"])
    except (RuntimeError, KeyError, TypeError, ValueError):
        return CHAT_READ_TIMEOUT_S


# --- the OpenAI-compatible backend (vLLM, llama.cpp's llama-server, LM Studio, Ollama's /v1) ----
# The probe: GET <base>/models within settings.ollama_timeout_s (an unreachable server or a model
# it does not list: unavailable, with the reason), then one chat completion of one token carrying
# one tool. 200: tools. Any HTTP error (vLLM without --enable-auto-tool-choice answers 400,
# llama.cpp without --jinja an error naming tools) or no answer in time: no tools, and the
# deterministic gather-then-compose path answers. ChatOpenAI never retries (max_retries=0): a
# failure falls back to the extractive answer at once, as on Ollama.

OPENAI_DUMMY_KEY = "none"  # local servers ignore the key, the OpenAI client insists on one
_PROBE_TOOL = {
    "type": "function",
    "function": {
        "name": "ping",
        "description": "Answer the probe.",
        "parameters": {"type": "object", "properties": {}, "required": []},
    },
}


def _openai_headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.openai_api_key or OPENAI_DUMMY_KEY}"}


def _probe_openai(settings: Settings) -> OllamaStatus:
    if settings.offline:
        return OllamaStatus(False, error="offline mode (--offline / SPEC_AGENT_OFFLINE): no model server is called.")
    base = _endpoint(settings)
    if not base:
        return OllamaStatus(False, error=(
            "SPEC_AGENT_LLM=openai needs OPENAI_BASE_URL (e.g. http://gpu-server:8000/v1); "
            "set it, or use SPEC_AGENT_LLM=ollama."))
    try:
        response = httpx.get(f"{base}/models", headers=_openai_headers(settings), timeout=settings.ollama_timeout_s)
        response.raise_for_status()
        models = [str(m.get("id", "")) for m in response.json().get("data", []) if isinstance(m, dict)]
    except Exception as exc:  # noqa: BLE001 - the probe reports, it never raises
        log.info("openai-compatible probe failed: %r", exc)
        return OllamaStatus(False, error=_openai_unreachable(settings, exc))
    if models and settings.chat_model not in models:
        return OllamaStatus(False, models, error=(
            f"{_server(settings)} serves no model {settings.chat_model} (models: {', '.join(models)}); "
            "set SPEC_AGENT_MODEL to one of them."))
    caps = ["completion", "tools"] if _accepts_tools(settings) else ["completion"]
    log.info("%s: %s can %s", _server(settings), settings.chat_model, caps)
    return OllamaStatus(True, models, caps)


def _accepts_tools(settings: Settings) -> bool:
    """One request of one token with one tool: does the server take `tools`?"""
    body = {"model": settings.chat_model, "messages": [{"role": "user", "content": "ping"}],
            "tools": [_PROBE_TOOL], "max_tokens": 1, "stream": False}
    timeout = httpx.Timeout(TOOL_PROBE_TIMEOUT_S, connect=settings.ollama_timeout_s)
    try:
        response = httpx.post(f"{_endpoint(settings)}/chat/completions", json=body,
                              headers=_openai_headers(settings), timeout=timeout)
    except httpx.HTTPError as exc:
        log.info("tool probe of %s got no answer (%r); answering without tools", _server(settings), exc)
        return False
    if response.status_code != 200:
        log.info("%s refused tools (HTTP %s: %s); answering without tools", _server(settings),
                 response.status_code, response.text[:200])
        return False
    return True


def _openai_unreachable(settings: Settings, exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        what = f"did not answer within {settings.ollama_timeout_s:g} s"
    elif isinstance(exc, httpx.HTTPStatusError):
        what = f"answered GET /models with HTTP {exc.response.status_code}"
    elif isinstance(exc, httpx.ConnectError):
        what = "refused the connection (not running?)"
    else:
        what = f"could not be queried ({type(exc).__name__}: {exc})"
    return f"{_server(settings)} {what}; start it, or check OPENAI_BASE_URL, or use --offline."


def _chat_openai(settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=_endpoint(settings),
        api_key=settings.openai_api_key or OPENAI_DUMMY_KEY,
        model=settings.chat_model,
        temperature=settings.temperature,
        timeout=httpx.Timeout(CHAT_READ_TIMEOUT_S, connect=settings.ollama_timeout_s),
        max_retries=0,
        max_tokens=ANSWER_TOKENS,  # without it llama.cpp and vLLM generate until the context is full
    )


def _describe_openai_failure(settings: Settings, err: BaseException) -> str:
    import openai

    server = _server(settings)
    if isinstance(err, openai.APIStatusError):
        return f"HTTP {err.status_code} from {server}" + (f": {m[:200]}" if (m := _openai_message(err)) else "")
    cause = err.__cause__ if isinstance(err, openai.APIConnectionError) and err.__cause__ else err
    if isinstance(err, openai.APITimeoutError) or isinstance(cause, httpx.TimeoutException):
        read = _read_timeout(cause) if isinstance(cause, httpx.TimeoutException) else CHAT_READ_TIMEOUT_S
        return f"no reply from {server} within {read:g} s"
    if isinstance(cause, (httpx.ConnectError, ConnectionRefusedError)):
        return f"{server} refused the connection (not running?)"
    if isinstance(cause, (httpx.RemoteProtocolError, httpx.ReadError, ConnectionError, openai.APIConnectionError)):
        return f"{server} closed the connection mid-answer"
    return f"{type(err).__name__}: {str(err)[:200]}"


def _openai_message(err: Any) -> str:
    """The server's own words from an error body ({"error": {"message"}} or {"message"})."""
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        return str(message or "").strip()
    return str(getattr(err, "message", "") or "").strip()


def _openai_embeddings(settings: Settings, model: str) -> Embeddings:
    """`openai:<model>`: the /embeddings of the server at settings.openai_base_url (raw text, floats:
    local servers neither take token ids nor always base64)."""
    base = settings.openai_base_url.rstrip("/")
    if not base:
        raise ValueError(f"the embedder openai:{model} needs OPENAI_BASE_URL (e.g. http://gpu-server:8000/v1)")
    from langchain_openai import OpenAIEmbeddings

    return OpenAIEmbeddings(
        model=model,
        base_url=base,
        api_key=settings.openai_api_key or OPENAI_DUMMY_KEY,  # type: ignore[arg-type]
        check_embedding_ctx_length=False,
        tiktoken_enabled=False,
        model_kwargs={"encoding_format": "float"},
        timeout=httpx.Timeout(CHAT_READ_TIMEOUT_S, connect=settings.ollama_timeout_s),
        max_retries=0,
    )
