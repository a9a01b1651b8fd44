"""The document index: SQLite + FAISS generations, clause/table look-up, hybrid search.

`SpecIndex`, `ClauseView` and `Progress` load on first use, so that light modules of this
package (`refs`, `generations`) do not pull FAISS, SciPy and LangChain into every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.index.spec_index import ClauseView, Progress, SpecIndex

__all__ = ["ClauseView", "Progress", "SpecIndex"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from agent.index import spec_index

        return getattr(spec_index, name)
    raise AttributeError(f"module 'agent.index' has no attribute {name!r}")
