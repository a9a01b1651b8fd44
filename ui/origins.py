"""Which web pages may talk to the chat server: its own origin and those of settings.allow_origins.

A page of any other origin is refused on HTTP and on the socket.io handshake alike (403), before
Chainlit sees the request. Chainlit 2.12 itself checks no origin on its socket.io server
(`cors_allowed_origins=[]` turns python-engineio's check off) and, with `allow_origins = ["*"]`,
echoes any origin with credentials allowed; so `lock_origins` puts `OriginGuard` in front of
Chainlit's app and gives its CORS middleware the explicit list. Clients that send no Origin
(the CLI, curl, scripts) are not web pages and pass; browsers always send one on websockets and
on cross-site requests.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("127.0.0.1", "localhost")
ALL_ADDRESSES = ("0.0.0.0", "::", "")


def configured_origins(value: str) -> list[str]:
    """'https://a.example, http://b.lan:9000/' → ['https://a.example', 'http://b.lan:9000']."""
    return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]


def own_origins(host: str, port: int) -> list[str]:
    """The origins of this server's own page: loopback names on its port, and the host it listens on."""
    names = list(LOOPBACK_NAMES)
    if host not in ALL_ADDRESSES and host not in names:
        names.append(f"[{host}]" if ":" in host else host)
    return [f"{scheme}://{name}:{port}" for name in names for scheme in ("http", "https")]


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class OriginPolicy:
    """The origins allowed; a server listening on all addresses also accepts a page served from
    the address or machine name it was reached by (the Host it was asked for)."""

    origins: tuple[str, ...]
    all_addresses: bool = False

    @classmethod
    def for_server(cls, host: str, port: int, configured: str) -> OriginPolicy:
        return cls(tuple(own_origins(host, port) + configured_origins(configured)), host in ALL_ADDRESSES)

    def allows(self, origin: str | None, host_header: str | None = None) -> bool:
        if origin is None:
            return True
        if origin in self.origins:
            return True
        return self.all_addresses and self._reached_as(origin, host_header)

    @staticmethod
    def _reached_as(origin: str, host_header: str | None) -> bool:
        """The page comes from the very address this request was sent to, and that address is an
        IP or this machine's name (a domain of someone else's could be rebound to us)."""
        parts = urlsplit(origin)
        if not host_header or parts.scheme not in ("http", "https") or parts.netloc != host_header:
            return False
        name = (parts.hostname or "").lower()
        return _is_ip(name) or name in {socket.gethostname().lower(), socket.getfqdn().lower()}


def refusal(origin: str) -> str:
    return (f"origin {origin} is not allowed to use this spec-agent server; open the chat from the "
            "server's own address, or add the origin to SPEC_AGENT_ALLOW_ORIGINS (comma-separated).")


class OriginGuard:
    """ASGI middleware: an HTTP request or websocket from an origin the policy refuses gets 403."""

    def __init__(self, app: Any, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        origin = headers.get(b"origin")
        if self.policy.allows(origin, headers.get(b"host")):
            return await self.app(scope, receive, send)
        log.warning("refused %s %s from origin %s", scope["type"], scope.get("path"), origin)
        if scope["type"] == "websocket":
            await receive()  # websocket.connect; closing before accepting answers HTTP 403
            await send({"type": "websocket.close", "code": 1008})
            return
        body = refusal(str(origin)).encode("utf-8")
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode("ascii"))]})
        await send({"type": "http.response.body", "body": body})


def lock_origins(app: Any, project_config: Any, policy: OriginPolicy) -> None:
    """Put `OriginGuard` in front of Chainlit's FastAPI `app` and give its CORS middleware the
    explicit list instead of the config file's (call before the server starts)."""
    from starlette.middleware.cors import CORSMiddleware

    allowed: Sequence[str] = list(policy.origins)
    project_config.allow_origins = list(allowed)
    for middleware in app.user_middleware:
        if middleware.cls is CORSMiddleware:
            middleware.kwargs["allow_origins"] = list(allowed)
    app.add_middleware(OriginGuard, policy=policy)
