"""Extractive answers: what the tools found, said plainly with [n] citations, no language model.

Used in offline mode, and as the fallback when an LLM answer fails the citation check twice.
Every sentence cites the evidence it was taken from; numbers are copied from that evidence.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from agent.graph.injection import instruction_in
from agent.graph.side_by_side import answer_changes, answer_comparison
from agent.match.signals import standards_named
from agent.match.units import DETECTOR_OF
from agent.schema import Citation

OFFLINE_MARK = "Offline answer (from the documents, no language model):"
SNIPPET = 400


def where(c: Citation) -> str:
    """"MIL-STD-461G §5.12, p. 77" (printed page in brackets when it differs)."""
    parts = [c.doc + (f" §{c.clause}" if c.clause else "")]
    if c.table:
        parts.append(c.table)
    if c.page is not None:
        label = f" (printed {c.page_label})" if c.page_label and c.page_label != str(c.page) else ""
        parts.append(f"p. {c.page}{label}")
    elif c.position is not None:  # DOCX: no pages; the heading's paragraph number in the body
        parts.append(f"paragraph {c.position}")
    return ", ".join(parts)


def sources(evidence: Sequence[Citation]) -> str:
    return "\n".join(f"[{c.n}] {where(c)}" for c in evidence)


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[:SNIPPET].rsplit(" ", 1)[0] + " …"


def _by_clause(evidence: Sequence[Citation], doc: str, clause: str) -> Citation | None:
    return next((c for c in evidence if c.doc == doc and c.clause == clause and not c.table), None)


def which_test(match: dict[str, Any], evidence: Sequence[Citation], standards: dict[int, str]) -> str:
    c = _by_clause(evidence, match["doc"], match["clause"]) if match.get("clause") else None
    cite = f" [{c.n}]" if c else ""
    head = f"{match['clause']} — {match['title']}." if match.get("clause") else f"{match['title']}."
    above = _by_clause(evidence, match["doc"], match["under"]) if match.get("under") else None
    if above is not None:  # a sub-clause ("Acceptance") under the heading that names the test
        head = f"{match['clause']} — {match['title']}, under {above.clause} — {above.title} [{above.n}]."
    if match.get("abstain") or not match.get("tests"):
        named = standards_in(f"{match.get('title') or ''} {c.text if c else ''}")
        calls = f" It names {', '.join(named)}{cite}." if named else ""
        return f"{head} No standard test of the catalogue applies to this clause{cite}.{calls}"
    tests = [f"{t['name']}" + (f" ({_standard_of(t, standards)})" if _standard_of(t, standards) else "")
             + f", score {t['score']:.2f}" for t in match["tests"]]
    label = "Standard test" if len(tests) == 1 else "Standard tests"
    row = _row_citation(evidence, match)
    if row is not None:  # the tests come from the rows of a table the clause refers to
        return (f"{head} {label}: {'; '.join(tests)}{cite}. {match['tests'][0]['name']} is the row of "
                f"{match['table']}: \"{_snippet(row.text)}\" [{row.n}].")
    why = "; ".join(match["tests"][0].get("evidence", [])[:2])
    return f"{head} {label}: {'; '.join(tests)}{cite}." + (f" Matched on: {why}." if why else "")


_STANDARD_REF = re.compile(r"\b(?:ISO|IEC|CISPR|SAE\s?J|EN|MIL-STD-|RTCA/DO-|DO-)[\s\u00a0]{0,2}\d{2,5}(?:-\d+)*")


def standards_in(text: str) -> list[str]:
    """The standards a text names ("ISO 16750-2", "CISPR 25"), once each, in order."""
    return list(dict.fromkeys(" ".join(m.group(0).split()) for m in _STANDARD_REF.finditer(text)))


def _standard_of(test: dict[str, Any], standards: dict[int, str]) -> str:
    """The standards the clause itself named for this test, else the test's own first one."""
    return ", ".join(standards_named(test.get("evidence", []))) or standards.get(test["id"], "")


def _row_citation(evidence: Sequence[Citation], match: dict[str, Any]) -> Citation | None:
    if not match.get("table") or not match.get("tests"):
        return None
    row = (match.get("row_for") or {}).get(match["tests"][0]["id"])
    return next((c for c in evidence if c.doc == match["doc"] and c.table == match["table"] and c.row == row), None)


def _beyond_number(question: str, number: str | None) -> str:
    """What a clause question asks besides naming the clause ("" for "what does 5.13 say?")."""
    rest = question.replace(number or "", " ")
    words = [w for w in _WORD.findall(rest) if w.lower() not in _STOPWORDS | {"say", "says", "clause",
                                                                                "section", "paragraph", "cover"}]
    return rest if len(words) >= 2 else ""


def clause(evidence: Sequence[Citation], data: dict[str, Any]) -> str:
    lines = []
    for info in data.get("clauses", []):
        c = _by_clause(evidence, info["doc"], info["clause"])
        if c is None:
            continue
        quote = best_sentence(c.text, _beyond_number(data.get("question", ""), c.clause), f"{c.clause} {c.title}")
        lines.append(f"{c.clause} — {c.title} ({where(c)}): " + (f'"{quote}"' if quote else _snippet(c.text))
                     + f" [{c.n}]")
        if info.get("others"):
            lines.append(f"The same clause number also exists in {', '.join(info['others'])}.")
    return "\n".join(lines)


def table_rows(evidence: Sequence[Citation], data: dict[str, Any]) -> str:
    """The rows found, grouped by table, each table introduced by its id, caption and document."""
    at = data.get("lookup", {}).get("at")
    lines: list[str] = []
    for table in dict.fromkeys(c.table for c in evidence if c.table):
        rows = [c for c in evidence if c.table == table]
        first = rows[0]
        lines.append(f"{first.table} ({first.title}), {first.doc}" + (f", at {at}" if at else "") + ":")
        for c in rows:
            if c.row is None and "\n|" in c.text:  # the whole table: a markdown table of its own
                lines += ["", f"{c.text}", f"[{c.n}]", ""]
                continue
            asked = asked_cells(c.text, data.get("question", ""))
            lines.append(f"- {c.text} [{c.n}]" + (f"\n  - the cell asked for: {asked} [{c.n}]" if asked else ""))
    return "\n".join(lines)


_LABEL_WORD = re.compile(r"[a-zµ]+(?:-[a-z]+)*|\d+(?:[.,]\d+)?\s?m\b", re.IGNORECASE)
_LABEL_STOP = {"db", "µv", "µa", "uv", "ua", "limit", "limits", "level", "levels", "mhz", "khz", "hz", "ghz",
               "the", "of", "for", "and", "in", "at", "to", "m", "v", "a"}


def asked_cells(row: str, question: str) -> str:
    """The cells of a looked-up row ("label: value; …") whose column says what the question asks
    and the other value columns do not ("class B" and "quasi-peak" → "Class B Quasi-peak dB(µV)")."""
    pairs = [p.split(": ", 1) for p in row.split("; ") if ": " in p]
    wanted = {DETECTOR_OF.get(w.lower(), w.lower()) for w in _LABEL_WORD.findall(question)} - _LABEL_STOP
    wanted |= {f"class {m.lower()}" for m in re.findall(r"\bclass\s+([A-Z0-9])\b", question, re.I)}
    scores = []
    for label, value in pairs:
        if not re.search(r"\d", value):
            continue
        said = {DETECTOR_OF.get(w.lower(), w.lower()) for w in _LABEL_WORD.findall(label)} - _LABEL_STOP
        said |= {f"class {m.lower()}" for m in re.findall(r"\bclass\s+([A-Z0-9])\b", label, re.I)}
        scores.append((len(wanted & said), label, value))
    best = max((sc for sc, _, _ in scores), default=0)
    picked = [f"{label}: {value}" for sc, label, value in scores if sc == best]
    return "; ".join(picked) if best and len(picked) < len(scores) else ""


_WORD = re.compile(r"[A-Za-zµ]{3,}|\d+(?:\.\d+)?")
_SENTENCE = re.compile(r"(?<=[.;:!?])(?<!\b[a-z]\.)\s+(?=[A-Z(])|\n(?=[a-z]\.|\(\d+\)|[A-Z])")
_LIST_ITEM = re.compile(r"^([a-z]\.|\(\d+\)|[-•*]|[A-Z][a-z]+ [A-Z0-9]{1,3}:)\s")
QUOTED_HITS = 3
MAX_QUOTED_SENTENCES = 3


def _stem(word: str) -> str:
    """A word without its inflection ("reached", "reaching", "reaches" → "reach"), so a sentence
    says what a question asks in another tense."""
    w = word.lower()
    for ending in ("ing", "ed", "es", "s"):
        if len(w) > len(ending) + 3 and w.endswith(ending):
            w = w[: -len(ending)]
            break
    return w[:-1] if len(w) > 4 and w.endswith("e") else w  # "measure", "measured" → "measur"


_NUMBER_WORD = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|"
                          r"thirty|hundred|thousand|once|twice|half)\b", re.IGNORECASE)
_ASKS_VALUE = re.compile(r"\b(?:how (?:long|many|much|far|often|high|large|big|fast|soon)|what (?:is|are) the"
                         r"|minimum|maximum|at least|at most|interval|rate|length|distance|duration|range|"
                         r"limit|level|value|frequenc)", re.IGNORECASE)
_STOPWORDS = {"what", "which", "does", "the", "and", "for", "with", "that", "this", "are", "have", "how", "must",
              "shall", "from", "into", "when", "where", "our", "per", "any", "there"}


# Numbers that name something rather than state a value: standards, tables, figures, clauses, codes.
_REFERENCE = re.compile(
    r"\b(?:ISO|CISPR|IEC|EN|SAE|MIL-STD|DO|RTCA|UN|ECE|Table|Figure|Fig\.|Annex|Appendix|clause|section|"
    r"paragraph)[\s\-]*[A-Z]?[\d.\-:/]+\b|\b\d+(?:\.\d+){2,}\b", re.IGNORECASE)
_CODE = re.compile(r"\b[A-Z]{2,4}[\s\-]?\d{2,4}\b")  # test codes: RE 310, CS114


def states_value(text: str) -> bool:
    """Does the text state a value (a number that is not a reference to a standard, table,
    clause or test code, or a number written as a word)?"""
    return bool(re.search(r"\d", _CODE.sub(" ", _REFERENCE.sub(" ", text))) or _NUMBER_WORD.search(text))


def _sentence_score(flat: str, wanted: set[str], value_bonus: float) -> float:
    said = len(wanted & {_stem(w) for w in _WORD.findall(flat)})
    has_value = states_value(flat)
    return said + (value_bonus if has_value and said else 0.0)


def best_sentence(text: str, query: str, heading: str = "") -> str:
    """The sentence of `text` that shares most words with `query` (one that states a value
    weighs more when the question asks for one), and the next best when it is nearly as good;
    the clause's own heading line does not count as a sentence."""
    wanted = {_stem(w) for w in _WORD.findall(query)} - _STOPWORDS
    bonus = 0.6 if _ASKS_VALUE.search(query) else 0.1
    heading = " ".join(heading.split())
    sentences = [" ".join(part.split()) for part in _SENTENCE.split(text)]
    sentences = [x for x in sentences if not heading or x != heading]
    scores = [_sentence_score(flat, wanted, bonus) if len(flat) >= 12 and not instruction_in(flat) else 0.0
              for flat in sentences]  # a sentence that addresses an assistant is never quoted as the answer
    ranked = sorted((i for i in range(len(sentences)) if scores[i] > 0), key=lambda i: (-scores[i], i))
    if not ranked:
        return ""
    best = ranked[0]
    if re.match(r"^([a-z]\.|\(\d+\))\s", sentences[best]):  # a list item: quote the list from its opener
        opener = next((k for k in range(best - 1, max(-1, best - 7), -1) if sentences[k].endswith(":")), None)
        if opener is not None:
            return _with_list(sentences, opener)
    if sentences[best].endswith(":") or sentences[best].endswith("follows."):
        return _with_list(sentences, best)
    picked = [best]
    covered = wanted & {_stem(w) for w in _WORD.findall(sentences[best])}
    for _ in range(MAX_QUOTED_SENTENCES - 1):  # a question asking two things: the sentence saying the other
        gains = {i: len((wanted - covered) & {_stem(w) for w in _WORD.findall(sentences[i])}) for i in ranked
                 if i not in picked}
        nxt = max(gains, key=lambda i: (gains[i], scores[i]), default=None)
        if nxt is None or gains[nxt] == 0:
            break
        picked.append(nxt)
        covered |= {_stem(w) for w in _WORD.findall(sentences[nxt])}
    picked.sort()
    quote = sentences[picked[0]]
    for prev, i in zip(picked, picked[1:]):
        quote += (" " if i == prev + 1 else " … ") + sentences[i]
    return quote if len(quote) <= 2 * SNIPPET else quote[: 2 * SNIPPET].rsplit(" ", 1)[0] + " …"


def _body(text: str, heading: str) -> str:
    """The clause's text as one line, its own heading left out."""
    flat = " ".join(text.split())
    title = " ".join(heading.split()).rstrip(".:")
    return flat[len(title):].lstrip(" .:—–-") if title and flat.startswith(title) else flat


def lead_sentence(text: str, heading: str = "") -> str:
    """The clause's opening sentence, its own heading (run in or on a line of its own) left out:
    what a clause opens with is what it is about."""
    title = " ".join(heading.split()).rstrip(".:")
    for part in _SENTENCE.split(text):
        flat = " ".join(part.split())
        if title and flat.startswith(title):
            flat = flat[len(title):].lstrip(" .:—–-")
        if len(flat) >= 12 and not instruction_in(flat):
            return flat if len(flat) <= SNIPPET else flat[:SNIPPET].rsplit(" ", 1)[0] + " …"
    return ""


def _with_list(sentences: list[str], best: int) -> str:
    quote = sentences[best]
    for follower in sentences[best + 1:]:  # "… shall be as follows:" goes on with its list
        opens_list = quote.endswith(":") or quote.endswith("follows.")
        if not (opens_list and _LIST_ITEM.match(follower)) and not re.match(r"^([a-z]\.|\(\d+\))\s", follower):
            break
        quote += " " + follower
        if len(quote) > SNIPPET:
            break
    return quote if len(quote) <= SNIPPET else quote[:SNIPPET].rsplit(" ", 1)[0] + " …"


def hits(evidence: Sequence[Citation], topic: str | None, question: str = "") -> str:
    """The hits in rank order; the QUOTED_HITS whose best sentence says most of the question
    (a stated value counting when one is asked for) are quoted."""
    intro = f"Clauses that cover {topic!r}:" if topic else "What the documents say:"
    query = question or topic or ""
    wanted = {_stem(w) for w in _WORD.findall(query)} - _STOPWORDS
    bonus = 0.6 if _ASKS_VALUE.search(query) else 0.1
    quotes = {}
    for i, c in enumerate(evidence):
        heading = f"{c.clause} {c.title}" if c.clause and c.title else ""
        quote = best_sentence(c.text, query, heading) if not c.table else ""
        if quote:
            quotes[i] = (_sentence_score(quote, wanted, bonus) - 0.01 * i, quote)
    chosen = set(sorted(quotes, key=lambda i: -quotes[i][0])[:QUOTED_HITS])
    if evidence and not evidence[0].table:  # the place found first: all of it when short, else its opening too
        first = evidence[0]
        lead = lead_sentence(first.text, f"{first.clause} {first.title}")
        said = quotes.get(0, (0.0, ""))[1]
        whole = _body(first.text, f"{first.clause} {first.title}")
        if whole and len(whole) <= 2 * SNIPPET and not instruction_in(whole):
            quotes[0] = (0.0, whole)
        elif lead and lead not in said:
            quote = f"{lead} … {said}" if said else lead
            quotes[0] = (0.0, quote if len(quote) <= 2 * SNIPPET else quote[: 2 * SNIPPET].rsplit(" ", 1)[0] + " …")
        if 0 in quotes:
            chosen = {0, *sorted(chosen - {0}, key=lambda i: -quotes[i][0])[: QUOTED_HITS - 1]}
    lines = [intro]
    for i, c in enumerate(evidence):
        label = f"{c.clause} — {c.title}" if c.clause and c.title else (c.table or c.clause or c.doc)
        quote = quotes[i][1] if i in chosen else ""
        lines.append(f"- {label} ({where(c)})" + (f": \"{quote}\"" if quote else "") + f" [{c.n}]")
    return "\n".join(lines)


def _supporting_quote(evidence: Sequence[Citation], question: str) -> str:
    """The sentence of the clause evidence that says most of what the question asks, cited."""
    best: tuple[tuple[bool, float], str, int] | None = None
    wanted = {_stem(w) for w in _WORD.findall(question)} - _STOPWORDS
    asks_value = bool(_ASKS_VALUE.search(question))
    for c in evidence:
        if c.table:
            continue
        quote = best_sentence(c.text, question, f"{c.clause} {c.title}")
        if not quote:
            continue
        said = _sentence_score(quote, wanted, 0.0)
        key = (asks_value and states_value(quote), said)  # a value asked: a sentence stating one first
        if said >= 2 and (best is None or key > best[0]):
            best = (key, quote, c.n)
    return f'What it says: "{best[1]}" [{best[2]}]' if best else ""


def answer(intent: str, evidence: Sequence[Citation], data: dict[str, Any],
           standards: dict[int, str] | None = None) -> str:
    """The extractive answer for an intent from the gathered evidence and tool data."""
    standards = standards or {}
    if intent == "documents":
        docs = data.get("documents", [])
        return "Documents loaded: " + (", ".join(docs) if docs else "none (run `spec-agent ingest FILE`).")
    parts: list[str] = []
    if data.get("changes"):  # two editions: what changed, cited on both sides
        parts.append(answer_changes(evidence, data))
    elif data.get("comparison"):  # one test across documents
        parts.append(answer_comparison(evidence, data))
    elif data.get("matches") and data.get("clauses"):  # a clause question that also asks for its test
        parts += [clause(evidence, data), *(which_test(m, evidence, standards) for m in data["matches"])]
    elif data.get("matches"):
        parts += [which_test(m, evidence, standards) for m in data["matches"]]
        if data.get("lookup"):  # "… and at what level?": the rows of the clause's table too
            parts.append(table_rows(evidence, data))
        parts.append(_supporting_quote(evidence, data.get("question", "")))
    elif data.get("lookup"):
        parts += [table_rows(evidence, data), _supporting_quote(evidence, data.get("question", ""))]
    elif data.get("clauses"):
        parts.append(clause(evidence, data))
    elif data.get("keywords") is not None:
        kws = ", ".join(k for k, _ in data["keywords"])
        c = evidence[0] if evidence else None
        parts.append(f"Keywords of {c.clause if c else 'the text'}: {kws}" + (f" [{c.n}]." if c else "."))
    if not parts or not any(parts):
        parts = [hits(evidence, data.get("topic"), data.get("question", ""))]
    notes = data.get("not_found", [])
    if data.get("also_in"):  # no document named: the tables of the others that could answer too
        also = data["also_in"]
        notes = [*notes, f"No document was named: this answer is from {', '.join(also['answered'])}; other loaded "
                         f"documents also have such a table: {'; '.join(also['others'])} (name one to ask it)."]
    if data.get("routed"):  # no document named, several loaded: say which one answered
        notes = [f"From {data['routed']}, the loaded document this question is about (name another to ask it).",
                 *notes]
    return "\n".join([*notes, *[p for p in parts if p]])
