"""The chat's /diff and /compare commands and the agent's diff_documents and compare_test tools,
over the real offline Assistant on generated editions, the sample spec and a second OEM's spec."""

from __future__ import annotations

import importlib.util
import json

import pytest
from conftest import FIXTURES, SAMPLE_PDF
from test_ui_handlers import FakeChat

from agent.config import Settings
from agent.service import Assistant
from ui import conversation

_spec = importlib.util.spec_from_file_location("make_editions", FIXTURES / "editions" / "make_editions.py")
assert _spec and _spec.loader
make_editions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_editions)

A, B, HM, ACME = make_editions.NAME_A, make_editions.NAME_B, make_editions.NAME_OEM, "ACME-EMC-CS-2026"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare-chat")
    paths = [str(p) for p in make_editions.generate(root / "in", oem=True)]
    opened = Assistant.open(Settings(index_dir=root / "idx", embedder="lsa", offline=True))
    assert [o.status for o in opened.ingest([*paths, str(SAMPLE_PDF)])] == ["added"] * 4
    return opened


async def _say(assistant, text: str, scope: list[str] | None = None) -> list[str]:
    chat = FakeChat()
    chat.scope = scope or []
    await conversation.on_message(assistant, chat, text)
    return chat.sent()


async def test_diff_command_shows_old_and_new_side_by_side(assistant):
    assert await _say(assistant, f"/diff {A} {B}") == [
        (f"**{A} → {B}**: 9 clauses paired (4 renumbered, 1 changed), 1 removed, 2 added\n\n"
        "| old | new | title | what changed |\n|---|---|---|---|\n"
        "| 5.2 | 6.2 | Limits | Table 5-1 → Table 6-1, row '30 - 230 MHz', column 'Limit (dBµV/m)': '34' → '32'"
        "<br>text: shall not exceed the {+peak+} limits of Table [-5-1.-]{+6-1.+} |\n\n"
        "**Removed**: 4.2 Humidity\n\n**Added**: 5 RI 112 Bulk current injection; 5.1 Test levels")]


async def test_compare_command_one_row_per_document(assistant):
    sent = await _say(assistant, "/compare 2 100 MHz", scope=[ACME, HM])
    assert sent == [
        ("**Radiated Emission** (test 2) at 100 MHz\n\n"
        "| document | clauses | value | source | strictest |\n|---|---|---|---|---|\n"
        f"| {ACME} | 8.3 Radiated emissions | 32 dBµV/m (peak) | Table 8-3, row 4, column "
        "'Peak limit dB(µV/m)', clause 8.3, page 6 |  |\n"
        f"| {HM} | 7.2 Radiated emissions | 28 dBµV/m (peak) | Table 7-2, row 1, column "
        "'Peak limit dB(µV/m)', clause 7.2 | ✓ |\n\n"
        f"Strictest by detector and unit: average dBµV/m: {ACME}; peak dBµV/m: {HM}")]
    quoted = await _say(assistant, f'/compare "RE 310" "100 MHz" {ACME} {HM}')
    assert quoted == sent


async def test_commands_say_what_is_missing(assistant):
    (usage,) = await _say(assistant, f"/diff {A}")
    assert usage.startswith("⚠️ missing two editions, e.g. `/diff MIL-STD-461F MIL-STD-461G [CS114]`")
    (bad,) = await _say(assistant, '/compare 2 "3 m"')
    assert bad == "⚠️ '3 m' is not a frequency; give one such as \"100 MHz\"."


def test_diff_documents_tool_cites_both_editions(assistant):
    result = assistant.toolbox.diff_documents(A, B)
    assert result.summary == (
        f"{A} → {B}: 9 clauses paired (4 renumbered, 1 changed), 1 removed, 2 added\n"
        "5.2 → 6.2 Limits: Table 5-1 → Table 6-1, row '30 - 230 MHz', column 'Limit (dBµV/m)': '34' → '32'"
        " / text: shall not exceed the {+peak+} limits of Table [-5-1.-]{+6-1.+}\n"
        "removed 4.2 Humidity\nadded 5 RI 112 Bulk current injection\nadded 5.1 Test levels")
    assert [(c.doc, c.clause, c.table) for c in result.evidence] == [
        (A, "5.2", None), (B, "6.2", None), (A, "5.2", "Table 5-1"), (B, "6.2", "Table 6-1")]
    assert [p["old"] for p in result.data["pairs"]] == ["5.2"]


def test_compare_test_tool_cites_each_document(assistant):
    result = assistant.toolbox.compare_test("2", "100 MHz", [ACME, HM])
    assert result.summary == (f"Radiated Emission at 100 MHz: {ACME}: 32 dBµV/m; {HM}: 28 dBµV/m; "
                              f"strictest: {HM}")
    assert [(c.doc, c.clause, c.table, c.row, c.text) for c in result.evidence] == [
        (ACME, "8.3", "Table 8-3", 4, ("32 dBµV/m (Table 8-3, row 4, column 'Peak limit dB(µV/m)', clause 8.3, "
                                      "page 6)")),
        (HM, "7.2", "Table 7-2", 1, "28 dBµV/m (Table 7-2, row 1, column 'Peak limit dB(µV/m)', clause 7.2)")]
    assert result.data["strictest"] == HM


def test_the_tools_are_offered_to_a_tool_calling_model(assistant):
    tools = {t.name: t for t in assistant.toolbox.langchain_tools()}
    assert {"diff_documents", "compare_test"} <= set(tools)
    answer = json.loads(tools["compare_test"].invoke({"test": "2", "at": "100 MHz", "docs": [ACME, HM]}))
    assert answer == {"summary": f"Radiated Emission at 100 MHz: {ACME}: 32 dBµV/m; {HM}: 28 dBµV/m; "
                                 f"strictest: {HM}"}
    error = json.loads(tools["diff_documents"].invoke({"old": A, "new": "NOPE"}))
    assert "NOPE" in error["error"]


def test_with_one_document_the_model_is_not_offered_them(assistant):
    from types import SimpleNamespace

    from agent.tools import Toolbox

    one = SimpleNamespace(documents=lambda: assistant.index.documents()[:1])
    names = [t.name for t in Toolbox(one, assistant.toolbox.matcher, assistant.settings).langchain_tools()]
    assert names == ["list_documents", "get_clause", "search_spec", "match_tests", "get_table", "lookup_table",
                     "extract_keywords"]
