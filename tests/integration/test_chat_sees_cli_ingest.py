"""The running chat picks up what `spec-agent ingest` wrote into its index: a new generation is
seen on the next question and by /docs, without a restart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pymupdf
from conftest import copy_index

from agent.config import Settings
from agent.service import Assistant, FinalEvent
from ui import conversation

ROOT = Path(__file__).resolve().parents[2]


def one_page_spec(path: Path, name: str) -> Path:
    """A one-page component EMC spec with two numbered clauses."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    lines = [("1 Scope", "hebo"), (f"{name} applies to the widget controller of the test bench.", "helv"),
             ("2 Radiated emissions", "hebo"),
             ("The widget controller shall meet the radiated emission limits of CISPR 25 class 5.", "helv")]
    for i, (text, font) in enumerate(lines):
        page.insert_text((72, 110 + 18 * i), text, fontname=font, fontsize=11)
    doc.save(path)
    return path


class Chat:
    user, thread_id = "ada", "thread-cli"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, content, *, elements=(), actions=(), metadata=None):
        self.sent.append(content)


def cli_ingest(index: Path, path: Path) -> None:
    """`spec-agent --index INDEX ingest PATH` in its own process, as an engineer runs it."""
    env = {"PATH": "/usr/bin:/bin", "SPEC_AGENT_EMBEDDER": "lsa", "SPEC_AGENT_OFFLINE": "1",
           "OLLAMA_HOST": "http://127.0.0.1:9"}
    done = subprocess.run([sys.executable, "-m", "agent.cli", "--index", str(index), "ingest", str(path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


async def test_a_cli_ingest_is_seen_on_the_next_question_and_by_docs(sample_index_master, tmp_path):
    index = copy_index(sample_index_master, tmp_path / "index")
    server = Assistant.open(Settings(index_dir=index, embedder="lsa", offline=True))
    chat = Chat()
    await conversation.on_message(server, chat, "/docs")
    assert "ACME-EMC-CS-2026" in chat.sent[-1] and "WIDGET-EMC-01" not in chat.sent[-1]

    cli_ingest(index, one_page_spec(tmp_path / "WIDGET-EMC-01.pdf", "WIDGET-EMC-01"))
    events = [e async for e in server.astream("what does clause 2 of WIDGET-EMC-01 require?", "t1")]
    record = events[-1].answer
    assert isinstance(events[-1], FinalEvent)
    assert {c["doc"] for c in record.citations} == {"WIDGET-EMC-01"}, record.answer
    await conversation.on_message(server, chat, "/docs")
    assert "| WIDGET-EMC-01 | 1 |" in chat.sent[-1] and "| ACME-EMC-CS-2026 | 9 |" in chat.sent[-1]

    cli_ingest(index, one_page_spec(tmp_path / "GADGET-EMC-02.pdf", "GADGET-EMC-02"))
    await conversation.on_message(server, chat, "/docs")
    assert "| GADGET-EMC-02 | 1 |" in chat.sent[-1]
