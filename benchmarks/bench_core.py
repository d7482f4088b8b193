"""Core engine speed: long chains of tiny ops, forward + backward, side by side with peers.

    python benchmarks/bench_core.py [--repeat 5] [--quick]

Tasks (from issue 2): a 2,000-op scalar chain (alternating ``x*1.0001`` and ``+0.0001``, a tanh
every 10th op), reported in µs per op; the same chain on (4, 4) float32 arrays; a 100,000-op
scalar chain, in seconds. Peers run when installed: PyTorch (2 threads), micrograd, HIPS autograd,
MyGrad. Each library runs in a fresh process of its own (so its objects never slow another's
garbage collector); each figure is the best of several runs; ratios are to PyTorch's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from _harness import (
    add_common_options,
    allocator_env,
    environment,
    optional,
    run_worker,
    setup_torch,
    time_libraries,
)

SHORT, LONG = 2_000, 100_000
TASKS = {
    "scalar": ("2,000-op chain, scalar, forward+backward", "µs/op"),
    "4x4": ("2,000-op chain, (4,4) float32, forward+backward", "µs/op"),
    "long": ("100,000-op scalar chain, forward+backward", "s"),
}


def _chain(y: Any, n: int, tanh: Callable[[Any], Any]) -> Any:
    for i in range(n):
        if i % 10 == 9:
            y = tanh(y)
        elif i % 2 == 0:
            y = y * 1.0001
        else:
            y = y + 0.0001
    return y


def _tasks(run: Callable[[int, tuple[int, ...]], None], arrays: bool = True) -> dict[str, Callable[[], None]]:
    tasks = {"scalar": lambda: run(SHORT, ()), "long": lambda: run(LONG, ())}
    if arrays:
        tasks["4x4"] = lambda: run(SHORT, (4, 4))
    return tasks


def tinygraph_tasks() -> dict[str, Callable[[], None]]:
    import tinygraph as tg

    def run(n: int, shape: tuple[int, ...]) -> None:
        x = tg.tensor(np.full(shape, 0.5, np.float32), requires_grad=True)
        y = _chain(x, n, tg.tanh)
        (y.sum() if shape else y).backward()

    return _tasks(run)


def torch_tasks() -> dict[str, Callable[[], None]] | None:
    torch = setup_torch()
    if torch is None:
        return None

    def run(n: int, shape: tuple[int, ...]) -> None:
        x = torch.full(shape, 0.5, requires_grad=True)
        _chain(x, n, torch.tanh).sum().backward()

    return _tasks(run)


def micrograd_tasks() -> dict[str, Callable[[], None]] | None:
    """micrograd's released Value has no tanh: its relu stands in (a cheaper op, in its favour);
    it has no arrays, and its recursive backward needs the recursion limit raised."""
    if optional("micrograd") is None:
        return None
    from micrograd.engine import Value

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 50_000))

    def run(n: int, shape: tuple[int, ...]) -> None:
        _chain(Value(0.5), n, lambda v: v.relu()).backward()

    return _tasks(run, arrays=False)


def autograd_tasks() -> dict[str, Callable[[], None]] | None:
    if optional("autograd") is None:
        return None
    import autograd
    import autograd.numpy as anp

    def run(n: int, shape: tuple[int, ...]) -> None:
        f = lambda x: anp.sum(_chain(x, n, anp.tanh))
        autograd.grad(f)(np.full(shape, 0.5, np.float32) if shape else 0.5)

    return _tasks(run)


def mygrad_tasks() -> dict[str, Callable[[], None]] | None:
    if optional("mygrad") is None:
        return None
    import mygrad as mg

    def run(n: int, shape: tuple[int, ...]) -> None:
        y = _chain(mg.tensor(np.full(shape, 0.5, np.float32)), n, mg.tanh)
        (y.sum() if shape else y).backward()

    return _tasks(run)


LIBRARIES = {
    "tinygraph": tinygraph_tasks,
    "pytorch": torch_tasks,
    "micrograd*": micrograd_tasks,
    "hips-autograd": autograd_tasks,
    "mygrad": mygrad_tasks,
}


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_options(parser, TASKS, LIBRARIES, repeat=5)
    parser.add_argument("--quick", action="store_true", help="the short chains only, 2 loops (a smoke check)")
    args = parser.parse_args(argv)
    names = args.only or (["scalar", "4x4"] if args.quick else list(TASKS))
    repeat = 2 if args.quick else args.repeat
    if args.worker:
        run_worker(LIBRARIES[args.worker](), names, repeat)
        return {}
    print(environment())
    times = time_libraries(
        __file__, LIBRARIES, names, repeat, allocator_env(args), 1 if args.quick else args.rounds
    )
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        title, unit = TASKS[name]
        scale = 1e3 / SHORT if unit == "µs/op" else 1e-3  # from ms per call
        figures = {lib: t[name] for lib, t in times.items() if t.get(name) is not None}
        reference = figures.get("pytorch")
        print(f"\n{title}")
        for lib, ms in figures.items():
            if isinstance(ms, str):
                print(f"  {lib:<14} {ms}")
                continue
            ratio = f"{ms / reference:5.2f}× pytorch" if isinstance(reference, float) else ""
            print(f"  {lib:<14} {ms * scale:10.3f} {unit:<6} {ratio}")
        results[name] = {lib: (ms * scale if isinstance(ms, float) else ms) for lib, ms in figures.items()}
    print("\n* micrograd has no tanh; its relu stands in (scalar chains only: it has no arrays)")
    return results


if __name__ == "__main__":
    main()
