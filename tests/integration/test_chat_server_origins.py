"""The real chat server refuses web pages of other origins: the socket.io handshake (websocket and
polling) and HTTP requests, CORS preflights for the upload included; its own origin, on its port,
and the origins of SPEC_AGENT_ALLOW_ORIGINS are accepted."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import socketio
from e2e.conftest import ChatServer

EVIL = "http://evil.example"
CONFIGURED = "https://specs.example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ChatServer]:
    folder = tmp_path_factory.mktemp("origins")
    env = {"SPEC_AGENT_OFFLINE": "1", "OLLAMA_HOST": "http://127.0.0.1:9",
           "SPEC_AGENT_ALLOW_ORIGINS": f"{CONFIGURED}, http://bench.lan:9000/"}
    with ChatServer(folder / "index", env, folder / "server.log") as running:
        yield running


def own_origins(server: ChatServer) -> list[str]:
    return [f"http://127.0.0.1:{server.port}", f"http://localhost:{server.port}"]


async def socketio_connect(server: ChatServer, origin: str | None) -> bool:
    """A socket.io connection as Chainlit's page opens it (websocket transport); True if accepted."""
    client = socketio.AsyncClient(reconnection=False)
    auth = {"sessionId": str(uuid.uuid4()), "clientType": "webapp", "userEnv": "{}", "threadId": None,
            "chatProfile": None}
    try:
        await client.connect(server.url, headers={"Origin": origin} if origin else {}, auth=auth,
                             transports=["websocket"], socketio_path="/ws/socket.io", wait_timeout=20)
    except socketio.exceptions.ConnectionError:
        return False
    await client.disconnect()
    return True


def preflight(server: ChatServer, origin: str) -> httpx.Response:
    """The browser's CORS preflight before `POST /project/file` (the upload)."""
    return httpx.options(f"{server.url}/project/file?session_id=x", timeout=20, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})


def test_a_websocket_from_another_origin_is_refused(server):
    assert asyncio.run(socketio_connect(server, EVIL)) is False


def test_the_polling_handshake_from_another_origin_is_refused(server):
    reply = httpx.get(f"{server.url}/ws/socket.io/?EIO=4&transport=polling", headers={"Origin": EVIL}, timeout=20)
    assert reply.status_code == 403
    assert "access-control-allow-origin" not in reply.headers
    assert '"sid"' not in reply.text


def test_a_preflight_for_the_upload_from_another_origin_gets_no_cors_grant(server):
    reply = preflight(server, EVIL)
    assert reply.status_code == 403
    assert "access-control-allow-origin" not in reply.headers
    assert "access-control-allow-credentials" not in reply.headers


def test_http_from_another_origin_is_refused_without_echo(server):
    reply = httpx.get(f"{server.url}/project/settings?language=en-US", headers={"Origin": EVIL}, timeout=20)
    assert reply.status_code == 403
    assert "access-control-allow-origin" not in reply.headers
    assert "evil.example is not allowed" in reply.text and "SPEC_AGENT_ALLOW_ORIGINS" in reply.text


def test_a_lookalike_of_the_own_origin_is_refused(server):
    for origin in (f"http://127.0.0.1:{server.port + 1}", f"http://localhost.evil.example:{server.port}",
                   "null"):
        assert preflight(server, origin).status_code == 403, origin


def test_the_servers_own_origin_is_accepted(server):
    for origin in own_origins(server):
        assert asyncio.run(socketio_connect(server, origin)) is True, origin
        reply = preflight(server, origin)
        assert reply.status_code == 200, origin
        assert reply.headers["access-control-allow-origin"] == origin
        page = httpx.get(f"{server.url}/project/settings?language=en-US", headers={"Origin": origin}, timeout=20)
        assert page.status_code == 200 and page.headers["access-control-allow-origin"] == origin


def test_configured_origins_are_accepted(server):
    for origin in (CONFIGURED, "http://bench.lan:9000"):
        assert asyncio.run(socketio_connect(server, origin)) is True, origin
        assert preflight(server, origin).headers.get("access-control-allow-origin") == origin


def test_clients_that_send_no_origin_still_work(server):
    """The CLI, curl and scripts send no Origin; only web pages do (always, on websockets)."""
    assert asyncio.run(socketio_connect(server, None)) is True
    assert httpx.get(f"{server.url}/project/settings?language=en-US", timeout=20).status_code == 200


def test_the_config_file_no_longer_allows_every_origin():
    config = (Path(__file__).resolve().parents[2] / ".chainlit" / "config.toml").read_text()
    assert 'allow_origins = ["*"]' not in config
