"""Tokeniser shared by BM25 and LSA: keeps clause numbers, test ids, standards and units whole."""

from __future__ import annotations

import re
import unicodedata

# A token is a run of word characters, optionally joined by "-", "." or "/" to more word
# characters: "5.12", "cs114", "11452-4", "dbμv", "v/m" survive as one token.
_TOKEN = re.compile(r"\w+(?:[-./]\w+)*")
_STOP = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "in", "into", "is", "it", "its", "of", "on", "or", "shall", "that", "the", "this", "to", "was", "were", "will", "with", "which"]
)


def normalise(text: str) -> str:
    """NFKC, case-folded, micro sign and Greek mu both spelt "u" (so dBµV = dBμV = dBuV)."""
    return unicodedata.normalize("NFKC", text).casefold().replace("μ", "u")


def _stem(token: str) -> str:
    """Plural "s" off plain words ("cables" → "cable"); tokens with digits stay as they are."""
    if len(token) > 4 and token.isalpha() and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Search tokens of `text`: compounds joined by "-" or "/" also yield their parts."""
    out: list[str] = []
    for match in _TOKEN.finditer(normalise(text)):
        token = match.group().strip("_")
        if not token or token in _STOP:
            continue
        out.append(_stem(token))
        if "-" in token or "/" in token:
            out.extend(_stem(p) for p in re.split(r"[-/]", token) if p and p not in _STOP)
    return out
