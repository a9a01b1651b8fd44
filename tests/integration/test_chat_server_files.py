"""Two chat servers from one install: each keeps Chainlit's files (uploads, PDF elements) under
its own index, and stopping one leaves the other's files alone."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

import httpx
import socketio
from e2e.conftest import ChatServer

ROOT = Path(__file__).resolve().parents[2]
ENV = {"SPEC_AGENT_OFFLINE": "1", "OLLAMA_HOST": "http://127.0.0.1:9"}


def an_install(folder: Path) -> Path:
    """What `spec-agent ui` runs Chainlit in (CHAINLIT_APP_ROOT): the config and welcome page."""
    shutil.copytree(ROOT / ".chainlit", folder / ".chainlit")
    shutil.copyfile(ROOT / "chainlit.md", folder / "chainlit.md")
    return folder


async def upload(server: ChatServer, name: str, content: bytes) -> str:
    """Drop a file as the chat page does (a socket.io session, then POST /project/file); its id."""
    client = socketio.AsyncClient(reconnection=False)
    session = str(uuid.uuid4())
    await client.connect(server.url, auth={"sessionId": session, "clientType": "webapp", "userEnv": "{}"},
                         transports=["websocket"], socketio_path="/ws/socket.io", wait_timeout=20)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            reply = await http.post(f"{server.url}/project/file", params={"session_id": session},
                                    files={"file": (name, content, "application/pdf")})
        reply.raise_for_status()
        return reply.json()["id"]
    finally:
        await client.disconnect()


def stored(folder: Path, file_id: str) -> list[Path]:
    return [p for p in folder.rglob(f"{file_id}*") if p.is_file()]


def test_stopping_one_server_keeps_the_other_servers_files(tmp_path):
    install = an_install(tmp_path / "install")
    env = {**ENV, "CHAINLIT_APP_ROOT": str(install)}
    index_a, index_b = tmp_path / "a" / "index", tmp_path / "b" / "index"
    with ChatServer(index_b, env, tmp_path / "b.log") as b:
        with ChatServer(index_a, env, tmp_path / "a.log") as a:
            id_a = asyncio.run(upload(a, "spec-a.pdf", b"%PDF-1.7 a"))
            id_b = asyncio.run(upload(b, "spec-b.pdf", b"%PDF-1.7 b"))
            assert [p.read_bytes() for p in stored(index_a, id_a)] == [b"%PDF-1.7 a"]
            assert [p.read_bytes() for p in stored(index_b, id_b)] == [b"%PDF-1.7 b"]
            assert stored(install, id_a) == stored(install, id_b) == []
        # server A has stopped (Chainlit deletes its files directory on the way out)
        assert stored(index_a, id_a) == []
        assert [p.read_bytes() for p in stored(index_b, id_b)] == [b"%PDF-1.7 b"]
