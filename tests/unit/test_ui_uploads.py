"""ui/uploads.py: uploads are staged under unique names and switched in only by a successful
ingest; a same-name upload with other content asks first and the document list says who
replaced what; odd file names are made safe and readable. The real assistant, offline."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pymupdf
import pytest

from agent.config import Settings
from agent.schema import IngestOutcome
from agent.service import Assistant
from ui import conversation, uploads
from ui.render import ActionSpec

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PDF = ROOT / "agent" / "data" / "sample" / "ACME-EMC-CS-2026.pdf"
DOC = "ACME-EMC-CS-2026"


class Chat:
    """Records what the chat shows; `choose` answers from a script (None: no answer)."""

    def __init__(self, user: str = "anonymous", answers: list[dict[str, Any] | None] | None = None) -> None:
        self.user, self.thread_id, self.scope = user, "thread-up", []
        self.answers = list(answers or [])
        self.asked: list[tuple[str, list[ActionSpec]]] = []
        self.sent: list[str] = []

    async def send(self, content, *, elements=(), actions=(), metadata=None):
        self.sent.append(content)

    async def start_progress(self, name, input):
        class Progress:
            async def update(self, output):
                pass

            async def finish(self, output):
                pass

        return Progress()

    async def choose(self, question, actions):
        self.asked.append((question, list(actions)))
        return self.answers.pop(0) if self.answers else None

    async def offer_scope(self, documents, scope):
        self.scope = list(scope)


def dropped(tmp_path: Path, content: bytes) -> str:
    """A file as Chainlit saves a drop: under a random name in its own folder."""
    path = tmp_path / "chainlit" / hashlib.sha256(content).hexdigest()[:16]
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return str(path)


def one_page_pdf() -> bytes:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for i, text in enumerate(["1 Scope", "This one-page draft covers the conducted emissions of a pump.",
                              "2 Requirements", "The pump shall meet CISPR 25 class 3 on every supply line."]):
        page.insert_text((72, 110 + 18 * i), text, fontname="helv", fontsize=11)
    return doc.tobytes()


def stored_files(assistant: Any) -> list[Path]:
    return sorted(p for p in uploads.upload_dir(assistant).rglob("*") if p.is_file() and p.suffix == ".pdf")


@pytest.fixture
async def assistant(tmp_path) -> Assistant:
    """The real assistant on an empty index, with the sample spec uploaded through the chat."""
    assistant = Assistant.open(Settings(index_dir=tmp_path / "index", embedder="lsa", offline=True))
    chat = Chat()
    await conversation.on_message(assistant, chat, "", [(f"{DOC}.pdf", dropped(tmp_path, SAMPLE_PDF.read_bytes()))])
    assert chat.sent == [f"✅ {DOC}.pdf: added as {DOC} (9 pages, 43 clauses, 14 tables)"]
    return assistant


def indexed(assistant: Any) -> list[tuple]:
    return [(d["doc"], d["pages"], d["clauses"], d["sha256"]) for d in assistant.documents()]


async def test_a_failed_upload_leaves_the_previous_copy_and_the_index_intact(assistant, tmp_path):
    before, good = indexed(assistant), Path(assistant.source_path(DOC))
    assert good.read_bytes() == SAMPLE_PDF.read_bytes()
    chat = Chat(answers=[{"replace": True}])
    broken = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntruncated"
    await conversation.on_message(assistant, chat, "", [(f"{DOC}.pdf", dropped(tmp_path, broken))])
    assert chat.sent[-1].startswith("❌ ")
    assert indexed(assistant) == before
    assert Path(assistant.source_path(DOC)) == good and good.read_bytes() == SAMPLE_PDF.read_bytes()
    assert stored_files(assistant) == [good]  # the failed upload's staged copy is gone


async def test_an_identical_upload_changes_nothing_and_asks_nothing(assistant, tmp_path):
    before = indexed(assistant)
    chat = Chat()
    await conversation.on_message(assistant, chat, "", [(f"{DOC}.pdf", dropped(tmp_path, SAMPLE_PDF.read_bytes()))])
    assert chat.asked == [] and chat.sent == [f"✅ {DOC}.pdf: unchanged as {DOC} (9 pages, 43 clauses, 14 tables)"]
    assert indexed(assistant) == before and len(stored_files(assistant)) == 1


async def test_a_same_name_upload_with_other_content_asks_before_replacing(assistant, tmp_path):
    before, draft = indexed(assistant), dropped(tmp_path, one_page_pdf())
    chat = Chat(user="ada", answers=[{"replace": False}])
    await conversation.on_message(assistant, chat, "", [(f"{DOC}.pdf", draft)])
    (question, actions), = chat.asked
    assert question.startswith(f"**{DOC}** is already indexed (9 pages, 43 clauses).")
    assert "replace it for everyone who uses this index?" in question
    assert actions == [ActionSpec(uploads.REPLACE, f"Replace {DOC}", {"replace": True}),
                       ActionSpec(uploads.REPLACE, f"Keep the indexed {DOC}", {"replace": False})]
    assert chat.sent == [f"Kept {DOC} as indexed; {DOC}.pdf was not ingested."]
    assert indexed(assistant) == before and len(stored_files(assistant)) == 1

    chat = Chat(user="ada", answers=[{"replace": True}])
    await conversation.on_message(assistant, chat, "/docs", [(f"{DOC}.pdf", draft)])
    assert chat.sent[0] == f"✅ {DOC}.pdf: replaced as {DOC} (1 pages, 2 clauses, 0 tables)"
    assert [(d, p) for d, p, _, _ in indexed(assistant)] == [(DOC, 1)]
    assert stored_files(assistant) == [Path(assistant.source_path(DOC))]  # the replaced copy is gone
    listing = chat.sent[-1]
    assert listing.splitlines()[0] == "| document | pages | clauses | tables | changed |"
    assert f"| {DOC} | 1 | 2 | 0 | replaced by ada on " in listing and "(was 9 pages, 43 clauses)" in listing


async def test_without_login_the_list_says_a_replacement_came_from_the_chat(assistant, tmp_path):
    chat = Chat(answers=[{"replace": True}])
    await conversation.on_message(assistant, chat, "/docs", [(f"{DOC}.pdf", dropped(tmp_path, one_page_pdf()))])
    assert "| replaced in the chat on " in chat.sent[-1] and "by anonymous" not in chat.sent[-1]


async def test_no_answer_to_the_question_keeps_the_indexed_document(assistant, tmp_path):
    before = indexed(assistant)
    chat = Chat(answers=[None])
    await conversation.on_message(assistant, chat, "", [(f"{DOC}.pdf", dropped(tmp_path, one_page_pdf()))])
    assert chat.sent == [f"Kept {DOC} as indexed; {DOC}.pdf was not ingested."] and indexed(assistant) == before


class RecordingAssistant:
    """Records the paths it is asked to ingest; every file fails (content does not matter here)."""

    def __init__(self, tmp_path: Path) -> None:
        self.settings = SimpleNamespace(index_dir=tmp_path / "index")
        self.ingested: list[str] = []

    def documents(self):
        return []

    def source_path(self, doc):
        return None

    def ingest(self, paths, progress=None):
        self.ingested += paths
        return [IngestOutcome(p, "failed", None, f"{Path(p).name}: corrupt PDF; export it again.") for p in paths]


async def test_odd_file_names_are_made_safe_readable_and_short(tmp_path):
    assistant, chat = RecordingAssistant(tmp_path), Chat()
    long_name = "Ford EMC-CS-2009.1 " + "very long title " * 20 + ".pdf"
    names = ["..", ".", long_name, "../../etc/passwd", "C:\\specs\\GMW3097.pdf", "tab\tand\nnewline\x00.pdf",
             "ÆØÅ spec — ünïcödé.docx"]
    await conversation.on_message(assistant, chat, "", [(n, dropped(tmp_path, n.encode())) for n in names])
    folder = uploads.upload_dir(assistant)
    staged = [Path(p) for p in assistant.ingested]
    assert [p.name for p in staged] == [
        "upload", "upload", uploads.safe_file_name(long_name), "passwd", "GMW3097.pdf", "tab and newline.pdf",
        "ÆØÅ spec — ünïcödé.docx"]
    assert all(p.parent.parent == folder for p in staged) and len({p.parent for p in staged}) == len(staged)
    assert staged[2].name.startswith("Ford EMC-CS-2009.1 very long title") and staged[2].suffix == ".pdf"
    assert len(staged[2].name.encode()) <= 130
    assert len(chat.sent[-1].splitlines()) == len(names)  # a line per file, none raised
    assert list(folder.rglob("*.pdf")) == []  # failed uploads leave nothing behind


def test_safe_file_name():
    assert uploads.safe_file_name("MIL-STD-461G.pdf") == "MIL-STD-461G.pdf"
    assert uploads.safe_file_name("  .hidden spec.pdf ") == "hidden spec.pdf"
    assert uploads.safe_file_name("spec...") == "spec"
    assert uploads.safe_file_name("\u202egnp.exe") == "gnp.exe"  # no right-to-left override
    assert uploads.safe_file_name("ü" * 300 + ".pdf") == "ü" * 60 + ".pdf"  # 120 bytes of UTF-8
    assert uploads.safe_file_name("a.verylongextension") == "a.verylongextension"
