"""Engineers' corrections applied to matching: exactly for the clause they corrected, and as
weighted nearest examples for similar headings elsewhere."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence

from agent.match.labels import Example
from agent.match.matcher import Matcher, MatchResult, OutlineEntry, TestMatch


def _heading_key(heading: str) -> str:
    return " ".join(re.findall(r"\w+", heading.casefold()))


class CorrectingMatcher:
    """`Matcher`'s `match` with corrections first. A correction names (doc, clause) and the
    heading it was given for; the same clause of the same document, or the same heading, gets
    the corrected tests first with evidence "engineer correction (user, date)"."""

    def __init__(self, inner: Matcher, corrections: Sequence[Mapping[str, Any]] = ()) -> None:
        self.inner = inner
        self.corrections = list(corrections)
        self._by_clause = {(c.get("doc") or "", c.get("clause") or ""): c for c in self.corrections
                           if c.get("doc") and c.get("clause")}
        self._by_heading = {_heading_key(c["heading"]): c for c in self.corrections if c.get("heading")}

    @classmethod
    def build(cls, matcher: Matcher, corrections: Iterable[Mapping[str, Any]]) -> "CorrectingMatcher":
        corrections = list(corrections)
        examples = [Example(heading=c["heading"], tests=tuple(c["tests"]), source=c["source"],
                            text=c.get("text", ""), weight=float(c.get("weight", 3.0)), spec="",
                            kind="correction")
                    for c in corrections if c.get("heading")]
        return cls(matcher.with_examples(examples) if examples else matcher, corrections)

    @property
    def catalogue(self):
        return self.inner.catalogue

    def correction_for(self, heading: str, *, doc: str | None = None,
                       clause: str | None = None) -> Mapping[str, Any] | None:
        """The correction that applies exactly: same (doc, clause) first, else the same heading."""
        return self._by_clause.get((doc or "", clause or "")) or self._by_heading.get(_heading_key(heading))

    def match(self, heading: str, text: str = "", context: Sequence[str] | None = None, *,
              doc: str | None = None, clause: str | None = None) -> MatchResult:
        correction = self.correction_for(heading, doc=doc, clause=clause)
        if correction is None:
            return self.inner.match(heading, text, context)
        return self._corrected(correction)

    def match_outline(self, entries: Sequence[OutlineEntry], doc: str | None = None) -> list[MatchResult]:
        """`Matcher.match_outline`, then every clause with a correction (by `doc` and its number,
        or by its heading with or without the number) takes the corrected tests."""
        results = self.inner.match_outline(entries)
        out = []
        for e, r in zip(entries, results):
            numbered = e.heading if not e.number or e.heading.startswith(e.number) else f"{e.number} {e.heading}"
            correction = (self.correction_for(numbered, doc=doc, clause=e.number or None)
                          or self._by_heading.get(_heading_key(e.heading)))
            out.append(r if correction is None else self._corrected(correction))
        return out

    def _corrected(self, correction: Mapping[str, Any]) -> MatchResult:
        names = {t.id: t.name for t in self.catalogue.tests}
        tests = [TestMatch(i, names.get(i, f"test {i}"), 1.0, [correction["source"]])
                 for i in correction["tests"]][:3]
        return MatchResult(tests=tests, abstain=not tests, notes=[correction["source"]])
