"""The agent graph: understand → gather → (tool loop | compose) → verify → (retry) → respond.

`build_graph(model, tools, settings, *, tool_calling=False, checkpointer=None)` wires it; nothing
is built at import time. `model` is a LangChain chat model or None (offline: answers are
extractive). With `tool_calling` the model may call the tools itself in a bounded loop;
otherwise (plain llama3) the deterministic path serves.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.graph import END, START, StateGraph
from pydantic import ValidationError

from agent import prompts
from agent.config import Settings
from agent.graph import extractive
from agent.graph.budget import fit_evidence
from agent.graph.gather import gather
from agent.graph.state import (AgentState, citations, step, understanding_from_dict,
                               understanding_to_dict)
from agent.graph.understand import merge_followup, understand
from agent.graph.verify import citations_in, verify
from agent.schema import Citation, to_dict
from agent.tools import TOOL_SPECS, Toolbox

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 3
HISTORY_TURNS = 2


class Nodes:
    """The graph's nodes over one model, one toolbox and the settings (no globals)."""

    def __init__(self, model: BaseChatModel | None, tools: Toolbox, settings: Settings,
                 tool_calling: bool) -> None:
        self.model = model
        self.tools = tools
        self.settings = settings
        self.tool_calling = tool_calling and model is not None

    # -- understand and gather ----------------------------------------------------------------

    def understand(self, state: AgentState) -> dict[str, Any]:
        question = state["question"]
        titles = {d.name: d.title for d in self.tools.index.documents()}
        docs = list(titles)
        u = merge_followup(understanding_from_dict(state.get("previous")), understand(question, titles))
        u = self._ask_model_if_vague(u, docs, state)
        summary = f"intent={u.intent}" + "".join(
            f", {k}={list(v)}" for k, v in (("clauses", u.clauses), ("tables", u.tables), ("tests", u.tests),
                                            ("documents", u.documents)) if v)
        if u.quantities:
            summary += f", quantities={[q.text for q in u.quantities]}"
        return {"understanding": understanding_to_dict(u), "previous": understanding_to_dict(u),
                "evidence": [], "intent_data": {}, "tests": [], "draft": "", "answer": "", "problems": [],
                "attempts": 0, "notes": [], "mode": "llm" if self.model is not None else "offline",
                "steps": [{"name": "understand", "input": question, "output": summary}]}

    def _ask_model_if_vague(self, u, docs: list[str], state: AgentState):
        """Deterministic parsing first; the model in JSON mode only when it found nothing."""
        if self.model is None or u.intent != "general" or u.has_subject:
            return u
        prompt = prompts.render("understand", documents=", ".join(docs) or "none",
                                previous=json.dumps(state.get("previous") or {}, ensure_ascii=False)[:500],
                                question=u.question)
        try:
            reply = self.model.bind(format="json").invoke([HumanMessage(prompt)])
            data = json.loads(str(reply.content))
        except Exception as err:  # a vague question still gets searched; never fail on this
            log.info("understanding by the model failed (%s); using the deterministic parse", err)
            return u
        from dataclasses import replace

        intent = data.get("intent") if data.get("intent") in ("clause", "which_test", "table_value",
                                                                 "reverse", "keywords", "documents") else u.intent
        clauses = tuple(str(c) for c in data.get("clauses") or () if isinstance(c, (str, int, float)))
        tables = tuple(str(t) for t in data.get("tables") or () if isinstance(t, str))
        documents = tuple(d for d in [data.get("document")] if d in docs)
        return replace(u, intent=intent, clauses=clauses or u.clauses, tables=tables or u.tables,
                       documents=documents or u.documents)

    def gather(self, state: AgentState) -> dict[str, Any]:
        u = understanding_from_dict(state["understanding"])
        g = gather(self.tools, u, state.get("doc"))
        evidence = g.numbered()
        tests = [{"id": t["id"], "name": t["name"], "score": t["score"]}
                 for m in g.data.get("matches", []) for t in m.get("tests", [])]
        steps = list(state.get("steps", []))
        steps += [{"name": f"tool: {name}", "input": args, "output": summary} for name, args, summary in g.calls]
        return {"evidence": [to_dict(c) for c in evidence], "intent_data": g.data, "tests": tests,
                "steps": steps}

    # -- answering ----------------------------------------------------------------------------

    def route_after_gather(self, state: AgentState) -> Literal["extract", "no_evidence", "tool_loop", "compose"]:
        if self.model is None:
            return "extract"
        if not state.get("evidence"):
            return "no_evidence"
        return "tool_loop" if self.tool_calling else "compose"

    def extract(self, state: AgentState) -> dict[str, Any]:
        text = self._extractive(state)
        return {"answer": f"{extractive.OFFLINE_MARK}\n{text}", "mode": "offline",
                "steps": step(state, "answer (offline)", "extractive", f"{len(state.get('evidence', []))} evidence item(s)")}

    def _extractive(self, state: AgentState) -> str:
        evidence = citations(state)
        intent = (state.get("understanding") or {}).get("intent", "general")
        if not evidence and intent != "documents":
            return self._no_evidence_text(state)
        standards = {t.id: t.standards[0].ref for t in self.tools.matcher.catalogue.tests if t.standards}
        body = extractive.answer(intent, evidence, state.get("intent_data", {}), standards)
        return body + ("\n\nSources:\n" + extractive.sources(evidence) if evidence else "")

    def _no_evidence_text(self, state: AgentState) -> str:
        docs = [d.name for d in self.tools.index.documents()]
        return prompts.render("no_evidence", question=state["question"],
                              searched=", ".join(docs) or "no documents",
                              documents=", ".join(docs) or "none (run `spec-agent ingest FILE`)")

    def no_evidence(self, state: AgentState) -> dict[str, Any]:
        return {"answer": self._no_evidence_text(state),
                "steps": step(state, "answer", "no evidence", "the documents do not answer; no model called")}

    def _messages(self, state: AgentState, evidence: list[Citation]) -> tuple[list[BaseMessage], list[str]]:
        """System prompt (never trimmed), recent history, and the answer prompt with the evidence
        that fits num_ctx; notes say what was trimmed."""
        docs = ", ".join(d.name for d in self.tools.index.documents()) or "none"
        system = prompts.render("system", documents=docs)
        history = list(state.get("messages", []))[-2 * HISTORY_TURNS:]  # earlier turns (respond adds this one)
        empty = prompts.render("answer", evidence="", question=state["question"])
        budget = fit_evidence([system, *[str(m.content) for m in history], empty], evidence,
                              self.settings.num_ctx)
        notes = []
        if budget.dropped or budget.truncated:
            notes.append(f"Evidence trimmed to fit the model's context (num_ctx={self.settings.num_ctx}): "
                         f"{budget.report()}")
        block = prompts.evidence_block(list(budget.kept))
        user = prompts.render("answer", evidence=block, question=state["question"])
        return [SystemMessage(system), *history, HumanMessage(user)], notes

    def compose(self, state: AgentState) -> dict[str, Any]:
        messages, notes = self._messages(state, citations(state))
        reply = self.model.invoke(messages)
        draft = str(reply.content)
        return {"draft": draft, "notes": [*state.get("notes", []), *notes],
                "steps": step(state, "compose", f"{len(messages)} messages", draft[:200])}

    def tool_loop(self, state: AgentState) -> dict[str, Any]:
        """The model may call tools itself (bounded); new evidence continues the numbering."""
        evidence = citations(state)
        messages, notes = self._messages(state, evidence)
        steps = list(state.get("steps", []))
        try:
            bound = self.model.bind_tools(self.tools.langchain_tools())
            for _ in range(MAX_TOOL_ROUNDS):
                reply = bound.invoke(messages)
                if not reply.tool_calls:
                    return {"draft": str(reply.content), "evidence": [to_dict(c) for c in evidence],
                            "notes": [*state.get("notes", []), *notes], "steps": steps}
                messages.append(reply)
                for call in reply.tool_calls:
                    content, new = self._run_tool(call, evidence)
                    evidence += new
                    steps.append({"name": f"tool: {call['name']}", "input": json.dumps(call.get("args", {})),
                                  "output": content[:200]})
                    messages.append(ToolMessage(content, tool_call_id=call.get("id") or call["name"]))
        except Exception as err:
            if "does not support tools" not in str(err):
                raise
            log.info("model rejected tools (%s); answering on the deterministic path", err)
            notes.append("The model does not support tools; answered from the gathered evidence.")
        state = {**state, "evidence": [to_dict(c) for c in evidence], "steps": steps,
                 "notes": [*state.get("notes", []), *notes]}
        return {**self.compose(state), "evidence": state["evidence"]}

    def _run_tool(self, call: dict[str, Any], evidence: list[Citation]) -> tuple[str, list[Citation]]:
        spec = {name: schema for name, schema, _ in TOOL_SPECS}.get(call["name"])
        if spec is None:
            return json.dumps({"error": f"unknown tool {call['name']}"}), []
        try:
            args = {k: v for k, v in spec(**(call.get("args") or {})).model_dump().items() if v not in ("", 0, {}, None)}
            result = getattr(self.tools, call["name"])(**args)
        except (ValidationError, TypeError) as err:
            return json.dumps({"error": f"bad arguments: {err}"}), []
        except Exception as err:  # a tool's user-facing error goes back to the model
            return json.dumps({"error": str(err)}), []
        start = len(evidence) + 1
        new = [Citation(**{**to_dict(c), "n": start + i}) for i, c in enumerate(result.evidence)]
        block = prompts.evidence_block(new) if new else "(no evidence)"
        return f"{result.summary}\n<evidence>\n{block}\n</evidence>", new

    def verify(self, state: AgentState) -> dict[str, Any]:
        evidence = {c.n: prompts.evidence_line(c) for c in citations(state)}
        result = verify(state.get("draft", ""), evidence)
        output = "ok" if result.ok else "; ".join(result.problems)
        return {"problems": list(result.problems), "steps": step(state, "verify", "citations and numbers", output)}

    def route_after_verify(self, state: AgentState) -> Literal["respond", "retry", "fallback"]:
        if not state.get("problems"):
            return "respond"
        return "retry" if state.get("attempts", 0) < 1 else "fallback"

    def retry(self, state: AgentState) -> dict[str, Any]:
        messages, _ = self._messages(state, citations(state))
        allowed = ", ".join(f"[{c['n']}]" for c in state.get("evidence", []))
        problems = "\n".join(f"- {p}" for p in state.get("problems", []))
        messages += [AIMessage(state.get("draft", "")),
                     HumanMessage(prompts.render("retry", problems=problems, allowed=allowed))]
        reply = self.model.invoke(messages)
        return {"draft": str(reply.content), "attempts": state.get("attempts", 0) + 1,
                "steps": step(state, "retry", problems[:200], str(reply.content)[:200])}

    def fallback(self, state: AgentState) -> dict[str, Any]:
        problems = "; ".join(state.get("problems", []))
        note = f"The model's answer failed the citation check twice ({problems}); showing the extractive answer."
        return {"answer": self._extractive(state), "notes": [*state.get("notes", []), note],
                "steps": step(state, "fallback", problems[:200], "extractive answer")}

    def respond(self, state: AgentState) -> dict[str, Any]:
        answer = strip_links(state.get("answer") or state.get("draft", ""))
        return {"answer": answer, "messages": [HumanMessage(state["question"]), AIMessage(answer)]}


def build_graph(model: BaseChatModel | None, tools: Toolbox, settings: Settings, *,
                tool_calling: bool = False, checkpointer: Any = None):
    """The compiled agent graph (see module doc)."""
    nodes = Nodes(model, tools, settings, tool_calling)
    g = StateGraph(AgentState)
    for name in ("understand", "gather", "extract", "no_evidence", "compose", "tool_loop", "verify",
                 "retry", "fallback", "respond"):
        g.add_node(name, getattr(nodes, name))
    g.add_edge(START, "understand")
    g.add_edge("understand", "gather")
    g.add_conditional_edges("gather", nodes.route_after_gather)
    g.add_edge("compose", "verify")
    g.add_edge("tool_loop", "verify")
    g.add_edge("retry", "verify")
    g.add_conditional_edges("verify", nodes.route_after_verify)
    for name in ("extract", "no_evidence", "fallback"):
        g.add_edge(name, "respond")
    g.add_edge("respond", END)
    return g.compile(checkpointer=checkpointer)


_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()\s]|\([^()]*\))+(?:\s+\"[^\"]*\")?\)")
_URL = re.compile(r"<?\b(?:https?|ftp|file|data|javascript):[^\s<>)\]]+>?", re.IGNORECASE)


def strip_links(answer: str) -> str:
    """The answer without markdown images, links or bare URLs (a document may carry them and a
    model may copy them): an image goes, a link keeps its text, a URL becomes "(link removed)"."""
    answer = _IMAGE.sub(lambda m: m.group(1).strip() and f"({m.group(1).strip()})", answer)
    answer = _LINK.sub(lambda m: f"[{m.group(1)}]" if m.group(1).isdigit() else m.group(1), answer)
    return _URL.sub("(link removed)", answer)


def answer_citations(answer: str, evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The evidence items an answer cites, in number order (all of them when it cites none)."""
    cited = set(citations_in(answer))
    chosen = [e for e in evidence if e["n"] in cited]
    return chosen or ([] if cited else list(evidence))
