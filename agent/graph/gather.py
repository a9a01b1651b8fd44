"""Deterministic evidence gathering: which tools to call for an understood question, in what order.

`gather(toolbox, understanding, doc)` → `Gathered(evidence, data, calls)`: evidence as
`Citation` records (numbered 1..k here, best first), the structured results the extractive
answer needs (tests, clause, table rows), and the tool calls made (for the UI's steps).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any

from agent.errors import NotFound, SpecAgentError
from agent.graph.conditions import asked_kinds, conditions, ports, row_ids, selector_phrases, states_kind
from agent.graph.places import TITLE_FIT, front_matter, rank_places, title_fit
from agent.graph.side_by_side import gather_changes, gather_comparison
from agent.graph.understand import TEST_CUE, Understanding, asks_for_value
from agent.schema import TABLE_WORD, Citation
from agent.tools import Toolbox, ToolResult

log = logging.getLogger(__name__)

MAX_EVIDENCE = 8
SUPPORT_HITS = 4  # search hits added after a lookup's own evidence (a value may be stated in the text)
MAX_TABLES = 2
SCOPED_WORDS = 3  # words besides a named section that make a question ask inside that section
PLACES = 4  # clauses listed for a "which clause covers …" question
SCOPED_HITS = 2  # sub-clauses of a named section quoted for such a question
WHICH_TEST_CANDIDATES = 6  # clauses whose tests are weighed for a which-test question without a clause
WORDING_STRONG = 3.0  # a facet score from which the question's wording points at a test
WORDING_ORDER = 2.0  # a facet score from which the wording orders a clause's own tests (a path named)
WORDING_SLACK = 1.0  # tests scored within this of the best count as what the wording points at
FREQUENCY_UNITS = ("Hz", "kHz", "MHz", "GHz")
# Abbreviations engineers type, spelled out so lexical search finds the clause or table.
ABBREVIATIONS = {
    "RE": "radiated emission", "CE": "conducted emission", "RI": "radiated immunity",
    "CI": "conducted immunity", "BCI": "bulk current injection", "ESD": "electrostatic discharge",
    "ALSE": "absorber lined shielded enclosure", "AN": "artificial network",
    "TE": "transient emission", "CS": "conducted susceptibility", "RS": "radiated susceptibility",
}
# Words engineers use for what specifications call otherwise (added to the search, never replacing).
SYNONYMS = {
    "spikes?": "transients", "surges?": "transients", "bursts?": "transients", "harness(?:es)?": "cables",
    "cable bundles?": "cables", "injected (?:rf )?currents?": "bulk current injection",
    "static": "electrostatic discharge", "zap": "electrostatic discharge", "noise": "emissions",
    "chamber": "shielded enclosure", "field strength": "radiated susceptibility",
}
_SELECTOR = re.compile(
    r"\b(level|class|category|curve|pulse|band|severity|test level|mode|klasse|stufe|classe|niveau)\s+(?:no\.?\s*)?"
    r"([0-9]+[a-z]?|[IVX]+|[A-E])\b", re.IGNORECASE)
_NAMED_BAND = re.compile(r"\b([A-Z][A-Z0-9]+)\s+band\b")  # "the FM band", "in the LW band"
_STOP = re.compile(
    r"\b(which|what|where|clause|clauses|section|sections|paragraph|paragraphs|part|chapter|page|cover|covers|covering|"
    r"tells?|explains?|describes?|spells? out|lays? down|laid down|sets? out|"
    r"deals?|with|about|is|are|the|a|an|of|for|in|on|does|do|say|says|spec|specification|"
    r"requirement|requirements|me|tell|please|find|show)\b|[?]", re.IGNORECASE)


@dataclass
class Gathered:
    evidence: list[Citation] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (tool, input, summary)

    def add(self, tool: str, args: str, result: ToolResult) -> ToolResult:
        self.calls.append((tool, args, result.summary))
        for c in result.evidence:
            if not any(_same(c, e) for e in self.evidence):
                self.evidence.append(c)
        return result

    def numbered(self) -> list[Citation]:
        return [replace(c, n=i) for i, c in enumerate(self.evidence[:MAX_EVIDENCE], start=1)]


def _same(a: Citation, b: Citation) -> bool:
    return (a.doc, a.clause, a.table, a.row, a.text) == (b.doc, b.clause, b.table, b.row, b.text)


def expand_abbreviations(text: str) -> str:
    """The text with abbreviations spelled out and engineers' words translated, appended."""
    extra = [full for abbr, full in ABBREVIATIONS.items() if re.search(rf"\b{abbr}\b", text)]
    extra += [full for word, full in SYNONYMS.items() if re.search(rf"\b{word}\b", text, re.IGNORECASE)]
    return " ".join([text, *extra])


def topic_of(question: str) -> str:
    """The subject words of a "which clause covers …" question."""
    words = _STOP.sub(" ", question)
    return " ".join(words.split()) or question


def selector(question: str) -> dict[str, str] | None:
    """A row selector the question names: "level 3" → {"level": "3"}, "the FM band" → {"band": "FM"}."""
    m = _SELECTOR.search(question)
    if m:
        return {m.group(1).lower(): m.group(2)}
    m = _NAMED_BAND.search(question)
    return {"band": m.group(1)} if m else None


_ABOVE = re.compile(r"\b(above|over|beyond|greater than|higher than|more than|from)\s*$|>\s*=?\s*$", re.I)
_BELOW = re.compile(r"\b(below|under|less than|lower than|up to)\s*$|<\s*=?\s*$", re.I)
EDGE = 1e-4  # "above 600 MHz" looks just above the band edge, so it selects the band that starts there


def frequency(u: Understanding) -> str | None:
    """The frequency the question asks about; "above X" / "below X" nudge X into the band
    that lies on that side of a band edge."""
    freqs = [q for q in u.quantities if q.unit in FREQUENCY_UNITS]
    if not freqs:
        return None
    q = freqs[0]
    pair = _range_in(u.question, freqs)
    if pair is not None:  # "150 kHz - 30 MHz": the band between both ends (geometric middle)
        low, high = pair
        return f"{(low * high) ** 0.5:.10g} Hz"
    before = u.question[: u.question.find(q.text)] if q.text in u.question else ""
    value = q.value
    if _ABOVE.search(before):
        value *= 1 + EDGE
    elif _BELOW.search(before):
        value *= 1 - EDGE
    return f"{value:.10g} {q.unit}"


_HZ = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9}
_FREQ_PHRASE = re.compile(
    r"(?:(?:above|over|beyond|below|under|up to|from|greater than|less than)\s+)?"
    r"\d[\d.,]*\s*(?:[kMG]?Hz)?(?:\s*(?:-|–|—|to|~)\s*\d[\d.,]*)?\s*[kMG]?Hz", re.I)


def frequency_label(u: Understanding) -> str | None:
    """The frequency as the question says it ("above 600 MHz", "150 kHz - 30 MHz")."""
    m = _FREQ_PHRASE.search(u.question)
    return m.group(0).strip() if m else None


def _range_in(question: str, freqs: list) -> tuple[float, float] | None:
    """Both ends in Hz when the question writes a frequency range ("150 kHz - 30 MHz", "1 to 400 MHz")."""
    if len(freqs) < 2:
        return None
    a, b = freqs[0], freqs[1]
    if a.text not in question or b.text not in question:
        return None
    start = question.find(a.text) + len(a.text)
    between = question[start: question.find(b.text, start)]
    if a.text in b.text or re.fullmatch(r"\s*(-|–|—|to|~)\s*", between):
        low, high = a.value * _HZ[a.unit], b.value * _HZ[b.unit]
        return (low, high) if 0 < low < high else None
    return None


def gather(toolbox: Toolbox, u: Understanding, doc: str | None = None) -> Gathered:
    """Call the tools the question needs; never raises for a clause or table that is absent."""
    doc = doc or u.document
    g = Gathered()
    g.data["question"] = u.question
    if u.intent in ("changes", "compare"):  # two documents side by side: the compare tools
        _side_by_side(toolbox, u, g)
        if g.evidence or g.data.get("errors"):
            return g
    if doc is None and u.intent not in ("documents", "keywords"):
        doc = _route(toolbox, u)
        if doc is not None:
            g.data["routed"] = doc
    handler = {
        "documents": _documents, "which_test": _which_test, "clause": _clause,
        "table_value": _table_value, "reverse": _reverse, "keywords": _keywords,
    }.get(u.intent, _general)
    try:
        if u.intent not in ("documents", "keywords") and _rows_by_id(toolbox, u, doc, g):
            return g
        handler(toolbox, u, doc, g)
    except NotFound as err:
        g.data.setdefault("not_found", []).append(str(err))
        g.calls.append(("lookup", u.question, str(err)))
    except SpecAgentError as err:
        g.data.setdefault("errors", []).append(str(err))
    searched = any(call[0] == "search_spec" for call in g.calls)
    if not g.evidence and u.intent != "documents":
        _search(toolbox, u.question, doc, g)
    elif u.intent not in ("documents", "keywords") and not u.has_subject and not searched:
        _search(toolbox, u.question, doc, g, k=SUPPORT_HITS)  # a subject found by search: the text around it too
    return g


def _side_by_side(toolbox: Toolbox, u: Understanding, g: Gathered) -> None:
    """A diff of two editions or one test compared across documents, when the question gives
    what the tool needs (two documents; a test and a frequency); else the usual path answers."""
    try:
        if u.intent == "changes":
            args, tool, result = gather_changes(toolbox, u)
            g.add(tool, args, result)
            g.data["changes"], g.data["changes_head"] = result.data, result.summary.splitlines()[0]
            return
        found = gather_comparison(toolbox, u, frequency_label(u))
        if found is not None:
            args, tool, result = found
            g.add(tool, args, result)
            g.data["comparison"] = result.data
    except (NotFound, SpecAgentError) as err:
        g.data.setdefault("errors", []).append(str(err))


def _route(toolbox: Toolbox, u: Understanding) -> str | None:
    """The one document a question names none of but plainly is about: with several loaded, the
    only one that holds the clauses or tables it names, or the only one that uses the
    abbreviations it uses ("FSC", "EMC-P06"). (Routing by which document a search for the
    question's words favours was tried: right on dev, wrong often enough on unseen specs of the
    same kind to cost more than it gave, so an unnamed subject searches every document.)"""
    names = [d.name for d in toolbox.index.documents()]
    if len(names) < 2:
        return None
    if u.clauses or u.tables:
        holding = [n for n in names if _holds(toolbox, u, n)]
        return holding[0] if len(holding) == 1 else None
    return _only_user(toolbox, u.question, names)


_ACRONYM = re.compile(r"(?<![\w-])[A-Z][A-Z0-9]{1,5}(?:-[A-Z]?\d{1,3})?(?![\w-])")
_SAID: dict[tuple[int, str], dict[str, set[str]]] = {}  # (index, generation) → document → its acronyms


def _only_user(toolbox: Toolbox, question: str, names: list[str]) -> str | None:
    """The document that alone uses every abbreviation of the question that some but not all
    loaded documents use; None when they point at several or none."""
    index = toolbox.index
    key = (id(index), index.generation)
    if key not in _SAID:
        _SAID.clear()
        _SAID[key] = {n: set(_ACRONYM.findall(" ".join(f"{c.title} {c.text}" for c in index.clauses(n))
                                               + " ".join(f"{t.caption} {' '.join(' '.join(r) for r in t.rows)}"
                                                          for t in index.document(n).tables)))
                      for n in names}
    said = _SAID[key]
    telling = [a for a in dict.fromkeys(_ACRONYM.findall(question)) if 0 < sum(a in said[n] for n in names) < len(names)]
    users = {n for a in telling for n in names if a in said[n]}
    return next(iter(users)) if telling and len(users) == 1 else None


def _holds(toolbox: Toolbox, u: Understanding, doc: str) -> bool:
    """Does ``doc`` hold one of the tables or clauses the question names?"""
    lookups = [(toolbox.index.get_table, name) for name in u.tables]
    lookups += [(toolbox.index.get_clause, number) for number in u.clauses]
    for find, key in lookups:
        try:
            find(key, doc)
            return True
        except NotFound:
            continue
    return False


def _search(toolbox: Toolbox, query: str, doc: str | None, g: Gathered, k: int | None = None) -> ToolResult:
    q = expand_abbreviations(query)
    return g.add("search_spec", q, toolbox.search_spec(q, k, doc))


def _documents(toolbox: Toolbox, u: Understanding, doc: str | None, g: Gathered) -> None:
    result = g.add("list_documents", "", toolbox.list_documents())
    g.data["documents"] = result.data["documents"]


def _clause(toolbox: Toolbox, u: Understanding, doc: str | None, g: Gathered) -> None:
    numbers = u.clauses or _clauses_for_tests(toolbox, u, doc, g)
    for number in numbers[:3]:
        result = g.add("get_clause", f"{number} {doc or ''}".strip(), toolbox.get_clause(number, doc))
        g.data.setdefault("clauses", []).append(result.data)
    for info in list(g.data.get("clauses", []))[:1]:
        _search_inside(toolbox, u, info, g)
    if numbers and TEST_CUE.search(u.question):  # "what does 5.16 have me measure": its test too
        info = g.data["clauses"][0]
        result = g.add("match_tests", f"clause {info['clause']}", toolbox.match_tests(clause=info["clause"], doc=info["doc"]))
        if not result.data["abstain"]:
            g.data["matches"] = [{"clause": info["clause"], "title": info["title"], "doc": info["doc"], **result.data}]


def _search_inside(toolbox: Toolbox, u: Understanding, info: dict[str, Any], g: Gathered) -> None:
    """A question that names a section as its scope and asks a particular thing (a distance
    "per Annex B", a duration "under 5.3"): the sub-clauses of that section the question's words
    find, best first, after the section itself."""
    number = info["clause"]
    rest = [w for w in _STOP.sub(" ", u.question.replace(number, " ")).split() if len(w) > 2]
    if len(rest) < SCOPED_WORDS:
        return
    inside = []
    for h in toolbox.index.search(expand_abbreviations(u.question), 12, info["doc"]):
        if not h.clause or h.table or h.clause == number or h.clause in inside:
            continue
        try:
            parents = toolbox.index.get_clause(h.clause, h.doc).clause.parents
        except NotFound:
            continue
        if number in parents:
            inside.append(h.clause)
    for sub in inside[:SCOPED_HITS]:
        result = g.add("get_clause", f"{sub} {info['doc']}", toolbox.get_clause(sub, info["doc"]))
        g.data["clauses"].append(result.data)


def _clauses_for_tests(toolbox: Toolbox, u: Understanding, doc: str | None, g: Gathered) -> list[str]:
    """Clause numbers for test codes named ("RE102", "CS114"): the best search hit of each."""
    found = []
    for code in u.tests[:2]:
        try:  # a test sheet numbered by its id ("EMC-P06")
            found.append(toolbox.index.get_clause(code, doc).clause.number)
            continue
        except NotFound:
            pass
        hits = [h for h in toolbox.index.search(code, 6, doc) if h.clause and not h.table]
        titled = [h for h in hits if _names_code(h.title or "", code)]  # "3.5.3 CI-05 Bulk current injection"
        clause = next((h.clause for h in titled or hits[:1]), None)
        if clause:
            found.append(clause)
    return found


def _which_test(toolbox: Toolbox, u: Understanding, doc: str | None, g: Gathered) -> None:
    _find_tests(toolbox, u, doc, g)
    if asks_for_value(u.question):  # "which test …, and at what level?": the value from the clause found
        _value_of_match(toolbox, u, g)


def _value_of_match(toolbox: Toolbox, u: Understanding, g: Gathered) -> None:
    """The value a which-test question also asks for, looked up in the tables of the clause
    that calls for the test (then of the requirement heading above it)."""
    match = next((m for m in g.data.get("matches", []) if m.get("clause") and not m.get("abstain")), None)
    if match is None:
        return
    for number in dict.fromkeys(n for n in (match["clause"], match.get("under")) if n):
        _table_value(toolbox, replace(u, clauses=(number,), tables=(), intent="table_value"), match["doc"], g)
        if "lookup" in g.data:
            return
    g.data.pop("clauses", None)  # no row found: the clause texts stay evidence, the answer stays a test


def _find_tests(toolbox: Toolbox, u: Understanding, doc: str | None, g: Gathered) -> None:
    wording = {w.test_id: w.score for w in toolbox.wording_tests(u.question)}
    numbers = list(u.clauses) or _clauses_for_tests(toolbox, u, doc, g)
    if numbers:
        for number in numbers[:3]:
            _match(toolbox, number, doc, g, wording)
        if not u.clauses:  # found by a test code: what else the question asks may be said elsewhere
            _search(toolbox, u.question, doc, g, k=3)
        return
    # No clause named: the best-ranked clause (or table of tests) the subject finds that calls
    # for a test, the one agreeing with what the wording points at (facets) first.
    hits = toolbox.index.search(_test_query(toolbox, u, wording), 10, doc)
    found = list(dict.fromkeys(_requirement_of(toolbox, h) for h in hits if h.clause or h.table))
    found = found[:WHICH_TEST_CANDIDATES]
    top = max(wording.values(), default=0.0)
    topic = _ASKING_TEST.sub(" ", topic_of(u.question))
    scored = []
    for rank, (number, table, hit_doc) in enumerate(found):
        own, from_table = _candidate_tests(toolbox, number, table, hit_doc)
        agrees = top >= WORDING_STRONG and any(wording.get(t, 0.0) >= top - WORDING_SLACK for t in own + from_table)
        # tests read off a table's rows count only where the wording points at one of them; the first
        # hit, titled by the subject, answers even when it calls for no test ("no test applies")
        front = _front(toolbox, number, hit_doc, topic)
        about = rank == 0 and not table and not front and _titled(toolbox, number, hit_doc, topic)
        scored.append((not (own or (from_table and agrees) or about), not (agrees or about),
                       front, rank, number, table, hit_doc, not own))
    for *_, number, table, hit_doc, by_table in sorted(scored)[:1]:
        _match(toolbox, number, hit_doc, g, wording, table=table, tables=by_table)
    _search(toolbox, u.question, doc, g, k=3)


def _titled(toolbox: Toolbox, number: str | None, doc: str, topic: str) -> bool:
    """Does the clause's own title say the subject ("Shield termination" for "how the shield is terminated")?"""
    try:
        return bool(number) and title_fit(toolbox.index.get_clause(number or "", doc).clause.title, topic) >= TITLE_FIT
    except NotFound:
        return False


def _front(toolbox: Toolbox, number: str | None, doc: str, topic: str) -> bool:
    """Is the clause front matter (a definition, an abbreviation): it names tests, it asks for none."""
    if not number:
        return False
    try:
        view = toolbox.index.get_clause(number, doc)
    except NotFound:
        return False
    return front_matter([view.clause.title, *(title for _, title in view.parents)], topic)


def _candidate_tests(toolbox: Toolbox, number: str | None, table: str | None, doc: str) -> tuple[list[int], list[int]]:
    """(the clause's own tests, the tests its tables' rows call for) as ids."""
    if table:
        return [], [t["id"] for r in toolbox.table_tests(table, doc).data["rows"] for t in r["tests"][:1]]
    result = toolbox.match_tests(clause=number, doc=doc)
    if not result.data["abstain"]:
        return [t["id"] for t in result.data["tests"]], []
    rows = _clause_table_tests(toolbox, number, doc)
    return [], [t["id"] for r in (rows.data["rows"] if rows else []) for t in r["tests"][:1]]


def _clause_table_tests(toolbox: Toolbox, number: str, doc: str | None) -> ToolResult | None:
    """The tests of the tables a clause holds or says to test by ("in accordance with Table 7")."""
    view = toolbox.index.get_clause(number, doc)
    names = [t.id for t in view.tables] + [f"Table {m}" for m in _TABLE_REF.findall(view.clause.text)]
    for name in list(dict.fromkeys(names))[:3]:
        try:
            result = toolbox.table_tests(name, view.doc)
        except NotFound:
            continue
        if result.data["rows"]:
            return result
    return None


_TABLE_MENTION = re.compile(rf"\b(?i:{TABLE_WORD})\s+([A-Z]?\.?\d+(?:[.\-/]\d+)*[a-z]?|[IVXLC]+)\b")


def _has_table(toolbox: Toolbox, table: str, doc: str) -> bool:
    return bool(_caption_of(toolbox, table, doc))


_TABLE_REF = re.compile(r"\b(?:in accordance with|according to|as given in|given in|listed in|specified in|per)\s+"
                        r"Table\s+([A-Z]?\d+(?:[.\-/]\d+)*|[A-Z]?\.?\d+|[IVXLC]+)\b", re.IGNORECASE)


# Words that ask for a test rather than say what it is about ("which standard is this one done to?").
_ASKING_TEST = re.compile(r"\b(tests?|testing|standards?|stds?|norms?|under|that|this|it|part|run|do|we|i)\b", re.I)


def _test_query(toolbox: Toolbox, u: Understanding, wording: dict[int, float]) -> str:
    """The question's subject, and the name and standards of the tests its wording points at."""
    query = expand_abbreviations(_ASKING_TEST.sub(" ", topic_of(u.question)))
    top = max(wording.values(), default=0.0)
    if top < WORDING_STRONG:
        return query
    tests = [t for t in toolbox.matcher.catalogue.tests if wording.get(t.id, 0.0) >= top - WORDING_SLACK / 2]
    if len(tests) > 2:  # the wording leaves several tests open: their names would only blur the search
        return query
    names = [part for t in tests for part in [t.name, *(s.ref for s in t.standards)]]
    return " ".join([query, *dict.fromkeys(names)])


_GUIDANCE_FOR = re.compile(r"^\((?P<n>\d+(?:\.\d+)*)\)\s")


def _requirement_of(toolbox: Toolbox, hit: Any) -> tuple[str | None, str | None, str]:
    """(clause, table, doc) of a hit; a guidance clause titled "(5.13) CS114, …" (an appendix
    that explains the requirements) stands for the requirement it names."""
    if hit.table:
        return hit.clause, hit.table, hit.doc
    m = _GUIDANCE_FOR.match(hit.title or "")
    if m:
        try:
            return toolbox.index.get_clause(m["n"], hit.doc).clause.number, None, hit.doc
        except NotFound:
            pass
    return hit.clause, None, hit.doc


def _match(toolbox: Toolbox, number: str | None, doc: str | None, g: Gathered,
           wording: dict[int, float] | None = None, table: str | None = None, tables: bool = True) -> None:
    """The clause's tests, or when it calls for none itself, the tests its tables' rows call for
    (or a table's own); among them, the one the question's wording points at comes first."""
    rows = None
    if table:
        rows = g.add("table_tests", table, toolbox.table_tests(table, doc))
        data: dict[str, Any] = {"tests": [], "abstain": True}
        number = number or rows.data["clause"]
    else:
        result = g.add("match_tests", f"clause {number}", toolbox.match_tests(clause=number, doc=doc))
        data = dict(result.data)
        if data["abstain"] and tables:
            rows = _clause_table_tests(toolbox, number, doc)
            if rows is not None:
                g.add("table_tests", rows.data["table"], rows)
    if rows is not None and rows.data["rows"]:
        first = {}
        for r in rows.data["rows"]:
            first.setdefault(r["tests"][0]["id"], (r["tests"][0], r["row"]))
        data = {"tests": [t for t, _ in first.values()], "abstain": False, "table": rows.data["table"],
                "row_for": {tid: row for tid, (_, row) in first.items()}}
    top = max((wording or {}).values(), default=0.0)
    if wording and top >= WORDING_ORDER:
        data["tests"] = sorted(data["tests"], key=lambda t: wording.get(t["id"], 0.0) < top - WORDING_SLACK)
    if number:
        view = toolbox.index.get_clause(number, doc)
        clause = view.clause
        head = {"clause": clause.number, "title": clause.title, "doc": clause.doc}
        if (data.get("abstain") or not data.get("tests")) and table:  # "no test applies" cites the clause
            g.add("get_clause", f"{clause.number} {clause.doc}", toolbox.get_clause(clause.number, clause.doc))
        requirement = _requirement_heading(toolbox, view, data)
        if requirement is not None:
            g.add("get_clause", requirement, toolbox.get_clause(requirement, clause.doc))
            head["under"] = requirement
    else:
        t = toolbox.index.get_table(table or "", doc)
        head = {"clause": None, "title": t.caption, "doc": t.doc}
    g.data.setdefault("matches", []).append({**head, **data})


def _requirement_heading(toolbox: Toolbox, view: Any, data: dict[str, Any]) -> str | None:
    """The ancestor that heads the requirement a sub-clause belongs to ("3.3.3 RI 115 — Magnetic
    field immunity" over "3.3.3.2 Acceptance"): the highest of up to three levels up whose own
    heading is matched to the same first test."""
    if not data.get("tests") or data.get("abstain"):
        return None
    first, found = data["tests"][0]["id"], None
    for number, _title in reversed(view.parents[-3:]):
        try:
            result = toolbox.match_tests(clause=number, doc=view.doc).data
        except NotFound:
            break
        if result["abstain"] or not result["tests"] or result["tests"][0]["id"] != first:
            break
        found = number
    return found


def _table_value(toolbox: Toolbox, u: Understanding, doc: str | None, g: Gathered) -> None:
    at, where = frequency(u), selector(u.question)
    contains = u.tests[0] if u.tests and not (at or where) else None  # a test code looked up in a named table
    # A selector may name a column rather than a row ("level 3" of "Level 3 (mA)"): when the
    # full lookup finds no row, the quantity alone, then the selector alone, narrow the rows
    # (the selector still picks the cell asked for, as one of the conditions).
    tries = [(where, at), (None, at), (where, None)] if where and at else [(where, at), (None, at)] if where else [(where, at)]
    terms = conditions(u)
    found_score: int | None = None
    kinds = asked_kinds(u.question)
    candidates = [c for c in _candidate_tables(toolbox, u, doc)  # a table found by search must state
                  if c[1] is None or not kinds or _states(toolbox, c[0], c[2], kinds)]  # what kind is asked
    for table, score, table_doc in candidates:
        if "lookup" in g.data and (found_score is None or score != found_score):
            break  # a second table only when the question fits it as well as the first ("CE limit")
        named = contains is not None and _names_code(_caption_of(toolbox, table, table_doc), contains)
        for sel, quantity in tries:  # a code the caption says names the table, not a row of it
            result = _lookup(toolbox, table, sel, quantity, table_doc, None if named else contains, terms)
            if result is not None and result.data.get("rows"):
                g.add("lookup_table", _args(table, sel, quantity), result)
                g.data.setdefault("lookup", {"table": result.data["table"], "at": quantity and frequency_label(u),
                                             "where": sel})
                found_score = score
                break
        if found_score is not None and len({c.table for c in g.evidence}) >= MAX_TABLES:
            break
    if "lookup" in g.data:
        answered = sorted({c.doc for c in g.evidence if c.table})
        others = {d: t for t, _, d in reversed(candidates) if d and d not in answered}  # each one's best
        if doc is None and others:  # none named: say which answered and which others could
            g.data["also_in"] = {"answered": answered, "others": [f"{d} ({t})" for d, t in reversed(others.items())]}
        return
    for number in u.clauses[:1]:  # no table row: the clause and its "limit" sub-clauses say it
        result = g.add("get_clause", number, toolbox.get_clause(number, doc))
        limits = [n for n, title in result.data["children"] if "limit" in title.lower()]
        infos = [result.data] + [g.add("get_clause", n, toolbox.get_clause(n, doc)).data for n in limits]
        g.data["clauses"] = infos


def _rows_by_id(toolbox: Toolbox, u: Understanding, doc: str | None, g: Gathered) -> bool:
    """Rows the question names by their own id ("B2.3", "row 6.3") when a table of the
    document has such a row and no clause of that number is named; True when found."""
    ids = [i for i in row_ids(u.question) if i not in u.clauses or re.search(rf"\b(?:row|item|line|entry)\s+{re.escape(i)}", u.question, re.I)]
    found = False
    for table in toolbox.index.tables_with_row(ids, doc)[:MAX_TABLES]:
        result = _lookup(toolbox, table.id, None, frequency(u), table.doc, None, ids + conditions(u))
        if result is not None and result.data.get("rows"):
            g.add("lookup_table", _args(table.id, None, None) + f", row {', '.join(ids)}", result)
            g.data.setdefault("lookup", {"table": table.id, "at": frequency_label(u), "where": None})
            found = True
    return found


def _lookup(toolbox: Toolbox, table: str, where: dict[str, str] | None, at: str | None,
            doc: str | None, contains: str | None = None, terms: list[str] | None = None) -> ToolResult | None:
    try:
        return toolbox.lookup_table(table, where=where, at=at, doc=doc, contains=contains, terms=terms)
    except NotFound:
        return None


def _args(table: str, where: dict[str, str] | None, at: str | None) -> str:
    parts = [table] + ([f"where {where}"] if where else []) + ([f"at {at}"] if at else [])
    return ", ".join(parts)


def _candidate_tables(toolbox: Toolbox, u: Understanding, doc: str | None) -> list[tuple[str, int | None, str | None]]:
    """Tables the question names, else the tables of the clauses it names (and their
    sub-clauses), else the tables that a search for its subject finds, each with how many of
    the question's words its caption says (None for tables named directly) and its document."""
    names = list(u.tables)
    for number in u.clauses[:2]:
        try:
            view = toolbox.index.get_clause(number, doc)
        except NotFound:
            continue
        names += [t.id for t in view.tables]
        for child, _ in view.children:
            names += [t.id for t in toolbox.index.get_clause(child, view.doc).tables]
        # then the tables its text (or a requirement box it holds) points to ("after the
        # discharges of Table B.5", "the limits of Table 3-4")
        said = " ".join([view.clause.text, *(" ".join(map(" ".join, (*t.header, *t.rows))) for t in view.tables)])
        names += [f"Table {m}" for m in _TABLE_MENTION.findall(said) if _has_table(toolbox, f"Table {m}", view.doc)]
    if not names and not u.clauses:
        query = expand_abbreviations(topic_of(u.question))
        hits = [h for h in toolbox.index.search(query + " table limit", 12 if doc else 24, doc) if h.table]
        words = _stems(query)
        # the table whose caption and clause title say most of what was asked, search rank second
        phrases = selector_phrases(u.question)
        asked = ports(u.question)
        wording = {w.test_id: w.score for w in toolbox.wording_tests(expand_abbreviations(u.question))}
        said = [q.text for q in u.quantities if q.unit not in FREQUENCY_UNITS]  # "24 V", "3 m"
        fit = [3 * any(_names_code(h.title or "", code) for code in u.tests)  # "RE 310 limits …" for RE 310
               + 2 * sum(_says_quantity(h.title or "", q) for q in said)  # "… 24 V supply" for "on the 24 V supply"
               + len(words & _stems(f"{h.title} {h.text[:200]}"))
               + 2 * sum(bool(re.search(rf"\b{re.escape(p)}\b", h.title or "", re.I)) for p in phrases)
               + _port_fit(asked, ports(h.title or "")) + _test_fit(toolbox, wording, h.title or "") for h in hits]
        ranked = sorted(range(len(hits)), key=lambda i: (-fit[i], i))
        scored: dict[tuple[str, str], int] = {}
        for i in ranked:  # a table is its document's: "Table 5" of one spec is not another's
            scored.setdefault((hits[i].table, hits[i].doc), fit[i])
        return [(table, score, table_doc) for (table, table_doc), score in scored.items()][:4]
    return [(name, None, doc) for name in dict.fromkeys(names)][:4]


def _test_fit(toolbox: Toolbox, wording: dict[int, float], caption: str) -> int:
    """+2 when the caption's wording points at a test the question's wording points at first
    (a voltage-method table when the wording says a supply voltage is emitted), -1 when only at others."""
    top = max(wording.values(), default=0.0)
    first = [toolbox.matcher.catalogue.by_id(t).family for t, v in wording.items() if v >= top]
    if top < WORDING_STRONG or len(set(first)) > 1:
        return 0  # the wording must point at tests of one family (not "emission or immunity?")
    ranked = toolbox.wording_tests(caption)
    if not ranked or ranked[0].score < WORDING_STRONG:
        return 0
    captioned = [w.test_id for w in ranked if w.score >= ranked[0].score]
    if any(wording.get(t, 0.0) >= top for t in captioned):
        return 2
    return -1 if all(wording.get(t, 0.0) < top - WORDING_SLACK for t in captioned) else 0


def _says_quantity(text: str, quantity: str) -> bool:
    """Does `text` print the quantity ("24 V" in "limits, 24 V supply", also written "24V")?"""
    number, _, unit = quantity.partition(" ")
    return bool(re.search(rf"(?<![\d.,]){re.escape(number)}\s?{re.escape(unit)}(?![A-Za-z/])", text))


def _names_code(text: str, code: str) -> bool:
    """Does `text` name the test code ("RE310" in "RE 310 limits", "RE-310")?"""
    squashed = re.sub(r"[\s\-]+", "", code).upper()
    return any(re.sub(r"[\s\-]+", "", m).upper() == squashed
               for m in re.findall(r"\b[A-Z]{2,5}[\s\-]?[A-Z]?\d{1,4}\b", text or ""))


def _states(toolbox: Toolbox, table: str, doc: str | None, kinds: set[str]) -> bool:
    """Does the table state a quantity of a kind asked ("how long": a length or a time)?"""
    try:
        t = toolbox.index.get_table(table, doc)
    except NotFound:
        return False
    return states_kind(" ".join([t.caption, *(" ".join(r) for r in (*t.header, *t.rows))]), kinds)


def _caption_of(toolbox: Toolbox, table: str, doc: str | None) -> str:
    try:
        t = toolbox.index.get_table(table, doc)
    except NotFound:
        return ""
    return f"{t.id} {t.caption}"


def _port_fit(asked: set[str], captioned: set[str]) -> int:
    """+2 for each port the question and the caption both name; -3 when the caption names only
    other ports (a DC power port question is not answered from the AC mains table)."""
    if not asked or not captioned:
        return 0
    shared = len(asked & captioned)
    return 2 * shared if shared else -3


def _stems(text: str) -> set[str]:
    return {w.lower().rstrip("s") for w in re.findall(r"[A-Za-z]{3,}", text)} - {"the", "and", "for", "table", "limit"}


def _reverse(toolbox: Toolbox, u: Understanding, doc: str | None, g: Gathered) -> None:
    """The places a search for the topic finds, the clauses titled by the topic first."""
    topic = topic_of(u.question)
    query = expand_abbreviations(topic)
    found = toolbox.search_spec(query, 2 * PLACES, doc)
    steered = bool(toolbox.adjust and toolbox.adjust(query))  # engineers' thumbs on this question order it
    ranked = tuple((list(found.evidence) if steered else rank_places(found.evidence, topic))[:PLACES])
    g.add("search_spec", query, replace(found, evidence=ranked, data={**found.data, "hits": len(ranked)}))
    g.data["topic"] = topic
    g.data["hits"] = len(ranked)


def _keywords(toolbox: Toolbox, u: Understanding, doc: str | None, g: Gathered) -> None:
    if u.clauses:
        result = g.add("extract_keywords", u.clauses[0], toolbox.extract_keywords(clause=u.clauses[0], doc=doc))
        g.data["keywords"] = result.data["keywords"]


def _general(toolbox: Toolbox, u: Understanding, doc: str | None, g: Gathered) -> None:
    for number in u.clauses[:2]:
        g.add("get_clause", number, toolbox.get_clause(number, doc))
    found = _search(toolbox, u.question, doc, g)
    _rows_of_found_table(toolbox, u, found, g)


def _rows_of_found_table(toolbox: Toolbox, u: Understanding, found: ToolResult, g: Gathered) -> None:
    """A question of no known kind whose search finds a table first ("ESD handling, contact
    discharge: what R and C?"): the rows its conditions pick out of that table, when they pick some."""
    first = next((c for c in found.evidence[:2] if c.table), None)
    if first is None:
        return
    try:
        size = len(toolbox.index.get_table(first.table, first.doc).rows)
    except NotFound:
        return
    result = _lookup(toolbox, first.table, None, frequency(u), first.doc, None, conditions(u))
    if result is not None and 0 < result.data.get("rows", 0) < size:
        g.add("lookup_table", _args(first.table, None, None), result)
        g.data["lookup"] = {"table": result.data["table"], "at": frequency_label(u), "where": None}
