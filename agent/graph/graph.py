"""The agent graph: understand → gather → (tool loop | compose) → verify → (retry) → respond.

`build_graph(model, tools, settings, *, tool_calling=False, checkpointer=None)` wires it; nothing
is built at import time. `model` is a LangChain chat model or None (offline: answers are
extractive). With `tool_calling` the model may call the tools itself in a bounded loop;
otherwise (plain llama3) the deterministic path serves. Every request fits settings.num_ctx
(tool definitions and tool results counted). A model request that fails (an HTTP error, no reply
in time, a connection dropped mid-stream) ends in `model_failed`: the extractive answer, under
one line saying what failed. Model requests (only those) wait their turn in the server's queue
(agent/graph/model_queue.py).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.graph import END, START, StateGraph
from pydantic import ValidationError

from agent import prompts
from agent.config import Settings
from agent.graph import extractive
from agent.graph.budget import ANSWER_RESERVE, chat_texts, count_messages, fit_evidence
from agent.graph.gather import gather
from agent.graph.injection import cautions
from agent.graph.model_queue import gate_for, gated
from agent.graph.state import (AgentState, citations, step, understanding_from_dict,
                               understanding_to_dict)
from agent.graph.understand import merge_followup, understand
from agent.graph.verify import citations_in, verify
from agent.llm import describe_failure
from agent.schema import Citation, to_dict
from agent.tools import TOOL_SPECS, Toolbox

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 3
HISTORY_TURNS = 2
FULL_CONTEXT = "(left out: the context window is full; answer from the evidence you have)"
NO_ROOM_FOR_TOOLS = ("The model's context has no room for the tool definitions beside the question "
                     "(raise num_ctx); answered from the gathered evidence.")


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
        u, failure = self._ask_model_if_vague(u, docs, state)
        summary = f"intent={u.intent}" + "".join(
            f", {k}={list(v)}" for k, v in (("clauses", u.clauses), ("tables", u.tables), ("tests", u.tests),
                                            ("documents", u.documents)) if v)
        if u.quantities:
            summary += f", quantities={[q.text for q in u.quantities]}"
        return {"understanding": understanding_to_dict(u), "previous": understanding_to_dict(u),
                "evidence": [], "intent_data": {}, "tests": [], "draft": "", "answer": "", "problems": [],
                "attempts": 0, "notes": [], "mode": "llm" if self.model is not None else "offline",
                "model_error": failure or "",
                "steps": [{"name": "understand", "input": question, "output": summary}]}

    def _ask_model_if_vague(self, u, docs: list[str], state: AgentState):
        """Deterministic parsing first; the model in JSON mode only when it found nothing.
        Returns the understanding and, when the model request failed, the failure line."""
        if self.model is None or u.intent != "general" or u.has_subject:
            return u, None
        prompt = prompts.render("understand", documents=", ".join(docs) or "none",
                                previous=json.dumps(state.get("previous") or {}, ensure_ascii=False)[:500],
                                question=u.question)
        try:
            reply = self.model.bind(format="json").invoke([HumanMessage(prompt)])
        except Exception as err:  # noqa: BLE001 - the same model would fail the answer: do not wait twice
            return u, self._failure_line(err)
        try:
            data = json.loads(str(reply.content))
        except ValueError as err:  # a vague question still gets searched; never fail on this
            log.info("understanding by the model failed (%s); using the deterministic parse", err)
            return u, None

        intent = data.get("intent") if data.get("intent") in ("clause", "which_test", "table_value",
                                                                 "reverse", "keywords", "documents") else u.intent
        clauses = tuple(str(c) for c in data.get("clauses") or () if isinstance(c, (str, int, float)))
        tables = tuple(str(t) for t in data.get("tables") or () if isinstance(t, str))
        documents = tuple(d for d in [data.get("document")] if d in docs)
        return replace(u, intent=intent, clauses=clauses or u.clauses, tables=tables or u.tables,
                       documents=documents or u.documents), None

    def gather(self, state: AgentState) -> dict[str, Any]:
        u = understanding_from_dict(state["understanding"])
        g = gather(self.tools, u, state.get("doc"))
        evidence = g.numbered()
        tests = [{"id": t["id"], "name": t["name"], "score": t["score"]}
                 for m in g.data.get("matches", []) for t in m.get("tests", [])]
        steps = list(state.get("steps", []))
        steps += [{"name": f"tool: {name}", "input": args, "output": summary} for name, args, summary in g.calls]
        out = {"evidence": [to_dict(c) for c in evidence], "intent_data": g.data, "tests": tests, "steps": steps}
        found = _answered_clause(u, g.data, evidence)
        if found is not None:  # "and its limits?" next: the clause this answer settled on is the subject
            out["previous"] = understanding_to_dict(replace(u, clauses=(found[0],), documents=(found[1],)))
        return out

    # -- answering ----------------------------------------------------------------------------

    def route_after_gather(self, state: AgentState) -> Literal["extract", "no_evidence", "model_failed",
                                                               "tool_loop", "compose"]:
        if self.model is None:
            return "extract"
        if not state.get("evidence"):
            return "no_evidence"
        if state.get("model_error"):
            return "model_failed"
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

    def _messages(self, state: AgentState, evidence: list[Citation],
                  after: tuple[str, ...] = ()) -> tuple[list[BaseMessage], list[str], list[int]]:
        """System prompt (never trimmed), recent history, and the answer prompt with the evidence
        that fits num_ctx beside `after` (what the same request adds: tool definitions, or a draft
        and the retry prompt); the oldest turns go when even these do not fit; notes say what was
        trimmed; the numbers of the evidence the request shows (what its answer may cite)."""
        docs = ", ".join(d.name for d in self.tools.index.documents()) or "none"
        system = prompts.render("system", documents=docs)
        history = list(state.get("messages", []))[-2 * HISTORY_TURNS:]  # earlier turns (respond adds this one)
        empty = prompts.render("answer", evidence="", question=state["question"])
        while True:
            budget = fit_evidence([system, *chat_texts(history), empty, *after], evidence, self.settings.num_ctx)
            if budget.fits or not history:
                break
            history = history[2:]
        notes = []
        if budget.dropped or budget.truncated:
            notes.append(f"Evidence trimmed to fit the model's context (num_ctx={self.settings.num_ctx}): "
                         f"{budget.report()}")
        block = prompts.evidence_block(list(budget.kept))
        user = prompts.render("answer", evidence=block, question=state["question"])
        return [SystemMessage(system), *history, HumanMessage(user)], notes, [c.n for c in budget.kept]

    def compose(self, state: AgentState) -> dict[str, Any]:
        messages, notes, shown = self._messages(state, citations(state))
        try:
            reply = self.model.invoke(messages)
        except Exception as err:  # noqa: BLE001 - any failure of the model: the extractive answer
            return self._failed(state, "compose", err)
        draft = str(reply.content)
        return {"draft": draft, "notes": [*state.get("notes", []), *notes], "shown": shown,
                "steps": step(state, "compose", f"{len(messages)} messages", draft[:200])}

    def tool_loop(self, state: AgentState) -> dict[str, Any]:
        """The model may call tools itself (bounded); new evidence continues the numbering. Tool
        results are cut to the room the context has left; a full context ends the loop."""
        evidence = citations(state)
        tools = self.tools.langchain_tools()
        definitions = [convert_to_openai_tool(t) for t in tools]
        messages, notes, shown = self._messages(state, evidence, after=tuple(chat_texts([], definitions)))
        limit = self.settings.num_ctx - ANSWER_RESERVE
        if count_messages(chat_texts(messages, definitions)) > limit:
            return self.compose({**state, "notes": [*state.get("notes", []), NO_ROOM_FOR_TOOLS]})
        steps = list(state.get("steps", []))
        try:
            bound = self.model.bind_tools(tools)
            for _ in range(MAX_TOOL_ROUNDS):
                if count_messages(chat_texts(messages, definitions)) > limit:
                    break  # no room for another round: compose from the evidence so far
                reply = bound.invoke(messages)
                if not reply.tool_calls:
                    return {"draft": str(reply.content), "evidence": [to_dict(c) for c in evidence],
                            "notes": [*state.get("notes", []), *notes], "steps": steps, "shown": shown}
                messages.append(reply)
                for call in reply.tool_calls:
                    content, new, note = self._run_tool(call, evidence, chat_texts(messages, definitions))
                    evidence += new
                    shown += [c.n for c in new]
                    notes += [note] if note else []
                    steps.append({"name": f"tool: {call['name']}", "input": json.dumps(call.get("args", {})),
                                  "output": content[:200]})
                    messages.append(ToolMessage(content, tool_call_id=call.get("id") or call["name"]))
        except Exception as err:  # noqa: BLE001 - any failure but Ollama's 400 for tools: extractive
            if "does not support tools" not in str(err):
                return self._failed({**state, "steps": steps}, "tool_loop", err)
            log.info("model rejected tools (%s); answering on the deterministic path", err)
            notes.append("The model does not support tools; answered from the gathered evidence.")
        state = {**state, "evidence": [to_dict(c) for c in evidence], "steps": steps,
                 "notes": [*state.get("notes", []), *notes]}
        return {**self.compose(state), "evidence": state["evidence"]}

    def _run_tool(self, call: dict[str, Any], evidence: list[Citation],
                  chat: list[str]) -> tuple[str, list[Citation], str | None]:
        """The tool message for a call, the evidence it adds (numbered on from `evidence`), and a
        note when its evidence had to be cut to fit beside `chat` (the request so far)."""
        spec = {name: schema for name, schema, _ in TOOL_SPECS}.get(call["name"])
        if spec is None:
            return json.dumps({"error": f"unknown tool {call['name']}"}), [], None
        try:
            args = {k: v for k, v in spec(**(call.get("args") or {})).model_dump().items() if v not in ("", 0, {}, None)}
            result = getattr(self.tools, call["name"])(**args)
        except (ValidationError, TypeError) as err:
            return json.dumps({"error": f"bad arguments: {err}"}), [], None
        except Exception as err:  # a tool's user-facing error goes back to the model
            return json.dumps({"error": str(err)}), [], None
        start = len(evidence) + 1
        new = [Citation(**{**to_dict(c), "n": start + i}) for i, c in enumerate(result.evidence)]
        if not new:
            return _tool_result(result.summary, "(no evidence)"), [], None
        budget = fit_evidence([*chat, _tool_result(result.summary, "")], new, self.settings.num_ctx)
        if not budget.kept:
            return _tool_result(result.summary, FULL_CONTEXT), [], (
                f"The result of {call['name']} did not fit the model's context (num_ctx={self.settings.num_ctx}).")
        note = None
        if budget.dropped or budget.truncated:
            note = (f"The result of {call['name']} was trimmed to fit the model's context "
                    f"(num_ctx={self.settings.num_ctx}): {budget.report()}")
        return _tool_result(result.summary, prompts.evidence_block(budget.kept)), new[:len(budget.kept)], note

    def verify(self, state: AgentState) -> dict[str, Any]:
        """The draft checked against the evidence its request showed (not what the budget dropped)."""
        shown = state.get("shown")
        evidence = {c.n: prompts.evidence_line(c) for c in citations(state) if shown is None or c.n in shown}
        result = verify(state.get("draft", ""), evidence)
        output = "ok" if result.ok else "; ".join(result.problems)
        return {"problems": list(result.problems), "steps": step(state, "verify", "citations and numbers", output)}

    def route_after_verify(self, state: AgentState) -> Literal["respond", "retry", "fallback"]:
        if not state.get("problems"):
            return "respond"
        return "retry" if state.get("attempts", 0) < 1 else "fallback"

    def retry(self, state: AgentState) -> dict[str, Any]:
        shown = state.get("shown")
        allowed = ", ".join(f"[{c['n']}]" for c in state.get("evidence", []) if shown is None or c["n"] in shown)
        problems = "\n".join(f"- {p}" for p in state.get("problems", []))
        again = prompts.render("retry", problems=problems, allowed=allowed)
        messages, _, shown = self._messages(state, citations(state), after=(state.get("draft", ""), again))
        messages += [AIMessage(state.get("draft", "")), HumanMessage(again)]
        try:
            reply = self.model.invoke(messages)
        except Exception as err:  # noqa: BLE001 - any failure of the model: the extractive answer
            return self._failed(state, "retry", err)
        return {"draft": str(reply.content), "attempts": state.get("attempts", 0) + 1, "shown": shown,
                "steps": step(state, "retry", problems[:200], str(reply.content)[:200])}

    def fallback(self, state: AgentState) -> dict[str, Any]:
        problems = "; ".join(state.get("problems", []))
        note = f"The model's answer failed the citation check twice ({problems}); showing the extractive answer."
        return {"answer": self._extractive(state), "notes": [*state.get("notes", []), note],
                "steps": step(state, "fallback", problems[:200], "extractive answer")}

    def route_after_model(self, state: AgentState) -> Literal["verify", "model_failed"]:
        return "model_failed" if state.get("model_error") else "verify"

    def _failure_line(self, err: BaseException) -> str:
        log.info("the language model failed: %r", err)  # the answer says so; -v shows it here too
        log.debug("the model's failure", exc_info=err)
        return f"The language model failed ({describe_failure(self.settings, err)}); this answer is extractive."

    def _failed(self, state: AgentState, node: str, err: BaseException) -> dict[str, Any]:
        line = self._failure_line(err)
        return {"model_error": line, "steps": step(state, node, "model request", line)}

    def model_failed(self, state: AgentState) -> dict[str, Any]:
        """The extractive answer from the gathered evidence (not what tools the model called
        found); `respond` puts the failure line above it."""
        return {"answer": self._extractive(state), "mode": "offline", "notes": [], "draft": "",
                "steps": step(state, "answer (extractive)", state.get("model_error", ""),
                              f"{len(state.get('evidence', []))} evidence item(s)")}

    def respond(self, state: AgentState) -> dict[str, Any]:
        answer = strip_links(state.get("answer") or state.get("draft", ""))
        warned = cautions(answer.split("\n\nSources:", 1)[0], citations(state))
        if warned:  # evidence that speaks to an assistant: said, never passed off as a requirement
            answer = "\n".join([*warned, answer])
        if state.get("model_error"):  # after strip_links: the line names Ollama's address
            answer = f"{state['model_error']}\n{answer}"
        return {"answer": answer, "messages": [HumanMessage(state["question"]), AIMessage(answer)]}


def build_graph(model: BaseChatModel | None, tools: Toolbox, settings: Settings, *,
                tool_calling: bool = False, checkpointer: Any = None):
    """The compiled agent graph (see module doc)."""
    nodes = Nodes(gated(model, gate_for(settings)), tools, settings, tool_calling)  # requests queue
    g = StateGraph(AgentState)
    for name in ("understand", "gather", "extract", "no_evidence", "compose", "tool_loop", "verify",
                 "retry", "fallback", "model_failed", "respond"):
        g.add_node(name, getattr(nodes, name))
    g.add_edge(START, "understand")
    g.add_edge("understand", "gather")
    g.add_conditional_edges("gather", nodes.route_after_gather)
    for name in ("compose", "tool_loop", "retry"):
        g.add_conditional_edges(name, nodes.route_after_model)
    g.add_conditional_edges("verify", nodes.route_after_verify)
    for name in ("extract", "no_evidence", "fallback", "model_failed"):
        g.add_edge(name, "respond")
    g.add_edge("respond", END)
    return g.compile(checkpointer=checkpointer)


def _answered_clause(u: Any, data: dict[str, Any], evidence: list[Citation]) -> tuple[str, str] | None:
    """(clause, document) a "which clause covers …" or free-worded which-test answer settled on,
    for a question that named no clause of its own; None otherwise."""
    if u.has_subject:
        return None
    if u.intent == "which_test" and data.get("matches") and data["matches"][0].get("clause"):
        first = data["matches"][0]
        return first["clause"], first["doc"]
    if u.intent == "reverse":
        first_clause = next((c for c in evidence if c.clause and not c.table), None)
        return (first_clause.clause, first_clause.doc) if first_clause else None
    return None


def _tool_result(summary: str, block: str) -> str:
    """What the model sees of a tool's result: its summary and its numbered evidence."""
    return f"{summary}\n<evidence>\n{block}\n</evidence>"


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
