"""Rendering the recorded graph with graphviz: ``tg.render``.

It reads the graph through the view model (:mod:`tinygraph.view`: what is drawn, value labels,
the chain rule along highlighted paths); here are
:mod:`~tinygraph.render.style` (colours, shapes, legend)
and :mod:`~tinygraph.render.graph` (building the graphviz Digraph).
"""

from __future__ import annotations

from tinygraph.render.graph import GraphvizNotFoundError, Rendering, render

__all__ = ["GraphvizNotFoundError", "Rendering", "render"]
