"""Ranking the clauses that answer "which clause covers …": where in a document a topic is.

A search ranks passages by how much of the question's wording they hold. A place question asks
for the clause that is *about* the topic, so a clause whose own title says the topic ("Field
calibration" for "how is the field calibrated") comes first, and the front matter that merely
lists the topic's words (definitions, abbreviations, references) comes last unless it is what
was asked for.
"""

from __future__ import annotations

import re
from typing import Sequence

from agent.schema import Citation

# Front matter: clauses that name every topic without being about any of them.
_FRONT_MATTER = re.compile(
    r"^\W*(terms|terminology|definitions?|abbreviations?|acronyms?|symbols|(normative |informative )?references"
    r"|(referenced|applicable|related) documents|scope|foreword|introduction|contents|(revision|document|change) "
    r"history|bibliography)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-zµ]{3,}")
_IGNORED = {"the", "and", "for", "with", "how", "that", "this", "from", "into", "test", "tests", "testing",
            "iso", "cispr", "iec", "requirement", "requirements", "general", "shall"}
TITLE_FIT = 1.0  # from this fit a clause's title says the topic


def _stem(word: str) -> str:
    w = word.lower()
    for ending in ("ation", "ing", "ed", "es", "s", "e"):
        if len(w) > len(ending) + 3 and w.endswith(ending):
            return w[: -len(ending)]
    return w


def _words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text or "") if w.lower() not in _IGNORED}


def _same_word(a: str, b: str) -> bool:
    """One stem starts the other ("calibr" of "calibrate" and "calibration")."""
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 4 and long_.startswith(short)


def title_fit(title: str, topic: str) -> float:
    """How much the title is about the topic: (topic words it says)² / (its words), so a short
    title made of the topic's words fits best and a long title that says one of them fits little."""
    said, asked = _words(title), _words(topic)
    if not said:
        return 0.0
    shared = sum(any(_same_word(w, a) for a in asked) for w in said)
    return shared * shared / len(said)


def asks_front_matter(topic: str) -> bool:
    """Does the topic ask for what front matter holds (a definition, the scope, a reference)?"""
    return bool(re.search(r"\b(defin|abbreviat|acronym|term|reference|scope|revision|history)", topic, re.I))


def front_matter(titles: Sequence[str], topic: str = "") -> bool:
    """Is a clause with these titles (its own, then its parents') front matter (terms,
    definitions, abbreviations, references, scope, history) that the topic does not ask for?"""
    return not asks_front_matter(topic) and any(_FRONT_MATTER.search(t or "") for t in titles)


def rank_places(hits: Sequence[Citation], topic: str) -> list[Citation]:
    """The hits with the clauses titled by the topic first (best fit first), front matter last,
    search order otherwise kept."""
    asks_front = asks_front_matter(topic)

    def key(i: int) -> tuple[int, int, float, int]:
        c = hits[i]
        front = 0 if asks_front else int(bool(_FRONT_MATTER.search(c.title or "")))
        fit = title_fit(c.title or "", topic)
        titled = fit >= TITLE_FIT
        return front, int(not titled), -fit if titled else 0.0, i

    return [hits[i] for i in sorted(range(len(hits)), key=key)]
