"""The renderings shown on "How the graph and backward work" (docs/graph-and-backward.md).

Each figure is built from the same small expressions as the page's code blocks and rendered
with ``tg.render`` to SVG; the mkdocs hook calls :func:`graph_figures` at build time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tinygraph as tg


def expression() -> tuple[tg.Node, tg.Node, tg.Node]:
    """The page's running example, o1 = w1·x, o2 = tanh(o1), o3 = w2·o2; returns (o3, w1, w2)."""
    x = tg.tensor(0.5, dtype=np.float64, name="x")
    w1 = tg.tensor(1.5, dtype=np.float64, requires_grad=True, name="w1")
    w2 = tg.tensor(-2.0, dtype=np.float64, requires_grad=True, name="w2")
    o1 = w1 * x
    o1.name = "o1"
    o2 = tg.tanh(o1)
    o2.name = "o2"
    o3 = w2 * o2
    o3.name = "o3"
    return o3, w1, w2


def graph_figures(out: Path) -> list[Path]:
    """Write the page's SVG renderings into ``out`` and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    o3, w1, _ = expression()
    forward = tg.render(o3, legend=True)
    o3.backward()
    backward = tg.render(o3, backward=True, highlight=w1)
    paths = []
    for name, digraph in (("forward", forward), ("backward", backward)):
        path = out / f"{name}.svg"
        path.write_bytes(digraph.pipe(format="svg"))
        paths.append(path)
    return paths
