"""A scripted Ollama HTTP server for tests: real wire format, replies queued by the test.

Usage::

    from scripted_ollama import ScriptedOllama

    with ScriptedOllama(models=["llama3.1:8b"], capabilities=["completion", "tools"]) as ollama:
        ollama.enqueue(text="The limit is 34 dBµV [1].")
        ollama.enqueue(tool_calls=[{"name": "get_clause", "arguments": {"number": "5.13"}}])
        ollama.enqueue(lambda body: f"you sent {len(body['messages'])} messages")
        ...  # point a client at ollama.url
        assert ollama.bodies("/api/chat")[0]["options"]["num_ctx"] == 8192

Endpoints, as a real Ollama (0.6+) answers them:
- ``GET /api/tags``: the models list.
- ``POST /api/show``: details with ``"capabilities"`` (per model; 404 for an unknown model).
- ``POST /api/chat``: the next queued reply, streamed as NDJSON (one line per token, then a
  ``"done": true`` line with ``done_reason``, counts and durations) or as one JSON object when
  ``"stream": false``. A request carrying ``tools`` for a model without the ``tools``
  capability gets Ollama's 400 ``{"error": "registry.ollama.ai/library/<model> does not
  support tools"}``. An empty queue answers 500 so a test never passes on a reply it did not
  script.
- ``POST /api/generate``: the next queued reply's text as ``"response"`` (minimal).
- ``POST /api/embed``: deterministic hashed bag-of-words vectors (texts sharing words are
  similar), L2-normalised, ``embed_dim`` long.

Every request is recorded in ``requests`` (method, path, body) in arrival order.
``ScriptedOllama.closed_url()`` gives the address of a port nobody listens on ("Ollama down");
``ScriptedOllama(port=...)`` listens on a given port (an Ollama that comes up later).

Chat failures a real Ollama shows: ``enqueue(status=500, error=...)`` (an HTTP error),
``enqueue(text=..., stall_s=5)`` (no answer for 5 s: a client with a shorter read timeout gives
up), ``enqueue(text=..., drop_after=2)`` (two stream lines, then the connection closes before
the stream ends).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

log = logging.getLogger(__name__)

CREATED_AT = "2024-06-01T12:00:00.000000Z"
_TOKEN = re.compile(r"\s*\S+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Reply:
    """One scripted assistant turn: text (streamed in ``chunks``) and/or tool calls."""

    text: str = ""
    tool_calls: tuple[dict[str, Any], ...] = ()
    chunks: tuple[str, ...] | None = None  # explicit stream pieces; default: word by word
    done_reason: str = "stop"
    status: int = 200  # a non-200 status answers {"error": error} instead
    error: str = ""
    stall_s: float = 0.0  # wait this long before answering
    drop_after: int | None = None  # close the connection after this many stream lines

    def pieces(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        return _TOKEN.findall(self.text)


@dataclass(frozen=True)
class Recorded:
    """A request the server received."""

    method: str
    path: str
    body: dict[str, Any] = field(default_factory=dict)


Script = Reply | Callable[[dict[str, Any]], "Reply | str"]


def _tool_call(call: Mapping[str, Any]) -> dict[str, Any]:
    """Accept {"name", "arguments"} or the wire form {"function": {...}}; emit the wire form."""
    fn = call.get("function", call)
    args = fn.get("arguments", {})
    if not isinstance(args, dict):
        raise TypeError("tool call arguments must be a JSON object (a dict)")
    return {"function": {"name": fn["name"], "arguments": args}}


def hashed_embedding(text: str, dim: int) -> list[float]:
    """Bag of lower-cased words hashed (sha1, stable across runs) into ``dim`` signed buckets."""
    vec = [0.0] * dim
    for word in _WORD.findall(text.lower()):
        digest = hashlib.sha1(word.encode("utf-8")).digest()
        bucket = int.from_bytes(digest[:4], "big") % dim
        vec[bucket] += 1.0 if digest[4] % 2 == 0 else -1.0
    norm = math.sqrt(sum(v * v for v in vec))
    return [v / norm for v in vec] if norm else vec


def _full_name(model: str) -> str:
    return model if ":" in model else f"{model}:latest"


class ScriptedOllama:
    """A loopback Ollama whose chat replies are scripted; a context manager."""

    def __init__(
        self,
        models: Sequence[str] = ("llama3.1:8b", "nomic-embed-text:latest"),
        capabilities: Sequence[str] | Mapping[str, Sequence[str]] = ("completion", "tools"),
        *,
        embed_dim: int = 64,
        delay_s: float = 0.0,
        port: int = 0,
    ) -> None:
        self.models = [_full_name(m) for m in models]
        if isinstance(capabilities, Mapping):
            self._caps = {_full_name(m): list(c) for m, c in capabilities.items()}
            self._default_caps: list[str] = ["completion"]
        else:
            self._caps = {}
            self._default_caps = list(capabilities)
        self.embed_dim = embed_dim
        self.delay_s = delay_s  # every answer waits this long (for timeout tests)
        self.port = port  # 0: any free port
        self.requests: list[Recorded] = []
        self._queue: deque[Script] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ---------------------------------------------------------------------
    def enqueue(
        self,
        script: Callable[[dict[str, Any]], Reply | str] | None = None,
        *,
        text: str = "",
        tool_calls: Iterable[Mapping[str, Any]] = (),
        chunks: Sequence[str] | None = None,
        done_reason: str = "stop",
        status: int = 200,
        error: str = "",
        stall_s: float = 0.0,
        drop_after: int | None = None,
    ) -> None:
        """Queue the next chat/generate reply: a callable (body → Reply or text) or its parts."""
        if script is not None:
            self._queue.append(script)
            return
        calls = tuple(_tool_call(c) for c in tool_calls)
        text = "".join(chunks) if chunks is not None and not text else text
        self._queue.append(
            Reply(
                text,
                calls,
                tuple(chunks) if chunks is not None else None,
                done_reason,
                status,
                error,
                stall_s,
                drop_after,
            )
        )

    def capabilities_of(self, model: str) -> list[str]:
        return self._caps.get(_full_name(model), self._default_caps)

    def bodies(self, path: str) -> list[dict[str, Any]]:
        """The bodies of the requests received on ``path``, in order."""
        return [r.body for r in self.requests if r.path == path]

    @property
    def pending(self) -> int:
        """Scripted replies not yet consumed."""
        return len(self._queue)

    def next_reply(self, body: dict[str, Any]) -> Reply | None:
        with self._lock:
            if not self._queue:
                return None
            script = self._queue.popleft()
        if isinstance(script, Reply):
            return script
        out = script(body)
        return Reply(text=out) if isinstance(out, str) else out

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("ScriptedOllama is not started; use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ScriptedOllama:
        handler = type("Handler", (_Handler,), {"ollama": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        log.debug("scripted ollama listening on %s", self.url)
        return self

    def down(self) -> None:
        """Stop answering: later connections to ``url`` are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.down()

    @staticmethod
    def closed_url() -> str:
        """The address of a loopback port that nobody listens on."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return f"http://127.0.0.1:{port}"


class _Handler(BaseHTTPRequestHandler):
    """Ollama's API over the scripted state (``self.ollama``)."""

    ollama: ScriptedOllama
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("scripted ollama: " + format, *args)

    # -- plumbing ----------------------------------------------------------------------
    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else {}

    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, lines: Iterable[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for line in lines:
            data = (json.dumps(line) + "\n").encode("utf-8")
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _send_stream_then_drop(self, lines: Iterable[dict[str, Any]]) -> None:
        """The stream's first lines, then the connection closes (no final chunk): a crashed
        runner or a proxy that cuts the answer."""
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for line in lines:
            data = (json.dumps(line) + "\n").encode("utf-8")
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _error(self, status: int, message: str) -> None:
        self._send_json(status, {"error": message})

    def _known(self, model: str) -> bool:
        return _full_name(model) in self.ollama.models

    # -- routes ------------------------------------------------------------------------
    def do_GET(self) -> None:
        self.ollama.requests.append(Recorded("GET", self.path))
        time.sleep(self.ollama.delay_s)
        if self.path == "/api/tags":
            self._send_json(200, {"models": [_model_entry(m) for m in self.ollama.models]})
        elif self.path in ("/", "/api/version"):
            self._send_json(200, {"version": "0.6.8"})
        else:
            self._error(404, f"404 page not found: {self.path}")

    def do_POST(self) -> None:
        body = self._body()
        self.ollama.requests.append(Recorded("POST", self.path, body))
        time.sleep(self.ollama.delay_s)
        route = {
            "/api/show": self._show,
            "/api/chat": self._chat,
            "/api/generate": self._generate,
            "/api/embed": self._embed,
        }.get(self.path)
        if route is None:
            self._error(404, f"404 page not found: {self.path}")
            return
        model = body.get("model") or body.get("name") or ""
        if not self._known(model):
            self._error(404, f'model "{model}" not found, try pulling it first')
            return
        route(body, model)

    def _show(self, body: dict[str, Any], model: str) -> None:
        self._send_json(
            200,
            {
                "modelfile": f"FROM {model}",
                "parameters": "num_ctx 2048",
                "template": "{{ .Prompt }}",
                "details": _model_entry(model)["details"],
                "model_info": {"general.architecture": "llama", "llama.context_length": 131072},
                "capabilities": self.ollama.capabilities_of(model),
                "modified_at": CREATED_AT,
            },
        )

    def _chat(self, body: dict[str, Any], model: str) -> None:
        if body.get("tools") and "tools" not in self.ollama.capabilities_of(model):
            self._error(
                400, f"registry.ollama.ai/library/{_full_name(model)} does not support tools"
            )
            return
        reply = self.ollama.next_reply(body)
        if reply is None:
            self._error(500, "scripted ollama: no reply queued for this /api/chat request")
            return
        if reply.stall_s:
            time.sleep(reply.stall_s)
        try:
            self._send_chat(body, model, reply)
        except OSError as err:  # the client gave up (timed out) while we stalled
            log.debug("scripted ollama: client went away: %r", err)
            self.close_connection = True

    def _send_chat(self, body: dict[str, Any], model: str, reply: Reply) -> None:
        if reply.status != 200:
            self._error(reply.status, reply.error or "scripted error")
            return
        if reply.drop_after is not None:
            self._send_stream_then_drop(_chat_lines(model, reply, body)[: reply.drop_after])
        elif body.get("stream", True):
            self._send_stream(_chat_lines(model, reply, body))
        else:
            message: dict[str, Any] = {"role": "assistant", "content": reply.text}
            if reply.tool_calls:
                message["tool_calls"] = list(reply.tool_calls)
            self._send_json(
                200,
                {
                    "model": model,
                    "created_at": CREATED_AT,
                    "message": message,
                    **_done(reply, body),
                },
            )

    def _generate(self, body: dict[str, Any], model: str) -> None:
        reply = self.ollama.next_reply(body)
        if reply is None:
            self._error(500, "scripted ollama: no reply queued for this /api/generate request")
            return
        if body.get("stream", True):
            lines = [
                {"model": model, "created_at": CREATED_AT, "response": p, "done": False}
                for p in reply.pieces()
            ]
            lines.append(
                {"model": model, "created_at": CREATED_AT, "response": "", **_done(reply, body)}
            )
            self._send_stream(lines)
        else:
            self._send_json(
                200,
                {
                    "model": model,
                    "created_at": CREATED_AT,
                    "response": reply.text,
                    **_done(reply, body),
                },
            )

    def _embed(self, body: dict[str, Any], model: str) -> None:
        inputs = body.get("input", "")
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        dim = int(body.get("dimensions") or self.ollama.embed_dim)
        self._send_json(
            200,
            {
                "model": model,
                "embeddings": [hashed_embedding(t, dim) for t in texts],
                "total_duration": 1_000_000,
                "load_duration": 100_000,
                "prompt_eval_count": sum(len(_WORD.findall(t)) for t in texts),
            },
        )


def _model_entry(model: str) -> dict[str, Any]:
    return {
        "name": model,
        "model": model,
        "modified_at": CREATED_AT,
        "size": 4_920_753_328,
        "digest": hashlib.sha256(model.encode()).hexdigest(),
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": "llama",
            "families": ["llama"],
            "parameter_size": "8.0B",
            "quantization_level": "Q4_K_M",
        },
    }


def _done(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    prompt_words = sum(
        len(_WORD.findall(str(m.get("content", "")))) for m in body.get("messages", [])
    )
    return {
        "done": True,
        "done_reason": reply.done_reason,
        "total_duration": 5_000_000,
        "load_duration": 1_000_000,
        "prompt_eval_count": prompt_words or len(_WORD.findall(str(body.get("prompt", "")))),
        "prompt_eval_duration": 2_000_000,
        "eval_count": max(1, len(reply.pieces())),
        "eval_duration": 2_000_000,
    }


def _chat_lines(model: str, reply: Reply, body: dict[str, Any]) -> list[dict[str, Any]]:
    head = {"model": model, "created_at": CREATED_AT}
    lines = [
        {**head, "message": {"role": "assistant", "content": piece}, "done": False}
        for piece in reply.pieces()
    ]
    if reply.tool_calls:  # Ollama sends tool calls whole, in a message of their own
        lines.append(
            {
                **head,
                "message": {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": list(reply.tool_calls),
                },
                "done": False,
            }
        )
    lines.append({**head, "message": {"role": "assistant", "content": ""}, **_done(reply, body)})
    return lines
