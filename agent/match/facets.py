"""Which test free wording means: facets read from a question, scored against the catalogue's.

An engineer asks whether the CAN wiring must "survive spikes" without naming a test. The
question still says a direction (immunity: "survive"), a path (transient: "spikes"), the lines
(signal: "CAN"). `agent/data/facets.yaml` holds the
vocabulary of each dimension; each catalogue test declares its own facets.

- ``load_facets(path=None) -> Facets``: the vocabulary (built-in or a user's copy).
- ``Facets.read(text) -> dict[str, set[str]]``: the values each dimension's words name.
- ``Facets.rank(text, catalogue) -> list[FacetScore]``: every test scored, best first; a
  dimension both name and agree on adds its weight, one they disagree on subtracts it, one the
  test leaves open counts nothing. Ties keep catalogue order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from agent.match.catalogue import Catalogue
from agent.match.signals import normalise

BUILTIN = Path(__file__).resolve().parents[1] / "data" / "facets.yaml"
STRONG = 3.0  # a score from which the wording alone points at a test (two dimensions agree)


# Words just before a phrase that deny it ("not supply", "no ESD", "other than the mains").
_NEGATED = re.compile(r"\b(?:not|no|never|except|excluding|other than|rather than|instead of)\s+(?:the\s+|on\s+(?:the\s+)?)?$")

@dataclass(frozen=True)
class Dimension:
    name: str
    weight: float
    patterns: tuple[tuple[str, re.Pattern[str]], ...]  # (value, pattern)
    overrides: tuple[tuple[str, tuple[str, ...]], ...] = ()  # value named → values it silences


@dataclass(frozen=True)
class FacetScore:
    test_id: int
    score: float
    evidence: tuple[str, ...]  # "path: transient ('transients')"


@dataclass(frozen=True)
class Facets:
    dimensions: tuple[Dimension, ...]

    def read(self, text: str) -> dict[str, dict[str, str]]:
        """{dimension: {value: the words that named it}} for the dimensions the text names."""
        text = normalise(text)
        out: dict[str, dict[str, str]] = {}
        for dim in self.dimensions:
            found: dict[str, str] = {}
            for value, pattern in dim.patterns:
                m = next((m for m in pattern.finditer(text) if not _NEGATED.search(text[: m.start()])), None)
                if m and value not in found:  # "on signal lines, not supply": supply is not named
                    found[value] = m.group(0)
            for value, silenced in dim.overrides:
                if value in found:
                    for other in silenced:
                        found.pop(other, None)
            if found:
                out[dim.name] = found
        return out

    def rank(self, text: str, catalogue: Catalogue) -> list[FacetScore]:
        named = self.read(text)
        weights = {d.name: d.weight for d in self.dimensions}
        scores = []
        for test in catalogue.tests:
            own = dict(test.facets)
            total, evidence = 0.0, []
            for dim, values in named.items():
                if dim not in own:
                    continue
                agree = [v for v in values if v in own[dim]]
                if agree:
                    total += weights[dim]
                    evidence.append(f"{dim}: {agree[0]} ('{values[agree[0]]}')")
                else:
                    total -= weights[dim]
            scores.append(FacetScore(test.id, total, tuple(evidence)))
        return sorted(scores, key=lambda s: -s.score)


def load_facets(path: str | Path | None = None) -> Facets:
    """The vocabulary from a YAML file (None or "": the built-in one); ValueError names what is wrong."""
    source = str(path) if path else "built-in"
    try:
        data = yaml.safe_load(Path(path or BUILTIN).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"facets {source}: cannot be read ({err}); check the file") from err
    return parse_facets(data, source)


@lru_cache(maxsize=4)
def default_facets(path: str = "") -> Facets:
    return load_facets(path or None)


def parse_facets(data: Any, source: str = "<data>") -> Facets:
    if not isinstance(data, dict) or not isinstance(data.get("dimensions"), dict):
        raise ValueError(f"facets {source}: needs a 'dimensions' mapping")
    dims = []
    for name, spec in data["dimensions"].items():
        where = f"facets {source}: dimension {name}"
        if not isinstance(spec, dict) or not isinstance(spec.get("values"), dict):
            raise ValueError(f"{where}: needs 'weight' and a 'values' mapping")
        patterns = []
        for value, phrases in spec["values"].items():
            for phrase in phrases or ():
                try:
                    patterns.append((str(value), re.compile(rf"(?<![\w/]){phrase}(?![\w])", re.IGNORECASE)))
                except re.error as err:
                    raise ValueError(f"{where}: value {value}: bad pattern {phrase!r} ({err})") from err
        overrides = tuple((str(k), tuple(map(str, v))) for k, v in (spec.get("overrides") or {}).items())
        dims.append(Dimension(str(name), float(spec.get("weight", 1.0)), tuple(patterns), overrides))
    return Facets(tuple(dims))
