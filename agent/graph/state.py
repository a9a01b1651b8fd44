"""The agent's state: one question's understanding, evidence, draft and answer, plus the thread."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from agent.graph.understand import Quantity, Understanding
from agent.schema import Citation


class AgentState(TypedDict, total=False):
    """Plain data only (the SQLite checkpointer stores it between turns)."""

    messages: Annotated[list[AnyMessage], add_messages]  # the thread: questions and answers
    question: str
    doc: str | None  # document the caller restricts to (CLI --doc)
    understanding: dict[str, Any]
    previous: dict[str, Any] | None  # the last turn's understanding, for follow-ups
    evidence: list[dict[str, Any]]  # Citation records numbered 1..k
    intent_data: dict[str, Any]  # what the tools returned: tests, clause, table, …
    tests: list[dict[str, Any]]
    draft: str
    answer: str
    mode: str  # "llm" | "offline"
    problems: list[str]
    attempts: int
    notes: list[str]
    shown: list[int]  # the evidence numbers the model's last request showed (the budget may drop some)
    model_error: str  # "The language model failed (…)…" when a model request failed, else ""
    steps: list[dict[str, str]]  # {"name", "input", "output"} for the UI's collapsible steps


def understanding_to_dict(u: Understanding) -> dict[str, Any]:
    return asdict(u)


def understanding_from_dict(data: dict[str, Any] | None) -> Understanding | None:
    if not data:
        return None
    fields = dict(data)
    fields["quantities"] = tuple(Quantity(**q) for q in data.get("quantities", ()))
    for key in ("clauses", "tables", "tests", "documents"):
        fields[key] = tuple(data.get(key, ()))
    return Understanding(**fields)


def citations(state: AgentState) -> list[Citation]:
    return [Citation(**c) for c in state.get("evidence", [])]


def step(state: AgentState, name: str, input: str, output: str) -> list[dict[str, str]]:
    return [*state.get("steps", []), {"name": name, "input": input, "output": output}]
