"""Tool results count against the context budget: what the scripted Ollama receives never
exceeds num_ctx minus the answer's reserve, the first evidence stays whole, and a tool's result
is cut instead (Ollama would drop the oldest messages, the evidence, to make room)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import copy_index
from scripted_ollama import ScriptedOllama

from agent import prompts
from agent.config import Settings
from agent.graph.budget import ANSWER_RESERVE, count_messages
from agent.schema import Citation
from agent.service import Assistant

DOC = "ACME-EMC-CS-2026"
QUESTION = "What does clause 8.2.2.1 say?"
SUMMARY = "ACME-EMC-CS-2026 §8.2.2.2 Conducted emissions – current probe method, p. 5\n<evidence>\n"


@pytest.fixture
def index_dir(sample_index_master, tmp_path) -> Path:
    return copy_index(sample_index_master, tmp_path / "index")


def wire_texts(body: dict) -> list[str]:
    """The texts of a request as Ollama gets them: each message (tool calls as JSON), the tools."""
    texts = [m.get("content", "") + "".join(
        json.dumps({"name": c["function"]["name"], "arguments": c["function"]["arguments"]}, ensure_ascii=False)
        for c in m.get("tool_calls", [])) for m in body["messages"]]
    return texts + ([json.dumps(body["tools"], ensure_ascii=False)] if body.get("tools") else [])


def ask_with_a_tool_call(index_dir: Path, num_ctx: int,
                         answer: str = "The current probe is clamped 50 mm from the DUT connector [3]."):
    """The requests of one question (a thread of its own) whose model calls get_clause once."""
    with ScriptedOllama() as server:
        server.enqueue(tool_calls=[{"name": "get_clause", "arguments": {"number": "8.2.2.2"}}])
        server.enqueue(text=answer)
        settings = Settings(index_dir=index_dir, embedder="lsa", ollama_host=server.url, num_ctx=num_ctx)
        record = Assistant.open(settings).ask(QUESTION, f"t{num_ctx}")
        return server.bodies("/api/chat"), record


def fits(body: dict) -> bool:
    return count_messages(wire_texts(body)) <= body["options"]["num_ctx"] - ANSWER_RESERVE


def test_a_tool_result_drops_its_lowest_ranked_items_first(index_dir):
    (roomy, whole), _ = ask_with_a_tool_call(index_dir, 8192)  # both evidence items, the whole result
    short = ANSWER_RESERVE + count_messages(wire_texts(whole)) - 100  # 100 tokens short of the whole result
    (first, second), record = ask_with_a_tool_call(index_dir, short)
    assert (fits(first), fits(second)) == (True, True)
    assert first["messages"] == roomy["messages"] and second["messages"][:3] == whole["messages"][:3]
    assert second["messages"][3] == {"role": "tool", "content": SUMMARY + prompts.evidence_line(
        Citation(**record.evidence[2])) + "\n</evidence>"}  # [3] whole, [4] (Table 8-2) left out
    assert [(e["n"], e["clause"], e["table"]) for e in record.evidence] == [
        (1, "8.2.2.1", None), (2, "8.2.2.1", "Table 8-1"), (3, "8.2.2.2", None)]
    assert whole["messages"][3]["content"].startswith(second["messages"][3]["content"][:-len("</evidence>")] + "[4] ")
    assert [n.split(": ", 1)[1].split(" (", 1)[0] for n in record.notes] == ["kept 1 of 2 evidence items"]
    assert record.notes[0].endswith("; dropped [4] (lowest ranked)")


def test_a_tool_result_that_does_not_fit_is_cut(index_dir):
    (roomy, _), _ = ask_with_a_tool_call(index_dir, 8192)
    short = ANSWER_RESERVE + count_messages(wire_texts(roomy)) + 300  # room for a little of the result
    (first, second), record = ask_with_a_tool_call(index_dir, short)
    num_ctx = first["options"]["num_ctx"]
    assert (fits(first), fits(second)) == (True, True)
    block = prompts.evidence_block([Citation(**e) for e in record.evidence[:2]])
    assert [m["content"] for m in first["messages"]] == [
        prompts.render("system", documents=DOC), prompts.render("answer", evidence=block, question=QUESTION)]
    assert second["messages"][:2] == first["messages"]  # the first evidence is sent whole again
    assert second["messages"][2]["tool_calls"][0]["function"] == {"name": "get_clause",
                                                                  "arguments": {"number": "8.2.2.2"}}
    tool = second["messages"][3]
    assert tool["role"] == "tool" and tool["content"].startswith(
        SUMMARY + "[3] ACME-EMC-CS-2026 §8.2.2.2 (Conducted emissions – current probe method), p. 5: "
        "A current probe is clamped")
    assert tool["content"].endswith(" …\n</evidence>") and "[4]" not in tool["content"]
    shown = tool["content"][len(SUMMARY):-len("…\n</evidence>")].rstrip()
    assert prompts.evidence_line(Citation(**record.evidence[2])).startswith(shown)
    assert len(shown) < len(prompts.evidence_line(Citation(**record.evidence[2]))) - 100
    limit = num_ctx - ANSWER_RESERVE
    assert record.notes == [(f"The result of get_clause was trimmed to fit the model's context (num_ctx="
                             f"{num_ctx}): kept 1 of 2 evidence items ({limit} of {limit} prompt tokens); "
                             "dropped [4] (lowest ranked); cut the text of [3] to fit")]


def test_the_tool_definitions_count_against_the_first_request(index_dir):
    (roomy, _), _ = ask_with_a_tool_call(index_dir, 8192)
    short = ANSWER_RESERVE + count_messages(wire_texts(roomy)) - 1  # one token short of the first request
    (first, second), record = ask_with_a_tool_call(index_dir, short, "The RF voltage is measured from 150 kHz "
                                                   "to 108 MHz [1].")
    assert (fits(first), fits(second)) == (True, True)
    block = prompts.evidence_block([Citation(**record.evidence[0])])  # [2] makes room for the tools
    assert first["messages"][1]["content"] == prompts.render("answer", evidence=block, question=QUESTION)
    assert second["messages"][:2] == first["messages"]


def test_no_room_for_the_tool_definitions_means_the_deterministic_path(index_dir):
    (roomy, _), _ = ask_with_a_tool_call(index_dir, 8192)
    without_tools = {"messages": roomy["messages"], "options": roomy["options"]}
    with ScriptedOllama() as server:
        server.enqueue(text="The RF voltage is measured from 150 kHz to 108 MHz [1].")
        num_ctx = ANSWER_RESERVE + count_messages(wire_texts(without_tools)) + 20  # the estimate of parts errs high
        settings = Settings(index_dir=index_dir, embedder="lsa", ollama_host=server.url, num_ctx=num_ctx)
        record = Assistant.open(settings).ask(QUESTION, "t2")
        (body,) = server.bodies("/api/chat")
    assert not body.get("tools") and body["messages"] == roomy["messages"] and fits(body)
    assert record.notes == [("The model's context has no room for the tool definitions beside the "
                             "question (raise num_ctx); answered from the gathered evidence.")]
