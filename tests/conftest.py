"""Suite-wide guards and shared fixtures.

Unit tests may not open any network connection (no real model can be reached);
integration and e2e tests may reach loopback addresses only.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = ROOT / "tests" / "fixtures"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class NetworkBlocked(RuntimeError):
    pass


def _guarded(allow_loopback: bool):
    def check(sock: socket.socket, address) -> None:
        if sock.family == socket.AF_UNIX:
            return
        host = address[0] if isinstance(address, tuple) else str(address)
        if allow_loopback and (host.startswith("127.") or host in ("localhost", "::1")):
            return
        raise NetworkBlocked(f"test tried to connect to {address!r}; unit tests never reach the network")

    def connect(sock, address):
        check(sock, address)
        return _real_connect(sock, address)

    def connect_ex(sock, address):
        check(sock, address)
        return _real_connect_ex(sock, address)

    return connect, connect_ex


@pytest.fixture(autouse=True)
def _network_guard(request, monkeypatch):
    is_unit = "/tests/unit/" in str(request.node.path).replace("\\", "/")
    connect, connect_ex = _guarded(allow_loopback=not is_unit)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    # Nothing in the suite may talk to a real Ollama on its default port by accident.
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    yield


def pytest_collection_modifyitems(config, items):
    """Browser tests last: they are the slowest, and nothing async may run beside Playwright."""
    items.sort(key=lambda item: "/tests/e2e/" in str(item.path).replace("\\", "/"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test saying why."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} is absent (shared data not checked out beside the project)")
    return path


@pytest.fixture
def mil461g() -> Path:
    return shared_path("corpus", "MIL-STD-461G.pdf")


@pytest.fixture
def mil461f() -> Path:
    return shared_path("corpus", "MIL-STD-461F.pdf")
