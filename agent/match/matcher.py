"""Clause -> test matching with abstention: explainable signals, one calibrated score, one threshold."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from agent.config import Settings
from agent.match.catalogue import Catalogue, load_catalogue
from agent.match.labels import Example, seed_examples
from agent.match.signals import (
    FAMILY_MISMATCH,
    RuleSignals,
    clause_number,
    family_fits,
    family_of,
    normalise,
    strip_number,
)
from agent.match.similarity import TfidfSpace

log = logging.getLogger(__name__)

# Scores are 1 - exp(-raw): raw 0.69 -> 0.5. One threshold decides "no test of the catalogue".
THRESHOLD = 0.5
RELATIVE = 0.75  # a second/third test is returned when its raw score is >= 75% of the best
MAX_TESTS = 3
TEXT_FACTOR = 0.3  # rule signals found in the body text count for less than in the heading
TEXT_CHARS = 2000
W_NOT_TEST = 1.5  # per unit of not_tests weight (capped at 2 units)
W_COSINE, COS_FLOOR = 1.2, 0.12
W_KNN, KNN_K, KNN_MIN_SIM = 0.9, 5, 0.3
W_KNN_NONE = 0.6
INHERIT_FACTOR = 0.9


@dataclass(frozen=True)
class TestMatch:
    id: int
    name: str
    score: float
    evidence: list[str]

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "score": round(self.score, 3), "evidence": list(self.evidence)}


@dataclass(frozen=True)
class MatchResult:
    """Best first, at most three tests; `abstain` = no catalogue test applies (tests then empty).

    `notes` says why a heading abstained or whose family it took (not part of the CLI contract).
    """

    tests: list[TestMatch]
    abstain: bool
    notes: list[str] = field(default_factory=list)
    inherited_from: str = ""  # the parent clause whose tests this one took

    @property
    def ids(self) -> list[int]:
        return [t.id for t in self.tests]

    def to_dict(self) -> dict:
        return {"tests": [t.to_dict() for t in self.tests], "abstain": self.abstain}


@dataclass(frozen=True)
class OutlineEntry:
    """One clause of a document outline, in document order."""

    number: str
    heading: str  # the title, with or without its number
    text: str = ""
    parents: tuple[str, ...] = ()  # ancestor clause numbers, outermost first


@dataclass
class _Score:
    raw: float = 0.0
    evidence: list[str] = field(default_factory=list)
    strong: bool = False


class Matcher:
    """Matches clause headings (and text) to catalogue tests; build with `Matcher.from_settings`."""

    def __init__(self, catalogue: Catalogue, examples: Iterable[Example] = (), settings: Settings | None = None) -> None:
        self.catalogue = catalogue
        self.settings = settings
        self.examples = tuple(examples)
        self.rules = RuleSignals(catalogue)
        self._knn = [e for e in self.examples if e.tests or not e.group]
        docs = [t.document() for t in catalogue.tests]
        self.space = TfidfSpace(docs + [_example_text(e) for e in self._knn])
        self._test_index = self.space.index(docs)
        self._example_index = self.space.index([_example_text(e) for e in self._knn])
        self._names = {t.id: t.name for t in catalogue.tests}

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Matcher:
        """The catalogue of settings.catalogue (or built-in) and the seed labels of settings.labels_dir."""
        settings = settings or Settings.from_env()
        catalogue = load_catalogue(settings.catalogue or None)
        return cls(catalogue, seed_examples(settings.labels_dir), settings)

    def with_examples(self, extra: Iterable[Example]) -> Matcher:
        """A matcher that also learns from `extra` (e.g. engineers' corrections, weight > 1)."""
        return Matcher(self.catalogue, self.examples + tuple(extra), self.settings)

    def without_spec(self, spec: str) -> Matcher:
        """A matcher that has never seen the examples of `spec` (leave-one-spec-out)."""
        return Matcher(self.catalogue, [e for e in self.examples if e.spec != spec], self.settings)

    # -- matching -------------------------------------------------------------------------

    def match(self, heading: str, text: str = "", context: Sequence[str] | None = None) -> MatchResult:
        """Tests for one clause; `context` = parent headings, outermost first."""
        parents = [p for p in (context or ()) if p and p.strip()]
        family, family_note = self._family(heading, text, parents)
        scores, notes, own_cue = self._score(heading, text, family)
        if family_note:
            notes.insert(0, family_note)
        result = self._select(scores, notes)
        if result.abstain and not own_cue and parents:
            inherited = self._inherit(parents)
            if inherited is not None:
                return inherited
        return result

    def match_many(self, items: Iterable[tuple[str, str]]) -> list[MatchResult]:
        return [self.match(h, t) for h, t in items]

    def match_outline(self, entries: Sequence[OutlineEntry]) -> list[MatchResult]:
        """Every clause of a document with its parents as context; a heading whose sub-clauses
        name two or more different tests of their own is a group heading and abstains."""
        by_number = {e.number: e for e in entries if e.number}
        results = []
        for e in entries:
            parents = [_with_number(by_number[p]) for p in e.parents if p in by_number]
            results.append(self.match(e.heading, e.text, parents))
        results = [self._group(i, entries, results) for i in range(len(entries))]
        groups = {clause_number(f"{e.number} x") or e.number for e, r in zip(entries, results) if r.abstain and r.notes[:1] and r.notes[0].startswith("group")}
        return [
            MatchResult([], True, [f"parent {r.inherited_from} is a group heading"]) if r.inherited_from in groups else r
            for r in results
        ]

    # -- internals ------------------------------------------------------------------------

    def _family(self, heading: str, text: str, parents: Sequence[str]) -> tuple[str | None, str]:
        family = family_of(strip_number(heading))
        if family:
            return family, ""
        for parent in reversed(parents):
            family = family_of(strip_number(parent))
            if family:
                return family, f"family: {family} (from parent {normalise(parent)})"
        return None, ""

    def _score(self, heading: str, text: str, family: str | None) -> tuple[dict[int, _Score], list[str], bool]:
        head = normalise(strip_number(heading))
        body = normalise(text)[:TEXT_CHARS]
        scores = {t.id: _Score() for t in self.catalogue.tests}
        own_cue = False
        for hit in self.rules.hits(head, family):
            self._add(scores[hit.test_id], hit.weight, hit.evidence, hit.strong)
            own_cue = True
        if body:
            for hit in self.rules.hits(body, family):
                self._add(scores[hit.test_id], hit.weight * TEXT_FACTOR, f"in text: {hit.evidence}", hit.strong)
        knn_none = self._similarity(scores, head, body)
        self._gate_family(scores, family)
        notes = []
        for tid in self.rules.exclusions(head):
            if scores[tid].raw > 0:
                own_cue = True
                scores[tid] = _Score()
        not_tests = self.rules.not_test_hits(head)
        if not_tests:
            own_cue = True
            notes.append("not a catalogue test: " + ", ".join(f"'{p}'" for _, p in not_tests))
            penalty = W_NOT_TEST * min(2.0, sum(w for w, _ in not_tests))
            for score in scores.values():
                score.raw -= penalty
        if knn_none:
            notes.append(knn_none[1])
            for score in scores.values():
                score.raw -= knn_none[0]
        return scores, notes, own_cue

    @staticmethod
    def _add(score: _Score, weight: float, evidence: str, strong: bool = False) -> None:
        score.raw += weight
        score.evidence.append(evidence)
        score.strong = score.strong or strong

    def _gate_family(self, scores: dict[int, _Score], family: str | None) -> None:
        for test in self.catalogue.tests:
            s = scores[test.id]
            if s.raw > 0 and not s.strong and family_fits(test.family, family) is False:
                s.raw *= FAMILY_MISMATCH
                s.evidence.append(f"heading names {family}, this is a{'n' if test.family[0] in 'aeiou' else ''} {test.family} test")

    def _similarity(self, scores: dict[int, _Score], head: str, body: str) -> tuple[float, str] | None:
        """Cosine to the catalogue descriptions and nearest labelled examples; returns the
        penalty (and its note) when the nearest example is labelled "no test"."""
        head_vec = self.space.encode(head)
        query = self.space.encode(f"{head} {body[:300]}") if body else head_vec
        cos = self._test_index.cosine(query)
        for test, c in zip(self.catalogue.tests, cos):
            if c > COS_FLOOR:
                scores[test.id].raw += W_COSINE * (c - COS_FLOOR)
                scores[test.id].evidence.append(f"similar to the catalogue description (cosine {c:.2f})")
        knn_none = None
        if not self._knn:
            return None
        sims = self._example_index.cosine(head_vec)
        order = np.argsort(-sims)[:KNN_K]
        best: dict[int, tuple[float, Example]] = {}
        for i in order:
            sim, ex = float(sims[i]), self._knn[i]
            if sim < KNN_MIN_SIM:
                break
            if not ex.tests:
                if i == order[0]:
                    knn_none = (W_KNN_NONE * sim * ex.weight, f"{_describe(ex)} has no test (similarity {sim:.2f})")
                continue
            value = sim * _boost(ex.weight, sim)
            for tid in ex.tests:
                if tid in scores and (tid not in best or value > best[tid][0]):
                    best[tid] = (value, ex)
        for tid, (value, ex) in best.items():
            scores[tid].raw += W_KNN * min(value, 2.0)
            sim = float(sims[self._knn.index(ex)])
            scores[tid].evidence.append(f"{_describe(ex)} (similarity {sim:.2f})")
        return knn_none

    def _select(self, scores: dict[int, _Score], notes: list[str]) -> MatchResult:
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1].raw, kv[0]))
        best_raw = ranked[0][1].raw if ranked else 0.0
        tests = [
            TestMatch(tid, self._names[tid], _calibrate(s.raw), s.evidence)
            for tid, s in ranked[:MAX_TESTS]
            if _calibrate(s.raw) >= THRESHOLD and s.raw >= RELATIVE * best_raw
        ]
        return MatchResult(tests=tests, abstain=not tests, notes=notes)

    def _inherit(self, parents: Sequence[str]) -> MatchResult | None:
        parent = parents[-1]
        result = self.match(parent, "", parents[:-1])
        if result.abstain:
            return None
        label = clause_number(parent) or normalise(parent)
        tests = [
            TestMatch(t.id, t.name, t.score * INHERIT_FACTOR, [f"inherited from parent {label}"] + t.evidence)
            for t in result.tests
        ]
        source = result.inherited_from or label
        return MatchResult(tests=tests, abstain=False, notes=result.notes, inherited_from=source)

    def _group(self, i: int, entries: Sequence[OutlineEntry], results: list[MatchResult]) -> MatchResult:
        number = entries[i].number
        if not number or results[i].abstain:
            return results[i]
        below = [
            (entries[j].number, results[j].tests[0].id)
            for j in range(len(entries))
            if number in entries[j].parents and not results[j].abstain and not results[j].inherited_from
        ]
        if len({tid for _, tid in below}) < 2:
            return results[i]
        subs = ", ".join(n for n, _ in below[:4])
        return MatchResult(tests=[], abstain=True, notes=[f"group heading: its sub-clauses {subs} carry the tests"])


def _boost(weight: float, sim: float) -> float:
    """A heavier example (an engineer's correction) counts fully only when it is very close:
    the extra weight fades with sim**4, so a near-duplicate heading of another clause does not
    outvote that clause's own OEM code or standard reference."""
    return 1.0 + (weight - 1.0) * sim ** 4 if weight > 1.0 else weight


def _calibrate(raw: float) -> float:
    return 0.0 if raw <= 0 else 1.0 - math.exp(-raw)


def _example_text(ex: Example) -> str:
    return normalise(strip_number(ex.heading))


def _describe(ex: Example) -> str:
    if ex.kind == "correction" or ex.source.startswith("engineer correction"):
        return f"{ex.source}: '{ex.heading}'"
    return f"nearest labelled example: {ex.source} {ex.heading}".strip()


def _with_number(entry: OutlineEntry) -> str:
    heading = entry.heading
    return heading if clause_number(heading) else f"{entry.number} {heading}".strip()


@lru_cache(maxsize=4)
def default_matcher(settings: Settings | None = None) -> Matcher:
    """One matcher per settings (catalogue + labels loaded once)."""
    return Matcher.from_settings(settings)


def match_tests(heading: str, text: str = "", context: Sequence[str] | None = None) -> MatchResult:
    """Tests for one clause with the default settings (built-in catalogue, seed labels)."""
    return default_matcher().match(heading, text, context)
