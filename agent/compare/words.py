"""Word-level text comparison: folded tokens, similarity scores and a compact "[-old-]{+new+}" diff."""

from __future__ import annotations

import math
import re
from collections import Counter
from difflib import SequenceMatcher

from agent.match.units import fold

CONTEXT = 4  # words of unchanged text shown either side of a change
_WORD = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[str]:
    """The words of `text` as printed (dashes, mu and spaces folded)."""
    return fold(text).split()


def normal(text: str) -> str:
    """Text for equality tests: folded, lower case, no spaces ("0.0333fo/sec" = "0.0333 fo/sec")."""
    return re.sub(r"\s+", "", fold(text)).lower()


def ratio(a: str, b: str) -> float:
    """Character similarity of two short texts (headings, labels), 0..1."""
    a, b = fold(a).lower(), fold(b).lower()
    if not a and not b:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def bag(text: str) -> Counter[str]:
    """The words of a body with their counts, for `cosine`."""
    return Counter(_WORD.findall(text.lower()))


def cosine(a: str | Counter[str], b: str | Counter[str]) -> float | None:
    """Bag-of-words cosine similarity of two bodies (texts or bags); None when either is empty."""
    ca = bag(a) if isinstance(a, str) else a
    cb = bag(b) if isinstance(b, str) else b
    if not ca or not cb:
        return None
    dot = sum(n * cb[w] for w, n in ca.items())
    return dot / math.sqrt(sum(n * n for n in ca.values()) * sum(n * n for n in cb.values()))


def word_diff(old: str, new: str, context: int = CONTEXT) -> str:
    """The changes from `old` to `new`, word by word: "… limit is [-34-]{+32+} dBµV …"; "" when
    equal. Unchanged runs longer than twice `context` words are cut to "…"."""
    a, b = tokens(old), tokens(new)
    if a == b:
        return ""
    ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    parts: list[str] = []
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag != "equal":
            parts.append(("[-" + " ".join(a[i1:i2]) + "-]" if i2 > i1 else "")
                         + ("{+" + " ".join(b[j1:j2]) + "+}" if j2 > j1 else ""))
            continue
        words = a[i1:i2]
        first, last = k == 0, k == len(ops) - 1
        keep_head = [] if first else words[:context]
        keep_tail = [] if last else words[-context:]
        if len(words) <= len(keep_head) + len(keep_tail):
            parts += words
        else:
            parts += [*keep_head, "…", *keep_tail]
    return " ".join(parts).removeprefix("… ").removesuffix(" …")
