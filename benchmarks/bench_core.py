"""Core engine speed: long chains of tiny ops, forward + backward, side by side with peers.

    python benchmarks/bench_core.py

Tasks (from issue 2): a 2,000-op scalar chain (alternating ``x*1.0001`` and ``+0.0001``, a tanh
every 10th op), reported in µs per op; the same chain on (4, 4) float32 arrays; a 100,000-op
scalar chain, in seconds. Peers run when installed: PyTorch (2 threads), micrograd, HIPS autograd,
MyGrad. Each figure is the fastest of several runs; ratios are to PyTorch's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import best_of, environment, optional, print_table, setup_torch

import tinygraph as tg


def _chain(y: Any, n: int, tanh: Callable[[Any], Any]) -> Any:
    for i in range(n):
        if i % 10 == 9:
            y = tanh(y)
        elif i % 2 == 0:
            y = y * 1.0001
        else:
            y = y + 0.0001
    return y


def run_tinygraph(n: int, shape: tuple[int, ...]) -> None:
    x = tg.tensor(np.full(shape, 0.5, np.float32), requires_grad=True)
    y = _chain(x, n, tg.tanh)
    (y.sum() if shape else y).backward()


def run_torch(torch: Any, n: int, shape: tuple[int, ...]) -> None:
    x = torch.full(shape, 0.5, requires_grad=True)
    y = _chain(x, n, torch.tanh)
    y.sum().backward()


def run_micrograd(n: int) -> None:
    """micrograd's released Value has no tanh: its relu stands in (a cheaper op, in its favour)."""
    from micrograd.engine import Value

    x = Value(0.5)
    y = _chain(x, n, lambda v: v.relu())
    y.backward()


def run_autograd(n: int, shape: tuple[int, ...]) -> None:
    import autograd
    import autograd.numpy as anp

    def f(x):
        return anp.sum(_chain(x, n, anp.tanh))

    autograd.grad(f)(np.full(shape, 0.5, np.float32) if shape else 0.5)


def run_mygrad(n: int, shape: tuple[int, ...]) -> None:
    import mygrad as mg

    x = mg.tensor(np.full(shape, 0.5, np.float32))
    y = _chain(x, n, mg.tanh)
    (y.sum() if shape else y).backward()


def _measure(fn: Callable[[], None], repeat: int) -> float | str:
    try:
        return best_of(fn, repeat=repeat)
    except RecursionError:
        return "fails: RecursionError"
    except Exception as exc:  # a peer's own limitation, reported rather than hidden
        return f"fails: {type(exc).__name__}: {exc}"[:80]


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per figure (the fastest is kept)")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter runs (a smoke check)")
    args = parser.parse_args(argv)
    n_short, n_long = (200, 2_000) if args.quick else (2_000, 100_000)
    repeat = 2 if args.quick else args.repeat
    torch = setup_torch()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 50_000))  # micrograd's backward recurses
    print(environment())
    results: dict[str, dict[str, Any]] = {}

    for shape, label in [((), "scalar"), ((4, 4), "(4,4) float32")]:
        rows: list[tuple[str, float | str]] = []
        rows.append(("tinygraph", _measure(lambda s=shape: run_tinygraph(n_short, s), repeat)))
        if torch is not None:
            rows.append(("pytorch", _measure(lambda s=shape: run_torch(torch, n_short, s), repeat)))
        if optional("micrograd") is not None and not shape:
            rows.append(("micrograd*", _measure(lambda: run_micrograd(n_short), repeat)))
        if optional("autograd") is not None:
            rows.append(("hips-autograd", _measure(lambda s=shape: run_autograd(n_short, s), repeat)))
        if optional("mygrad") is not None:
            rows.append(("mygrad", _measure(lambda s=shape: run_mygrad(n_short, s), repeat)))
        per_op = [(name, v / n_short * 1e6 if isinstance(v, float) else v) for name, v in rows]
        print_table(f"{n_short:,}-op chain, {label}, forward+backward", "µs/op", per_op)
        results[label] = dict(per_op)
    if optional("micrograd") is not None:
        print("  * micrograd has no tanh; relu stands in for it (scalar chain only: it has no arrays)")

    rows = [("tinygraph", _measure(lambda: run_tinygraph(n_long, ()), max(2, repeat // 2)))]
    if torch is not None:
        rows.append(("pytorch", _measure(lambda: run_torch(torch, n_long, ()), max(2, repeat // 2))))
    if optional("autograd") is not None:
        rows.append(("hips-autograd", _measure(lambda: run_autograd(n_long, ()), 2)))
    if optional("mygrad") is not None:
        rows.append(("mygrad", _measure(lambda: run_mygrad(n_long, ()), 2)))
    print_table(f"{n_long:,}-op scalar chain, forward+backward", "s", rows)
    results["long chain"] = dict(rows)
    return results


if __name__ == "__main__":
    main()
