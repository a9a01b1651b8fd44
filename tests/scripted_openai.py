"""A scripted OpenAI-compatible HTTP server for tests (vLLM's / llama.cpp's wire format).

Usage::

    from scripted_openai import ScriptedOpenAI

    with ScriptedOpenAI(models=["llama3.1:8b"], tools=True) as server:
        server.enqueue(text="ok")  # the tool probe's reply
        server.enqueue(text="The limit is 34 dBµV [1].")
        server.enqueue(tool_calls=[{"name": "get_clause", "arguments": {"number": "5.13"}}])
        ...  # OPENAI_BASE_URL=server.url (ends in /v1)
        assert server.bodies("/v1/chat/completions")[1]["model"] == "llama3.1:8b"

Endpoints:
- ``GET /v1/models``: the models list.
- ``POST /v1/chat/completions``: the next queued reply, as server-sent events (one
  ``chat.completion.chunk`` per word, tool calls in a chunk of their own, a usage chunk when
  ``stream_options.include_usage``, then ``data: [DONE]``) or as one ``chat.completion`` when
  ``stream`` is false. With ``tools=False`` a request carrying ``tools`` gets vLLM's 400 (a server
  started without ``--enable-auto-tool-choice``). An unknown model answers 404; an empty queue
  answers 500, so a test never passes on a reply it did not script.
- ``POST /v1/embeddings``: deterministic hashed bag-of-words vectors (scripted_ollama's), as
  floats or, with ``encoding_format: base64``, as little-endian float32.

Failures: ``enqueue(status=500, error=...)`` (an HTTP error, OpenAI's error body),
``enqueue(text=..., stall_s=5)`` (no answer for 5 s), ``enqueue(text=..., drop_after=2)`` (two
events, then the connection closes; half the body when not streaming). Every request is recorded in ``requests`` in order.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from scripted_ollama import Recorded, Reply, hashed_embedding

log = logging.getLogger(__name__)

CREATED = 1_717_243_200
CHAT = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"
NO_TOOLS = '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'


def _tool_call(call: Mapping[str, Any]) -> dict[str, Any]:
    fn = call.get("function", call)
    args = fn.get("arguments", {})
    if not isinstance(args, dict):
        raise TypeError("tool call arguments must be a JSON object (a dict)")
    return {"function": {"name": fn["name"], "arguments": args}}


class ScriptedOpenAI:
    """A loopback OpenAI-compatible server whose chat replies are scripted; a context manager."""

    def __init__(self, models: Sequence[str] = ("llama3.1:8b",), *, tools: bool = True,
                 embed_dim: int = 64) -> None:
        self.models = list(models)
        self.tools = tools
        self.embed_dim = embed_dim
        self.requests: list[Recorded] = []
        self._queue: deque[Reply | Callable[[dict[str, Any]], Reply | str]] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def enqueue(
        self,
        script: Callable[[dict[str, Any]], Reply | str] | None = None,
        *,
        text: str = "",
        tool_calls: Iterable[Mapping[str, Any]] = (),
        status: int = 200,
        error: str = "",
        stall_s: float = 0.0,
        drop_after: int | None = None,
    ) -> None:
        """Queue the next chat reply: a callable (body → Reply or text) or its parts."""
        if script is not None:
            self._queue.append(script)
            return
        calls = tuple(_tool_call(c) for c in tool_calls)
        self._queue.append(Reply(text, calls, None, "stop", status, error, stall_s, drop_after))

    def bodies(self, path: str = CHAT) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == path]

    @property
    def pending(self) -> int:
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

    @property
    def url(self) -> str:
        """The base URL, as OPENAI_BASE_URL takes it (ending in /v1)."""
        if self._server is None:
            raise RuntimeError("ScriptedOpenAI is not started; use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ScriptedOpenAI:
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.down()


class _Handler(BaseHTTPRequestHandler):
    server_state: ScriptedOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("scripted openai: " + format, *args)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else {}

    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        kind = "BadRequestError" if status < 500 else "InternalServerError"
        self._send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": status}})

    def do_GET(self) -> None:
        self.server_state.requests.append(Recorded("GET", self.path))
        if self.path == "/v1/models":
            data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "scripted"}
                    for m in self.server_state.models]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._error(404, f"Not Found: {self.path}")

    def do_POST(self) -> None:
        body = self._body()
        self.server_state.requests.append(Recorded("POST", self.path, body))
        if self.path not in (CHAT, EMBEDDINGS):
            self._error(404, f"Not Found: {self.path}")
            return
        model = body.get("model", "")
        if model not in self.server_state.models:
            self._error(404, f"The model `{model}` does not exist.")
            return
        if self.path == EMBEDDINGS:
            self._embed(body, model)
            return
        if body.get("tools") and not self.server_state.tools:
            self._error(400, NO_TOOLS)
            return
        reply = self.server_state.next_reply(body)
        if reply is None:
            self._error(500, "scripted openai: no reply queued for this request")
            return
        if reply.stall_s:
            time.sleep(reply.stall_s)
        try:
            self._answer(body, model, reply)
        except OSError as err:  # the client gave up while we stalled
            log.debug("scripted openai: client went away: %r", err)
            self.close_connection = True

    def _embed(self, body: dict[str, Any], model: str) -> None:
        inputs = body.get("input", "")
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        if any(not isinstance(t, str) for t in texts):
            self._error(400, "input must be text (this server takes no token ids)")
            return
        dim = int(body.get("dimensions") or self.server_state.embed_dim)
        vectors = [hashed_embedding(t, dim) for t in texts]
        if body.get("encoding_format") == "base64":
            vectors = [base64.b64encode(struct.pack(f"<{dim}f", *v)).decode() for v in vectors]  # type: ignore[misc]
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        words = sum(len(t.split()) for t in texts)
        self._send_json(200, {"object": "list", "data": data, "model": model,
                              "usage": {"prompt_tokens": words, "total_tokens": words}})

    def _answer(self, body: dict[str, Any], model: str, reply: Reply) -> None:
        if reply.status != 200:
            self._error(reply.status, reply.error or "scripted error")
        elif body.get("stream"):
            self._stream(_chunks(model, reply, body), reply.drop_after)
        elif reply.drop_after is not None:
            self._send_half(_completion(model, reply, body))
        else:
            self._send_json(200, _completion(model, reply, body))

    def _send_half(self, payload: Any) -> None:
        """Headers and half the body, then the connection closes (a crashed server)."""
        data = json.dumps(payload).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _stream(self, events: list[dict[str, Any]], drop_after: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        lines = [f"data: {json.dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"]
        for line in lines[:drop_after] if drop_after is not None else lines:
            data = line.encode("utf-8")
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        if drop_after is not None:  # no final chunk: the connection is cut mid-answer
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(b"0\r\n\r\n")


def _wire_calls(reply: Reply) -> list[dict[str, Any]]:
    return [{"id": f"call_{i}", "type": "function",
             "function": {"name": c["function"]["name"], "arguments": json.dumps(c["function"]["arguments"])}}
            for i, c in enumerate(reply.tool_calls)]


def _usage(reply: Reply, body: dict[str, Any]) -> dict[str, int]:
    prompt = sum(len(str(m.get("content") or "").split()) for m in body.get("messages", []))
    done = max(1, len(reply.pieces()))
    return {"prompt_tokens": prompt, "completion_tokens": done, "total_tokens": prompt + done}


def _finish(reply: Reply) -> str:
    return "tool_calls" if reply.tool_calls else "stop"


def _completion(model: str, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = _wire_calls(reply)
    return {"id": "chatcmpl-scripted", "object": "chat.completion", "created": CREATED, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": _finish(reply)}],
            "usage": _usage(reply, body)}


def _chunks(model: str, reply: Reply, body: dict[str, Any]) -> list[dict[str, Any]]:
    head = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": CREATED, "model": model}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in reply.pieces()]
    if reply.tool_calls:
        events.append(chunk({"tool_calls": [{"index": i, **c} for i, c in enumerate(_wire_calls(reply))]}))
    events.append(chunk({}, _finish(reply)))
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({**head, "choices": [], "usage": _usage(reply, body)})
    return events
