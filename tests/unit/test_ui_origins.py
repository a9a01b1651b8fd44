"""ui/origins.py: which web origins the chat server accepts, and the guard that refuses the rest."""

from __future__ import annotations

import asyncio
import socket

from ui.origins import OriginGuard, OriginPolicy, configured_origins, own_origins


def test_own_origins_are_the_loopback_names_and_the_host_on_the_servers_port():
    assert own_origins("127.0.0.1", 8123) == ["http://127.0.0.1:8123", "https://127.0.0.1:8123",
                                              "http://localhost:8123", "https://localhost:8123"]
    assert own_origins("10.0.0.5", 80)[-2:] == ["http://10.0.0.5:80", "https://10.0.0.5:80"]
    assert own_origins("::1", 80)[-1] == "https://[::1]:80"
    assert configured_origins(" https://a.example/ ,, http://b.lan:9000") == ["https://a.example", "http://b.lan:9000"]


def test_a_loopback_server_accepts_only_its_own_and_configured_origins():
    policy = OriginPolicy.for_server("127.0.0.1", 8000, "https://specs.example.com")
    assert policy.allows("http://127.0.0.1:8000") and policy.allows("http://localhost:8000")
    assert policy.allows("https://specs.example.com")
    assert policy.allows(None)  # not a web page
    for origin in ("http://evil.example", "http://127.0.0.1:8001", "http://localhost", "null",
                   "http://localhost:8000.evil.example", "https://specs.example.com.evil.example"):
        assert not policy.allows(origin, "127.0.0.1:8000"), origin
    # reached through a rebound name, the page's own address is still not ours
    assert not policy.allows("http://rebound.evil.example:8000", "rebound.evil.example:8000")


def test_a_server_on_all_addresses_accepts_the_address_it_was_reached_by():
    policy = OriginPolicy.for_server("0.0.0.0", 8000, "")
    assert policy.allows("http://192.168.1.20:8000", "192.168.1.20:8000")
    assert policy.allows(f"http://{socket.gethostname()}:8000", f"{socket.gethostname()}:8000")
    assert not policy.allows("http://192.168.1.20:8000", "127.0.0.1:8000")  # another machine's page
    assert not policy.allows("http://rebound.evil.example:8000", "rebound.evil.example:8000")


def call(guard: OriginGuard, scope: dict) -> list[dict]:
    sent: list[dict] = []

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    asyncio.run(guard(scope, receive, send))
    return sent


def test_the_guard_refuses_http_and_websockets_from_other_origins_and_passes_the_rest():
    reached: list[str] = []

    async def app(scope, receive, send):
        reached.append(scope["path"])

    guard = OriginGuard(app, OriginPolicy.for_server("127.0.0.1", 8000, ""))
    evil = [(b"origin", b"http://evil.example"), (b"host", b"127.0.0.1:8000")]
    sent = call(guard, {"type": "http", "path": "/project/file", "headers": evil})
    assert sent[0]["status"] == 403 and b"SPEC_AGENT_ALLOW_ORIGINS" in sent[1]["body"]
    assert call(guard, {"type": "websocket", "path": "/ws/socket.io/", "headers": evil}) == [
        {"type": "websocket.close", "code": 1008}]
    own = [(b"Origin", b"http://localhost:8000"), (b"host", b"localhost:8000")]
    assert call(guard, {"type": "websocket", "path": "/ws/socket.io/", "headers": own}) == []
    assert call(guard, {"type": "http", "path": "/project/settings", "headers": []}) == []
    assert call(guard, {"type": "lifespan", "path": ""}) == []
    assert reached == ["/ws/socket.io/", "/project/settings", ""]  # lifespan passes too
