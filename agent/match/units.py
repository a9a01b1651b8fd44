"""Quantities, ranges and table cells as printed in EMC specs: "30 MHz - 1 GHz", "±8 kV", "62*"."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

MICRO = "\u00b5"  # the micro sign; Greek mu (U+03BC) is folded into it
OHM = "\u03a9"

_CHAR_FOLDS = {
    "\u03bc": MICRO,  # Greek small mu
    "\u2126": OHM,  # ohm sign
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2012": "-",  # figure dash
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2212": "-",  # minus sign
    "\uff5e": "~",  # full-width tilde
    "\u301c": "~",  # wave dash
    "\u2192": "~",  # rightwards arrow: "54 → 44", a limit running from 54 to 44 across its band
    "\u2266": "\u2264",  # ≦ → ≤
    "\u2267": "\u2265",  # ≧ → ≥
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
}
_FOLD_TABLE = str.maketrans(_CHAR_FOLDS)

# canonical unit → (dimension, factor to the dimension's base unit)
SCALES: dict[str, tuple[str, float]] = {
    "Hz": ("frequency", 1.0),
    "kHz": ("frequency", 1e3),
    "MHz": ("frequency", 1e6),
    "GHz": ("frequency", 1e9),
    "s": ("time", 1.0),
    "ms": ("time", 1e-3),
    f"{MICRO}s": ("time", 1e-6),
    "ns": ("time", 1e-9),
    "V": ("voltage", 1.0),
    "kV": ("voltage", 1e3),
    "mV": ("voltage", 1e-3),
    f"{MICRO}V": ("voltage", 1e-6),
    "A": ("current", 1.0),
    "mA": ("current", 1e-3),
    f"{MICRO}A": ("current", 1e-6),
    "W": ("power", 1.0),
    "mW": ("power", 1e-3),
    "kW": ("power", 1e3),
    "m": ("length", 1.0),
    "cm": ("length", 1e-2),
    "mm": ("length", 1e-3),
}
_OTHER_UNITS = (
    f"dB{MICRO}V", f"dB{MICRO}A", f"dB{MICRO}V/m", f"dB{MICRO}A/m", "dBm", "dBpT",
    "dB", "V/m", "A/m", "%", OHM, "pF", "nF", f"{MICRO}F", f"{MICRO}H", "mH",
)
CANONICAL_UNITS: frozenset[str] = frozenset(SCALES) | frozenset(_OTHER_UNITS)

# spellings whose letter case does not matter ("KHz", "MHZ", "KV", "dBuv")
_CASELESS = {
    "hz": "Hz", "khz": "kHz", "mhz": "MHz", "ghz": "GHz", "kv": "kV",
    f"db{MICRO}v": f"dB{MICRO}V", f"db{MICRO}a": f"dB{MICRO}A",
    f"db{MICRO}v/m": f"dB{MICRO}V/m", f"db{MICRO}a/m": f"dB{MICRO}A/m",
    "dbm": "dBm", "db": "dB", "v/m": "V/m", "a/m": "A/m", "ohm": OHM, "ohms": OHM,
    "sec": "s", "secs": "s", "second": "s", "seconds": "s", "msec": "ms",
    "us": f"{MICRO}s", "usec": f"{MICRO}s",
}

_NUM = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+(?:[.,]\d+)?|\.\d+)(?:[eE][+-]?\d+)?"
_UNIT = r"[A-Za-z%\u00b5\u03a9/()]+(?:/[A-Za-z]+)?"
_QTY_RE = re.compile(rf"^(?P<pm>±|\+/-|\+-)?\s*(?P<num>{_NUM})\s*(?P<unit>{_UNIT})?$")
_RANGE_RE = re.compile(
    rf"^(?:from\s+)?(?P<a>{_NUM})\s*(?P<ua>{_UNIT})?\s*(?:~|-|to|\.\.\.?|…)\s*"
    rf"(?P<b>{_NUM})\s*(?P<ub>{_UNIT})?$",
    re.IGNORECASE,
)
_BOUND_WORDS = [
    (re.compile(r"^(?:>=|≥|=>|not less than|at least|from)\s*", re.IGNORECASE), "low", True),
    (re.compile(r"^(?:>|above|over|greater than|more than|higher than)\s*", re.IGNORECASE), "low", False),
    (re.compile(r"^(?:<=|≤|=<|up to|not more than|not exceeding|at most)\s*", re.IGNORECASE), "high", True),
    (re.compile(r"^(?:<|below|under|less than|lower than)\s*", re.IGNORECASE), "high", False),
]
_SUFFIX_BOUND = re.compile(r"^(?P<q>.+?)\s+(?:and\s+)?(?P<w>above|and higher|or more|below|or less)$", re.IGNORECASE)
_EMPTY = {"", "-", "--", "---", "n/a", "n.a.", "/"}
_FOOTNOTE_RES = (
    re.compile(r"(?<=\S)([\u00b9\u00b2\u00b3\u2070\u2074-\u2079]+)$"),  # superscripts
    re.compile(r"(?<=[\w)%])(\*+)$"),  # 62*, 62**
    re.compile(r"(?<=\S)\s*\(([a-z]|\d{1,2})\)$"),  # 100 kHz (a)
    re.compile(r"(?<=\S)\s+(\d{1,2})[)/]$"),  # "... 1)" (FAW), "... 1/" (MIL)
)
_SUPERSCRIPT = str.maketrans("\u00b9\u00b2\u00b3\u2070\u2074\u2075\u2076\u2077\u2078\u2079", "1230456789")


# Detector names as tables and engineers write them: one spelling each, so "average" finds "AV".
_DETECTORS = {"quasi-peak": ("quasi-peak", "quasi peak", "quasipeak", "qp", "q-peak"),
              "average": ("average", "avg", "av", "cisprav", "cispr-av"),
              "peak": ("peak", "pk")}
DETECTOR_OF = {alias: name for name, aliases in _DETECTORS.items() for alias in aliases}


def detector_spellings(term: str) -> tuple[str, ...]:
    """Every spelling of the detector `term` names ("AV" → average, avg, av, …); () for other terms."""
    name = DETECTOR_OF.get(fold(term).lower())
    return _DETECTORS[name] if name else ()


def fold(text: str) -> str:
    """Text with dash, mu, tilde and space variants folded and whitespace collapsed."""
    text = text.translate(_FOLD_TABLE).replace("+/-", "±").replace("+/−", "±")
    return re.sub(r"\s+", " ", text).strip()


def normalise_unit(unit: str) -> str:
    """The canonical spelling of a unit ("dB(μV)" → "dBµV", "KHz" → "kHz"); unknown: folded as is."""
    u = fold(unit).replace(" ", "")
    if not u:
        return ""
    u = re.sub(r"^dB\((.+)\)$", r"dB\1", u, flags=re.IGNORECASE)
    u = re.sub(r"^dBu(?=[VA])", f"dB{MICRO}", u, flags=re.IGNORECASE)
    if u in CANONICAL_UNITS:
        return u
    if u.lower() in _CASELESS:
        return _CASELESS[u.lower()]
    if "/" in u and u.count("/") == 1 and not u.lower().startswith("db"):
        num, den = u.split("/")
        cn, cd = normalise_unit(num), normalise_unit(den)
        if cn in CANONICAL_UNITS and cd in CANONICAL_UNITS:
            return f"{cn}/{cd}"
    return u


def is_unit(unit: str) -> bool:
    """True when the text names a unit this module knows (compound "s/MHz" included)."""
    u = normalise_unit(unit)
    return u in CANONICAL_UNITS or ("/" in u and all(p in CANONICAL_UNITS for p in u.split("/")))


def _number(text: str) -> float:
    if re.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+", text):
        return float(text.replace(",", ""))
    return float(text.replace(",", "."))


@dataclass(frozen=True)
class Quantity:
    """A number with a canonical unit ("" for a bare number)."""

    value: float
    unit: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", normalise_unit(self.unit))

    @property
    def dimension(self) -> str | None:
        return SCALES[self.unit][0] if self.unit in SCALES else None

    def to(self, unit: str) -> Quantity:
        """The same quantity in another unit of its dimension (ValueError if incompatible)."""
        target = normalise_unit(unit)
        if target == self.unit:
            return self
        if self.unit not in SCALES or target not in SCALES or SCALES[self.unit][0] != SCALES[target][0]:
            raise ValueError(f"cannot convert {self.unit or 'a bare number'} to {target}")
        return Quantity(self.value * SCALES[self.unit][1] / SCALES[target][1], target)

    def comparable(self, other: Quantity) -> float | None:
        """The other quantity's value in this one's unit; bare numbers compare as is; None if incompatible."""
        if not self.unit or not other.unit or self.unit == other.unit:
            return other.value
        try:
            return other.to(self.unit).value
        except ValueError:
            return None

    def __str__(self) -> str:
        return format_quantity(self)


@dataclass(frozen=True)
class Range:
    """A band or interval; an open end is None ("Above 1 GHz" has no high end)."""

    low: Quantity | None
    high: Quantity | None
    low_inclusive: bool = True
    high_inclusive: bool = True

    def contains(self, q: Quantity) -> bool:
        for end, inclusive, sign in ((self.low, self.low_inclusive, 1), (self.high, self.high_inclusive, -1)):
            if end is None:
                continue
            v = end.comparable(q)
            if v is None:
                return False
            diff = (v - end.value) * sign
            tol = 1e-9 * max(1.0, abs(end.value))
            if diff < -tol or (not inclusive and diff <= tol):
                return False
        return self.low is not None or self.high is not None

    def distance(self, q: Quantity) -> float | None:
        """How far q lies outside the range, in the range's unit (0 inside); None if incompatible."""
        if self.contains(q):
            return 0.0
        gaps = []
        for end in (self.low, self.high):
            if end is not None and (v := end.comparable(q)) is not None:
                gaps.append(abs(v - end.value))
        return min(gaps) if gaps else None

    def __str__(self) -> str:
        return format_range(self)


@dataclass(frozen=True)
class Cell:
    """One table cell: the raw text and what it means (a value, a range, empty or plain text)."""

    raw: str
    kind: Literal["value", "range", "empty", "text"]
    value: Quantity | None = None
    range: Range | None = None
    plus_minus: bool = False
    footnotes: tuple[str, ...] = ()
    text: str = ""  # raw without footnote marks, whitespace collapsed
    formula: str | None = None  # set by agent.match.tables for limit formulas


def format_number(value: float) -> str:
    text = f"{value:.10g}"
    return text if "e" not in text else f"{value:f}".rstrip("0").rstrip(".")


def format_quantity(q: Quantity, plus_minus: bool = False) -> str:
    sign = "±" if plus_minus else ""
    return f"{sign}{format_number(q.value)} {q.unit}".rstrip()


def format_range(r: Range) -> str:
    if r.low is not None and r.high is not None:
        return f"{format_quantity(r.low)} - {format_quantity(r.high)}"
    if r.low is not None:
        return f"{'≥' if r.low_inclusive else '>'} {format_quantity(r.low)}"
    if r.high is not None:
        return f"{'≤' if r.high_inclusive else '<'} {format_quantity(r.high)}"
    return ""


def strip_footnotes(text: str) -> tuple[str, tuple[str, ...]]:
    """Text without trailing footnote marks, and the marks ("100 kHz¹" → "100 kHz", ("1",))."""
    marks: list[str] = []
    changed = True
    while changed:
        changed = False
        for pattern in _FOOTNOTE_RES:
            m = pattern.search(text)
            if m and text[: m.start()].strip():
                marks.insert(0, m.group(1).translate(_SUPERSCRIPT))
                text = text[: m.start()].rstrip()
                changed = True
    return text, tuple(marks)


def _qty(num: str, unit: str | None, default_unit: str | None) -> Quantity | None:
    if unit and not is_unit(unit):
        return None
    return Quantity(_number(num), normalise_unit(unit or default_unit or ""))


def parse_quantity(text: str, default_unit: str | None = None) -> Quantity | None:
    """A single value with its unit ("±8 kV" → 8 kV), or None when the text is not one."""
    q, _ = _parse_quantity_pm(text, default_unit)
    return q


def _parse_quantity_pm(text: str, default_unit: str | None) -> tuple[Quantity | None, bool]:
    m = _QTY_RE.match(strip_footnotes(fold(text))[0])
    if not m:
        return None, False
    q = _qty(m["num"], m["unit"], default_unit)
    if q is not None and m["pm"] and q.value < 0:
        return None, False
    return q, bool(m["pm"])


def parse_range(text: str, default_unit: str | None = None) -> Range | None:
    """A band ("30 MHz - 1 GHz", "0.28~30", "Above 1 GHz", "≤ 30 MHz"), or None."""
    t = strip_footnotes(fold(text))[0]
    m = _RANGE_RE.match(t)
    if m:
        ua, ub = m["ua"], m["ub"]
        if ua and not is_unit(ua) or ub and not is_unit(ub):
            return None
        low = _qty(m["a"], ua or ub, default_unit)
        high = _qty(m["b"], ub or ua, default_unit)
        return Range(low, high) if low is not None and high is not None else None
    for pattern, end, inclusive in _BOUND_WORDS:
        b = pattern.match(t)
        if b and b.end() < len(t):
            q = parse_quantity(t[b.end():], default_unit)
            if q is not None:
                return Range(q, None, inclusive, True) if end == "low" else Range(None, q, True, inclusive)
    s = _SUFFIX_BOUND.match(t)
    if s:
        q = parse_quantity(s["q"], default_unit)
        if q is not None:
            low_side = s["w"].lower() in ("above", "and higher", "or more")
            return Range(q, None) if low_side else Range(None, q)
    return None


def parse_cell(text: str, column_unit: str | None = None) -> Cell:
    """What a table cell says; never raises (unparseable text is kind "text")."""
    raw = text if isinstance(text, str) else ("" if text is None else str(text))
    try:
        return _parse_cell(raw, column_unit)
    except (ValueError, OverflowError) as err:  # pragma: no cover - defensive
        log.debug("cell %r not parsed: %s", raw, err)
        return Cell(raw, "text", text=fold(raw))


def _join_thousands(folded: str, raw: str) -> str:
    """ "1 000" (thin, no-break or plain space between digit groups, as EN/IEC print) → "1000"."""
    if not re.search(r"\d[\u2009\u202f\u00a0 ]\d{3}(?!\d)", raw):
        return folded
    return re.sub(r"(?<![\d.,])(\d{1,3}) (\d{3})(?![\d.,])", r"\1\2", folded)


def _parse_cell(raw: str, column_unit: str | None) -> Cell:
    folded = fold(raw)
    if folded.lower() in _EMPTY or folded == "NA":
        return Cell(raw, "empty", text=folded)
    body, marks = strip_footnotes(_join_thousands(folded, raw))
    shown = strip_footnotes(re.sub(r"\s+", " ", raw).strip())[0]
    if body.lower() in _EMPTY:
        return Cell(raw, "empty", footnotes=marks, text=shown)
    q, pm = _parse_quantity_pm(body, column_unit)
    if q is not None:
        return Cell(raw, "value", value=q, plus_minus=pm, footnotes=marks, text=shown)
    r = parse_range(body, column_unit)
    if r is not None:
        return Cell(raw, "range", range=r, footnotes=marks, text=shown)
    lead = re.split(r",\s|;\s?", body, maxsplit=1)[0]  # "80 MHz to 1 000 MHz, 80 % AM (1 kHz)": the band leads
    r = parse_range(lead, column_unit) if lead != body else None
    if r is not None:
        return Cell(raw, "range", range=r, footnotes=marks, text=shown)
    return Cell(raw, "text", footnotes=marks, text=shown)


def unit_in_label(label: str) -> str | None:
    """The unit a column header names ("Frequency (MHz)", "PK Limits dB(µV)", "KHz"), or None."""
    tokens = fold(label).split(" ")
    for i in range(len(tokens) - 1, -1, -1):
        token = tokens[i].strip(",;:")
        if i > 0 and re.fullmatch(_NUM, tokens[i - 1]):
            continue  # "6 dB Bandwidth": a quantity in the label, not the column's unit
        for candidate in (token, token.strip("()")):
            if candidate and is_unit(candidate):
                return normalise_unit(candidate)
        inner = re.findall(r"\(([^()]+)\)", token)
        if inner and is_unit(inner[-1]):
            return normalise_unit(inner[-1])
    return None


def is_frequency(q: Quantity | None) -> bool:
    return q is not None and q.dimension == "frequency"


def finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))
