"""Numbers with units in running text ("34 dBµV", "±8 kV", "30 MHz to 1 GHz") and how they changed."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from agent.match.units import Quantity, fold, format_number, is_unit, normalise_unit

_NUM = r"(?<![\w.,])[+-]?(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|\.\d+)"
_UNIT = r"[A-Za-z%\u00b5\u03a9]+(?:\([A-Za-z\u00b5]+\))?(?:/[A-Za-z]+)?"
_VALUE = re.compile(rf"(?P<pm>±)?(?P<num>{_NUM})\s?(?P<unit>{_UNIT})(?![\w])")


def _number(text: str) -> str:
    return format_number(float(text.replace(",", "")))


def extract_values(text: str) -> list[str]:
    """Every number with a known unit in `text`, canonically written ("34 dBµV"), in order."""
    found = []
    for m in _VALUE.finditer(fold(text)):
        unit = m["unit"]
        if not is_unit(unit):
            continue
        found.append(f"{m['pm'] or ''}{_number(m['num'])} {normalise_unit(unit)}")
    return found


def is_level(value: str) -> bool:
    """Is this a limit or test level ("34 dBµV", "200 V/m", "±8 kV", "77 dBµA"), not a frequency,
    a time or a distance?"""
    unit = value.split(" ", 1)[1] if " " in value else ""
    if unit.startswith("dB"):
        return True
    base = unit.removesuffix("/m")  # field strengths: V/m, µV/m, A/m
    return Quantity(0.0, base).dimension in ("voltage", "current", "power")


@dataclass(frozen=True)
class ValueChanges:
    """Values only the old text states (`removed`) and only the new one states (`added`)."""

    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.removed or self.added)

    @property
    def levels(self) -> bool:
        """Did a limit or level (not only a frequency or a length) change?"""
        return any(is_level(v) for v in (*self.removed, *self.added))

    def to_json(self) -> dict[str, list[str]]:
        return {"removed": list(self.removed), "added": list(self.added)}

    def changed(self) -> list[tuple[str, str]]:
        """(old, new) where a unit lost exactly one value and gained exactly one ("34 dBµV" → "32 dBµV")."""
        by_unit: dict[str, tuple[list[str], list[str]]] = {}
        for value in self.removed:
            by_unit.setdefault(_unit_of(value), ([], []))[0].append(value)
        for value in self.added:
            by_unit.setdefault(_unit_of(value), ([], []))[1].append(value)
        return [(old[0], new[0]) for old, new in by_unit.values() if len(old) == 1 and len(new) == 1]


def _unit_of(value: str) -> str:
    return value.split(" ", 1)[1]


def value_changes(old: str, new: str) -> ValueChanges:
    """The values `old` states more often than `new` (removed) and the reverse (added), each in
    the order its text gives them."""
    a, b = extract_values(old), extract_values(new)
    extra_a, extra_b = Counter(a) - Counter(b), Counter(b) - Counter(a)
    return ValueChanges(_take(a, extra_a), _take(b, extra_b))


def _take(values: list[str], counts: Counter[str]) -> tuple[str, ...]:
    left, out = Counter(counts), []
    for v in values:
        if left[v] > 0:
            out.append(v)
            left[v] -= 1
    return tuple(out)
