"""Timing and reporting shared by the benchmark scripts (not part of the package or the tests)."""

from __future__ import annotations

import gc
import importlib
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any


def best_of(fn: Callable[[], Any], repeat: int = 7, warmup: int = 1) -> float:
    """Seconds taken by the fastest of ``repeat`` calls of ``fn`` (after ``warmup`` untimed calls).

    Garbage left by one call is collected before the next, so no call pays for another's.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def median_of(fn: Callable[[], Any], repeat: int = 7, warmup: int = 1) -> float:
    """Median seconds of ``repeat`` calls of ``fn`` (after ``warmup`` untimed calls)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def optional(module: str) -> Any:
    """Import a peer framework if it is installed, else None."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def setup_torch(threads: int = 2) -> Any:
    """PyTorch with a fixed thread count, or None when it is not installed."""
    torch = optional("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    return torch


def environment() -> str:
    """One line describing the machine and the versions being compared."""
    from importlib import metadata

    parts = [f"Python {platform.python_version()}"]
    for name in ("numpy", "torch", "mygrad", "autograd", "micrograd"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(parts) + f" — {platform.machine()}, {os.cpu_count()} cores"


def print_table(
    title: str, unit: str, rows: list[tuple[str, float | str]], reference: str = "pytorch"
) -> None:
    """Print one task's figures with each one's ratio to the reference framework's."""
    print(f"\n{title}")
    ref = dict(rows).get(reference)
    for name, value in rows:
        if isinstance(value, str):
            print(f"  {name:<14} {value}")
            continue
        ratio = f"{value / ref:5.2f}× {reference}" if isinstance(ref, float) else ""
        print(f"  {name:<14} {value:10.3f} {unit:<6} {ratio}")
