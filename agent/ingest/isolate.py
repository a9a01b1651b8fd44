"""Parsing in a child process with time and memory limits: crashes and hangs become user errors.

The Document comes back over a pipe as JSON (`to_dict` / `document_from_dict`), never pickled;
an IngestError raised in the child is rebuilt in the parent with the same class and message.
A child that PyMuPDF's table finder kills (SIGABRT on a damaged page) is run again without
tables on that page; after `MAX_TABLE_CRASHES` such pages, without tables at all.
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
from typing import TYPE_CHECKING, Any

from agent import errors
from agent.config import Settings
from agent.errors import IngestError, OutOfMemory, ParserCrashed, ParseTimeout
from agent.schema import Document, document_from_dict, to_dict

if TYPE_CHECKING:
    from agent.ingest.pdf import TablePlan

log = logging.getLogger(__name__)

Target = Callable[[Path, Settings], Document]
MB = 1024 * 1024
MEMORY_FACTOR = 64  # the child may use 64 times --max-mb of memory (3.2 GB by default) ...
MIN_MEMORY_MB = 1024  # ... and at least 1 GB (MIL-STD-461G, 280 pages, peaks at ~160 MB)
MAX_TABLE_CRASHES = 3  # pages where the table finder killed the child before a file goes without tables
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
    """`parse_file` in a child process stopped after `settings.parse_timeout_s` seconds, its
    memory limited to `memory_limit(settings)`.

    `_target` replaces `parse_file` in the child (tests simulate crashes and hangs with it;
    under the spawn start method it must be a module-level function).
    """
    from agent.ingest.pdf import TablePlan

    path = Path(path)
    ctx = mp.get_context(_start_method or START_METHOD)
    crashed: list[int] = []  # pages where the table finder killed the child
    while True:
        plan = TablePlan(frozenset(crashed), len(crashed) >= MAX_TABLE_CRASHES, ctx.RawValue("i", -1))
        try:
            document = _run_child(ctx, _target, path, settings, plan)
        except ParserCrashed:
            if plan.running.value < 0:
                raise
            crashed.append(plan.running.value)
            continue
        if crashed:
            log.warning("%s: PyMuPDF's table finder crashed on page(s) %s; %s indexed without tables",
                        path.name, ", ".join(str(p + 1) for p in crashed),
                        "the file is" if plan.off else "their text is")
        return document


def memory_limit(settings: Settings) -> int:
    """Bytes of memory a parse child may take beyond what it starts with."""
    return int(max(MIN_MEMORY_MB, MEMORY_FACTOR * settings.max_file_mb) * MB)


def _run_child(ctx: Any, target: Target | None, path: Path, settings: Settings, plan: TablePlan) -> Document:
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(target, path, settings, plan, sender), daemon=True)
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


def _child(target: Target | None, path: Path, settings: Settings, plan: TablePlan, conn: Connection) -> None:
    """Runs in the child: parse, then send one JSON message (a document or an error)."""
    from agent.ingest import parse_file  # the package imports this module

    limit = memory_limit(settings)
    _limit_memory(limit)
    try:
        document = target(path, settings) if target else parse_file(path, settings, tables=plan)
        reply: dict[str, Any] = {"document": to_dict(document)}
    except IngestError as exc:
        reply = {"error": type(exc).__name__, "message": exc.message}
    except MemoryError:
        detail = (f"parsing needed more than {limit / MB:,.0f} MB of memory ({MEMORY_FACTOR} times "
                  "--max-mb) and was stopped")
        reply = {"error": "OutOfMemory", "message": OutOfMemory(str(path), detail).message}
    except Exception as exc:  # a parser bug or a file it chokes on: report, don't hang
        log.exception("%s: parser failed", path)
        detail = f"the parser failed on this file ({type(exc).__name__}: {_one_line(exc)})"
        reply = {"error": "ParserCrashed", "message": ParserCrashed(str(path), detail).message}
    conn.send_bytes(json.dumps(reply).encode("utf-8"))
    conn.close()


def _limit_memory(extra: int) -> None:
    """Cap the child's address space (RLIMIT_AS) at its current size plus `extra` bytes: a
    forked child starts with its parent's mappings. No limit where there is no /proc."""
    try:
        import resource

        size = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    except (ImportError, OSError, ValueError, IndexError):
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = size + extra if hard == resource.RLIM_INFINITY else min(size + extra, hard)
    if soft == resource.RLIM_INFINITY or wanted < soft:
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


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
