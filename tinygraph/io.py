"""Checkpoints: ``save(state_dict, path)`` and ``load(path)`` (npz, no pickle, atomic writes)."""

from __future__ import annotations

from typing import Any


def save(state_dict: dict[str, Any], path: str) -> None:
    """Save a state dict (not implemented yet)."""
    raise NotImplementedError("tinygraph.save is not implemented yet")


def load(path: str) -> dict[str, Any]:
    """Load a state dict (not implemented yet)."""
    raise NotImplementedError("tinygraph.load is not implemented yet")
