"""Hybrid search over one generation: BM25 (bm25s) + dense (FAISS), reciprocal-rank fusion."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import bm25s
import faiss
import numpy as np

from agent.index.tokens import tokenize
from agent.schema import Chunk

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets itself to DEBUG on import

RRF_K = 60
CANDIDATES = 50


class HybridSearcher:
    """Ranks chunk rows for a query; chunk row i is vector i.

    `embed_query` is None when no dense embedder is usable (lexical search only).
    """

    def __init__(
        self,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        embed_query: Callable[[str], list[float]] | None,
    ) -> None:
        self.size = len(chunks)
        self.embed_query = embed_query
        self.ranges = _doc_ranges(chunks)
        self.bm25 = bm25s.BM25()
        if self.size:
            corpus = [tokenize(f"{c.title_path}\n{c.text}") for c in chunks]
            self.bm25.index([toks or [""] for toks in corpus], show_progress=False)
        self.faiss = faiss.IndexFlatIP(vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else 1)
        if self.size and embed_query is not None:
            self.faiss.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def lexical(self, query: str, lo: int, hi: int, n: int) -> list[int]:
        if hi <= lo:
            return []
        ids = self.bm25.get_tokens_ids(tokenize(query))
        if not ids:
            return []
        scores = self.bm25.get_scores_from_ids(ids)[lo:hi]
        top = np.argsort(-scores, kind="stable")[:n]
        return [lo + int(i) for i in top if scores[i] > 0]

    def dense(self, query: str, lo: int, hi: int, n: int) -> list[int]:
        if self.embed_query is None or self.faiss.ntotal == 0 or hi <= lo:
            return []
        try:
            vec = np.asarray([self.embed_query(query)], dtype=np.float32)
        except Exception as err:  # noqa: BLE001 - a down embedding server degrades to words only
            log.warning("query embedding failed (%s: %s); searching by words only", type(err).__name__, err)
            return []
        norm = float(np.linalg.norm(vec))
        if not norm:
            return []
        if vec.shape[1] != self.faiss.d:
            raise ValueError(f"query vector has {vec.shape[1]} dimensions, the index {self.faiss.d}")
        params = faiss.SearchParameters(sel=faiss.IDSelectorRange(lo, hi))
        _, ids = self.faiss.search(vec / norm, min(n, hi - lo), params=params)
        return [int(i) for i in ids[0] if i >= 0]

    def rank(self, query: str, k: int, doc: str | None = None) -> list[tuple[int, float]]:
        """The top `k` chunk rows with their fused scores (sum of 1/(60 + rank) per list)."""
        lo, hi = self.ranges.get(doc, (0, 0)) if doc else (0, self.size)
        fused: dict[int, float] = {}
        for ranked in (self.lexical(query, lo, hi, CANDIDATES), self.dense(query, lo, hi, CANDIDATES)):
            for rank, row in enumerate(ranked):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]


def _doc_ranges(chunks: Sequence[Chunk]) -> dict[str, tuple[int, int]]:
    """Each document's contiguous chunk rows [lo, hi)."""
    ranges: dict[str, tuple[int, int]] = {}
    for i, chunk in enumerate(chunks):
        lo, _ = ranges.get(chunk.doc, (i, i))
        ranges[chunk.doc] = (lo, i + 1)
    return ranges
