"""Citation verifier: each [n] exists; each number-with-unit is in the evidence its sentence cites.

``verify(answer, evidence) -> VerifyResult`` where ``evidence`` maps each item's number to
the text the model saw (``{c.n: c.text for c in citations}``). Rules:

1. Every cited ``[n]`` (also ``[1, 2]``, ``[1][2]``, ``[1–3]``) is an evidence number, else
   "[3] is not in the evidence list".
2. A sentence's citations are the evidence for the numbers in it: each number with a unit
   ("62.4 dB(µV)", "±8 kV", "100 kHz", "200 mA", "13.5 V") must appear in one of them, else
   "the number 55 dBµV does not appear in evidence [2]". Units are compared in one spelling
   (µ/u/μ, "dB(µV)" = "dBuV" = "dBµV", KHz = kHz), values as numbers ("13,5" = "13.5");
   a table item that prints the number and its unit apart ("Limit (dBµV) … 62.4") also counts.
3. A statement with no citation is flagged; exempt are questions, headings, lead-ins ending in
   ":", short phrases (< 4 words) and sentences saying the documents do not answer. A list item
   without its own citation takes those of the line that introduces the list.

``problems`` are phrased to be fed back to the model through the ``retry`` prompt.
Numbers without a unit (clause numbers, class numbers) are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from agent.graph.understand import Quantity, canonical_unit, find_quantities, parse_number

_CITE = re.compile(r"\[(\d+(?:\s*(?:[,;]|–|-|and)\s*\d+)*)\]")
_ABBREV = re.compile(
    r"\b(p|pp|e\.g|i\.e|fig|no|approx|vs|cf|ca|incl|ref|sec|min|max|nom|Ed|Rev)\.", re.IGNORECASE
)
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(\[*•]|\d+\.\s)")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_NO_ANSWER = re.compile(
    r"\b(do(es)? not (answer|cover|say|mention|specify|state|contain|give|define|include)|"
    r"not (found|covered|stated|given|specified|mentioned) in|no (information|evidence|mention)|"
    r"(could|can)( ?not|'t) find|not in the (evidence|documents?))\b",
    re.IGNORECASE,
)
_MARK = "\x00"
_LEAD_CITES = re.compile(r"^(?:\s*\[\d[^\]]*\])+[\s.;,]*")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?")
_UNIT_WORD = re.compile(r"dB\s?\(?\s?[uµμ]?[VA]?(?:/m)?\)?|[^\W\d_]+(?:/m)?|%|°C")


@dataclass(frozen=True)
class VerifyResult:
    """ok when nothing is wrong; problems phrased for the model; cited: valid [n] used, sorted."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)


def citations_in(text: str) -> list[int]:
    """The evidence numbers cited in ``text``, in order of appearance (ranges expanded)."""
    out: list[int] = []
    for m in _CITE.finditer(text):
        for part in re.split(r"\s*(?:[,;]|and)\s*", m.group(1)):
            bounds = re.split(r"\s*[–-]\s*", part)
            lo, hi = int(bounds[0]), int(bounds[-1])
            out.extend(range(lo, hi + 1) if hi >= lo and hi - lo < 50 else [lo, hi])
    return list(dict.fromkeys(out))


def _sentences(line: str) -> list[str]:
    protected = _ABBREV.sub(lambda m: m.group(0)[:-1] + _MARK, line)
    parts = [p.replace(_MARK, ".").strip() for p in _SPLIT.split(protected)]
    merged: list[str] = []
    for part in parts:
        lead = _LEAD_CITES.match(part)
        if merged and lead and not citations_in(merged[-1]):  # "… 34 dBµV. [2] Next …"
            merged[-1] += " " + lead.group(0).strip()
            part = part[lead.end() :].strip()
        if part:
            merged.append(part)
    return merged


def _units(text: str) -> tuple[str, set[tuple[float, str]], set[float], set[str]]:
    quantities = find_quantities(text)
    numbers = {parse_number(n) for n in _NUMBER.findall(text)}
    units = {canonical_unit(u) for u in _UNIT_WORD.findall(text)}
    return text, {(abs(q.value), q.unit) for q in quantities}, numbers, units


def _supported(q: Quantity, item: tuple[str, set[tuple[float, str]], set[float], set[str]]) -> bool:
    _text, quantities, numbers, units = item
    if (abs(q.value), q.unit) in quantities:
        return True
    return abs(q.value) in numbers and q.unit in units  # a table: "Limit (dBµV)" … "62.4"


def _exempt(sentence: str) -> bool:
    plain = _CITE.sub("", sentence).strip()
    return (
        not plain
        or plain.startswith("#")
        or plain.endswith(("?", ":"))
        or len(re.findall(r"\w+", plain)) < 4
        or bool(_NO_ANSWER.search(plain))
    )


def _short(sentence: str) -> str:
    s = " ".join(sentence.split())
    return s if len(s) <= 90 else s[:87] + "..."


def verify(answer: str, evidence: Mapping[int, str]) -> VerifyResult:
    """Check an answer's citations and numbers against numbered evidence (see module doc)."""
    if not answer.strip():
        return VerifyResult(
            False, ["the answer is empty; answer from the evidence with [n] citations"]
        )
    items = {n: _units(text) for n, text in evidence.items()}
    problems: list[str] = []
    used: set[int] = set()
    lead_cites: list[int] = []
    for line in answer.splitlines():
        if not line.strip():
            continue
        bullet = bool(_BULLET.match(line))
        for sentence in _sentences(line):
            cites = citations_in(sentence) or (lead_cites if bullet else [])
            problems += _check(sentence, cites, items)
            used.update(n for n in cites if n in items)
        if not bullet:  # a list takes the citations of the line that introduces it
            lead_cites = citations_in(line)
    problems = list(dict.fromkeys(problems))
    return VerifyResult(not problems, problems, sorted(used))


def _check(sentence: str, cites: list[int], items: Mapping[int, tuple]) -> list[str]:
    problems = [f"[{n}] is not in the evidence list" for n in cites if n not in items]
    valid = [n for n in cites if n in items]
    quantities = find_quantities(_CITE.sub(" ", sentence))
    if not cites:
        if quantities:
            shown = _short(sentence)
            return [f'the statement "{shown}" gives {quantities[0].text} without a citation [n]']
        return (
            [] if _exempt(sentence) else [f'the statement "{_short(sentence)}" has no citation [n]']
        )
    if not valid:
        return problems
    where = ", ".join(f"[{n}]" for n in valid)
    for q in quantities:
        if not any(_supported(q, items[n]) for n in valid):
            shown = f"{'±' if q.plus_minus else ''}{q.value:.10g} {q.unit}"
            problems.append(f"the number {shown} does not appear in evidence {where}")
    return problems
