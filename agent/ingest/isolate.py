"""Parsing in a child process with a time limit: crashes and hangs become user errors.

The Document comes back over a pipe as JSON (`to_dict` / `document_from_dict`), never pickled;
an IngestError raised in the child is rebuilt in the parent with the same class and message.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from agent import errors
from agent.config import Settings
from agent.errors import IngestError, ParserCrashed, ParseTimeout
from agent.schema import Document, document_from_dict, to_dict

log = logging.getLogger(__name__)

Target = Callable[[Path, Settings], Document]
# Measured on the 2-core dev machine under load: fork adds ~60-100 ms a file; spawn adds
# seconds (the child re-imports PyMuPDF, python-docx and the caller's main module).
START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"
REAP_S = 5.0  # how long a child that has answered may take to exit before it is killed


def parse_isolated(
    path: str | Path,
    settings: Settings,
    *,
    _target: Target | None = None,
    _start_method: str | None = None,
) -> Document:
    """`parse_file` in a child process stopped after `settings.parse_timeout_s` seconds.

    `_target` replaces `parse_file` in the child (tests simulate crashes and hangs with it;
    under the spawn start method it must be a module-level function).
    """
    from agent.ingest import parse_file  # the package imports this module

    path = Path(path)
    ctx = mp.get_context(_start_method or START_METHOD)
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_child, args=(_target or parse_file, path, settings, sender), daemon=True
    )
    started = time.monotonic()
    child.start()
    sender.close()  # the parent keeps only its reading end, so EOF means the child is gone
    try:
        reply = _receive(receiver, child, path, settings.parse_timeout_s)
    finally:
        receiver.close()
        _reap(child)
    log.debug("%s: parsed in a child in %.3f s", path.name, time.monotonic() - started)
    return _unpack(reply, path)


def _child(target: Target, path: Path, settings: Settings, conn: Connection) -> None:
    """Runs in the child: parse, then send one JSON message (a document or an error)."""
    try:
        reply: dict[str, Any] = {"document": to_dict(target(path, settings))}
    except IngestError as exc:
        reply = {"error": type(exc).__name__, "message": exc.message}
    except Exception as exc:  # a parser bug or a file it chokes on: report, don't hang
        log.exception("%s: parser failed", path)
        detail = f"the parser failed on this file ({type(exc).__name__}: {_one_line(exc)})"
        reply = {"error": "ParserCrashed", "message": ParserCrashed(str(path), detail).message}
    conn.send_bytes(json.dumps(reply).encode("utf-8"))
    conn.close()


def _receive(conn: Connection, child: Any, path: Path, timeout_s: float) -> dict[str, Any]:
    if not conn.poll(timeout_s):
        log.warning("%s: parse exceeded %s s; killing child %s", path.name, timeout_s, child.pid)
        child.kill()
        raise ParseTimeout(str(path), f"parsing took longer than {timeout_s:g} s and was stopped")
    try:
        return json.loads(conn.recv_bytes().decode("utf-8"))
    except EOFError:  # the child died without answering
        child.join(REAP_S)
        raise ParserCrashed(str(path), _crash_detail(child.exitcode)) from None


def _reap(child: Any) -> None:
    child.join(REAP_S)
    if child.is_alive():
        child.kill()
        child.join()
    child.close()


def _unpack(reply: dict[str, Any], path: Path) -> Document:
    if "document" in reply:
        return document_from_dict(reply["document"])
    cls = getattr(errors, reply.get("error", ""), None)
    if not (isinstance(cls, type) and issubclass(cls, IngestError)):
        cls = IngestError
    err = cls.__new__(cls)
    errors.SpecAgentError.__init__(err, reply["message"])
    err.path = str(path)
    raise err


def _crash_detail(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the parser crashed on this file ({name})"
    return f"the parser crashed on this file (exit code {exitcode})"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("..." if len(text) > 200 else "")
