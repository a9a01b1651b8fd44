"""Password login for the chat: a users file of `user:pbkdf2-hash` lines, on only when
CHAINLIT_AUTH_SECRET and SPEC_AGENT_USERS are set. `python -m ui.auth add USER` adds a user."""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import logging
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)

USERS_ENV = "SPEC_AGENT_USERS"
SECRET_ENV = "CHAINLIT_AUTH_SECRET"
ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 260_000


def users_file(env: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if env is None else env
    return Path(env[USERS_ENV]) if env.get(USERS_ENV) else None


def auth_enabled(env: Mapping[str, str] | None = None) -> bool:
    """Login is required when a JWT secret and an existing users file are configured."""
    env = os.environ if env is None else env
    path = users_file(env)
    return bool(env.get(SECRET_ENV)) and path is not None and path.is_file()


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """'pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>'."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    b64 = lambda b: base64.b64encode(b).decode("ascii")
    return f"{ALGORITHM}${iterations}${b64(salt)}${b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        algorithm, iterations, salt, digest = encoded.split("$")
        if algorithm != ALGORITHM:
            return False
        got = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), base64.b64decode(salt), int(iterations))
        return hmac.compare_digest(got, base64.b64decode(digest))
    except (ValueError, TypeError):
        return False


def load_users(path: Path) -> dict[str, str]:
    """user → encoded hash; blank lines and `#` comments skipped, a bad line logged and skipped."""
    users: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, encoded = line.partition(":")
        if not sep or not user or not encoded.startswith(ALGORITHM + "$"):
            log.warning("%s line %d: expected user:%s$..., skipped", path, number, ALGORITHM)
            continue
        users[user] = encoded
    return users


def check_login(username: str, password: str, path: Path) -> bool:
    encoded = load_users(path).get(username)
    return encoded is not None and verify_password(password, encoded)


def add_user(path: Path, user: str, password: str) -> None:
    """Add or replace one user's line (the file is created, readable by its owner only)."""
    if not user or ":" in user or user != user.strip():
        raise ValueError(f"bad user name {user!r}: no colon, no surrounding spaces")
    if len(password) < 8:
        raise ValueError("password too short: give at least 8 characters")
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    lines = [ln for ln in lines if ln.partition(":")[0] != user] + [f"{user}:{hash_password(password)}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)


def main(argv: list[str]) -> int:
    """`python -m ui.auth add USER`: the password is asked twice (or read from stdin when piped)."""
    if len(argv) != 2 or argv[0] != "add":
        sys.stderr.write("usage: python -m ui.auth add USER   (users file: $SPEC_AGENT_USERS)\n")
        return 2
    path = users_file()
    if path is None:
        sys.stderr.write(f"error: set {USERS_ENV} to the users file, e.g. ~/.spec-agent-users\n")
        return 2
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            sys.stderr.write("error: the passwords differ; nothing changed\n")
            return 1
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        add_user(path, argv[1], password)
    except ValueError as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    sys.stdout.write(f"user {argv[1]} saved in {path}\n")
    if not os.environ.get(SECRET_ENV):
        sys.stdout.write(f"login is on once {SECRET_ENV} is set too (`chainlit create-secret`)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
