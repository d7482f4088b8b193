"""Build an expression with Python operators, backpropagate, and look at the graph.

    python demos/expression.py

The lecture's modular backpropagation in miniature: o1 = w1·x, o2 = tanh(o1), o3 = w2·o2, and
∂o3/∂w1 = ∂o3/∂o2 · ∂o2/∂o1 · ∂o1/∂w1.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tinygraph as tg


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="output/expression", help="folder for the rendered graph")
    args = parser.parse_args(argv)

    x = tg.tensor(0.5, dtype=np.float64, name="x")
    w1 = tg.tensor(1.5, dtype=np.float64, requires_grad=True, name="w1")
    w2 = tg.tensor(-2.0, dtype=np.float64, requires_grad=True, name="w2")
    o1 = w1 * x
    o2 = tg.tanh(o1)
    o3 = w2 * o2
    o3.backward()

    chain = float(w2.data) * (1 - float(o2.data) ** 2) * float(x.data)
    print(f"o3 = w2 · tanh(w1 · x) = {o3.item():.6f}")
    print(f"∂o3/∂w1 from backward()            = {w1.grad.item():.6f}")
    print(f"∂o3/∂o2 · ∂o2/∂o1 · ∂o1/∂w1 by hand = {chain:.6f}")
    print(f"∂o3/∂w2 = o2                        = {w2.grad.item():.6f}")

    try:
        path = tg.render(o3, backward=True, highlight=w1).render(str(Path(args.out) / "graph"), format="svg")
        print(f"graph rendered to {path}")
    except NotImplementedError:
        print("(rendering is not available yet)")
    return {"o3": o3.item(), "dw1": w1.grad.item(), "chain": chain}


if __name__ == "__main__":
    main()
