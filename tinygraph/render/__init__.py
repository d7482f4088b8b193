"""Rendering the recorded graph with graphviz: ``tg.render``.

Modules: :mod:`~tinygraph.render.view` (what is drawn: collapsed and expanded composite calls),
:mod:`~tinygraph.render.labels` (escaping and value summaries), :mod:`~tinygraph.render.chain`
(the chain rule along highlighted paths), :mod:`~tinygraph.render.style` (colours, shapes, legend)
and :mod:`~tinygraph.render.graph` (building the graphviz Digraph).
"""

from __future__ import annotations

from tinygraph.render.graph import GraphvizNotFoundError, Rendering, render

__all__ = ["GraphvizNotFoundError", "Rendering", "render"]
