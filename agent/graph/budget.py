"""Context budget: count prompt tokens and trim evidence, lowest-ranked first, to fit num_ctx.

- ``count_tokens(text) -> int``: an approximation that errs high. Llama-family BPE tokenizers
  average about 4 characters per English token; spec text (numbers, units, symbols, µ/±)
  runs denser. We take the larger of two estimates: ``ceil(chars / 3.2)`` and a word-piece
  count (letter runs: one token per 4 letters; digit runs: one per 3 digits; every other
  non-space character one token, non-ASCII two). Exact tokenizers are not needed: we keep a
  margin instead.
- ``count_messages(texts) -> int``: the texts plus ``MESSAGE_OVERHEAD`` tokens per message
  (the chat template's role headers and end-of-turn markers).
- ``fit_evidence(fixed, evidence, num_ctx, reserve=ANSWER_RESERVE) -> Budget``: ``fixed`` are the
  messages kept whole (system prompt first, history, the answer prompt rendered with an empty
  evidence slot); ``evidence`` is ranked best first and numbered 1..k in that order. Items are
  dropped from the end until fixed + evidence block ≤ num_ctx − reserve, so the kept items
  stay numbered 1..j. When even the best item alone does not fit, its text is cut to fit (and
  reported). ``Budget.report()`` says what was trimmed, for the log and the UI.
- ``chat_texts(messages, tools=()) -> list[str]``: what a chat request puts into the context, one
  text per message (an assistant's tool calls as JSON beside its text) and the tool definitions
  as one more. A tool result is fitted with ``fit_evidence(chat_texts(...) + [the result rendered
  without evidence], its evidence, num_ctx)``: the chat so far stays whole, the result's own
  evidence is what gets dropped or cut, so Ollama never has to drop the oldest messages (the
  system prompt and the first evidence) to make room.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from agent.llm import ANSWER_TOKENS
from agent.prompts import evidence_block
from agent.schema import Citation

CHARS_PER_TOKEN = 3.2
MESSAGE_OVERHEAD = 8
ANSWER_RESERVE = ANSWER_TOKENS  # tokens left for the model's answer (the most it is asked to write)
_PIECE = re.compile(r"[A-Za-z]+|\d+|\S")


def count_tokens(text: str) -> int:
    """A conservative token estimate (see module doc); 0 for the empty string."""
    if not text:
        return 0
    pieces = 0
    for piece in _PIECE.findall(text):
        if piece[0].isascii() and piece[0].isalpha():
            pieces += math.ceil(len(piece) / 4)
        elif piece[0].isdigit():
            pieces += math.ceil(len(piece) / 3)
        else:
            pieces += 1 if piece.isascii() else 2
    return max(pieces, math.ceil(len(text) / CHARS_PER_TOKEN))


def count_messages(texts: Sequence[str]) -> int:
    """Tokens of a chat: each message's text plus the template's per-message overhead."""
    return sum(count_tokens(t) + MESSAGE_OVERHEAD for t in texts)


@dataclass(frozen=True)
class Budget:
    """Evidence that fits, what was dropped or cut, and the token count of the whole prompt."""

    kept: tuple[Citation, ...]
    dropped: tuple[Citation, ...]
    truncated: int | None  # n of the item whose text was cut, if any
    prompt_tokens: int
    limit: int  # num_ctx - reserve
    fits: bool  # False when the fixed messages alone exceed the limit

    def report(self) -> str:
        """One line: how many items were kept, which were dropped or cut."""
        total = len(self.kept) + len(self.dropped)
        parts = [
            (
                f"kept {len(self.kept)} of {total} evidence items ({self.prompt_tokens} of "
                f"{self.limit} prompt tokens)"
            )
        ]
        if self.dropped:
            parts.append(
                "dropped " + ", ".join(f"[{c.n}]" for c in self.dropped) + " (lowest ranked)"
            )
        if self.truncated is not None:
            parts.append(f"cut the text of [{self.truncated}] to fit")
        if not self.fits:
            parts.append("the system prompt and question alone exceed the context window")
        return "; ".join(parts)


def _total(fixed_tokens: int, items: Sequence[Citation]) -> int:
    return fixed_tokens + (count_tokens(evidence_block(items)) if items else 0)


def _cut(item: Citation, fixed_tokens: int, limit: int) -> Citation | None:
    """The item with its text cut (binary search on length) to fit, or None if nothing fits."""
    lo, hi = 0, len(item.text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _total(fixed_tokens, [replace(item, text=item.text[:mid] + " …")]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return replace(item, text=item.text[:lo] + " …") if lo > 0 else None


def fit_evidence(
    fixed: Sequence[str],
    evidence: Sequence[Citation],
    num_ctx: int,
    reserve: int = ANSWER_RESERVE,
) -> Budget:
    """Keep ``fixed`` whole; keep the best-ranked evidence that fits num_ctx - reserve."""
    limit = num_ctx - reserve
    fixed_tokens = count_messages(fixed)
    kept = list(evidence)
    while kept and _total(fixed_tokens, kept) > limit:
        kept.pop()
    truncated = None
    if not kept and evidence and fixed_tokens < limit:
        cut = _cut(evidence[0], fixed_tokens, limit)
        if cut is not None:
            kept, truncated = [cut], cut.n
    dropped = tuple(evidence[len(kept) :])
    return Budget(
        tuple(kept), dropped, truncated, _total(fixed_tokens, kept), limit, fixed_tokens <= limit
    )


def chat_texts(messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]] = ()) -> list[str]:
    """The texts a chat request puts into the model's context (see module doc)."""
    texts = []
    for m in messages:
        calls = m.tool_calls if isinstance(m, AIMessage) else []
        texts.append(str(m.content) + "".join(
            json.dumps({"name": c["name"], "arguments": c.get("args", {})}, ensure_ascii=False) for c in calls))
    return texts + ([json.dumps(list(tools), ensure_ascii=False)] if tools else [])
