"""Deterministic understanding of a question: clauses, tables, tests, values, document, intent.

- ``understand(question, documents=()) -> Understanding``: no model involved. ``documents``
  are the loaded document names ("MIL-STD-461G"), or names mapped to titles; "461F",
  "MIL-STD-461", "the 2015 edition" in the question are matched against them (``docnames``).
- ``merge_followup(prev, cur) -> Understanding``: for a follow-up ("and its limits?", "what
  about 5.13?", "and in 461F?") the caller passes the previous turn's understanding; what the
  new question does not name is carried over from it.
- ``find_quantities(text) -> list[Quantity]``: numbers with units ("100 MHz", "±8 kV",
  "62.4 dB(µV)", "150 kHz – 30 MHz" gives two); shared with the citation verifier.
- ``parse_number(text) -> float``: "13,5" → 13.5 (decimal comma), "1,000" → 1000.
- ``canonical_unit(unit) -> str``: "dBuV", "dB(μV)" → "dBµV"; "KHz" → "kHz"; "ohm" → "Ω".

Intents: ``clause`` (what a numbered clause says), ``which_test`` (which standard test a
section is), ``table_value`` (a limit, level, bandwidth… or a named table), ``reverse``
("which clause covers …"), ``keywords``, ``documents`` (what is loaded), ``general``.
When the parse finds no entity and no intent word, a caller may ask the model with the
``understand`` prompt in JSON mode.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from agent.graph.docnames import named_documents
from agent.match.facets import default_facets
from agent.schema import TABLE_WORD

Intent = Literal[
    "clause", "which_test", "table_value", "reverse", "keywords", "documents", "changes", "compare", "general"
]


@dataclass(frozen=True)
class Quantity:
    """A number with its unit as written ("±8 kV") and parsed (8.0, "kV")."""

    value: float
    unit: str  # canonical: "kHz", "dBµV", "V/m", "Ω"
    text: str
    plus_minus: bool = False


@dataclass(frozen=True)
class Understanding:
    """What a question asks about; empty tuples where it names nothing."""

    question: str
    intent: Intent
    clauses: tuple[str, ...] = ()  # "5.16.3.1", "A.2.1", "Annex B"
    tables: tuple[str, ...] = ()  # "Table VIII", "Table 8-1" (as named, "Table" capitalised)
    tests: tuple[str, ...] = ()  # "RE102", "CS114", "RI 114"
    quantities: tuple[Quantity, ...] = ()
    documents: tuple[str, ...] = ()  # loaded document names the question names
    followup: bool = False

    @property
    def document(self) -> str | None:
        """The one document named, or None (none or several)."""
        return self.documents[0] if len(self.documents) == 1 else None

    @property
    def has_subject(self) -> bool:
        return bool(self.clauses or self.tables or self.tests)


# -- quantities -----------------------------------------------------------------------------
_MU = "[uµμ]"
_DB = rf"dB\s?(?:\(\s?(?:{_MU}[VA](?:/m)?|pT|m|W)\s?\)|{_MU}[VA](?:/m)?|pT|m|c|i|W)?"
_UNITS = [
    _DB,
    r"(?i:[kmg]?hz)",
    rf"(?:k|m|{_MU})?V/m",
    rf"(?:{_MU}|m)?A/m",
    r"kV",
    r"mV",
    rf"{_MU}V",
    r"V",
    r"kA",
    r"mA",
    rf"{_MU}A",
    r"A",
    r"mW",
    r"kW",
    r"W",
    r"ms",
    rf"{_MU}s",
    r"ns",
    r"s",
    rf"(?:{_MU}|m)T",
    r"[kM]?Ω",
    r"(?i:[km]?ohms?)",
    rf"[pn{_MU[1:-1]}]F",
    rf"[n{_MU[1:-1]}m]H",
    r"mm",
    r"cm",
    r"m",
    r"%",
    r"°C",
]
_NUM = r"\d+(?:[.,]\d+)?"
_PM = r"(?:±|\+/-|\+/−|\+-)"
_QTY = re.compile(
    rf"(?<![\w.])(?P<pm>{_PM}\s?)?(?P<neg>[-−](?=\d))?(?P<a>{_NUM})"
    rf"(?:\s?(?:-|–|—|to)\s?(?P<b>{_NUM}))?\s?(?P<unit>{'|'.join(_UNITS)})(?![\wµμ/(])"
)
_UNIT_CASE = {
    "hz": "Hz",
    "khz": "kHz",
    "mhz": "MHz",
    "ghz": "GHz",
    "ohm": "Ω",
    "ohms": "Ω",
    "kohm": "kΩ",
    "kohms": "kΩ",
}


def canonical_unit(unit: str) -> str:
    """One spelling per unit: micro as µ, no spaces or brackets in dB units, Hz cased."""
    u = re.sub(r"[\s()]", "", unit).replace("μ", "µ")
    u = re.sub(r"u(?=[VAsTFH])", "µ", u)
    return _UNIT_CASE.get(u.lower(), u)


def parse_number(text: str) -> float:
    """ "13,5" is 13.5 (decimal comma); "1,000" is 1000 (thousands)."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", text):
        return float(text.replace(",", ""))
    return float(text.replace(",", "."))


def find_quantities(text: str) -> list[Quantity]:
    """Numbers with units in ``text``, in order; a range "150 kHz – 30 MHz" gives both ends."""
    out = []
    for m in _QTY.finditer(text):
        unit = canonical_unit(m["unit"])
        pm = bool(m["pm"])
        sign = -1.0 if m["neg"] else 1.0
        if m["b"] is not None:
            out.append(Quantity(sign * parse_number(m["a"]), unit, f"{m['a']} {unit}", pm))
            out.append(Quantity(parse_number(m["b"]), unit, f"{m['b']} {unit}", pm))
        else:
            out.append(Quantity(sign * parse_number(m["a"]), unit, m.group(0).strip(), pm))
    return out


# -- clauses, tables, tests ----------------------------------------------------------------
_ROMAN = r"[IVXLC]+"
_TABLE = re.compile(
    rf"\b{TABLE_WORD}\s+(?P<id>{_ROMAN}\b|[A-Z]?\d+(?:[.\-–]\d+)*[a-z]?\b|[A-Z]\.\d+(?:\.\d+)*)",
    re.IGNORECASE,
)
_FIGURE = re.compile(r"\b(?:figure|fig\.)\s*[A-Z]?[\d.\-–]+", re.IGNORECASE)
_CLAUSE = re.compile(r"(?<![\w.±+\-−])(?:[A-H]\.\d+(?:\.\d+)*|[1-9]\d?(?:\.\d+)+)(?!\w|\.\d)")
_CLAUSE_WORD = re.compile(
    r"(?:\b(?:clause|section|sect\.|paragraph|para\.)\s*|§\s*)(?P<n>[1-9]\d?)\b(?!\.\d)",
    re.IGNORECASE,
)
_ANNEX = re.compile(r"\b(annex|appendix)\s+([A-H])\b", re.IGNORECASE)
_TEST = re.compile(r"\b(?P<fam>CE|CS|RE|RS|RI|CI)\s?(?P<num>\d{3})\b")
# An OEM's own test or test-sheet id: capitals, a hyphen, digits ("CI-05", "ESD-07", "EMC-P06",
# "EMV-13"); not a standard's number ("CISPR-25", "MIL-STD-461").
_OEM_TEST = re.compile(r"(?<![\w-])(?!(?:ISO|IEC|CISPR|SAE|EN|MIL|STD|DIN|JASO|GB|UN|ECE|DO)-)"
                       r"[A-Z]{2,5}-[A-Z]?\d{1,3}(?![\w-])")


def _tables(text: str) -> list[str]:
    out = []
    for m in _TABLE.finditer(text):
        ident = m["id"]
        ident = ident.upper() if re.fullmatch(_ROMAN, ident, re.IGNORECASE) else ident
        out.append(f"Table {ident}")
    return out


def _clauses(text: str) -> list[str]:
    masked = _TABLE.sub(" ", _FIGURE.sub(" ", text))
    masked = _QTY.sub(" ", masked)  # "13.5 V", "1.5 MHz" are values, not clauses
    found = [(m.start(), m.group(0)) for m in _CLAUSE.finditer(masked)]
    found += [(m.start(), m["n"]) for m in _CLAUSE_WORD.finditer(masked)]
    found += [(m.start(), f"{m[1].capitalize()} {m[2].upper()}") for m in _ANNEX.finditer(masked)]
    return [number for _pos, number in sorted(found)]


def _tests(text: str) -> list[str]:
    found = []
    for m in _TEST.finditer(text):
        # MIL-STD ids are written together (RE102); OEM ids keep their space ("RI 114").
        found.append((m.start(), f"{m['fam']} {m['num']}" if m["fam"] in ("RI", "CI") else f"{m['fam']}{m['num']}"))
    found += [(m.start(), m.group(0)) for m in _OEM_TEST.finditer(text)]
    return [code for _, code in sorted(found)]


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


# -- intent --------------------------------------------------------------------------------
_DOCS_Q = re.compile(
    r"\b(which|what) (documents?|specs?|specifications?|standards?|files?) (are|do you|have|did)"
    r"|\b(list|show)( the| all)? (documents?|specs?|specifications?|files?)\b"
    r"|\bwhat (is|has been) (loaded|indexed|ingested)\b",
    re.IGNORECASE,
)
# Asking for a place in the document: a location noun is what the question asks for ("which
# section tells me…", "what part of the document explains…", "where is … described"), whatever the verb.
_REVERSE = re.compile(
    r"\b(which|what) (clause|section|paragraph|part|chapter|annex|appendix|sub-?clause|sub-?section|page)s?"
    r"\b(?! (number|title|of (the|this) (table|figure))\b)"
    r"|\bwhere\b(?:['’]s| (is|are|does|do|can|in|would|will|should))\b",
    re.IGNORECASE,
)
_WHICH_TEST = re.compile(
    r"\b(which|what)(['’]s)?( (of )?[\w-]+){0,2} tests?\b"
    r"(?! (level|limit|setup|set-up|voltage|current|frequenc|time|duration|report|plan|equipment|condition))"
    r"|\bmaps? to\b|\bmap\b.{1,40}\bto\b|\bcorresponds? to\b|\btest (id|type)\b|\bcatalog(ue)?\b"
    r"|\bequivalent test\b|\bwhich test\b|\b(which|what) (reference |test )?(standards?|stds?|norms?)\b(?! (level|limit))"
    r"|\b(which|what) (iso|cispr|iec|sae|en) (part|number|standard|document|std)s?\b"
    r"|\b(?:test )?(?:standard|std)s? (?:for|of|used|applied|behind)\b",
    re.IGNORECASE,
)
# Asking what to run without saying "which test": a question word, then a verb of testing
# (run, perform, carry out, test for/on), or "ask/call/require … any … test", or "what kind of test".
_RUN_CUE = re.compile(
    r"\b(what|which|anything|any|is there)\b[^?.]{0,80}?\b(run|perform|carry out"
    r"|test(?:ed|ing)? (?:for|against|on)|need to test|have to test|qualif(?:y|ication) test)\b"
    r"|\b(?:ask|asks|call|calls|require|requires)\b[^?.]{0,30}\b(?:any|a|an|which|what)\b[^?.]{0,40}\btests?\b"
    r"|\bwhat (?:kind|sort|type) of tests?\b|\bwhat tests?\b(?! (level|limit|setup|set-up|voltage|current|frequenc|time|duration|report|plan|equipment|condition|procedure|method))"
    r"|\b(?:what|which) requirements? (?:covers?|applies|apply|governs?|is that|handles?)\b",
    re.IGNORECASE,
)
# Asking what to do ("what do I run", "which tests must be performed"): a "which clause covers
# the acceptance test for …" question stays a question about a clause.
_RUN_VERB = re.compile(r"\b(run|perform|performed|carry out|carried out|do i|do we|must i|must we|have to)\b", re.IGNORECASE)
# A kind of test asked for in other words (a "check", "measurement" or "qualification" that is
# needed, something we must "show" or "prove"): counts only when the wording names how the test couples (a path facet)
# and asks for no value, so "what supply voltage do I need to set" stays a value question.
_SOFT_TEST = re.compile(
    r"\b(?:what|which)(?:\s+(?:kind|sort|type)\s+of)?(?:\s+[\w/-]+){0,3}?\s+(?:tests?|testing|checks?|measurements?"
    r"|qualifications?|verifications?|assessments?|evaluations?|trials?|demonstrations?|procedures?)\b"
    r"(?! (?:level|limit|setup|set-up|voltage|current|frequenc|time|duration|report|plan|equipment|condition))"
    r"|\bhow\b[^?.]{0,60}?\b(?:measured|tested|verified|assessed|demonstrated)\b"
    r"|\bhow (?:do|must|should|shall|can|will|would|to)(?: (?:i|we|you|they))?(?: \w+){0,2}? (?:verify|test|check|show"
    r"|prove|demonstrate|qualify|measure|assess)\b"
    r"|\b(?:what|which|anything)\b[^?.]{0,40}?\b(?:do|must|should|shall|will)\s+(?:i|we|you|they|it)\s+(?:\w+\s+){0,2}?"
    r"(?:do|run|show|prove|demonstrate|perform|pass|verify|meet|carry out)\b",
    re.IGNORECASE,
)
# What asks for a number or a table rather than a test ("what limit", "how long", "which table").
_ASKS_VALUE = re.compile(
    r"\b(limits?|levels?|bandwidths?|values?|amplitudes?|field strengths?|tolerances?|durations?|dwell"
    r"|step sizes?|rise times?|severity|how (much|high|long|strong|many|far)|tables?)\b", re.IGNORECASE)
def asks_for_value(question: str) -> bool:
    """Does the question ask for a number (a limit, a level, "how long") besides anything else?"""
    return bool(_ASKS_VALUE.search(question) or _VALUE.search(question))


# Two editions or two OEMs' specs side by side.
_CHANGES = re.compile(r"\b(?:what|which|anything)\b[^?]{0,60}?\b(?:changed?|changes|new|different|differences?|differs?)\b"
                      r"|\bdiff\b|\bsince\b[^?]{0,40}\bchanged?\b", re.IGNORECASE)
_COMPARE = re.compile(r"\bcompar(?:e|ed|ing|ison)\b|\bstrict(?:er|est)\b|\bmore stringent\b|\bside by side\b", re.IGNORECASE)
_ACROSS = re.compile(r"\b(?:oems?|documents|specs|specifications|all (?:the )?(?:loaded )?(?:docs|documents|specs))\b",
                     re.IGNORECASE)


# "What <quantity> …": the question asks for a value, whatever verb follows ("what voltage do we run at").
_ASKS_QUANTITY = re.compile(
    r"\b(?:what|which)(?: \w+)?? (?:voltages?|currents?|levels?|limits?|lengths?|distances?|heights?|temperatures?"
    r"|durations?|frequenc(?:y|ies)|field strengths?|bandwidths?|resistances?|capacitances?|values?|times?)\b"
    r"(?! (?:method|probe|test|tests)\b)", re.IGNORECASE)


# A question about a clause that also wants to know which test it is ("what does 5.16 have me measure").
TEST_CUE = re.compile(r"\b(tests?|testing|measure|measured|measuring|run|perform|procedure|method)\b", re.IGNORECASE)
_KEYWORDS = re.compile(r"\bkey ?words?\b", re.IGNORECASE)
_VALUE = re.compile(
    r"\b(limits?|levels?|bandwidths?|dwell( time)?|step sizes?|severity|values?|amplitudes?|"
    r"field strengths?|rise times?|how (much|high|long|strong|many)|(net |forward )?power|"
    r"tuner positions?|(measurement|test) time|absorption|tolerances?|peak|average|avg|quasi-peak|qp|"
    r"(pulse|curve|level|class|category|band)\s+(no\.?\s*)?([0-9]+[a-z]?|[IVX]+)\b)",
    re.IGNORECASE,
)
_CLAUSE_Q = re.compile(
    r"\b(say|says|said|require|requires|state|states|mean|means|content|text|show)\b", re.IGNORECASE
)
_FOLLOWUP_LEAD = re.compile(
    r"^\s*(and|also|then|what about|how about|and what about|same (for|in|with)|the same"
    r"|ok(ay)?,? and)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"\b(it|its|that|this|those|these|them|their)\b", re.IGNORECASE)
_SAME = re.compile(r"\bthe same\b", re.IGNORECASE)


def _intent(q: str, clauses: Sequence[str], tables: Sequence[str], quantities: bool, documents: int = 0) -> Intent:
    if _DOCS_Q.search(q):
        return "documents"
    if documents >= 2 and _CHANGES.search(q):
        return "changes"  # "what changed in CS114 from 461F to 461G?"
    if _COMPARE.search(q) and (documents >= 2 or _ACROSS.search(q)):
        return "compare"  # "compare the RE limits of ACME and HM at 100 MHz"
    if _KEYWORDS.search(q):
        return "keywords"
    if _REVERSE.search(q) and not clauses and not _RUN_VERB.search(q):
        return "reverse"
    if _ASKS_QUANTITY.search(q) and not _WHICH_TEST.search(q) and _RUN_CUE.search(q):
        return "table_value"  # "what supply voltage do we run 12 V parts at?": a value, not a test
    if _WHICH_TEST.search(q) or (_RUN_CUE.search(q) and not tables):
        return "which_test"
    if not tables and not _ASKS_VALUE.search(q) and _SOFT_TEST.search(q) and "path" in default_facets().read(q):
        return "which_test"
    if tables or quantities or _VALUE.search(q):
        return "table_value"
    if clauses:
        return "clause"
    return "general"


def _is_followup(q: str, has_subject: bool) -> bool:
    """Leads with "and"/"what about"/"same for", says "the same", or is a short question
    with a pronoun and no subject of its own ("what does it say?")."""
    if _FOLLOWUP_LEAD.search(q) or _SAME.search(q):
        return True
    return bool(_PRONOUN.search(q)) and not has_subject and len(re.findall(r"\w+", q)) <= 10


def understand(question: str, documents: Sequence[str] | Mapping[str, str] = ()) -> Understanding:
    """Parse a question without a model; ``documents`` are the loaded document names (or a
    mapping of each name to its title, whose standard numbers the question may use instead)."""
    q = question.strip()
    tables = _unique(_tables(q))
    clauses = _unique(_clauses(q))
    tests = _unique(_tests(q))
    docs = named_documents(q, documents if isinstance(documents, Mapping) else dict.fromkeys(documents, ""))
    quantities = tuple(find_quantities(q))
    return Understanding(
        question=q,
        intent=_intent(q, clauses, tables, bool(quantities), len(docs)),
        clauses=clauses,
        tables=tables,
        tests=tests,
        quantities=quantities,
        documents=docs,
        followup=_is_followup(q, bool(clauses or tables or tests)),
    )


def merge_followup(prev: Understanding | None, cur: Understanding) -> Understanding:
    """``cur`` completed from ``prev`` when ``cur`` is a follow-up; otherwise ``cur`` unchanged.

    The subject (clauses, tables, tests) comes whole from ``cur`` if it names one, else from
    ``prev`` together with ``prev``'s quantities when ``cur`` names none; documents carry over
    when ``cur`` names none. The intent is ``prev``'s unless ``cur`` says what it wants:
    "what about 5.13?" after a limit question asks for 5.13's limit.
    """
    if prev is None or not cur.followup:
        return cur
    changes: dict[str, object] = {}
    if not cur.has_subject:
        changes.update(clauses=prev.clauses, tables=prev.tables, tests=prev.tests)
        if not cur.quantities:
            changes["quantities"] = prev.quantities
    if not cur.documents:
        changes["documents"] = prev.documents
    weak = cur.intent == "general" or (
        cur.intent == "clause" and not _CLAUSE_Q.search(cur.question)
    )
    if weak:
        changes["intent"] = prev.intent
    return replace(cur, **changes)
