"""The LangGraph agent: `build_graph(model, tools, settings, ...)` (see agent/graph/graph.py)."""

from __future__ import annotations

from typing import Any


def build_graph(*args: Any, **kwargs: Any):
    from agent.graph.graph import build_graph as _build

    return _build(*args, **kwargs)
