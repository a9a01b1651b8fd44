"""Documents added from the chat: dropped files and the sample spec, ingested with progress and
one line per file."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ui import render
from ui.chat import Chat

LOAD_SAMPLE = "load_sample"


def upload_dir(assistant: Any) -> Path:
    return Path(assistant.settings.index_dir) / "uploads"


def _keep_upload(assistant: Any, name: str, path: str) -> str:
    """Copy an upload under <index>/uploads with its own file name (documents are named after it)."""
    folder = upload_dir(assistant)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (Path(name).name or "upload")
    shutil.copyfile(path, target)
    return str(target)


async def ingest_uploads(assistant: Any, chat: Chat, files: Sequence[tuple[str, str]]) -> None:
    """Ingest dropped files (the ingest sniffs their content); one line per file, good or bad."""
    paths = [await asyncio.to_thread(_keep_upload, assistant, name, path) for name, path in files]
    await ingest_files(assistant, chat, paths)


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
    """Ingest `paths` in a thread, the progress shown in a step; the outcomes, one line each, sent."""
    names = ", ".join(Path(p).name for p in paths)
    handle = await chat.start_progress(f"Ingesting {len(paths)} file(s)", names)
    loop = asyncio.get_running_loop()
    lines: list[str] = []
    updates: list[Any] = []

    def on_progress(p: Any) -> None:  # called in the ingest thread
        lines.append(progress_line(p))
        updates.append(asyncio.run_coroutine_threadsafe(handle.update("\n".join(lines)), loop))

    outcomes = await asyncio.to_thread(assistant.ingest, list(paths), on_progress)
    for update in updates:
        await asyncio.wrap_future(update)
    report = "\n".join(render.outcome_line(o) for o in outcomes)
    await handle.finish("\n".join(lines + [report]))
    await chat.send(report)
    return outcomes
