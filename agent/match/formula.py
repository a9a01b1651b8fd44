"""Limit formulas in log frequency as OEM tables print them: "68 – 25.13·lg(f/30)"."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from agent.match.units import fold

_NUM = r"\d+(?:\.\d+)?"
_FORMULA_RE = re.compile(
    rf"^(?P<a>[+-]?{_NUM})\s*(?P<op>[+-])\s*(?P<b>{_NUM})\s*[·*×x]?\s*(?:lg|log10|log)\s*"
    rf"\(\s*f\s*(?:/\s*(?P<c>{_NUM})\s*(?P<unit>[A-Za-z]+)?)?\s*\)$"
)


@dataclass(frozen=True)
class Formula:
    """`a ± b·lg(f/ref)`; f in the unit of the table's frequency column."""

    text: str
    intercept: float
    slope: float  # signed: "68 – 25.13·lg(f/30)" has slope -25.13
    reference: float = 1.0
    unit: str | None = None  # a unit written inside the formula ("lg(f/30 MHz)")

    def evaluate(self, f: float) -> float:
        if f <= 0 or self.reference <= 0:
            raise ValueError(f"log formula {self.text!r} needs a positive frequency, got {f}")
        return self.intercept + self.slope * math.log10(f / self.reference)


def tidy_formula(text: str) -> str:
    """One spelling per formula: single spaces around + and –, none around '·' ("68 – 25.13·lg(f/30)")."""
    t = re.sub(r"\s+", " ", text).strip()
    t = re.sub(r"\s*·\s*", "·", t)
    t = re.sub(r"(?<=[\d)])\s*([+\-–−])\s*(?=\d)", r" \1 ", t)
    t = re.sub(r"\(\s*", "(", t)
    t = re.sub(r"\s*\)", ")", t)
    return re.sub(r"\s*/\s*", "/", t)


def parse_formula(text: str) -> Formula | None:
    """The formula a cell holds, or None when it holds none."""
    m = _FORMULA_RE.match(fold(text))
    if not m:
        return None
    slope = float(m["b"]) * (-1.0 if m["op"] == "-" else 1.0)
    ref = float(m["c"]) if m["c"] else 1.0
    return Formula(tidy_formula(text), float(m["a"]), slope, ref, m["unit"])
