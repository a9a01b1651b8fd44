"""Keyword extraction for clause text: YAKE with domain stop words, standard ids and units kept whole.

YAKE's `stopwords` argument *replaces* its English list (it does not add to it), is compared in
lower case, and a candidate is only rejected when its first or last word is a stop word; a
candidate holding a digit or a symbol ("11452-4", "dBµV/m") is never valid. So: we pass the
English list plus our domain words, lower-cased and with plurals; protected tokens (standard
ids, quantities with units, OEM test codes) are swapped for letter-only placeholders before
YAKE runs and restored after; a final check drops anything that still starts or ends with a
stop word.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yake

DOMAIN_STOP_WORDS = frozenset(
    ["shall", "should", "must", "may", "test", "tests", "tested", "testing", "requirement", "requirements", "required", "dut", "duts", "eut", "euts", "figure", "figures", "fig", "table", "tables", "annex", "annexes", "appendix", "clause", "clauses", "section", "sections", "see", "according", "accordance", "per", "specified", "specification", "defined", "following", "given", "use", "used", "using", "example", "e.g", "i.e.", "note", "notes", "chapter", "paragraph", "item", "items", "unless", "otherwise", "also", "within"]
)

_STANDARD = r"(?:ISO|IEC|CISPR|SAE|MIL-STD|GMW|EN|DIN|ECE|GB/T|GB|JASO|VW|ES|EMC-CS)[\s\-/]*[A-Z]?\d+(?:[\-.]\d+)*(?:-\d+)?"
_UNIT = (
    r"dB[µμu]?V/m|dB[µμu]?A/m|dB[µμu]?V|dB[µμu]?A|dBpT|dBm|V/m|A/m|mA|kV|mV|MHz|kHz|GHz|Hz|"
    r"mT|[µμu]T|pF|nF|ms|[µμu]s|ns|Ω|kΩ|ohms?|W|V|A|dB|%"
)
_QUANTITY = rf"[±+\-]?\d+(?:[.,]\d+)?(?:\s*(?:-|–|to)\s*\d+(?:[.,]\d+)?)?\s*(?:{_UNIT})(?![\w/])"
_BARE_UNIT = r"(?<![\w/])(?:dB[µμu]?V/m|dB[µμu]?A/m|dB[µμu]?V|dB[µμu]?A|V/m|A/m)(?![\w/])"
_CODE = r"(?<![\w])(?:RI|CI|CE|RE|RS|CS)[\s\-]?\d{2,3}(?:-H)?(?![\w])"
PROTECTED = re.compile(rf"{_STANDARD}|{_QUANTITY}|{_BARE_UNIT}|{_CODE}")


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """YAKE's English list plus the domain words, lower case, with plural forms."""
    english = Path(yake.__file__).parent / "core" / "StopwordsList" / "stopwords_en.txt"
    words = {w.strip().lower() for w in english.read_text(encoding="utf-8").splitlines() if w.strip()}
    words |= DOMAIN_STOP_WORDS
    words |= {w + "s" for w in DOMAIN_STOP_WORDS if not w.endswith("s")}
    return frozenset(words)


def _placeholder(i: int) -> str:
    letters = ""
    i += 26 * 26  # always three letters or more after the prefix
    while i:
        i, r = divmod(i, 26)
        letters = chr(ord("A") + r) + letters
    return f"QX{letters}"


def _protect(text: str) -> tuple[str, dict[str, str]]:
    mapping: dict[str, str] = {}
    by_value: dict[str, str] = {}

    def swap(m: re.Match[str]) -> str:
        value = " ".join(m.group(0).split())
        if value not in by_value:
            by_value[value] = _placeholder(len(by_value))
            mapping[by_value[value].lower()] = value
        return by_value[value]

    return PROTECTED.sub(swap, text), mapping


def _restore(keyword: str, mapping: dict[str, str]) -> str:
    return " ".join(mapping.get(tok.lower(), tok) for tok in keyword.split())


def _edge_ok(keyword: str, stops: frozenset[str]) -> bool:
    words = [w.strip(".,;:()[]'\"").lower() for w in keyword.split()]
    words = [w for w in words if w]
    return bool(words) and words[0] not in stops and words[-1] not in stops


def extract_keywords(text: str, n: int = 10) -> list[tuple[str, float]]:
    """The n best keywords (1-3 words) of `text`, best first, with YAKE's score (lower = better)."""
    if not text or not text.strip() or n <= 0:
        return []
    stops = stop_words()
    protected, mapping = _protect(text)
    extractor = yake.KeywordExtractor(lan="en", n=3, dedup_lim=0.9, top=n * 3, stopwords=set(stops))
    out: list[tuple[str, float]] = []
    seen: set[str] = set()
    for keyword, score in extractor.extract_keywords(protected):
        restored = _restore(keyword, mapping)
        if restored.lower() in seen or not _edge_ok(restored, stops):
            continue
        seen.add(restored.lower())
        out.append((restored, float(score)))
        if len(out) == n:
            break
    return out
