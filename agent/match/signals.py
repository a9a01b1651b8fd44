"""Rule signals for test matching: phrase patterns, standard references, OEM codes, test family."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from itertools import pairwise

from agent.match.catalogue import Catalogue, CatalogueTest

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"), "-")
_QUOTES = dict.fromkeys(map(ord, "\u2018\u2019\u201b\u2032"), "'")
_LEAD_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)*)\.?(?=\D|$)\s*")

# Weights of the rule signals (raw score units; 1.0 alone is enough to pass the threshold).
W_STANDARD = 1.5  # "ISO 11452-4", or "CISPR 25" with its method words
W_STANDARD_WEAK = 0.25  # "CISPR 25" with no method word: only says which family of tests
W_OEM_CODE = 1.5  # "RI 114", "CE420"
W_ALIAS = 1.2  # "BCI-test", "TSUP"
KEYWORD_CAP = 2.0
FAMILY_MISMATCH = 0.3  # multiplier when the heading names the other family
AMBIGUOUS_UNKNOWN = 0.6  # multiplier for a shared keyword when no family is named
AMBIGUOUS_MISMATCH = 0.1


def normalise(text: str) -> str:
    """NFKC, one kind of dash and quote, single spaces."""
    text = unicodedata.normalize("NFKC", text or "").translate(_DASHES).translate(_QUOTES)
    return " ".join(text.split())


def strip_number(heading: str) -> str:
    """The heading without its leading clause number ("12.5 Requirements" -> "Requirements")."""
    match = _LEAD_NUMBER.match(heading)
    return heading[match.end():] if match and match.end() < len(heading) else heading


def clause_number(heading: str) -> str:
    """The leading clause number of a heading, trailing ".0" dropped ("8.0 X" -> "8"); "" if none."""
    match = _LEAD_NUMBER.match(heading)
    if not match:
        return ""
    parts = match.group(1).split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)


def _token_pattern(token: str, case_sensitive: bool) -> str:
    out = []
    for chunk in re.findall(r"\*|\w+|[^\w*]", token):
        if chunk == "*":
            out.append(r"\w*")
        elif chunk.isalpha() and case_sensitive and chunk.isupper() and len(chunk) <= 5:
            out.append(f"(?-i:{re.escape(chunk)})")
        else:
            out.append(re.escape(chunk))
    return "".join(out)


class Phrase:
    """A compiled phrase with a cheap literal pre-check (most phrases are absent from a heading)."""

    __slots__ = ("anchor", "pattern")

    def __init__(self, phrase: str) -> None:
        self.pattern = compile_phrase(phrase)
        runs = re.findall(r"[^\W_]+", normalise(phrase).replace("*", " ").lower())
        self.anchor = max(runs, key=len) if runs else ""

    def search(self, text: str, lowered: str | None = None) -> bool:
        if self.anchor and self.anchor not in (lowered if lowered is not None else text.lower()):
            return False
        return self.pattern.search(text) is not None


def compile_phrase(phrase: str) -> re.Pattern[str]:
    """A phrase as a regex: word boundaries, any of space/-/_// between words, none before digits.

    Short all-capital abbreviations ("AN", "RE") match capitals only, unless the phrase holds a
    digit (codes such as "RI 114" match "ri114" too). A trailing * matches any word ending.
    """
    phrase = normalise(phrase)
    has_digit = any(c.isdigit() for c in phrase)
    tokens = [t for t in re.split(r"[\s\-_/]+", phrase) if t]
    if not tokens:
        raise ValueError(f"empty phrase {phrase!r}")
    parts = [_token_pattern(tokens[0], not has_digit)]
    for prev, tok in pairwise(tokens):
        joint = r"[\s\-_/]*" if (prev[-1].isdigit() or tok[0].isdigit()) else r"[\s\-_/]+"
        parts.append(joint + _token_pattern(tok, not has_digit))
    body = "".join(parts)
    start = r"(?<![a-z0-9])" if re.match(r"\w", phrase) else ""
    end = r"(?![a-z0-9])" if re.search(r"\w$", phrase) else ""
    return re.compile(start + body + end, re.IGNORECASE)


_CISPR_AS_EN = re.compile(r"^CISPR\s+(\d{1,2})\b(.*)$")


def equivalent_refs(ref: str) -> list[str]:
    """A standard id and the ids it is published under elsewhere: IEC 61000-4-3 is also
    EN 61000-4-3 (and EN IEC, DIN EN, BS EN …), CISPR 25 is also EN 55025, CISPR 16-2-1 EN 55016-2-1."""
    out = [ref]
    if ref.startswith("IEC "):
        out.append("EN " + ref[4:])
    m = _CISPR_AS_EN.match(ref)
    if m:
        out.append(f"EN 550{int(m[1]):02d}{m[2]}")
    return out


def standards_named(evidence: list[str] | tuple[str, ...]) -> list[str]:
    """The standards a match's evidence says the clause named ("standard reference: ISO 7637-2")."""
    prefix = "standard reference: "
    refs = [e.split(prefix, 1)[1].split(" (")[0] for e in evidence if prefix in e]
    return list(dict.fromkeys(refs))


@dataclass(frozen=True)
class Hit:
    """One rule signal that fired for one test: its weight and the evidence string."""

    test_id: int
    weight: float
    evidence: str
    strong: bool = False  # standards, OEM codes and aliases: exempt from family gating


@dataclass
class _TestRules:
    test: CatalogueTest
    standards: list[tuple[Phrase, list[Phrase], str]] = field(default_factory=list)
    codes: list[tuple[Phrase, str]] = field(default_factory=list)
    aliases: list[tuple[Phrase, str]] = field(default_factory=list)
    keywords: list[tuple[Phrase, float, str]] = field(default_factory=list)
    ambiguous: list[tuple[Phrase, float, str]] = field(default_factory=list)
    excludes: list[tuple[Phrase, str]] = field(default_factory=list)


_EMISSION = re.compile(r"(?<![a-z])(?:emission\w*|emitted|emitting|emi)(?![a-z])|(?-i:(?<![A-Za-z])(?:RE|CE)(?![A-Za-z]))", re.IGNORECASE)
_IMMUNITY = re.compile(
    r"(?<![a-z])(?:immunit\w*|susceptib\w*|immune|irradiation|injection)(?![a-z])"
    r"|(?-i:(?<![A-Za-z])(?:RI|CI|RS|CS)(?![A-Za-z]))",
    re.IGNORECASE,
)
_ESD = re.compile(r"(?<![a-z])(?:electrostatic|esd\w*)(?![a-z])", re.IGNORECASE)


def family_of(text: str) -> str | None:
    """emission / immunity / esd when the text names exactly one family, else None."""
    text = normalise(text)
    if _ESD.search(text):
        return "esd"
    emission, immunity = bool(_EMISSION.search(text)), bool(_IMMUNITY.search(text))
    if emission == immunity:
        return None
    return "emission" if emission else "immunity"


def family_fits(test_family: str, family: str | None) -> bool | None:
    """True / False when the family is known; ESD tests count as immunity tests."""
    if family is None:
        return None
    if test_family == "esd":
        return family in ("esd", "immunity")
    return test_family == family


class RuleSignals:
    """All phrase patterns of a catalogue, compiled once."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.rules = [self._compile(t) for t in catalogue.tests]
        self.not_tests = [(Phrase(p), w, p.replace("*", "")) for p, w in catalogue.not_tests]

    @staticmethod
    def _compile(test: CatalogueTest) -> _TestRules:
        rules = _TestRules(test)
        for std in test.standards:
            withs = [Phrase(w) for w in std.with_words]
            rules.standards += [(Phrase(ref), withs, std.ref) for ref in equivalent_refs(std.ref)]
        rules.codes = [(Phrase(c.code), f"{c.code} ({c.oem})" if c.oem else c.code) for c in test.oem_codes]
        rules.aliases = [(Phrase(a), a) for a in test.aliases]
        rules.keywords = [(Phrase(k), w, k.replace("*", "")) for k, w in test.keywords]
        rules.ambiguous = [(Phrase(k), w, k.replace("*", "")) for k, w in test.ambiguous]
        rules.excludes = [(Phrase(e), e.replace("*", "")) for e in test.excludes]
        return rules

    def not_test_hits(self, text: str) -> list[tuple[float, str]]:
        """(weight, phrase) of every not-a-test topic in normalised `text`."""
        low = text.lower()
        return [(w, p) for rx, w, p in self.not_tests if rx.search(text, low)]

    def exclusions(self, text: str) -> dict[int, str]:
        """Test id -> the phrase of normalised `text` that rules the test out."""
        low = text.lower()
        out = {}
        for rules in self.rules:
            label = next((label for rx, label in rules.excludes if rx.search(text, low)), None)
            if label:
                out[rules.test.id] = label
        return out

    def hits(self, text: str, family: str | None) -> list[Hit]:
        """Every rule signal in normalised `text`; shared keywords are weighed by the family named."""
        low = text.lower()
        out: list[Hit] = []
        for rules in self.rules:
            out += self._test_hits(rules, text, low, family)
        return out

    def _test_hits(self, rules: _TestRules, text: str, low: str, family: str | None) -> list[Hit]:
        tid = rules.test.id
        out = []
        named: set[str] = set()
        for rx, withs, ref in rules.standards:
            if ref not in named and rx.search(text, low):
                named.add(ref)
                if not withs or any(w.search(text, low) for w in withs):
                    out.append(Hit(tid, W_STANDARD, f"standard reference: {ref}", strong=True))
                else:
                    out.append(Hit(tid, W_STANDARD_WEAK, f"standard reference: {ref} (method not named)"))
        out += [Hit(tid, W_OEM_CODE, f"OEM code: {label}", strong=True) for rx, label in rules.codes if rx.search(text, low)]
        out += [Hit(tid, W_ALIAS, f"alias: {label}", strong=True) for rx, label in rules.aliases if rx.search(text, low)]
        total = 0.0
        for rx, weight, label in rules.keywords:
            if total < KEYWORD_CAP and rx.search(text, low):
                weight = min(weight, KEYWORD_CAP - total)
                total += weight
                out.append(Hit(tid, weight, f"keyword: '{label}'"))
        fits = family_fits(rules.test.family, family)
        factor = 1.0 if fits else AMBIGUOUS_UNKNOWN if fits is None else AMBIGUOUS_MISMATCH
        for rx, weight, label in rules.ambiguous:
            if rx.search(text, low):
                note = "" if fits else " (family not named)" if fits is None else f" (but heading says {family})"
                out.append(Hit(tid, weight * factor, f"keyword: '{label}'{note}"))
        return out
