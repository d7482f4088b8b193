"""Timing shared by the benchmark scripts (not part of the package or the tests).

Every library is timed in a fresh process of its own (``time_in_process`` re-runs the calling
script with ``--worker LIBRARY``): one library's objects then never slow another's garbage
collector, and PyTorch's idle OpenMP threads never compete with another library's BLAS threads.
The libraries take turns over ``--rounds`` rounds (``time_libraries``), and each figure is the best
of them, so a burst of outside load during one library's process does not decide its figure.

Every worker runs with the same memory allocator settings: by default the glibc thresholds that
importing tinygraph sets for itself (``tinygraph/_malloc.py``), given to all libraries alike;
with ``--glibc-defaults``, glibc's defaults for all of them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Workloads = Mapping[str, Callable[[], None]]

CPU_TIME = os.environ.get("TINYGRAPH_BENCH_CLOCK") == "thread"
"""``--cpu-time``: workers time with this thread's CPU time, every library on one thread (BLAS,
OpenMP, PyTorch), so that other processes on a shared machine barely move the figures."""
_clock = time.thread_time if CPU_TIME else time.perf_counter
ONE_THREAD = {
    "TINYGRAPH_BENCH_CLOCK": "thread",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def measure(fn: Callable[[], None], repeat: int, budget: float = 0.2) -> float:
    """Best (minimum) milliseconds per call over ``repeat`` loops of about ``budget`` seconds each.

    The minimum, as ``timeit`` recommends: on a shared machine the slower loops measure other
    processes, not the code.
    """
    fn()
    start = _clock()
    fn()
    once = _clock() - start
    number = max(1, int(budget / max(once, 1e-6)))
    times = []
    for _ in range(repeat):
        start = _clock()
        for _ in range(number):
            fn()
        times.append((_clock() - start) / number)
    return min(times) * 1e3


def run_worker(workloads: Workloads | None, names: list[str], repeat: int) -> None:
    """Time the named workloads in this process and print ``{name: ms or None}`` as JSON.

    A workload that raises is reported as the error's text (a peer's own limitation, e.g.
    micrograd's recursive backward on a deep graph), not hidden.
    """
    result: dict[str, float | str | None] = {}
    for name in names:
        if workloads is None or name not in workloads:
            result[name] = None
            continue
        try:
            result[name] = measure(workloads[name], repeat)
        except RecursionError:
            result[name] = "fails: RecursionError"
        except Exception as exc:
            result[name] = f"fails: {type(exc).__name__}: {exc}"[:70]
    print(json.dumps(result))


SAME_ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20)}
GLIBC_DEFAULTS = {"TINYGRAPH_MALLOC_TUNING": "0"}


def add_common_options(parser: Any, tasks: Iterable[str], libraries: Iterable[str], repeat: int) -> None:
    """The options every benchmark script takes: ``--repeat``, ``--only TASK``,
    ``--glibc-defaults``, and the hidden ``--worker LIBRARY`` that :func:`time_in_process` uses."""
    parser.add_argument(
        "--repeat", type=int, default=repeat, help="timed loops per figure (the best is kept)"
    )
    parser.add_argument("--only", choices=sorted(tasks), action="append", help="run only this workload")
    parser.add_argument(
        "--glibc-defaults",
        action="store_true",
        help="run every library with glibc's default allocator settings (tinygraph's tuning off)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="times every library's process is run, the libraries taking turns (the best is kept)",
    )
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time each call by thread CPU time with every library on one thread (a shared machine)",
    )
    parser.add_argument("--worker", choices=sorted(libraries), help=argparse.SUPPRESS)


def allocator_env(args: Any) -> dict[str, str]:
    """The allocator environment every worker gets (the same for all libraries)."""
    env = GLIBC_DEFAULTS if args.glibc_defaults else SAME_ALLOCATOR
    return {**env, **ONE_THREAD} if getattr(args, "cpu_time", False) else env


def method_line(args: Any) -> str:
    """How the figures were taken, for the line above a table: loops, rounds, processes."""
    clock = "thread CPU time, every library on 1 thread; " if getattr(args, "cpu_time", False) else ""
    return (
        f"{clock}float32, best of {args.repeat} loops in each of {args.rounds} rounds, ms per call (each "
        "library in its own process, the libraries taking turns)"
    )


def time_libraries(
    script: str,
    libraries: Iterable[str],
    names: list[str],
    repeat: int,
    env: Mapping[str, str] | None = None,
    rounds: int = 2,
) -> dict[str, dict[str, float | str | None]]:
    """Time every library ``rounds`` times, each in a fresh process, taking turns; keep each best.

    A burst of load from outside can last longer than one process's loops and would then make one
    library look slow; with the libraries taking turns over several rounds, each figure is the best
    of processes run at different moments.
    """
    best: dict[str, dict[str, float | str | None]] = {}
    for _ in range(max(1, rounds)):
        for library in libraries:
            times = time_in_process(script, library, names, repeat, env)
            kept = best.setdefault(library, times)
            for name, ms in times.items():
                if isinstance(ms, float) and (not isinstance(kept.get(name), float) or ms < kept[name]):
                    kept[name] = ms
    return best


def time_in_process(
    script: str, library: str, names: list[str], repeat: int, env: Mapping[str, str] | None = None
) -> dict[str, float | str | None]:
    """Run ``script --worker library`` in a fresh Python process and return its timings."""
    command = [sys.executable, script, "--worker", library, "--repeat", str(repeat)]
    for name in names:
        command += ["--only", name]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "TINYGRAPH_MALLOC"))}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env={**base, **(env or {})})
    return json.loads(done.stdout.strip().splitlines()[-1])


def profile(fn: Callable[[], None], calls: int, rows: int = 20) -> None:
    """Run ``fn`` ``calls`` times under cProfile and print the ``rows`` hottest functions."""
    import cProfile
    import pstats

    fn()
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [fn() for _ in range(calls)])
    pstats.Stats(profiler).sort_stats("tottime").print_stats(rows)


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
        torch.set_num_threads(1 if CPU_TIME else threads)
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
