"""Render the README's picture: the three chained blocks of its first example, after backward().

    python docs/_build/readme_figure.py

This is the one rendering kept in git (GitHub shows the README from the repository, so its
picture must live there); tests/test_readme_figure.py fails when it no longer matches what the
code renders, so it cannot go stale.
"""

from __future__ import annotations

from pathlib import Path

import graphviz
import numpy as np

import tinygraph as tg

FIGURE = Path(__file__).resolve().parents[1] / "img" / "three-blocks.svg"


def readme_graph() -> graphviz.Digraph:
    """The README example's graph: o3 = w2 · tanh(w1 · x) with o1, o2, o3 named, after backward(),
    w1's path highlighted (written out as the README writes it, rather than shared with figures.py)."""
    x = tg.tensor(0.5, dtype=np.float64, name="x")
    w1 = tg.tensor(1.5, dtype=np.float64, requires_grad=True, name="w1")
    w2 = tg.tensor(-2.0, dtype=np.float64, requires_grad=True, name="w2")
    o1 = w1 * x
    o2 = tg.tanh(o1)
    o3 = w2 * o2
    o1.name, o2.name, o3.name = "o1", "o2", "o3"
    o3.backward()
    return tg.render(o3, backward=True, highlight=w1, legend=True)


def main() -> Path:
    FIGURE.write_bytes(readme_graph().pipe(format="svg"))
    print(f"wrote {FIGURE}")
    return FIGURE


if __name__ == "__main__":
    main()
