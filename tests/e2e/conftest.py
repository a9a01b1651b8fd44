"""E2E fixtures: a pre-ingested sample index, the chat server in a subprocess, headless Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import pytest
from conftest import copy_index

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SAMPLE_PDF = ROOT / "agent" / "data" / "sample" / "ACME-EMC-CS-2026.pdf"
ARTIFACTS = ROOT / "tests" / "artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spec_agent(index: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the CLI as a user would (`spec-agent --index <index> ...`)."""
    return subprocess.run([sys.executable, "-m", "agent.cli", "--index", str(index), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=True)


@pytest.fixture
def index_copy(sample_index_master, tmp_path) -> Path:
    """A private copy of the sample spec's index (the chat writes threads and feedback there)."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (apt-get install chromium); browser tests need it")
    return copy_index(sample_index_master, tmp_path / "index")


class ChatServer:
    """`chainlit run ui/app.py --headless` on a free loopback port, stopped on exit."""

    def __init__(self, index: Path, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "SPEC_AGENT_INDEX": str(index), "SPEC_AGENT_EMBEDDER": "lsa",
                    "CHAINLIT_APP_ROOT": str(ROOT), **env}
        for name in ("CHAINLIT_AUTH_SECRET", "SPEC_AGENT_USERS"):
            if name not in env:
                self.env.pop(name, None)
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Self:
        self.log = self.log_path.open("w")
        cmd = [sys.executable, "-m", "chainlit", "run", str(ROOT / "ui" / "app.py"), "--headless",
               "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chat server exited ({self.proc.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/project/settings?language=en-US", timeout=2):
                    return self
            except OSError as err:
                if getattr(err, "code", None) in (401, 403):  # up, login required
                    return self
                time.sleep(0.5)
        raise RuntimeError(f"chat server not up after 120 s; see {self.log_path}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium for one test module. Playwright's sync API keeps an event loop running while it
    is open, so it must be closed before any asyncio test runs (e2e tests also run last)."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (apt-get install chromium); browser tests need it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def page(browser, artifacts, request):
    """A browser page; a screenshot of it is kept in tests/artifacts when the test fails."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    yield page
    if getattr(request.node, "failed_call", False):
        page.screenshot(path=str(artifacts / f"failed-{request.node.name}.png"))
    page.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when == "call" and outcome.get_result().failed:
        item.failed_call = True
