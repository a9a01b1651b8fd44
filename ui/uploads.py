"""Documents added from the chat: dropped files and the sample spec.

An upload is staged under `<index>/uploads/<unique>/<safe name>` (the document keeps the name of
its file) and becomes the document only through a successful ingest, which switches the index
atomically; a failed one leaves the previous copy and the index as they were. A same-name upload
with other content replaces a document for everyone, so it asks first; the replacement is
recorded (`uploads/history.jsonl`) and the document list says who replaced what.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.errors import SpecAgentError
from ui import render
from ui.chat import Chat
from ui.render import ActionSpec

LOAD_SAMPLE = "load_sample"
REPLACE = "replace_document"
HISTORY = "history.jsonl"
MAX_STEM_BYTES = 120  # of UTF-8 (a file system allows 255 bytes a name)
ANONYMOUS = "anonymous"  # the user without login


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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
            record(assistant, o, before.get(o.doc), user)
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
    return outcomes


# -- who replaced what -----------------------------------------------------------------------

def record(assistant: Any, outcome: Any, was: Mapping[str, Any] | None, user: str) -> None:
    """Append one upload that became a document to <index>/uploads/history.jsonl."""
    path = Path(outcome.path)
    entry = {"doc": outcome.doc, "status": outcome.status, "user": user, "file": path.name,
             "sha256": sha256_of(path), "at": datetime.now().astimezone().isoformat(timespec="minutes"),
             "was": {k: was[k] for k in ("pages", "clauses", "sha256")} if was else None}
    with (upload_dir(assistant) / HISTORY).open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry, ensure_ascii=False) + "\n")


def change_notes(assistant: Any, docs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """doc → "replaced by ada on 2026-05-04 14:03 (was 280 pages, 377 clauses)" for documents
    whose indexed content came from a chat upload (a later CLI ingest makes the note go)."""
    path = upload_dir(assistant) / HISTORY
    if not path.is_file():
        return {}
    current = {d["doc"]: d.get("sha256") for d in docs}
    latest: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if current.get(entry.get("doc")) == entry.get("sha256"):
            latest[entry["doc"]] = entry
    return {doc: note for doc, entry in latest.items() if (note := _note(entry))}


def _note(entry: Mapping[str, Any]) -> str:
    when = str(entry.get("at", ""))[:16].replace("T", " ")
    who = "in the chat" if entry.get("user") in (None, "", ANONYMOUS) else f"by {entry['user']}"
    if entry.get("status") != "replaced":
        return f"added {who} on {when}" if who != "in the chat" else ""
    was = entry.get("was") or {}
    return f"replaced {who} on {when}" + (f" (was {was['pages']} pages, {was['clauses']} clauses)" if was else "")


def listed_documents(assistant: Any) -> list[dict[str, Any]]:
    """The indexed documents, each with the note of its last chat upload ("changed")."""
    docs = assistant.documents()
    notes = change_notes(assistant, docs)
    return [{**d, "changed": notes[d["doc"]]} if d["doc"] in notes else dict(d) for d in docs]
