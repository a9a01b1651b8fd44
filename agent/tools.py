"""The agent's tools: thin wrappers over the index and the domain tools that return citable evidence.

`Toolbox(index, matcher, settings)` holds one method per tool; each returns a `ToolResult`:
a short `summary` (for the agent's steps and the model), the `evidence` it found as
`Citation` records (numbered later by the graph, `n=0` here) and structured `data`
(tests, table rows…). `Toolbox.langchain_tools()` exposes the same methods as LangChain
tools with typed arguments, for a tool-calling model.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from agent.config import Settings
from agent.errors import NotFound, SpecAgentError
from agent.index import SpecIndex
from agent.match.corrections import CorrectingMatcher
from agent.match.facets import FacetScore, default_facets
from agent.match.matcher import Matcher, MatchResult
from agent.schema import Citation, Clause, Hit, Table

log = logging.getLogger(__name__)

CLAUSE_TEXT_CHARS = 1500  # clause text quoted as evidence (the source element shows all of it)
COMPARE_ITEMS = 6  # changed clause pairs a diff_documents call cites (old and new side)
DIFF_CHARS = 400  # characters of one clause's changes in a diff_documents summary
MULTI_DOC_TOOLS = ("diff_documents", "compare_test")  # offered to the model only with 2+ documents


@dataclass(frozen=True)
class ToolResult:
    """What a tool found: a summary line, citable evidence, structured data."""

    summary: str
    evidence: tuple[Citation, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


def clause_citation(clause: Clause, text: str | None = None) -> Citation:
    body = clause.text if text is None else text
    return Citation(n=0, doc=clause.doc, clause=clause.number, title=clause.title, page=clause.page,
                    page_label=clause.page_label, table=None, text=body[:CLAUSE_TEXT_CHARS],
                    position=clause.position)


def table_citation(table: Table, text: str, row: int | None = None) -> Citation:
    return Citation(n=0, doc=table.doc, clause=table.clause, title=table.caption, page=table.page,
                    page_label=table.page_label, table=table.id, text=text, row=row)


def hit_citation(hit: Hit) -> Citation:
    return Citation(n=0, doc=hit.doc, clause=hit.clause, title=hit.title, page=hit.page,
                    table=hit.table, text=hit.text[:2 * CLAUSE_TEXT_CHARS])


def tests_data(result: MatchResult) -> list[dict[str, Any]]:
    return [{"id": t.id, "name": t.name, "score": round(t.score, 2), "evidence": list(t.evidence)}
            for t in result.tests]


class Toolbox:
    """The agent's tools over one index and one matcher."""

    def __init__(self, index: SpecIndex, matcher: Matcher, settings: Settings,
                 adjust: Callable[[str], dict[tuple[str, str], float]] | None = None) -> None:
        self.index = index
        self.matcher = matcher
        self.settings = settings
        self.adjust = adjust  # engineers' thumbs: question -> {(doc, clause or table): offset}
        self._typed: dict[tuple[str, str], Any] = {}  # (doc, table id) -> TypedTable, parsed once

    def _match(self, heading: str, text: str, context: list[str] | None, **where: str) -> MatchResult:
        if isinstance(self.matcher, CorrectingMatcher):
            return self.matcher.match(heading, text, context, **where)
        return self.matcher.match(heading, text, context)

    def wording_tests(self, text: str) -> list[FacetScore]:
        """Every catalogue test scored by what the free wording of ``text`` says (facets), best first."""
        return default_facets(self.settings.facets).rank(text, self.matcher.catalogue)

    # -- the tools --------------------------------------------------------------------------

    def list_documents(self) -> ToolResult:
        docs = self.index.documents()
        lines = [f"{d.name} ({d.kind}, {d.pages} pages, {len(d.clauses)} clauses, {len(d.tables)} tables)"
                 for d in docs]
        return ToolResult("; ".join(lines) or "no documents loaded", (), {"documents": [d.name for d in docs]})

    def get_clause(self, number: str, doc: str | None = None) -> ToolResult:
        view = self.index.get_clause(number, doc)
        c = view.clause
        children = ", ".join(f"{n} {t}" for n, t in view.children)
        text = c.text + (f"\nSub-clauses: {children}" if children else "")
        evidence = [clause_citation(c, text)]
        evidence += [table_citation(t, table_markdown(t)) for t in view.tables]
        others = f" (also in {', '.join(view.others)})" if view.others else ""
        return ToolResult(f"{c.doc} §{c.number} {c.title}, p. {c.page}{others}", tuple(evidence),
                          {"clause": c.number, "title": c.title, "doc": c.doc, "page": c.page,
                           "parents": view.parents, "children": view.children, "others": view.others})

    def search_spec(self, query: str, k: int | None = None, doc: str | None = None) -> ToolResult:
        k = k or self.settings.top_k
        hits = self.index.search(query, 3 * k, doc)
        if self.adjust:
            hits = rerank(hits, self.adjust(query))
        hits = one_per_source(hits)[:k]
        summary = "; ".join(f"{h.doc} §{h.clause}" + (f" {h.table}" if h.table else "") for h in hits)
        return ToolResult(summary or "no hits", tuple(hit_citation(h) for h in hits), {"hits": len(hits)})

    def match_tests(self, clause: str | None = None, heading: str | None = None, text: str = "",
                    doc: str | None = None) -> ToolResult:
        """Which catalogue test a clause (by number) or a heading (with its text) calls for."""
        if clause:
            view = self.index.get_clause(clause, doc)
            c = view.clause
            context = [f"{n} {t}" for n, t in view.parents]
            result = self._match(f"{c.number} {c.title}", c.text[:2000], context, doc=c.doc, clause=c.number)
            evidence: tuple[Citation, ...] = (clause_citation(c),)
            subject = f"{c.doc} §{c.number} {c.title}"
        else:
            result = self._match(heading or "", text, None)
            evidence, subject = (), repr(heading)
        tests = tests_data(result)
        if result.abstain:
            summary = f"{subject}: no catalogue test applies"
        else:
            summary = f"{subject}: " + ", ".join(f"{t['name']} ({t['score']:.2f})" for t in tests)
        return ToolResult(summary, evidence, {"tests": tests, "abstain": result.abstain,
                                              "notes": list(result.notes)})

    def table_tests(self, table: str, doc: str | None = None) -> ToolResult:
        """The catalogue tests a table's rows call for (a port's immunity table: one test a row),
        each row matched with the table's caption and clause as its context."""
        from agent.match.tables import TypedTable, lookup_table

        t = self.index.get_table(table, doc)
        if (t.doc, t.id) not in self._typed:
            self._typed[(t.doc, t.id)] = TypedTable.from_table(t)
        context = [f"{t.id} {t.caption}"]
        rows, evidence = [], []
        for row in lookup_table(self._typed[(t.doc, t.id)]).rows:
            text = row_text(row, None)
            result = self._match(f"{t.caption}: {text}", "", context, doc=t.doc)  # the caption names the port
            if not result.abstain:
                rows.append({"row": row_index(row), "text": text, "tests": tests_data(result)})
                evidence.append(table_citation(t, text, row=row_index(row)))
        found = sorted({test["name"] for r in rows for test in r["tests"][:1]})
        return ToolResult(f"{t.doc} {t.id}: " + (", ".join(found) or "no catalogue test in its rows"),
                          tuple(evidence), {"table": t.id, "doc": t.doc, "clause": t.clause, "rows": rows})

    def get_table(self, table: str, doc: str | None = None) -> ToolResult:
        t = self.index.get_table(table, doc)
        return ToolResult(f"{t.doc} {t.id} {t.caption}, p. {t.page}", (table_citation(t, table_markdown(t)),),
                          {"table": t.id, "doc": t.doc})

    def lookup_table(self, table: str, where: dict[str, str] | None = None, at: str | None = None,
                     doc: str | None = None, contains: str | None = None,
                     terms: list[str] | None = None) -> ToolResult:
        """Rows (and cells) of a table selected by column values, a quantity (e.g. 100 MHz),
        a term printed in the row ("CS116") and/or conditions that tell rows apart ("3 m",
        "quasi-peak", "B2.3")."""
        from agent.match.tables import TypedTable, lookup_table

        t = self.index.get_table(table, doc)
        typed = self._typed.get((t.doc, t.id))
        if typed is None:
            typed = self._typed[(t.doc, t.id)] = TypedTable.from_table(t)
        rows = lookup_table(typed, where=where or None, at=at, terms=terms or ()).rows
        if contains:
            key = _squash(contains)
            rows = tuple(r for r in rows if any(key in _squash(c.raw) for c in r.cells.values()))
        evidence = tuple(table_citation(t, row_text(row, at), row=row_index(row)) for row in rows)
        summary = f"{t.doc} {t.id}: {len(rows)} row(s)" + (f" at {at}" if at else "")
        return ToolResult(summary, evidence or (table_citation(t, table_markdown(t)),),
                          {"table": t.id, "rows": len(rows)})

    def extract_keywords(self, clause: str | None = None, text: str | None = None,
                         doc: str | None = None, n: int = 10) -> ToolResult:
        from agent.match.keywords import extract_keywords

        evidence: tuple[Citation, ...] = ()
        if clause:
            c = self.index.get_clause(clause, doc).clause
            text, evidence = f"{c.title}\n{c.text}", (clause_citation(c),)
        keywords = extract_keywords(text or "", n)
        return ToolResult(", ".join(k for k, _ in keywords) or "no keywords", evidence,
                          {"keywords": [[k, round(s, 4)] for k, s in keywords]})

    def diff_documents(self, old: str, new: str, clause: str = "") -> ToolResult:
        """What changed from edition `old` to `new` (optionally one clause or test code, e.g.
        "CS114"): clauses paired by content, renumbering, values and table cells; cited on both sides."""
        from agent.compare.editions import diff_editions
        from agent.compare.report import pair_lines

        d = diff_editions(self.index.document(old), self.index.document(new), clause or None)
        changed = sorted((p for p in d.pairs if p.changed), key=lambda p: p.rank)[:COMPARE_ITEMS]
        evidence: list[Citation] = []
        for p in changed:
            evidence += [clause_citation(p.pair.old), clause_citation(p.pair.new)]
            for t in (t for t in p.tables if t.changed):
                evidence += [table_citation(t.old, table_markdown(t.old)), table_citation(t.new, table_markdown(t.new))]
        s = d.summary()
        scope = f" {clause}" if clause else ""
        head = (f"{d.old.name} → {d.new.name}{scope}: {s['pairs']} clauses paired ({s['renumbered']} "
                f"renumbered, {s['changed']} changed), {s['removed']} removed, {s['added']} added")
        changes = [f"{p.pair.old.number} → {p.pair.new.number} {p.pair.new.title}: "
                   + " / ".join(line.strip() for line in list(pair_lines(p))[1:])[:DIFF_CHARS] for p in changed]
        gone = [f"removed {c.number} {c.title}" for c in d.removed[:COMPARE_ITEMS]]
        new_ = [f"added {c.number} {c.title}" for c in d.added[:COMPARE_ITEMS]]
        summary = "\n".join([head, *changes, *gone, *new_])
        data = d.to_json()
        data["pairs"] = [p.to_json() for p in changed]
        return ToolResult(summary, tuple(evidence), data)

    def compare_test(self, test: str, at: str, docs: list[str] | None = None) -> ToolResult:
        """One test across documents: the clauses that require it and the limit or level each states
        at frequency `at`, cited; the strictest where detector and unit agree."""
        from agent.compare.across import compare_test
        from agent.compare.text import cite

        documents = [self.index.document(d) for d in docs] if docs else self.index.documents()
        c = compare_test(documents, self.matcher, test, at)
        evidence = []
        for row in c.rows:
            if row.chosen is not None:
                src = row.chosen.source
                table = self.index.get_table(src["table"], src["doc"])
                evidence.append(table_citation(table, f"{row.chosen.text} ({cite(src)})", row=src["row"]))
        parts = [f"{r.doc}: {r.chosen.text if r.chosen else r.note}" for r in c.rows]
        strictest = f"; strictest: {c.strictest}" if c.strictest else ""
        summary = f"{c.test.name} at {at}: " + "; ".join(parts) + strictest + "".join(f"; {n}" for n in c.notes)
        return ToolResult(summary, tuple(evidence), c.to_json())

    # -- as LangChain tools -----------------------------------------------------------------

    def langchain_tools(self, on_result: Callable[[str, dict, ToolResult], str] | None = None) -> list[BaseTool]:
        """The tools for a tool-calling model; `on_result(name, args, result)` renders what the
        model sees (the graph numbers the evidence there); default: the summary as JSON."""

        def wrap(name: str, fn: Callable[..., ToolResult], schema: type[BaseModel], doc: str) -> BaseTool:
            def run(**kwargs: Any) -> str:
                try:
                    result = fn(**kwargs)
                except SpecAgentError as err:
                    return json.dumps({"error": str(err)})
                return on_result(name, kwargs, result) if on_result else json.dumps({"summary": result.summary})

            return StructuredTool.from_function(run, name=name, description=doc, args_schema=schema)

        several = len(self.index.documents()) >= 2  # a diff or a comparison needs two documents
        return [wrap(name, getattr(self, name), schema, doc) for name, schema, doc in TOOL_SPECS
                if several or name not in MULTI_DOC_TOOLS]


def one_per_source(hits: list[Hit]) -> list[Hit]:
    """One hit per clause or table, at the rank of its best chunk; the other chunks of the same
    clause that were found follow its text (a long clause split in chunks is cited once)."""
    merged: dict[tuple[str, str | None, str | None], Hit] = {}
    for h in hits:
        key = (h.doc, h.clause, h.table)
        first = merged.get(key)
        if first is None:
            merged[key] = h
        elif len(first.text) < 2 * CLAUSE_TEXT_CHARS and h.text not in first.text:
            merged[key] = replace(first, text=f"{first.text}\n…\n{h.text}")
    return list(merged.values())


def rerank(hits: list[Hit], adjustments: dict[tuple[str, str], float]) -> list[Hit]:
    """Hits re-ordered by score × (1 + offset): a thumbs-down on an answer to a similar question
    lowers the chunks it cited, a thumbs-up raises them (offsets are bounded by the store)."""
    if not adjustments:
        return hits
    key = lambda h: adjustments.get((h.doc, h.table or h.clause or ""), 0.0)  # noqa: E731
    return sorted(hits, key=lambda h: -h.score * (1.0 + key(h)))


def row_index(row: Any) -> int | None:
    return getattr(row, "row", None)


def row_text(row: Any, at: str | None) -> str:
    """A looked-up row as 'label: cell' pairs, cells as printed; a formula cell also shows its
    value at the quantity asked ("62.4 dBµV (68 – 25.13·lg(f/30))")."""
    from agent.match.tables import describe_cell

    at_f = f" at {at}" if at else ""
    cells = [f"{label}: {describe_cell(cell) + at_f if cell.formula else _as_printed(cell, label)}"
             for label, cell in row.cells.items() if cell.raw.strip()]
    section = f"[{row.section}] " if getattr(row, "section", None) else ""
    return section + "; ".join(cells)


def _as_printed(cell: Any, label: str) -> str:
    """The cell as printed, with the unit the table gives it elsewhere (its caption) when
    neither the cell nor its column label says one: "Class 5: 10 dBµV/m"."""
    from agent.match.units import parse_cell, unit_in_label

    text = " ".join(cell.raw.split())
    unit = cell.value.unit if cell.kind == "value" and cell.value is not None else ""
    printed = parse_cell(text).value
    said = unit_in_label(label) or (printed.unit if printed is not None else "")
    return f"{text} {unit}" if unit and not said else text


def _squash(text: str) -> str:
    return "".join(text.split()).casefold()


def table_markdown(table: Table, bold_title: bool = False) -> str:
    """A table as a markdown table under its id and caption (header rows merged per column),
    empty cells kept in their column; pipes and line breaks in cells neutralised."""
    width = max([len(r) for r in (*table.header, *table.rows)] or [0])
    title = (f"**{table.id}** {table.caption}" if bold_title else f"{table.id} {table.caption}").strip()
    if not width:
        return title

    def pad(row: tuple[str, ...]) -> list[str]:
        return [" ".join(str(c).replace("|", "/").split()) for c in row] + [""] * (width - len(row))

    header = [" ".join(filter(None, col)) for col in zip(*[pad(h) for h in table.header])] \
        if table.header else [""] * width
    lines = [title + ("\n" if bold_title else ""), "| " + " | ".join(header) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(pad(r)) + " |" for r in table.rows]
    return "\n".join(lines)


class _DocArg(BaseModel):
    doc: str = Field("", description="Document name, e.g. MIL-STD-461G; empty for all.")


class _ClauseArgs(_DocArg):
    number: str = Field(description="Clause number as printed, e.g. 5.12 or 8.2.2.1.")


class _SearchArgs(_DocArg):
    query: str = Field(description="What to look for, in the engineer's words.")
    k: int = Field(0, description="How many hits (0: the default from settings).")


class _MatchArgs(_DocArg):
    clause: str = Field("", description="Clause number to classify.")
    heading: str = Field("", description="A heading to classify when no clause number.")
    text: str = Field("", description="Body text of that heading, if any.")


class _TableArgs(_DocArg):
    table: str = Field(description="Table id as printed, e.g. 'TABLE VIII' or 'Table 8-1'.")


class _LookupArgs(_TableArgs):
    contains: str = Field("", description="A term printed in the wanted row, e.g. 'CS116'.")
    where: dict[str, str] = Field(default_factory=dict, description="Column label → value, e.g. {'Level': '3'}.")
    at: str = Field("", description="A quantity selecting the band, e.g. '100 MHz'; empty for none.")
    terms: list[str] = Field(default_factory=list, description="Conditions as written that tell rows "
                             "apart, e.g. ['class A', '3 m', 'quasi-peak', 'B2.3'].")


class _KeywordArgs(_DocArg):
    clause: str = Field("", description="Clause number whose keywords to extract.")
    text: str = Field("", description="Text to extract keywords from.")


class _DiffArgs(BaseModel):
    old: str = Field(description="The older edition, e.g. MIL-STD-461F.")
    new: str = Field(description="The newer edition, e.g. MIL-STD-461G.")
    clause: str = Field("", description="A clause number or test code to narrow to, e.g. 'CS114'; empty: all.")


class _CompareArgs(BaseModel):
    test: str = Field(description="Catalogue test id, code, OEM code or name, e.g. '2', 'RE 310'.")
    at: str = Field(description="The frequency, e.g. '100 MHz'.")
    docs: list[str] = Field(default_factory=list, description="Documents to compare; empty: every one.")


class _NoArgs(BaseModel):
    pass


TOOL_SPECS: list[tuple[str, type[BaseModel], str]] = [
    ("list_documents", _NoArgs, "List the loaded specification documents."),
    ("get_clause", _ClauseArgs, "Get a numbered clause with its text, parents, sub-clauses and tables."),
    ("search_spec", _SearchArgs, "Search the loaded specifications (clauses and tables)."),
    ("match_tests", _MatchArgs, "Which standard EMC test (catalogue id and name) a clause calls for."),
    ("get_table", _TableArgs, "Get a whole table by its printed id."),
    ("lookup_table", _LookupArgs, "Look up rows of a table by column value and/or a frequency or level."),
    ("extract_keywords", _KeywordArgs, "Keywords of a clause or a text (YAKE, domain stop words)."),
    ("diff_documents", _DiffArgs, ("What changed between two editions of a spec (renumbered clauses, "
                                   "values, table cells, removed and added clauses), optionally for one "
                                   "clause or test code.")),
    ("compare_test", _CompareArgs, ("One test across documents: each one's limit or level at a "
                                    "frequency, cited, and which is strictest.")),
]

__all__ = ["Toolbox", "ToolResult", "TOOL_SPECS", "table_markdown", "NotFound"]
