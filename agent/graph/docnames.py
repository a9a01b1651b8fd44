"""Which loaded documents a question names: by file name, standard number, edition letter or year.

Engineers name a document loosely: "461G", "MIL-STD-461", "EN 61999-4", "R171", "the 2015
edition", for files indexed as `MIL-STD-461G_2015_rev` or `EN-61999-4-2018`. Each document's
*designations* are the standard numbers in its name and title ("61999-4", "461 G"); a question
names a document when it writes one of them whole, or its start without contradicting the rest
("461" for 461G when no other edition letter follows).

- ``named_documents(question, documents) -> tuple[str, ...]``: ``documents`` maps each loaded
  name to its title (may be ""); whole designations win over partial ones, a year written with
  "edition" (or after a colon) picks among the documents that carry that year.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_TOKEN = re.compile(r"[A-Za-z]+|\d+")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_UNIT = re.compile(r"^(?:[KMG]?HZ|[KM]?V|[MK]?A|DB\w*|[MCK]?M|[MN]?S|[KM]?W|PF|NF|UF|UH|MH|OHMS?|KG|MIN|H|DEG)$")
_EDITION_YEAR = re.compile(
    r"\b(?:(?:edition|version|revision|issue|release)\s*(?:of\s*)?(?P<a>(?:19|20)\d\d)"
    r"|(?P<b>(?:19|20)\d\d)\s*(?:edition|version|revision|issue|release|one|spec|standard|document)"
    r"|:\s*(?P<c>(?:19|20)\d\d))\b", re.IGNORECASE)


def _tokens(text: str) -> list[str]:
    return [t.upper() for t in _TOKEN.findall(text)]


def _is_number(token: str) -> bool:
    return token.isdigit() and len(token) >= 2 and not _YEAR.match(token)


def designations(name: str, title: str = "") -> list[tuple[str, ...]]:
    """Standard numbers of a document as token runs: ("461", "G"), ("61999", "4"), ("R", "171")."""
    out = []
    for text in (name, title[:400]):
        tokens = _tokens(text)
        i = 0
        while i < len(tokens):
            if not (_is_number(tokens[i]) and len(tokens[i]) >= 3):
                i += 1
                continue
            start = i - 1 if i and len(tokens[i - 1]) == 1 and tokens[i - 1].isalpha() else i
            end = i + 1
            while end < len(tokens) and (tokens[end].isdigit() and not _YEAR.match(tokens[end])
                                         or len(tokens[end]) == 1 and tokens[end].isalpha()):
                end += 1
            out.append(tuple(tokens[start:end]))
            i = end
    return list(dict.fromkeys(out))


def years(name: str, title: str = "") -> set[str]:
    return {t for t in _tokens(f"{name} {title[:400]}") if _YEAR.match(t)}


def _match(question: list[str], key: tuple[str, ...]) -> int:
    """2: the whole designation is written; 1: its number is, and nothing after it contradicts
    the rest; 0: not named."""
    main = next(k for k, t in enumerate(key) if len(t) >= 3)
    best = 0
    for i, token in enumerate(question):
        if token != key[main]:
            continue
        if main and (i == 0 or question[i - 1] != key[main - 1]) and i and len(question[i - 1]) == 1:
            continue  # "F461" vs "R461": another prefix letter
        m = main + 1
        while m < len(key) and i + m - main < len(question) and question[i + m - main] == key[m]:
            m += 1
        if m == len(key):
            return 2
        nxt = question[i + m - main] if i + m - main < len(question) else ""
        if _UNIT.match(nxt):
            continue  # "461 MHz" is a frequency
        contradicts = bool(nxt) and (len(nxt) == 1 and nxt.isalpha() or nxt.isdigit() and not _YEAR.match(nxt))
        best = max(best, 0 if contradicts else 1)
    return best


_GENERIC_PREFIX = {"EMC", "EMV", "MIL", "ISO", "IEC", "EN", "CISPR", "UN", "ECE", "SAE", "DIN", "JASO", "GB",
                   "TL", "ES", "CS", "SPEC", "STD", "DRAFT", "NEW", "OLD", "THE"}


def _maker_named(question: str, name: str, documents: Mapping[str, str]) -> bool:
    """Does the question name the document by the maker's prefix of its file name ("ACME", "HM"),
    a prefix no other loaded document shares?"""
    prefix = re.split(r"[-_ .]", name, maxsplit=1)[0].upper()
    if len(prefix) < 2 or not prefix.isalpha() or prefix in _GENERIC_PREFIX:
        return False
    if sum(re.split(r"[-_ .]", n, maxsplit=1)[0].upper() == prefix for n in documents) != 1:
        return False
    return re.search(rf"(?<![\w-]){re.escape(prefix)}(?![\w-])", question) is not None  # as written: capitals


def named_documents(question: str, documents: Mapping[str, str]) -> tuple[str, ...]:
    squashed = re.sub(r"[^A-Z0-9]", "", question.upper())
    tokens = _tokens(question)
    scores: dict[str, int] = {}
    for name, title in documents.items():
        full = re.sub(r"[^A-Z0-9]", "", name.upper())
        if len(full) >= 4 and full in squashed:
            scores[name] = 3
            continue
        best = max((_match(tokens, key) for key in designations(name, title)), default=0)
        if best:
            scores[name] = best
        elif _maker_named(question, name, documents):
            scores[name] = 2  # "ACME" for ACME-EMC-CS-2026: the maker's prefix of the file name
    year = next((y for m in _EDITION_YEAR.finditer(question) for y in m.groups() if y), None)
    if year:
        with_year = [n for n in (scores or documents) if year in years(n, documents[n])]
        if with_year:
            scores = {n: scores.get(n, 1) for n in with_year}
    if not scores:
        return ()
    top = max(scores.values())
    hits = [n for n in documents if scores.get(n) == top]
    # "MIL-STD-461G" also contains "461G" of no other doc; drop names contained in a longer hit
    return tuple(h for h in hits if not any(h != o and h.upper() in o.upper() for o in hits))
