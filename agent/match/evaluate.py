"""Evaluation of the matcher on labelled headings: leave-one-spec-out, top-1/top-3, abstention."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rich.table import Table

from agent.match.catalogue import Catalogue
from agent.match.corrections import CorrectingMatcher
from agent.match.labels import Example
from agent.match.matcher import Matcher, MatchResult, OutlineEntry, TestMatch
from agent.match.signals import normalise, strip_number
from agent.match.similarity import TfidfSpace


class _Scorer(Protocol):
    def without_spec(self, spec: str) -> _Scorer: ...
    def match(self, heading: str, text: str = "", context: Sequence[str] | None = None) -> MatchResult: ...
    def match_outline(self, entries: Sequence[OutlineEntry]) -> list[MatchResult]: ...


@dataclass
class EvalReport:
    """Figures over labelled headings (top-1/top-3) and unlabelled ones (abstain = positive)."""

    name: str
    items: list[tuple[Example, MatchResult]] = field(default_factory=list)

    @property
    def labelled(self) -> list[tuple[Example, MatchResult]]:
        return [(e, r) for e, r in self.items if e.tests]

    @property
    def top1(self) -> int:
        return sum(1 for e, r in self.labelled if r.tests and r.tests[0].id in e.tests)

    @property
    def top3(self) -> int:
        return sum(1 for e, r in self.labelled if set(r.ids[:3]) & set(e.tests))

    @property
    def unlabelled(self) -> int:
        return sum(1 for e, _ in self.items if not e.tests)

    @property
    def abstained_right(self) -> int:
        return sum(1 for e, r in self.items if r.abstain and not e.tests)

    @property
    def abstained(self) -> int:
        return sum(1 for _, r in self.items if r.abstain)

    def top1_accuracy(self) -> float:
        return _ratio(self.top1, len(self.labelled))

    def top3_accuracy(self) -> float:
        return _ratio(self.top3, len(self.labelled))

    def abstain_precision(self) -> float:
        return _ratio(self.abstained_right, self.abstained)

    def abstain_recall(self) -> float:
        return _ratio(self.abstained_right, self.unlabelled)

    def confusion(self) -> dict[int, Counter]:
        """Gold test -> counts of the predicted top test (None = abstained), per label."""
        out: dict[int, Counter] = defaultdict(Counter)
        for e, r in self.labelled:
            for gold in e.tests:
                out[gold][r.tests[0].id if r.tests else None] += 1
        return dict(sorted(out.items()))

    def errors(self) -> list[tuple[Example, MatchResult]]:
        return [
            (e, r) for e, r in self.items
            if (e.tests and not (r.tests and r.tests[0].id in e.tests)) or (not e.tests and not r.abstain)
        ]

    def summary(self) -> dict[str, float]:
        return {
            "top1": round(self.top1_accuracy(), 4),
            "top3": round(self.top3_accuracy(), 4),
            "abstain_precision": round(self.abstain_precision(), 4),
            "abstain_recall": round(self.abstain_recall(), 4),
        }


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def outline_of(examples: Sequence[Example]) -> list[OutlineEntry]:
    """Headings of one spec in document order; a parent = an earlier heading whose number prefixes."""
    entries: list[OutlineEntry] = []
    for e in examples:
        parents = tuple(
            p.number for p in entries if p.number and e.number and e.number.startswith(p.number + ".")
        )
        entries.append(OutlineEntry(number=e.number, heading=e.heading, text=e.text, parents=parents))
    return entries


def evaluate(examples: Sequence[Example], scorer: _Scorer, name: str = "", loso: bool = True) -> EvalReport:
    """Score every example; with `loso` a spec's headings are scored by a scorer without its examples."""
    report = EvalReport(name=name)
    by_spec: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        by_spec[e.spec].append(e)
    for spec, group in by_spec.items():
        model = scorer.without_spec(spec) if (loso and spec) else scorer
        if spec:
            results = model.match_outline(outline_of(group))
        else:
            results = [model.match(e.heading, e.text) for e in group]
        report.items += list(zip(group, results))
    order = {id(e): i for i, e in enumerate(examples)}
    report.items.sort(key=lambda item: order[id(item[0])])
    return report


CORRECTION_WEIGHT = 3.0  # as agent.feedback.store.CORRECTION_WEIGHT: a correction counts 3 seed labels


@dataclass(frozen=True)
class LearningPoint:
    """Leave-one-spec-out figures when each held-out spec had `n` of its headings corrected."""

    n: int
    corrections: int  # corrections given, over all specs
    report: EvalReport


def simulate_corrections(examples: Sequence[Example], matcher: Matcher, n: int, name: str = "",
                         held: int | None = None, cold: bool = False) -> LearningPoint:
    """Leave-one-spec-out where an engineer has corrected `n` headings of the held-out spec.

    Deterministic choice: the first `n` labelled headings (with at least one test id) of each
    spec, in file order, become corrections (weight 3, kind "correction": exact by heading and
    (spec, clause number), and nearest examples); the spec's other headings, labelled or not,
    are scored. Examples without a spec are scored as one group without corrections.
    `held` (>= n; default n) leaves the first `held` labelled headings of each spec unscored, so
    that several N can be compared on the same scored headings (held = the largest N).
    `cold`: the held-out spec is a new OEM that no labelled example covers: the matcher keeps
    its catalogue but none of the other specs' examples, so only the N corrections teach it.
    """
    held = n if held is None else held
    if held < n:
        raise ValueError(f"held ({held}) must be at least n ({n})")
    report = EvalReport(name=name or f"N={n}")
    given = 0
    by_spec: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        by_spec[e.spec].append(e)
    for spec, group in by_spec.items():
        skipped = [e for e in group if e.tests][:held] if spec else []
        chosen = skipped[:n]
        rest = [e for e in group if not any(e is c for c in skipped)]
        base = Matcher(matcher.catalogue, (), matcher.settings) if cold else (
            matcher.without_spec(spec) if spec else matcher)
        model = CorrectingMatcher.build(base, [_as_correction(e) for e in chosen])
        results = model.match_outline(outline_of(rest), doc=spec or None)
        report.items += list(zip(rest, results))
        given += len(chosen)
    order = {id(e): i for i, e in enumerate(examples)}
    report.items.sort(key=lambda item: order[id(item[0])])
    return LearningPoint(n=n, corrections=given, report=report)


def _as_correction(e: Example) -> dict:
    return {"heading": e.heading, "text": e.text, "tests": list(e.tests), "doc": e.spec,
            "clause": e.number or None, "weight": CORRECTION_WEIGHT,
            "source": f"engineer correction (simulated, {e.spec} {e.number or e.heading})"}


def learning_table(points: Sequence[LearningPoint]) -> Table:
    table = Table(title="Learning from corrections (leave-one-spec-out, first N labelled headings corrected)")
    for col in ("N per spec", "corrections", "scored", "top-1 accuracy", "top-3 accuracy", "abstention recall"):
        table.add_column(col, justify="right")
    for p in points:
        r = p.report
        table.add_row(str(p.n), str(p.corrections), str(len(r.items)),
                      f"{r.top1_accuracy():.3f} ({r.top1}/{len(r.labelled)})",
                      f"{r.top3_accuracy():.3f} ({r.top3}/{len(r.labelled)})",
                      f"{r.abstain_recall():.3f} ({r.abstained_right}/{r.unlabelled})")
    return table


class BaselineMatcher:
    """The prototype's way: TF-IDF cosine against the catalogue descriptions; always picks one."""

    def __init__(self, catalogue: Catalogue, examples: Sequence[Example] = ()) -> None:
        self.catalogue = catalogue
        self.examples = tuple(examples)
        docs = [t.document() for t in catalogue.tests]
        self.space = TfidfSpace(docs + [normalise(strip_number(e.heading)) for e in self.examples])
        self.index = self.space.index(docs)

    def without_spec(self, spec: str) -> BaselineMatcher:
        return BaselineMatcher(self.catalogue, [e for e in self.examples if e.spec != spec])

    def match(self, heading: str, text: str = "", context: Sequence[str] | None = None) -> MatchResult:
        cos = self.index.cosine(self.space.encode(normalise(f"{strip_number(heading)} {text}")))
        order = cos.argsort()[::-1][:3]
        tests = [
            TestMatch(self.catalogue.tests[i].id, self.catalogue.tests[i].name, float(cos[i]), [f"cosine {cos[i]:.2f}"])
            for i in order
        ]
        return MatchResult(tests=tests, abstain=False)

    def match_outline(self, entries: Sequence[OutlineEntry]) -> list[MatchResult]:
        return [self.match(e.heading, e.text) for e in entries]


def summary_table(reports: Sequence[EvalReport]) -> Table:
    table = Table(title="Test matching: evaluation")
    table.add_column("figure")
    for r in reports:
        table.add_column(r.name, justify="right")
    rows = [
        ("top-1 accuracy (labelled)", lambda r: f"{r.top1_accuracy():.3f} ({r.top1}/{len(r.labelled)})"),
        ("top-3 accuracy (labelled)", lambda r: f"{r.top3_accuracy():.3f} ({r.top3}/{len(r.labelled)})"),
        ("abstention precision", lambda r: f"{r.abstain_precision():.3f} ({r.abstained_right}/{r.abstained})"),
        ("abstention recall (unlabelled)", lambda r: f"{r.abstain_recall():.3f} ({r.abstained_right}/{r.unlabelled})"),
    ]
    for label, value in rows:
        table.add_row(label, *[value(r) for r in reports])
    return table


def confusion_table(report: EvalReport, catalogue: Catalogue) -> Table:
    table = Table(title=f"Per test ({report.name}): gold label -> predicted top test")
    for col, just in (("id", "right"), ("test", "left"), ("n", "right"), ("recall", "right"),
                      ("precision", "right"), ("predicted as", "left")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    predicted = Counter(r.tests[0].id for _, r in report.items if r.tests)
    right = Counter(r.tests[0].id for e, r in report.labelled if r.tests and r.tests[0].id in e.tests)
    for gold, counts in report.confusion().items():
        n = sum(counts.values())
        name = catalogue.by_id(gold).code if gold in catalogue.ids else "?"
        spread = ", ".join(f"{'none' if k is None else k}×{v}" for k, v in counts.most_common())
        table.add_row(str(gold), name, str(n), f"{counts[gold] / n:.2f}",
                      f"{_ratio(right[gold], predicted[gold]):.2f}", spread)
    return table


def errors_table(report: EvalReport) -> Table:
    table = Table(title=f"Disagreements ({report.name})")
    for col in ("spec", "heading", "label", "predicted"):
        table.add_column(col)
    for e, r in report.errors():
        pred = "abstain" if r.abstain else " ".join(f"{t.id}:{t.score:.2f}" for t in r.tests)
        table.add_row(e.spec, e.heading, " ".join(map(str, e.tests)) or "-", pred)
    return table
