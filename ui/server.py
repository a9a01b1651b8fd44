"""The chat server's set-up: its one assistant (opened in the background), the Chainlit settings
that follow ours, the data layer, login, and the files a message brings."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from typing import Any

log = logging.getLogger(__name__)

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
    settings.allow_origins may use it."""
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
