"""Clause alignment between two editions: by test code, heading, then body; never by number alone."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agent.compare.words import bag, cosine, normal, ratio
from agent.schema import Clause

# "CE102", "RS103", "CS114", and OEM codes written with a space or dash ("RE 310", "CI-220")
_CODE = re.compile(r"\b([A-Z]{2,3})[ -]?(\d{3})\b")
_LEAD_NUMBER = re.compile(r"^\(\s*[\w.]+\s*\)\s*")  # "(5.13) CS114, …" in an appendix heading
GROUP_THRESHOLD = 0.55  # least score of a pair among the children of a paired parent
BODY_THRESHOLD = 0.6  # least body similarity for a same-title pair found outside its parent


@dataclass(frozen=True)
class Pair:
    """An old clause and the new clause it became, with how sure and why."""

    old: Clause
    new: Clause
    score: float
    reason: str

    @property
    def renumbered(self) -> bool:
        return self.old.number != self.new.number


@dataclass(frozen=True)
class Alignment:
    pairs: tuple[Pair, ...]  # in the old document's order
    removed: tuple[Clause, ...]  # old clauses without a counterpart
    added: tuple[Clause, ...]  # new clauses without a counterpart

    def new_of(self, old_number: str) -> str | None:
        return next((p.new.number for p in self.pairs if p.old.number == old_number), None)


def code_of(title: str) -> str | None:
    """The test code a heading names, spaces and dashes dropped ("RE 310" → "RE310"); None if none."""
    m = _CODE.search(title)
    return f"{m.group(1)}{m.group(2)}" if m else None


def heading(title: str) -> str:
    """A heading without the parenthesised clause number an appendix repeats."""
    return _LEAD_NUMBER.sub("", title)


class _Aligner:
    def __init__(self, old: Sequence[Clause], new: Sequence[Clause]) -> None:
        self.old, self.new = list(old), list(new)
        self.old_at = {c.number: i for i, c in enumerate(self.old)}
        self.new_at = {c.number: i for i, c in enumerate(self.new)}
        self.old_code = self._context_codes(self.old)
        self.new_code = self._context_codes(self.new)
        self.bags = {(side, c.number): bag(c.text) for side, cs in (("o", old), ("n", new)) for c in cs}
        self.to_new: dict[str, Pair] = {}
        self.taken: set[str] = set()

    @staticmethod
    def _context_codes(clauses: Sequence[Clause]) -> dict[str, str | None]:
        """Each clause's test code, or its nearest ancestor's that names one."""
        titles = {c.number: c.title for c in clauses}
        codes: dict[str, str | None] = {}
        for clause in clauses:
            found = (code_of(heading(titles.get(n, ""))) for n in (clause.number, *reversed(clause.parents)))
            codes[clause.number] = next((code for code in found if code), None)
        return codes

    def _root_paired(self, a: Clause, b: Clause) -> bool:
        """Do the two clauses sit under top-level clauses that were paired with each other?"""
        pair = self.to_new.get(a.parents[0] if a.parents else a.number)
        return pair is not None and pair.new.number == (b.parents[0] if b.parents else b.number)

    def score(self, a: Clause, b: Clause, strict: bool, unique: bool = False) -> tuple[float, str] | None:
        """How well new clause `b` continues old clause `a`; None when they cannot be the same."""
        code_a, code_b = code_of(heading(a.title)), code_of(heading(b.title))
        if code_a and code_b:
            if code_a != code_b:
                return None
            rest = ratio(_CODE.sub("", heading(a.title)), _CODE.sub("", heading(b.title)))
            return 0.9 + 0.1 * rest, f"test code {code_a}"
        ctx_a, ctx_b = self.old_code[a.number], self.new_code[b.number]
        if ctx_a and ctx_b and ctx_a != ctx_b:
            return None  # the "Purpose" of CS106 is not the "Purpose" of CS117
        title = 1.0 if normal(heading(a.title)) == normal(heading(b.title)) else ratio(
            heading(a.title), heading(b.title))
        body = cosine(self.bags["o", a.number], self.bags["n", b.number])
        same_number = a.number == b.number
        if title == 1.0:
            if strict and not same_number and (body is None or body < BODY_THRESHOLD) \
                    and not (unique and self._root_paired(a, b)):
                return None
            bonus = 0.05 * (1.0 if body is None else body) + (0.05 if same_number else 0.0)
            return 0.9 + bonus, "same heading" + ("" if body is None else f", body {body:.2f}") + (
                "" if body is None or body >= BODY_THRESHOLD or not strict else ", the only one left")
        if strict:
            return None
        value = 0.5 * title + 0.5 * body if body is not None else 0.9 * title
        value += 0.05 if same_number else 0.0
        if value < GROUP_THRESHOLD:
            return None
        shown = f"heading {title:.2f}" + ("" if body is None else f", body {body:.2f}")
        return min(value, 0.89), shown

    def match(self, olds: Iterable[Clause], news: Iterable[Clause], strict: bool) -> list[Pair]:
        """Greedy one-to-one pairing of two sets of clauses, best score first."""
        free_new = [c for c in news if c.number not in self.taken]
        free_old = [c for c in olds if c.number not in self.to_new]
        headings = Counter(normal(heading(c.title)) for c in [*free_old, *free_new])
        candidates = []
        for a in free_old:
            for b in free_new:
                unique = headings[normal(heading(a.title))] == 2  # once on each side
                scored = self.score(a, b, strict, unique)
                if scored:
                    gap = abs(self.old_at[a.number] / len(self.old) - self.new_at[b.number] / len(self.new))
                    candidates.append((-scored[0], gap, self.old_at[a.number], a, b, scored))
        made = []
        for *_, a, b, (value, reason) in sorted(candidates, key=lambda c: c[:3]):
            if a.number in self.to_new or b.number in self.taken:
                continue
            pair = Pair(a, b, round(value, 3), reason)
            self.to_new[a.number], made = pair, [*made, pair]
            self.taken.add(b.number)
        return made

    def children(self, old_parent: str | None, new_parent: str | None) -> tuple[list[Clause], list[Clause]]:
        return ([c for c in self.old if c.parent == old_parent],
                [c for c in self.new if c.parent == new_parent])

    def descend(self, start: list[tuple[str | None, str | None]]) -> None:
        queue = list(start)
        while queue:
            old_parent, new_parent = queue.pop(0)
            olds, news = self.children(old_parent, new_parent)
            for pair in self.match(olds, news, strict=False):
                queue.append((pair.old.number, pair.new.number))

    def run(self) -> Alignment:
        self.descend([(None, None)])
        while True:  # clauses whose parents did not pair (an appendix moved under a new heading)
            made = self.match([c for c in self.old if c.number not in self.to_new],
                              [c for c in self.new if c.number not in self.taken], strict=True)
            if not made:
                break
            self.descend([(p.old.number, p.new.number) for p in made])
        pairs = tuple(sorted(self.to_new.values(), key=lambda p: self.old_at[p.old.number]))
        return Alignment(
            pairs,
            tuple(c for c in self.old if c.number not in self.to_new),
            tuple(c for c in self.new if c.number not in self.taken),
        )


def align_clauses(old: Sequence[Clause], new: Sequence[Clause]) -> Alignment:
    """Pair the clauses of two editions by content: test code, then heading, then body similarity,
    parents first so that "Purpose" pairs with the "Purpose" of the same test."""
    return _Aligner(old, new).run()
