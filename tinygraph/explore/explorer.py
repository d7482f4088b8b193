"""``explore(*roots)`` and the :class:`Explorer` it returns: save it, or show it in a notebook."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tinygraph.explore.page import page
from tinygraph.explore.record import record
from tinygraph.explore.tree import BUDGET
from tinygraph.node import Node
from tinygraph.view.model import check_roots


class Explorer:
    """The recorded graph of one backward pass, as an interactive page.

    Attributes
    ----------
    data : dict
        The JSON payload the page embeds (schema in ``docs/exploring.md``).
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self._html: str | None = None

    @property
    def html(self) -> str:
        """The whole page: one self-contained HTML document."""
        if self._html is None:
            self._html = page(self.data)
        return self._html

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (``.html`` added when there is no suffix) and return its path.

        The file needs nothing else: open it in a browser with the network off.
        """
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".html")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        """The page inline in a notebook, in a sandboxed ``<iframe srcdoc>``.

        The iframe runs the page's script even in an untrusted notebook, keeps it away from the
        notebook's own page, and gives each explorer its own ``window.tinygraphExplorer``.
        """
        doc = html.escape(self.html, quote=True)
        return (
            f'<iframe class="tinygraph-explorer" srcdoc="{doc}" sandbox="allow-scripts" '
            'style="width: 100%; height: 640px; border: 1px solid #d5dae3;" '
            'title="tinygraph explorer"></iframe>'
        )

    def __repr__(self) -> str:
        n, e, s = (len(self.data[k]) for k in ("nodes", "edges", "steps"))
        return f"Explorer({self.data['title']!r}, {n} nodes, {e} edges, {s} steps)"


def explore(
    *roots: Node | Sequence[Node],
    grads: Sequence[Any] | None = None,
    title: str | None = None,
    budget: int = BUDGET,
) -> Explorer:
    """Record the graph behind ``roots`` and one backward pass through it, for the explorer page.

    The backward pass is traced by the engine without touching any ``.grad``. Each composite call
    is one box that opens into what it is made of; what repeats (RNN time steps, long chains) is
    folded with a count.

    Parameters
    ----------
    *roots : Node
        The outputs to explore, usually the loss (a list of Nodes is accepted too).
    grads : sequence of array_like, optional
        The gradient of each root, as ``grad_outputs`` of :func:`tinygraph.grad`; None means 1
        for one-element roots.
    title : str, optional
        Shown at the top of the page.
    budget : int
        The most boxes shown at one level of one box before what repeats is sliced further.

    Returns
    -------
    Explorer
        ``.save(path)`` writes the page; a notebook displays it inline.

    Examples
    --------
    >>> import numpy as np, tinygraph as tg
    >>> w = tg.tensor(1.5, requires_grad=True, name="w")
    >>> loss = tg.tanh(w * 0.5)
    >>> tg.explore(loss, title="tanh(w/2)")
    Explorer('tanh(w/2)', 4 nodes, 3 edges, 3 steps)
    """
    nodes = check_roots(roots, "explore")
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 2:
        raise ValueError(f"explore: budget must be an int >= 2, got {budget!r}")
    text = "tinygraph explorer" if title is None else str(title)
    return Explorer(record(nodes, grads, text, budget))
