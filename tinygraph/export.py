"""The recorded graph as a ``networkx.DiGraph`` (``tg.to_networkx``)."""

from __future__ import annotations

from typing import Any


def to_networkx(*roots: Any, **options: Any) -> Any:
    """Export the graph behind ``roots`` (not implemented yet)."""
    raise NotImplementedError("tinygraph.to_networkx is not implemented yet")
