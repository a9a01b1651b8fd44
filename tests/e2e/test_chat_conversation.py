"""A five-turn conversation in a real browser (offline, the sample spec): after each answer,
every source chip opens exactly its own clause or table text, or the PDF at its own page; the
panel never opens by itself nor swaps to another answer's sources; each answer's step list holds
only its own steps. What each answer cites is taken from the same conversation asked in-process
(offline answers are deterministic). A screenshot per turn lands in tests/artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import copy_index
from scripted_ollama import ScriptedOllama

from ui import render

from .conftest import ChatServer

pytestmark = pytest.mark.e2e

DOC = "ACME-EMC-CS-2026"
TURNS = ["Which test does 8.2.2.1 require?",
         "What is the RE limit at 100 MHz?",
         "Which clause covers conducted emissions measured with a current probe?",
         "and its limits?",
         "/docs"]
WAIT_MS = 90_000
PAGES = 9  # of the sample spec

# The page's messages and steps, in order: (type, step name or "").
TIMELINE_JS = """() => Array.from(document.querySelectorAll('[data-step-type]'))
  .filter(el => !el.parentElement.closest('[data-step-type]'))
  .map(el => {
    const head = el.querySelector('button[id^="step-"], p[id^="step-"]');
    return [el.dataset.stepType, head ? head.textContent.replace(/^(Used|Using)\\s+/, '').trim() : ''];
  })"""


def words(text: str) -> str:
    return " ".join(text.split())


def reference(sample_index_master: Path, tmp_path: Path) -> list[tuple[Any, list[str]]]:
    """The same conversation asked in-process: each question's answer and its steps."""
    from agent.config import Settings
    from agent.service import Assistant

    index = copy_index(sample_index_master, tmp_path / "reference")
    assistant = Assistant.open(Settings(index_dir=index, embedder="lsa", offline=True))
    config = {"configurable": {"thread_id": "reference"}}
    out = []
    for question in TURNS[:-1]:
        record = assistant.ask(question, "reference")
        steps = [s["name"] for s in assistant.graph.get_state(config).values["steps"]]
        out.append((record, steps))
    return out


def answers_and_steps(page) -> list[tuple[list[str], int]]:
    """For each user message: the steps shown after it, and how many messages answer it."""
    turns: list[tuple[list[str], int]] = []
    for kind, name in page.evaluate(TIMELINE_JS):
        if kind == "user_message":
            turns.append(([], 0))
        elif turns and kind == "assistant_message":
            turns[-1] = (turns[-1][0], turns[-1][1] + 1)
        elif turns:
            turns[-1][0].append(name)
    return turns


def panel(page) -> tuple[str | None, str]:
    """The side panel's title (None when closed) and its text."""
    if page.locator("#side-view-title").count() == 0:
        return None, ""
    return (page.locator("#side-view-title").text_content().strip(),
            words(page.locator("#side-view-content").inner_text()))


def wait_panel(page, title: str, *texts: str) -> str:
    """Wait until the panel shows `title` and every one of `texts`; its text."""
    page.wait_for_function("""([title, texts]) => {
        const t = document.getElementById('side-view-title');
        const c = document.getElementById('side-view-content');
        if (!t || !c || t.textContent.trim() !== title || c.children.length !== 1) return false;
        const text = c.innerText.replace(/\\s+/g, ' ');
        return texts.every(x => text.includes(x));
    }""", arg=[title, list(texts)], timeout=30_000)
    return panel(page)[1]


def expected_text(c: dict[str, Any]) -> list[str]:
    """What the panel must show for citation c: its heading, document and page, and its text."""
    head = " ".join(x for x in (f"§{c['clause']}" if c.get("clause") else "", c.get("title") or "") if x)
    shown = [words(head), f"Document: {c['doc']} · page {c['page']}"]
    if c.get("table"):
        shown.append(str(c["table"]))
        if c.get("row") is not None:
            shown.append(words(f"Cited row: {c['text']}")[:80])
    else:
        shown.append(" ".join(words(c["text"]).split()[:8]))
    return shown


def on_page(c: dict[str, Any]) -> str:
    """A text the cited PDF page itself prints: the table id, or the clause number."""
    return str(c["table"]) if c.get("table") else str(c["clause"])


def check_sources(page, message, citations: list[dict[str, Any]]) -> str | None:
    """Click every chip of one answer; each opens its own source. The last chip's name."""
    chips = message.locator("a.element-link")
    names = [chips.nth(i).text_content().strip() for i in range(chips.count())]
    by_name: dict[str, tuple[str, dict[str, Any]]] = {}
    for c in citations:
        by_name[render.source_name(c)] = ("text", c)
        by_name[f"[{c['n']}] {DOC}.pdf p. {c['page']}"] = ("pdf", c)
    assert sorted(names) == sorted(by_name), "each citation has a text chip and a PDF chip, nothing else"
    for i, name in enumerate(names):
        kind, c = by_name[name]
        chips.nth(i).click()
        if kind == "text":
            wait_panel(page, name, *expected_text(c))
        else:  # the viewer at the cited page, whose text layer prints what is cited
            wait_panel(page, name, f"{c['page']} / {PAGES}", on_page(c))
    return names[-1] if names else None


def test_five_turns_each_chip_opens_its_own_source_and_each_answer_has_its_own_steps(
        page, index_copy, artifacts, sample_index_master, tmp_path):
    expected = reference(sample_index_master, tmp_path)
    env = {"OLLAMA_HOST": ScriptedOllama.closed_url()}
    with ChatServer(index_copy, env, artifacts / "server-conversation.log") as server:
        page.goto(server.url)
        page.get_by_text("Offline mode", exact=False).first.wait_for(timeout=WAIT_MS)
        last_chip: str | None = None
        for turn, question in enumerate(TURNS, start=1):
            before = panel(page)
            page.locator("#chat-input").fill(question)
            page.keyboard.press("Enter")
            messages = page.locator('[data-step-type="assistant_message"]')
            page.wait_for_function("n => document.querySelectorAll('[data-step-type=\"assistant_message\"]')"
                                   ".length > n", arg=turn, timeout=WAIT_MS)  # the welcome message, then one each
            message = messages.nth(turn)
            if question == "/docs":
                message.get_by_role("cell", name=DOC, exact=True).wait_for(timeout=WAIT_MS)
                assert words(message.inner_text()).startswith("document pages clauses tables")
                assert message.locator("a.element-link").count() == 0
                assert answers_and_steps(page)[-1] == ([], 1)  # a command has no steps
            else:
                record, steps = expected[turn - 1]
                chips = 2 * len(record.citations)
                page.wait_for_function("([i, n]) => document.querySelectorAll("
                                       "'[data-step-type=\"assistant_message\"]')[i]"
                                       ".querySelectorAll('a.element-link').length === n",
                                       arg=[turn, chips], timeout=WAIT_MS)
                assert words(record.answer.splitlines()[1])[:60] in words(message.inner_text())
                page.wait_for_timeout(500)  # elements that might still arrive would swap the panel
                assert panel(page)[0] == before[0], "the panel opened or changed by itself"
                assert answers_and_steps(page)[-1] == (steps, 1), "steps of another turn shown"
                assert steps[0] == "understand" and steps.count("understand") == 1
                last_chip = check_sources(page, message, record.citations) or last_chip
            page.screenshot(path=str(artifacts / f"conversation-turn-{turn}.png"))
        assert [s for s, _ in answers_and_steps(page)][:4] == [s for _, s in expected]
        assert last_chip is not None and panel(page)[0] == last_chip  # /docs left the panel alone


def test_the_document_picker_and_doc_command_scope_the_questions(page, index_copy, artifacts):
    env = {"OLLAMA_HOST": ScriptedOllama.closed_url()}
    with ChatServer(index_copy, env, artifacts / "server-scope.log") as server:
        page.goto(server.url)
        page.get_by_text("Offline mode", exact=False).first.wait_for(timeout=WAIT_MS)
        page.locator("#chat-settings-open-modal").click()
        settings = page.get_by_role("dialog")
        settings.get_by_text("Documents to answer from").wait_for(timeout=10_000)
        assert settings.get_by_text("None chosen: every document.").count() == 1
        settings.get_by_role("combobox").click()
        settings.get_by_role("option", name=DOC).click()
        settings.get_by_role("button", name="Confirm").click()
        page.get_by_text(f"Questions are answered from {DOC} only.").wait_for(timeout=WAIT_MS)
        page.locator("#chat-input").fill("/doc")
        page.keyboard.press("Enter")
        page.get_by_text(f"Questions are answered from {DOC} only.").nth(1).wait_for(timeout=WAIT_MS)
        page.locator("#chat-input").fill("/doc all")
        page.keyboard.press("Enter")
        page.get_by_text("Questions are answered from every document.").wait_for(timeout=WAIT_MS)
        page.locator("#chat-settings-open-modal").click()
        settings.get_by_role("combobox").wait_for(timeout=10_000)
        assert settings.get_by_text(DOC, exact=True).count() == 0  # /doc all emptied the picker
        page.screenshot(path=str(artifacts / "conversation-scope.png"))
