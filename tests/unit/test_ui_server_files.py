"""ui/server.py: Chainlit's files live in a folder of this server under the index; folders of
servers no longer running are removed, those of running ones kept."""

from __future__ import annotations

import os

import chainlit.config
import chainlit.server

from ui.server import CHAT_FILES, keep_chainlit_files


def test_chainlit_files_go_under_the_index_in_a_folder_of_this_server(tmp_path, monkeypatch):
    monkeypatch.setattr(chainlit.config, "FILES_DIRECTORY", chainlit.config.FILES_DIRECTORY)
    monkeypatch.setattr(chainlit.server, "FILES_DIRECTORY", chainlit.server.FILES_DIRECTORY)
    root = tmp_path / "index" / CHAT_FILES
    gone, running = root / "server-999999999", root / "server-1"  # no such process; init, running
    for folder in (gone, running):
        (folder / "session").mkdir(parents=True)
    mine = keep_chainlit_files(tmp_path / "index")
    assert mine == root / f"server-{os.getpid()}" and mine.is_dir()
    assert chainlit.config.FILES_DIRECTORY == chainlit.server.FILES_DIRECTORY == mine
    assert not gone.exists() and (running / "session").is_dir()
