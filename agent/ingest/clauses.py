"""Heading, table-of-contents and clause-tree rules shared by the PDF and DOCX parsers.

Public API:
- `split_heading(line) -> (number, title) | None`: a heading line's clause number and title
  ("5.12  CS114, conducted susceptibility, bulk cable injection." →
  ("5.12", "CS114, conducted susceptibility, bulk cable injection"); "APPENDIX A" →
  ("Appendix A", ""); "Annex B (normative) EMC plan" → ("Annex B", "EMC plan")).
  Cross-references ("5.5.3.4a(2) through ..."), quantities ("10 kHz to 1 MHz"), dates and
  TOC lines are refused.
- `is_toc_line(line) -> bool`: a table-of-contents entry ("5.5 CE102 .......... 35").
- `number_key(number) -> tuple | None`: a sortable key ("A.2.1" → ("A", 2, 1)).
- `plausible_step(prev, number) -> bool`: may `number` follow heading `prev` in document order?
- `select_headings(numbers, weights=None) -> list[int]`: indices of the candidate headings that
  form the heaviest plausible sequence (drops cross-references that happen to start a line).
- `split_run_in(title) -> (title, body)`: a run-in heading's title and the sentence that follows
  it on the same line ("Shielding effectiveness.  The facility HEMP shield …").
- `ClauseBuilder`: feed `heading(...)`, `text(...)`, `table(...)`, `figure(...)` in document
  order; `build()` returns `Clause` records with `parents` chains; text before the first heading
  is kept in `.preamble` (no clause is invented for it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from agent.schema import Clause

_NUM = r"\d{1,2}(?:\.\d{1,3}){0,6}"
_NUMERIC = re.compile(rf"^\s*(?P<num>{_NUM})(?:(?P<dot>\.)?[ \t\u00a0]+|\.(?=[A-Za-z]))(?P<title>\S.*)$")
_ALPHA = re.compile(r"^\s*(?P<num>[A-Z]\.\d{1,3}(?:\.\d{1,3}){0,5})\.?[ \t\u00a0]+(?P<title>\S.*)$")
_ANNEX = re.compile(
    r"^\s*(?P<kind>annex|appendix)[ \t\u00a0]+(?P<letter>[A-Z]|[IVX]{1,4}|\d{1,2})\b\.?"
    r"(?:[ \t\u00a0]*[-–—:.][ \t\u00a0]*|[ \t\u00a0]+)?(?P<title>.*)$",
    re.IGNORECASE,
)
QUALIFIER = re.compile(r"^\((?:normative|informative)\)\s*", re.IGNORECASE)
_TOC = re.compile(r"(?:\.{4,}|(?:\. ){4,}|…{2,}|_{4,})\s*\.?\s*[0-9ivxlcIVXLC]{1,5}\s*$")
_TOC_TAB = re.compile(r"\S\s*\t\s*[0-9]{1,4}\s*$")
_UNITS = {
    "hz", "khz", "mhz", "ghz", "v", "mv", "kv", "µv", "μv", "a", "ma", "µa", "μa", "ka",
    "db", "dbµv", "dbμv", "dbµa", "dbμa", "dbm", "dbpt", "w", "mw", "kw", "s", "ms", "µs",
    "μs", "ns", "m", "cm", "mm", "km", "ω", "ohm", "ohms", "%", "°c", "pf", "nf", "µf", "μf",
    "uf", "µh", "μh", "mh", "h", "kg", "g", "min", "x", "to", "and", "or", "through", "of",
    "times", "volts", "amps", "hertz", "dbuv", "dbua", "meters", "seconds", "percent",
}
_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
}
_MAX_TITLE = 160
_QUALIFIERS = {"max", "maximum", "min", "minimum", "nominal", "typ", "typical", "rms", "peak", "continuous",
               "average", "per", "each", "total", "dc", "ac"}
_REF_TITLE = re.compile(r"^\((?:\d{1,2}(?:\.\d{1,3})*|[A-Z]\.\d[\d.]*)\)\s+[A-Za-z]")


_RUN_IN = re.compile(r"^(?P<title>[^.]{3,80}?[a-z0-9)\]])\.\s+(?P<body>[A-Z(\d].*)$")


_SENTENCE_WORDS = 10  # a "title" this long with a verb (or one that says "shall") is a first sentence
_REQUIREMENT = re.compile(r"\b(?:shall|must|should|may not|is required|are required)\b")
_VERB = re.compile(r"\b(?:is|are|be|will|has|have|can|means)\b")


def split_run_in(title: str) -> tuple[str, str]:
    """("Shielding effectiveness", "The facility HEMP shield …") of a run-in heading; a title with
    no sentence after it comes back whole with an empty body. A numbered paragraph with no title
    ("6.2.7. A lane change procedure shall be indicated …") keeps its sentence in the body and
    is titled by its opening words."""
    match = _RUN_IN.match(title)
    if match and len(match["title"].split()) <= 12:
        return match["title"].strip(), match["body"].strip()
    words = title.split()
    if _REQUIREMENT.search(title) or (len(words) > _SENTENCE_WORDS and _VERB.search(title)):
        return " ".join(words[:8]) + (" …" if len(words) > 8 else ""), title
    return title, ""


def is_toc_line(line: str) -> bool:
    """A table-of-contents entry: dot leaders (or a tab) before a trailing page number."""
    text = line.rstrip()
    return bool(_TOC.search(text) or (_TOC_TAB.search(text) and split_heading_raw(text)))


def split_heading_raw(line: str) -> tuple[str, str] | None:
    """`split_heading` without the TOC check (number and raw title, trailing dot removed)."""
    text = line.replace("\u00a0", " ").strip()
    match = _ANNEX.match(text)
    if match:
        title = QUALIFIER.sub("", match["title"].strip())
        return f"{match['kind'].capitalize()} {match['letter'].upper()}", _clean_title(title)
    match = _ALPHA.match(text) or _NUMERIC.match(text)
    if not match:
        return None
    title = _clean_title(match["title"])
    return (match["num"], title) if _looks_like_title(title) else None


def split_heading(line: str) -> tuple[str, str] | None:
    """(number, title) of a heading line, or None for body text, cross-references and TOC lines."""
    if is_toc_line(line):
        return None
    return split_heading_raw(line)


def _clean_title(title: str) -> str:
    title = re.sub(r"\s+", " ", title).strip()
    return title[:-1].rstrip() if title.endswith(".") and not title.endswith("..") else title


def _looks_like_title(title: str) -> bool:
    if not title or len(title) > _MAX_TITLE:
        return False
    if not title[0].isalpha() and not _REF_TITLE.match(title):  # "(4.1) General" in an appendix
        return False
    words = re.split(r"[\s,;:()]+", title)
    first = words[0].lower().rstrip(".")
    article = words[0] == "A" and len(words) > 1 and words[1].isalpha() and words[1].islower() \
        and words[1] not in _UNITS | _QUALIFIERS  # "6.2.1. A lane change shall …", not "5 A to 10 A"
    if (first in _UNITS and not article) or first in _MONTHS:
        return False
    letters = sum(ch.isalpha() for ch in title)
    return letters >= 2 and letters >= len(title) * 0.4


@lru_cache(maxsize=8192)
def number_key(number: str) -> tuple | None:
    """Sortable key of a clause number: "5.16.3" → (5, 16, 3); "A.2.1" / "Appendix A" → ("A", ...)."""
    match = re.fullmatch(r"(?:annex|appendix)\s+(\w+)", number, re.IGNORECASE)
    if match:
        return (match[1].upper(),)
    parts = number.split(".")
    if parts[0].isalpha() and len(parts[0]) == 1:
        return (parts[0].upper(), *(int(p) for p in parts[1:] if p.isdigit()))
    if all(p.isdigit() for p in parts):
        return tuple(int(p) for p in parts)
    return None


def plausible_step(prev: str | None, number: str, max_gap: int = 3) -> bool:
    """May heading `number` follow heading `prev`? (child, next sibling, or next of an ancestor)."""
    new = number_key(number)
    old = number_key(prev) if prev is not None else None
    return _step(old, new, max_gap)


def _step(old: tuple | None, new: tuple | None, max_gap: int = 3) -> bool:
    if new is None:
        return False
    if old is None:
        return _plausible_start(new)
    if isinstance(new[0], str) != isinstance(old[0], str):
        # numbered body → appendix is always allowed; appendix → body numbering never is
        return isinstance(new[0], str) and all(x <= 1 for x in new[1:])
    if isinstance(new[0], str) and new[0] != old[0]:
        return 0 < ord(new[0][0]) - ord(old[0][0]) <= max_gap and all(x <= 1 for x in new[1:])
    return _numeric_step(old[1:] if isinstance(old[0], str) else old,
                         new[1:] if isinstance(new[0], str) else new, max_gap)


def _plausible_start(new: tuple) -> bool:
    tail = new[1:]
    return all(x <= 1 for x in tail) and (isinstance(new[0], str) or new[0] <= 3 or not tail)


def _numeric_step(old: tuple, new: tuple, max_gap: int) -> bool:
    for i, (a, b) in enumerate(zip(old, new)):
        if a != b:
            return 0 < b - a <= max_gap and all(x <= 1 for x in new[i + 1 :])
    if len(new) <= len(old):
        return False  # same number again, or an ancestor of the previous heading
    return new[len(old)] <= max_gap - 1 and all(x <= 1 for x in new[len(old) + 1 :])


def select_headings(numbers: list[str], weights: list[float] | None = None, window: int = 200) -> list[int]:
    """Indices of the heaviest chain of candidates in which each heading plausibly follows the last.

    Dynamic programme over the candidates in document order; a predecessor is looked for among
    the `window` previous candidates, so a run of stray numbers cannot lock out real headings."""
    weights = weights or [1.0] * len(numbers)
    keys = [number_key(n) for n in numbers]
    best: list[float] = []
    back: list[int] = []
    for j, key in enumerate(keys):
        score, prev = (weights[j], -1) if _step(None, key) else (float("-inf"), -1)
        for i in range(max(0, j - window), j):
            if best[i] + weights[j] > score and _step(keys[i], key):
                score, prev = best[i] + weights[j], i
        best.append(score)
        back.append(prev)
    if not numbers or max(best) == float("-inf"):
        return []
    j = max(range(len(best)), key=lambda k: (best[k], k))
    chain: list[int] = []
    while j >= 0:
        chain.append(j)
        j = back[j]
    return chain[::-1]


@dataclass
class _Draft:
    number: str
    title: str
    page: int | None
    page_label: str | None
    position: int | None
    lines: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)


PROSE_CELL = 60  # characters a column's cells average, at least, for a table to hold requirements in words


def prose_rows(header: Sequence[Sequence[str]], body: Sequence[Sequence[str]]) -> list[str]:
    """The rows of a table that states requirements in words (a requirements tool's export:
    "Req-ID | Requirement text | Verification"), each as one line of the clause's text, so a
    requirement is read, searched and quoted like any other sentence; [] for a table of values."""
    rows = [[" ".join((c or "").split()) for c in r] for r in body if any((c or "").strip() for c in r)]
    width = max((len(r) for r in rows), default=0)
    if len(rows) < 2 or width < 2:
        return []
    def mean(c: int) -> float:
        cells = [r[c] for r in rows if c < len(r) and r[c]]
        return sum(map(len, cells)) / len(cells) if cells else 0.0
    if max(mean(c) for c in range(width)) < PROSE_CELL:
        return []
    heads = [" ".join((c or "").split()) for c in header[-1]] if header else []
    out = []
    for r in rows:
        cells = [f"{heads[i]}: {c}" if i and i < len(heads) and heads[i] and len(c) < PROSE_CELL // 2 else c
                 for i, c in enumerate(r) if c and c not in r[:i]]  # a short cell says what it is
        out.append(" — ".join(cells))
    return out


# A test sheet's boxed header ("Test sheet EMC-P04 | Test: BCI | Standard: ISO 11452-4"): the
# sheet is a section of its own, numbered by its id, as OEM specs that organise tests this way cite it.
_SHEET = re.compile(r"^(?:test sheet|test card|test data sheet|pr(?:ü|ue)fblatt|fiche d'essai)\s+"
                    r"(?P<id>[A-Z][A-Z0-9]*(?:[-./][A-Z0-9]+)*\d[A-Z]?)\s*[:.\u2013-]?\s*(?P<title>.*)$", re.IGNORECASE)
_TITLE_CELL = re.compile(r"^(?:test|title|name|prüfung)\s*:\s*(?P<t>.+)$", re.IGNORECASE)


def sheet_heading(rows: Sequence[Sequence[str]]) -> tuple[str, str, list[str]] | None:
    """(id, title, the header's other cells as lines) when a table's first cell opens a test
    sheet ("Test sheet EMC-P04"); None for any other table."""
    cells = [" ".join((c or "").split()) for r in rows for c in r]
    cells = [c for i, c in enumerate(cells) if c and c not in cells[:i]]
    m = _SHEET.match(cells[0]) if cells else None
    if m is None:
        return None
    rest = cells[1:]
    titled = next((c for c in rest if _TITLE_CELL.match(c)), None)
    title = m["title"] or (_TITLE_CELL.match(titled)["t"] if titled else (rest[0] if rest else ""))
    return m["id"], title, rest


class ClauseBuilder:
    """Collects headings and body in document order; `build()` returns the clauses."""

    def __init__(self, doc: str = "") -> None:
        self.doc = doc
        self.preamble_lines: list[str] = []
        self._drafts: list[_Draft] = []

    @property
    def current(self) -> str | None:
        """Number of the clause now receiving text (None before the first heading)."""
        return self._drafts[-1].number if self._drafts else None

    @property
    def preamble(self) -> str:
        """Front matter before the first heading (not a clause)."""
        return "\n".join(self.preamble_lines)

    def heading(self, number: str, title: str, page: int | None = None,
                page_label: str | None = None, position: int | None = None) -> None:
        self._drafts.append(_Draft(number, title, page, page_label, position))

    def text(self, line: str) -> None:
        if line.strip():
            (self._drafts[-1].lines if self._drafts else self.preamble_lines).append(line.rstrip())

    def table(self, table_id: str) -> None:
        if self._drafts and table_id not in self._drafts[-1].tables:
            self._drafts[-1].tables.append(table_id)

    def figure(self, caption: str) -> None:
        if self._drafts:
            self._drafts[-1].figures.append(caption)
            self._drafts[-1].lines.append(caption)

    def build(self) -> tuple[Clause, ...]:
        seen: dict[str, str] = {}  # key spelling ("8", "A") → number as printed ("8.0", "Appendix A")
        clauses = []
        for d in self._drafts:
            clauses.append(Clause(
                number=d.number, title=d.title, text="\n".join(d.lines), parents=parents_of(d.number, seen),
                page=d.page, page_label=d.page_label, position=d.position, tables=tuple(d.tables),
                figures=tuple(d.figures), doc=self.doc,
            ))
            seen[d.number] = d.number
            for alias in _aliases(d.number):
                seen.setdefault(alias, d.number)
        return tuple(clauses)


def _aliases(number: str) -> list[str]:
    match = re.fullmatch(r"(?:annex|appendix)\s+(\w+)", number, re.IGNORECASE)
    if match:
        return [match[1].upper()]
    if re.fullmatch(r"\d+\.0", number):  # "8.0" stands for section 8 where "8" is not printed
        return [number[:-2]]
    return []


def parents_of(number: str, seen: dict[str, str]) -> tuple[str, ...]:
    """Ancestors of `number` among clauses already seen (alias → printed number), outermost first."""
    parts = number.split(".")
    chain: list[str] = []
    for i in range(1, len(parts)):
        prefix = ".".join(parts[:i])
        found = seen.get(prefix)
        if found is not None and found != number and found not in chain:
            chain.append(found)
    return tuple(chain)
