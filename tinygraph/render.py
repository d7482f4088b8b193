"""Rendering graphs with graphviz (``tg.render``)."""

from __future__ import annotations

from typing import Any


def render(*roots: Any, **options: Any) -> Any:
    """Render the graph behind ``roots`` (not implemented yet)."""
    raise NotImplementedError("tinygraph.render is not implemented yet")
