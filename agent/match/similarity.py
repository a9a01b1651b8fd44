"""Text similarity for test matching: TF-IDF over word and character n-grams, cosine scores."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

Vector = tuple[np.ndarray, np.ndarray]  # (feature indices, unit-length weights)


class _Part:
    """One TF-IDF view (word or character n-grams): sklearn fits it, queries skip sklearn's overhead."""

    def __init__(self, vectorizer: TfidfVectorizer, corpus: Sequence[str]) -> None:
        vectorizer.fit(corpus)
        self.analyze = vectorizer.build_analyzer()
        self.vocab = vectorizer.vocabulary_
        self.idf = vectorizer.idf_

    def vector(self, text: str) -> Vector:
        counts = Counter(self.analyze(text))
        pairs = [(self.vocab[g], (1.0 + math.log(n)) * self.idf[self.vocab[g]]) for g, n in counts.items() if g in self.vocab]
        if not pairs:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
        val = np.fromiter((p[1] for p in pairs), dtype=float, count=len(pairs))
        return idx, val / np.linalg.norm(val)


class _Rows:
    """A fixed set of unit-length rows stored feature-major, for one query against all rows."""

    def __init__(self, rows: list[Vector], n_features: int) -> None:
        self.n = len(rows)
        r = np.concatenate([np.full(len(v[0]), i) for i, v in enumerate(rows)] or [np.zeros(0, int)])
        c = np.concatenate([v[0] for v in rows] or [np.zeros(0, int)])
        d = np.concatenate([v[1] for v in rows] or [np.zeros(0)])
        self.matrix = sparse.csr_matrix((d, (c, r)), shape=(n_features, self.n))
        dense_cells = n_features * self.n
        self.dense = self.matrix.toarray().astype(np.float32) if dense_cells <= 4_000_000 else None

    def cosine(self, query: Vector) -> np.ndarray:
        idx, val = query
        if self.n == 0 or len(idx) == 0:
            return np.zeros(self.n)
        if self.dense is not None:
            return val.astype(np.float32) @ self.dense[idx]
        return np.asarray(self.matrix[idx].T @ val).ravel()


class TfidfSpace:
    """Word (1-2) and character (3-5, within words) TF-IDF, fitted once on a small corpus.

    A similarity is the mean of the word and the character cosine, so a heading that shares
    no whole word with a description ("Immunity" vs "immunities") still scores.
    """

    def __init__(self, corpus: Sequence[str]) -> None:
        corpus = [c for c in corpus if c.strip()] or ["empty"]
        self.word = _Part(TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                          token_pattern=r"(?u)\b\w[\w/-]*\b"), corpus)
        self.char = _Part(TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True), corpus)

    def encode(self, text: str) -> tuple[Vector, Vector]:
        return self.word.vector(text), self.char.vector(text)

    def index(self, texts: Sequence[str]) -> SpaceIndex:
        vectors = [self.encode(t) for t in texts]
        return SpaceIndex(
            _Rows([v[0] for v in vectors], len(self.word.vocab)),
            _Rows([v[1] for v in vectors], len(self.char.vocab)),
        )


class SpaceIndex:
    def __init__(self, word: _Rows, char: _Rows) -> None:
        self.word, self.char = word, char

    def __len__(self) -> int:
        return self.word.n

    def cosine(self, query: tuple[Vector, Vector]) -> np.ndarray:
        """Cosine of the query against every row: mean of word and character cosine."""
        return (self.word.cosine(query[0]) + self.char.cosine(query[1])) / 2.0
