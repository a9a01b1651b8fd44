"""The chat server's set-up: its one assistant (opened in the background), the Chainlit settings
that follow ours, the data layer, login, and the files a message brings."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CHAT_FILES = "chat-files"  # <index>/chat-files/server-<pid>: Chainlit's files of one running server
SOURCES_JS = "/public/sources.js"  # the source panel opens on a click only (see the file)

_opening: concurrent.futures.Future | None = None


def _open_assistant() -> Any:
    from agent.config import Settings
    from agent.service import Assistant

    assistant = Assistant.open(Settings.from_env())
    log.info("assistant open on %s (%s)", assistant.settings.index_dir, assistant.mode)
    return assistant


def warm_up() -> None:
    """Start opening the server's assistant (index, matcher, Ollama probe) in the background."""
    global _opening
    if _opening is None:
        _opening = concurrent.futures.ThreadPoolExecutor(1, "spec-agent-open").submit(_open_assistant)


async def get_assistant() -> Any:
    """The server's one assistant over SPEC_AGENT_INDEX; a failed open is retried next time."""
    global _opening
    warm_up()
    assert _opening is not None
    try:
        return await asyncio.wrap_future(_opening)
    except Exception:
        _opening = None
        raise


def configure_chainlit() -> None:
    """Chainlit settings that follow ours (call at import of ui/app.py, before the server starts):
    the upload size limit is settings.max_file_mb; only the server's own origin and
    settings.allow_origins may use it; its files live under the index; the page loads
    public/sources.js, which keeps the source panel to the chip clicked."""
    from chainlit.config import config
    from chainlit.server import app

    from agent.config import Settings
    from ui.origins import OriginPolicy, lock_origins

    settings = Settings.from_env()
    upload = config.features.spontaneous_file_upload
    if upload is not None:
        upload.max_size_mb = max(1, int(settings.max_file_mb))
    lock_origins(app, config.project, OriginPolicy.for_server(config.run.host, config.run.port,
                                                              settings.allow_origins))
    keep_chainlit_files(settings.index_dir)
    if config.ui.custom_js and config.ui.custom_js != SOURCES_JS:
        log.warning("custom_js %s replaces %s: the source panel may open by itself and show "
                    "another answer's sources", config.ui.custom_js, SOURCES_JS)
    else:
        config.ui.custom_js = SOURCES_JS


def keep_chainlit_files(index_dir: Path) -> Path:
    """Chainlit's files (uploads before their ingest, the elements of a session) in a folder of
    this server under its index, so that a server stopping (Chainlit deletes its files folder on
    the way out) takes no other server's files with it; folders of servers no longer running go.

    Chainlit 2.12 has no setting for it: `FILES_DIRECTORY` (`<app root>/.files`, shared by every
    server of one install) is read by sessions from chainlit.config and deleted by chainlit.server.
    """
    import chainlit.config
    import chainlit.server

    root = Path(index_dir).resolve() / CHAT_FILES
    for folder in root.glob("server-*"):
        found = re.fullmatch(r"server-(\d+)", folder.name)
        if found and not _running(int(found.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
    mine = root / f"server-{os.getpid()}"
    mine.mkdir(parents=True, exist_ok=True)
    chainlit.config.FILES_DIRECTORY = mine
    chainlit.server.FILES_DIRECTORY = mine  # type: ignore[attr-defined]
    log.info("Chainlit files in %s", mine)
    return mine


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def make_data_layer() -> Any:
    from agent.config import Settings
    from agent.feedback.store import FeedbackStore
    from ui.datalayer import ChatDataLayer

    settings = Settings.from_env()
    return ChatDataLayer(settings.index_dir, FeedbackStore.open(settings))


def login(username: str, password: str) -> Any:
    import chainlit as cl

    from ui.auth import check_login, users_file

    path = users_file()
    if path is None or not check_login(username, password, path):
        log.info("failed login for %r", username)
        return None
    return cl.User(identifier=username, metadata={"role": "engineer", "provider": "credentials"})


def uploaded_files(message: Any) -> list[tuple[str, str]]:
    """(file name, saved path) of the files dropped with a message."""
    return [(e.name, e.path) for e in (message.elements or []) if getattr(e, "path", None)]
