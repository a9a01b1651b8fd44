"""The built-in `lsa` embedder: TF-IDF + truncated SVD fitted on the index's own chunks, no model."""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings
from scipy import sparse

from agent.index.tokens import tokenize

log = logging.getLogger(__name__)

MAX_DIM = 256
_FILES = ("lsa.json", "lsa_idf.npy", "lsa_components.npy")


class LsaEmbeddings(Embeddings):
    """Latent semantic vectors: sublinear TF-IDF (L2) projected on SVD components, L2-normalised.

    `fit(texts)` learns vocabulary, idf and components; `save(dir)` / `load(dir)` keep them
    as JSON + .npy (no pickle). Unfitted, it embeds nothing and says so.
    """

    embedder_id = "lsa"

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self.idf = np.zeros(0, dtype=np.float32)
        self.components = np.zeros((0, 0), dtype=np.float32)  # (dim, vocabulary)

    @property
    def fitted(self) -> bool:
        return bool(self.vocabulary)

    @property
    def dimension(self) -> int:
        return int(self.components.shape[0])

    def fit(self, texts: list[str]) -> LsaEmbeddings:
        self.fit_embed(texts)
        return self

    def fit_embed(self, texts: list[str]) -> np.ndarray:
        """Fit on `texts` and return their vectors (one pass of tokenising), rows L2-normalised."""
        from threadpoolctl import threadpool_limits

        matrix, terms, idf = tfidf_matrix([tokenize(t) for t in texts])
        n_docs, n_terms = matrix.shape
        dim = max(1, min(MAX_DIM, n_docs - 1, n_terms - 1))
        # One BLAS thread: on a busy 2-core machine threaded BLAS is 10-20x slower here.
        with threadpool_limits(1):
            components = _top_components(matrix, dim)
        self.vocabulary = {t: i for i, t in enumerate(terms)}
        self.idf = idf
        self.components = components.astype(np.float32)
        log.info("lsa fitted on %d chunks: %d terms, %d dimensions", n_docs, n_terms, self.dimension)
        vectors = np.asarray(matrix @ self.components.T, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def _tfidf(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(t for t in tokenize(text) if t in self.vocabulary)
        cols = np.fromiter((self.vocabulary[t] for t in counts), dtype=np.int64, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float32, count=len(counts))
        weights = tf * self.idf[cols]
        norm = float(np.linalg.norm(weights))
        return cols, weights / norm if norm else weights

    def _embed(self, text: str) -> np.ndarray:
        if not self.fitted:
            raise RuntimeError("lsa embedder is not fitted; ingest a document first")
        cols, weights = self._tfidf(text)
        vec = self.components[:, cols] @ weights if len(cols) else np.zeros(self.dimension, np.float32)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed_array(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([self._embed(t) for t in texts]).astype(np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text).tolist()

    def save(self, folder: Path) -> list[Path]:
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        paths = [folder / name for name in _FILES]
        paths[0].write_text(json.dumps({"format": 1, "terms": terms}, ensure_ascii=False), encoding="utf-8")
        np.save(paths[1], self.idf, allow_pickle=False)
        np.save(paths[2], self.components, allow_pickle=False)
        return paths

    @classmethod
    def load(cls, folder: Path) -> LsaEmbeddings:
        model = cls()
        terms = json.loads((folder / _FILES[0]).read_text(encoding="utf-8"))["terms"]
        model.vocabulary = {t: i for i, t in enumerate(terms)}
        model.idf = np.load(folder / _FILES[1], allow_pickle=False)
        model.components = np.load(folder / _FILES[2], allow_pickle=False)
        return model


def tfidf_matrix(docs: list[list[str]]) -> tuple[sparse.csr_matrix, list[str], np.ndarray]:
    """Rows of sublinear TF-IDF, L2-normalised, with smooth idf (as scikit-learn computes them)."""
    terms = sorted({t for doc in docs for t in doc})
    column = {t: i for i, t in enumerate(terms)}
    rows, cols, tfs = [], [], []
    for r, doc in enumerate(docs):
        for term, count in Counter(doc).items():
            rows.append(r)
            cols.append(column[term])
            tfs.append(1.0 + math.log(count))
    shape = (len(docs), len(terms))
    counts = sparse.csr_matrix((np.asarray(tfs, np.float32), (rows, cols)), shape=shape)
    df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(terms))
    idf = (np.log((1 + len(docs)) / (1 + df)) + 1).astype(np.float32)
    weighted = counts @ sparse.diags(idf)
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1))).ravel()
    return sparse.csr_matrix(sparse.diags(1 / np.where(norms == 0, 1, norms)) @ weighted), terms, idf


GRAM_LIMIT = 4000  # up to this many chunks the Gram matrix route is the fastest exact one


def _top_components(matrix, dim: int) -> np.ndarray:
    """The `dim` leading right singular vectors of `matrix` (rows: chunks), as rows."""
    n_docs = matrix.shape[0]
    if n_docs > GRAM_LIMIT:
        from scipy.sparse.linalg import svds

        _, values, vt = svds(matrix.astype(np.float64), k=dim, random_state=0)
        return vt[np.argsort(values)[::-1]]
    # X Xᵀ = U S² Uᵀ, so Vᵀ = S⁻¹ Uᵀ X: an n×n eigenproblem instead of an SVD over the vocabulary.
    gram = (matrix @ matrix.T).toarray().astype(np.float64)
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1][:dim]
    keep = order[values[order] > 1e-10]
    singular = np.sqrt(values[keep])
    return np.asarray((matrix.T @ vectors[:, keep]).T / singular[:, None])
