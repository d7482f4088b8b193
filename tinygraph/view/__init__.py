"""The view model: what a picture or a page of the graph shows, below every consumer of it.

:mod:`~tinygraph.view.model` decides the boxes (collapsed and expanded composite calls, folded
repeats), :mod:`~tinygraph.view.labels` formats values for display, and
:mod:`~tinygraph.view.chain` finds the chain of local derivatives along highlighted paths.
The graphviz renderings (:mod:`tinygraph.render`), the networkx export (:mod:`tinygraph.export`)
and the interactive explorer all read the graph through it; none of it needs graphviz.
"""
