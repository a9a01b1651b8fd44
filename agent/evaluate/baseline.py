"""The naive RAG baseline: page text in 1000/200-character chunks, TF-IDF cosine, top 4.

What a generic chat-with-your-PDF tool does: PyMuPDF page text (DOCX: docx2txt) split by
LangChain's `RecursiveCharacterTextSplitter` (1000 characters, 200 overlap), ranked by TF-IDF
cosine against the question, the 4 best chunks of the question's document given as the answer.
It "cites" a clause when one of its chunks has that number at a line start, a table when one
holds the table id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.evaluate.qa_set import QAItem, table_key

K = 4
CHUNK, OVERLAP = 1000, 200


def document_pages(path: Path) -> list[str]:
    """Plain text per page (a DOCX is one page)."""
    if path.suffix.lower() == ".docx":
        import docx2txt

        return [docx2txt.process(str(path))]
    import pymupdf

    with pymupdf.open(str(path)) as pdf:
        return [page.get_text() for page in pdf]


class NaiveBaseline:
    """Chunks of every document and one TF-IDF space over them (see module doc)."""

    def __init__(self, chunks: list[tuple[str, str]]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.chunks = chunks  # (doc, text)
        self.vectorizer = TfidfVectorizer(sublinear_tf=True)
        self.matrix = self.vectorizer.fit_transform([text for _, text in chunks])

    @classmethod
    def build(cls, files: dict[str, Path]) -> NaiveBaseline:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK, chunk_overlap=OVERLAP)
        chunks = [(doc, chunk) for doc, path in files.items() for page in document_pages(path)
                  for chunk in splitter.split_text(page)]
        return cls(chunks)

    def retrieve(self, question: str, doc: str | None = None) -> list[tuple[str, str]]:
        scores = (self.matrix @ self.vectorizer.transform([question]).T).toarray().ravel()
        order = [i for i in scores.argsort()[::-1] if doc is None or self.chunks[i][0] == doc]
        return [self.chunks[i] for i in order[:K]]

    @staticmethod
    def cites(item: QAItem, chunks: Sequence[tuple[str, str]]) -> bool:
        for doc, text in chunks:
            if doc != item.doc:
                continue
            for ref in item.cite_any:
                if re.search(rf"(?m)^\s*{re.escape(ref)}\.?(?![\d]|\.\d)", text):
                    return True
                if ref.upper().startswith("TABLE") and table_key(ref) in table_key(text):
                    return True
        return False


def chunk_texts(chunks: Sequence[tuple[str, Any]]) -> str:
    return "\n\n".join(text for _, text in chunks)
