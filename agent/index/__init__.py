"""The document index: SQLite + FAISS generations, clause/table look-up, hybrid search."""

from agent.index.spec_index import ClauseView, Progress, SpecIndex

__all__ = ["ClauseView", "Progress", "SpecIndex"]
