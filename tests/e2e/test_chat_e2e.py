"""The chat in a real browser: ask, open a source, thumb down with a comment, correct the test,
upload a DRM-wrapped file; LLM mode (scripted Ollama, with login), then offline mode."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import shared_path
from scripted_ollama import ScriptedOllama

from ui.auth import add_user

from .conftest import ChatServer, spec_agent

pytestmark = pytest.mark.e2e

QUESTION = "which test does 8.2.2.1 require?"
LLM_ANSWER = "Clause 8.2.2.1 requires the Conducted Emission - Voltage Method test (CISPR 25) [1]."
SOURCE = "[1] ACME-EMC-CS-2026 §8.2.2.1 p. 5"
USER, PASSWORD = "engineer", "correct-horse-battery"
WAIT_MS = 90_000


def scripted_reply(body: dict) -> str:
    """The model's reply to every chat request: the cited answer (JSON '{}' if asked for JSON)."""
    return "{}" if body.get("format") == "json" else LLM_ANSWER


def poll(query, timeout_s: float = 20.0):
    """query() until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = query()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def ask(page, question: str) -> None:
    page.locator("#chat-input").fill(question)
    page.keyboard.press("Enter")


def test_chat_with_llm_feedback_correction_and_upload(page, index_copy, artifacts, tmp_path):
    users = tmp_path / "users"
    add_user(users, USER, PASSWORD)
    env = {"CHAINLIT_AUTH_SECRET": "e2e-secret-" + "x" * 40, "SPEC_AGENT_USERS": str(users)}
    with ScriptedOllama(models=["llama3.1:8b"], capabilities=["completion"]) as ollama:
        for _ in range(10):
            ollama.enqueue(scripted_reply)
        env["OLLAMA_HOST"] = ollama.url
        with ChatServer(index_copy, env, artifacts / "server-llm.log") as server:
            page.goto(server.url + "/login")
            page.locator("#email").fill(USER)
            page.locator("#password").fill(PASSWORD)
            page.locator("button[type=submit]").click()
            page.get_by_text("Type /help for commands", exact=False).wait_for(timeout=WAIT_MS)
            assert page.get_by_text("Answers are written by llama3.1:8b", exact=False).count() == 1

            ask(page, QUESTION)
            page.get_by_role("button", name="Correct the test").wait_for(timeout=WAIT_MS)
            answer = page.locator(".step").filter(has_text="Conducted Emission - Voltage Method test (CISPR 25)")
            assert answer.count() >= 1
            link = page.locator("a.element-link", has_text="§8.2.2.1").first
            assert link.inner_text().lower() == SOURCE.lower()
            link.click()
            page.get_by_text("Document: ACME-EMC-CS-2026 · page 5").first.wait_for(timeout=10_000)
            page.screenshot(path=str(artifacts / "chat-answer.png"))
            # README's docs/screenshots/chat.png is a copy of this artifact, refreshed by hand
            assert ollama.bodies("/api/chat"), "the answer did not come from the (scripted) model"

            page.locator(".negative-feedback-off").last.click()
            page.locator("textarea[placeholder='Your feedback...']").fill("cites the wrong network")
            page.locator("#submit-feedback").click()
            chat_db, feedback_db = index_copy / "chat.db", index_copy / "feedback.db"
            assert poll(lambda: rows(chat_db, 'SELECT value, comment FROM feedbacks')) == [
                (0, "cites the wrong network")]
            assert poll(lambda: rows(feedback_db, "SELECT value, comment, user FROM feedback")) == [
                (-1, "cites the wrong network", USER)]

            page.get_by_role("button", name="Correct the test").click()
            page.get_by_role("button", name="6 Bulk Current Injection: Immunity").click()
            page.get_by_text("Correction recorded: ACME-EMC-CS-2026 §8.2.2.1", exact=False).wait_for(timeout=WAIT_MS)
            stored = json.loads(spec_agent(index_copy, "corrections", "--json").stdout)
            assert [(c["doc"], c["clause"], c["right"], c["wrong"], c["user"]) for c in stored] == [
                ("ACME-EMC-CS-2026", "8.2.2.1", [6], [0], USER)]
            assert rows(chat_db, 'SELECT "userIdentifier" FROM threads') == [(USER,)]
            page.screenshot(path=str(artifacts / "chat-correction.png"))

            drm = shared_path("bad_inputs", "drm_wrapped_spec.pdf")
            page.locator("input[type=file]").first.set_input_files(str(drm))
            page.get_by_text("drm_wrapped_spec.pdf").first.wait_for(timeout=10_000)
            ask(page, "/docs")
            page.get_by_text("drm_wrapped_spec.pdf: DRM-protected", exact=False).last.wait_for(timeout=WAIT_MS)
            page.get_by_role("cell", name="ACME-EMC-CS-2026", exact=True).last.wait_for(timeout=WAIT_MS)  # went on
            page.screenshot(path=str(artifacts / "chat-upload.png"))


def test_chat_offline_answers_from_the_documents(page, index_copy, artifacts):
    env = {"OLLAMA_HOST": ScriptedOllama.closed_url()}
    with ChatServer(index_copy, env, artifacts / "server-offline.log") as server:
        page.goto(server.url)
        page.get_by_text("Offline mode", exact=False).first.wait_for(timeout=WAIT_MS)
        assert page.get_by_text("Ollama is not answering at", exact=False).count() == 1
        ask(page, QUESTION)
        page.get_by_role("button", name="Correct the test").wait_for(timeout=WAIT_MS)
        assert page.get_by_text("Offline answer (from the documents, no language model):",
                                exact=False).count() == 1
        assert page.get_by_text("Standard test: Conducted Emission - Voltage Method", exact=False).count() == 1
        assert page.locator("a.element-link", has_text="§8.2.2.1").first.inner_text().lower() == SOURCE.lower()
        page.screenshot(path=str(artifacts / "chat-offline.png"))
