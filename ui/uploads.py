"""Documents added from the chat: dropped files and the sample spec.

An upload is staged under `<index>/uploads/<unique>/<safe name>` (the document keeps the name of
its file) and becomes the document only through a successful ingest, which switches the index
atomically; a failed one leaves the previous copy and the index as they were. A same-name upload
with other content replaces a document for everyone, so it asks first; what became a document is
recorded (ui/history.py).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agent.errors import SpecAgentError
from agent.index.spec_index import sha256_of
from ui import history, render, scope
from ui.chat import Chat
from ui.render import ActionSpec

LOAD_SAMPLE = "load_sample"
REPLACE = "replace_document"
MAX_STEM_BYTES = 120  # of UTF-8 (a file system allows 255 bytes a name)


def upload_dir(assistant: Any) -> Path:
    return Path(assistant.settings.index_dir) / "uploads"


# -- names and staging -----------------------------------------------------------------------

def safe_file_name(name: str) -> str:
    """A readable, safe file name for an upload: its last path part, without control or
    direction characters, leading dots and runs of spaces, the stem at most MAX_STEM_BYTES;
    "upload" when nothing is left ("..", "")."""
    base = re.split(r"[/\\]", name)[-1]
    base = "".join(" " if ch.isspace() else ch for ch in base if unicodedata.category(ch)[0] != "C" or ch.isspace())
    base = " ".join(base.split()).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not (dot and stem and suffix.isalnum() and len(suffix) <= 20):
        stem, suffix = base, ""
    stem = stem.encode("utf-8")[:MAX_STEM_BYTES].decode("utf-8", "ignore").rstrip(" .")
    return (stem or "upload") + (f".{suffix}" if suffix else "")


def stage(assistant: Any, name: str, path: str) -> Path:
    """Copy an upload to a folder of its own under <index>/uploads: nothing indexed is overwritten."""
    folder = upload_dir(assistant) / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True)
    target = folder / safe_file_name(name)
    shutil.copyfile(path, target)
    return target


def discard(assistant: Any, path: Path) -> None:
    """Delete an uploaded copy, and its staging folder once empty (never outside <index>/uploads)."""
    root = upload_dir(assistant).resolve()
    path = path.resolve()
    if root not in path.parents:
        return
    path.unlink(missing_ok=True)
    if path.parent != root and not any(path.parent.iterdir()):
        path.parent.rmdir()


# -- the flow --------------------------------------------------------------------------------

async def ingest_uploads(assistant: Any, chat: Chat, files: Sequence[tuple[str, str]]) -> None:
    """Stage the dropped files, ask before one replaces a document by other content, ingest (the
    ingest sniffs their content: one line per file, good or bad), then keep only what the index
    uses and record who replaced what."""
    staged: list[Path] = []
    lines: list[str] = []
    for name, path in files:
        try:
            staged.append(await asyncio.to_thread(stage, assistant, name, path))
        except OSError as err:
            lines.append(f"❌ {safe_file_name(name)}: could not be saved on the server ({err.strerror or err}); "
                         "free some disk space or check the index folder's permissions, then upload it again.")
    if lines:
        await chat.send("\n".join(lines))
    before = {d["doc"]: d for d in await asyncio.to_thread(assistant.documents)}
    wanted = [p for p in staged if await _wanted(assistant, chat, p, before.get(p.stem))]
    if not wanted:
        return
    previous = {name: assistant.source_path(name) for name in {p.stem for p in wanted} & set(before)}
    outcomes = await ingest_files(assistant, chat, [str(p) for p in wanted])
    await asyncio.to_thread(settle, assistant, wanted, previous, outcomes, before, chat.user)


async def _wanted(assistant: Any, chat: Chat, path: Path, indexed: Mapping[str, Any] | None) -> bool:
    """Whether to ingest a staged upload: yes, unless it replaces a document by other content
    and the user does not say so."""
    if indexed is None or indexed.get("sha256") == await asyncio.to_thread(sha256_of, path):
        return True
    doc = indexed["doc"]
    question = (f"**{doc}** is already indexed ({indexed['pages']} pages, {indexed['clauses']} clauses). "
                f"The uploaded **{path.name}** has other content: replace it for everyone who uses this index?")
    chosen = await chat.choose(question, [ActionSpec(REPLACE, f"Replace {doc}", {"replace": True}),
                                          ActionSpec(REPLACE, f"Keep the indexed {doc}", {"replace": False})])
    if chosen and chosen.get("replace"):
        return True
    await asyncio.to_thread(discard, assistant, path)
    await chat.send(f"Kept {doc} as indexed; {path.name} was not ingested.")
    return False


def settle(assistant: Any, staged: Sequence[Path], previous: Mapping[str, str | None], outcomes: Sequence[Any],
           before: Mapping[str, Mapping[str, Any]], user: str) -> None:
    """After an ingest: record the uploads that became documents; delete the staged copies the
    index does not use (failed, unchanged) and the copies that were replaced."""
    used = {assistant.source_path(d["doc"]) for d in assistant.documents()}
    for o in outcomes:
        if o.status in ("added", "replaced") and o.doc:
            history.record(upload_dir(assistant), o.doc, o.status, user, Path(o.path).name,
                           sha256_of(Path(o.path)), before.get(o.doc))
    for path in [*staged, *(Path(p) for p in previous.values() if p)]:
        if str(path) not in used:
            discard(assistant, path)


async def load_sample(assistant: Any, chat: Chat) -> None:
    await ingest_files(assistant, chat, assistant.sample_spec_paths())


def progress_line(p: Any) -> str:
    name = Path(p.path).name if p.path else ""
    if p.stage == "parse":
        return f"parse: {name} (file {p.files_done + 1} of {p.files_total})"
    if p.stage == "embed":
        return f"embed: {p.files_done} file(s) read, {p.pages_done} pages"
    if p.stage == "write":
        return "write: saving the index"
    return f"done: {p.files_done} of {p.files_total} file(s)"


async def ingest_files(assistant: Any, chat: Chat, paths: Sequence[str]) -> list[Any]:
    """Ingest `paths` in a thread, the progress shown in a step; the outcomes, one line each, sent.
    An ingest that cannot run at all (another writer, embedder mismatch) says why."""
    names = ", ".join(Path(p).name for p in paths)
    handle = await chat.start_progress(f"Ingesting {len(paths)} file(s)", names)
    loop = asyncio.get_running_loop()
    lines: list[str] = []
    updates: list[Any] = []

    def on_progress(p: Any) -> None:  # called in the ingest thread
        lines.append(progress_line(p))
        updates.append(asyncio.run_coroutine_threadsafe(handle.update("\n".join(lines)), loop))

    try:
        outcomes = await asyncio.to_thread(assistant.ingest, list(paths), on_progress)
    except SpecAgentError as err:
        outcomes, report = [], f"⚠️ Nothing was ingested: {err}"
    else:
        report = "\n".join(render.outcome_line(o) for o in outcomes)
    for update in updates:
        await asyncio.wrap_future(update)
    await handle.finish("\n".join(lines + [report]))
    await chat.send(report)
    await scope.offer(assistant, chat)  # the picker lists the new documents
    return outcomes
