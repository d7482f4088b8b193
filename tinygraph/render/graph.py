"""``tg.render``: draw the recorded graph with graphviz.

One node per drawn item (see :mod:`tinygraph.view.model`): parameters, inputs and constants as
value boxes, each op as a box headed by its name showing the value it produced, and each collapsed
composite call as a 3-D box. Edges run from inputs to the ops that use them, in the direction of
the forward pass.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from tinygraph.autodiff import trace_backward
from tinygraph.errors import BackwardError, TinygraphError, TinygraphWarning
from tinygraph.node import Node
from tinygraph.registry import REGISTRY
from tinygraph.render import style
from tinygraph.view import labels
from tinygraph.view.chain import Chain, carries_gradient, chain_text, find_chain
from tinygraph.view.model import (
    COMMUTATIVE,
    Box,
    Edge,
    Expand,
    GraphView,
    build_view,
    check_roots,
    kind,
    open_fused,
)
from tinygraph.view.model import display_names as _display_names

INSTALL_HINT = (
    "the graphviz 'dot' program is needed to write or display a rendering, and it was not found on "
    "PATH. Install it with `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
    "(macOS), `conda install graphviz` or from https://graphviz.org/download/. The DOT source is "
    "available without it: rendering.source"
)


class GraphvizNotFoundError(graphviz.ExecutableNotFound, TinygraphError):
    """Writing or displaying a rendering needs graphviz's ``dot`` program, which is not installed."""

    def __init__(self, detail: str = "") -> None:
        RuntimeError.__init__(self, INSTALL_HINT + (f" ({detail})" if detail else ""))


#: Default largest number of boxes ``render`` hands to ``dot`` (it lays out a few thousand in seconds).
MAX_NODES = 2000

#: Longest tooltip written into the DOT source (dot refuses strings beyond 16,384 characters).
MAX_TOOLTIP = 1000

#: With a highlight, up to this many paths are listed and summed term by term; more, and only
#: the first ``MAX_PATHS_LISTED`` are listed.
MAX_PATHS_SUMMED = 12
MAX_PATHS_LISTED = 4

#: Gradients on edges are written in full up to this many values, as shape and summary beyond
#: (boxes show up to ``max_values``): a 4×4 matrix on each of a dozen edges buries the picture.
EDGE_VALUES = 4

#: Leaves (inputs, parameters) per row before a top-to-bottom picture staggers them into rows.
LEAVES_PER_ROW = 10


class GraphTooLargeError(TinygraphError, ValueError):
    """``render`` was asked to draw more boxes than ``max_nodes``: ``dot`` would take very long."""


class RenderWarning(TinygraphWarning):
    """A rendering shows a state that can mislead (no backward yet, accumulated ``.grad``, no path)."""


class Rendering(graphviz.Digraph):
    """A :class:`graphviz.Digraph` whose file writing explains how to install graphviz when it is missing.

    Use it as any Digraph: ``.source`` is the DOT text, ``.render(path, format="svg")`` writes a
    file, ``.pipe(format="svg")`` returns the bytes; Jupyter displays it inline.
    """

    #: ``id(node)`` -> the DOT id of the box the recorded node is drawn as (``"n3"``).
    node_ids: dict[int, str]

    def node_id(self, node: Node) -> str:
        """The DOT id of the box ``node`` is drawn as, to add attributes to it (e.g. a position)."""
        try:
            return self.node_ids[id(node)]
        except (AttributeError, KeyError):
            raise ValueError("node_id: that node is not drawn in this rendering") from None

    def render(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
        """Write the picture with graphviz; a file name with a picture suffix sets the format.

        ``render("x.png")`` writes ``x.png`` (as ``write`` does) and returns its path; any other
        call is :meth:`graphviz.Digraph.render`'s.
        """
        first = args[0] if args else kwargs.get("filename")
        suffix = Path(str(first)).suffix[1:].lower() if first is not None else ""
        if (
            len(args) <= 1
            and "format" not in kwargs
            and "outfile" not in kwargs
            and suffix in graphviz.FORMATS
            and suffix not in ("gv", "dot")
        ):
            rest = {k: v for k, v in kwargs.items() if k != "filename"}
            rest.setdefault("cleanup", True)
            return self.render(Path(str(first)).with_suffix(""), format=suffix, **rest)
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as exc:
            if isinstance(exc, GraphvizNotFoundError):
                raise
            raise GraphvizNotFoundError(str(exc)) from exc

    def write(self, path: str | Path, format: str | None = None) -> Path:
        """Write the picture to ``path`` with the suffix of ``format``, and return its path.

        Without ``format``, a picture suffix on ``path`` sets it (``write("loss.png")`` writes a
        PNG), and SVG is the default: ``write("loss")`` and ``write("loss.svg")`` both write
        ``loss.svg``. Without graphviz's
        ``dot`` program, the DOT source is written to ``loss.gv`` instead (and the reason printed),
        so a script still leaves something to look at.
        """
        path = Path(path)
        if format is None:
            suffix = path.suffix[1:].lower()
            format = suffix if suffix in graphviz.FORMATS and suffix not in ("gv", "dot") else "svg"
        if path.suffix == f".{format}":
            path = path.with_suffix("")
        try:
            return Path(self.render(path, format=format, cleanup=True))
        except GraphvizNotFoundError as exc:
            source = path.with_suffix(".gv")
            source.write_text(self.source, encoding="utf-8")
            print(f"note: {exc}; wrote the DOT source {source} instead")
            return source

    def pipe(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as exc:
            if isinstance(exc, GraphvizNotFoundError):
                raise
            raise GraphvizNotFoundError(str(exc)) from exc


def render(
    *roots: Node,
    expand: Expand = False,
    backward: bool = False,
    highlight: Node | None = None,
    legend: bool = False,
    title: str | None = None,
    rankdir: str = "TB",
    max_values: int = 16,
    max_nodes: int = MAX_NODES,
    modules: bool = False,
) -> Rendering:
    """Draw the graph that computed ``roots``.

    Parameters
    ----------
    *roots : Node
        The outputs to draw the graph of (usually the loss); a single list or tuple of Nodes is
        accepted too (e.g. what ``tg.grad`` returns).
    expand : bool, int or collection of str
        Composite calls (conv2d, softmax, ...) are drawn as one box each by default. ``True``
        opens every call into a labelled cluster of its primitives (nested calls nest), an int
        ``k`` opens the calls less than ``k`` levels deep, and a set of names opens only the calls
        of those composites.
    backward : bool
        Label each edge with the gradient of the roots flowing back along it, each op with the
        gradient reaching its output, and each parameter with its ``.grad``. The edge gradients
        are recomputed (``tg.trace_backward``) without touching ``.grad``; the roots must be
        one-element outputs that require grad (a loss).
    highlight : Node, optional
        A node of the graph (typically a parameter): the paths from it to the roots are drawn
        in red, the rest dimmed, and the chain rule along them is listed above the graph
        (``∂o3/∂w1 = ∂o3/∂o2 · ∂o2/∂o1 · ∂o1/∂w1``) with each op's local derivative formula.
    legend : bool
        Add a legend node explaining the colours and shapes used.
    title : str, optional
        A caption above the graph.
    rankdir : {"LR", "TB", "RL", "BT"}
        Direction of the forward pass in the picture (top to bottom by default; "LR" suits short chains).
    max_values : int
        Arrays with at most this many elements are shown in full; larger ones as shape, dtype,
        range and mean.
    max_nodes : int
        The most boxes to hand to graphviz's ``dot``, which takes minutes on graphs of many
        thousands; beyond it :class:`GraphTooLargeError` says how many there are. Raise it to
        draw a larger graph anyway, or browse it with ``tg.explore``.
    modules : bool
        Draw each ``nn.Module`` call as a box too (named ``conv1: Conv2d``, the outermost model by
        its class), opened by ``expand`` as composite calls are (by depth, or by that name). By
        default module calls are not drawn: the boxes are composite calls.

    Returns
    -------
    Rendering
        A :class:`graphviz.Digraph` (the DOT source is built without the ``dot`` program; writing
        a file needs it).

    Warns
    -----
    RenderWarning
        When the picture can mislead, with the same note drawn on it: ``backward=True`` before
        ``backward()`` ran (``.grad`` still None), a parameter whose ``.grad`` holds more than this
        graph's gradient (several backward passes summed into it), or a parameter with no path to
        the output.

    Examples
    --------
    >>> import tinygraph as tg
    >>> w = tg.tensor(2.0, requires_grad=True, name="w")
    >>> loss = tg.tanh(w * 3.0)
    >>> loss.backward()
    >>> picture = tg.render(loss, backward=True, highlight=w, legend=True)
    >>> picture.source.startswith("digraph")
    True
    """
    nodes = check_roots(roots, "render")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"render: rankdir must be one of 'LR', 'TB', 'RL', 'BT', got {rankdir!r}")
    if isinstance(max_values, bool) or not isinstance(max_values, (int, np.integer)) or max_values < 0:
        raise ValueError(f"render: max_values must be an int >= 0, got {max_values!r}")
    if highlight is not None and not isinstance(highlight, Node):
        raise TypeError(f"render: highlight must be a Node of the graph, got {type(highlight).__name__}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, (int, np.integer)) or max_nodes < 1:
        raise ValueError(f"render: max_nodes must be an int >= 1, got {max_nodes!r}")
    if not isinstance(modules, (bool, np.bool_)):
        raise TypeError(f"render: modules must be True or False, got {type(modules).__name__} {modules!r}")
    nodes, replaced = open_fused(nodes, expand, "render", bool(modules))
    if highlight is not None:
        highlight = replaced.get(id(highlight), highlight)
    view = build_view(nodes, expand, "render", bool(modules))
    if len(view.items) > max_nodes:
        opened = "" if expand is False else f" (you passed expand={expand!r})"
        raise GraphTooLargeError(
            f"render: the graph has {len(view.items):,} boxes to draw after collapsing composite calls, "
            f"more than max_nodes={max_nodes:,}; graphviz's dot would take minutes or hang laying it "
            f"out. Draw fewer boxes with expand=False{opened} or by rendering a smaller part (a "
            "single step, a smaller batch), browse the graph interactively with tg.explore(...), or "
            f"raise the limit: tg.render(..., max_nodes={len(view.items)})"
        )
    if highlight is not None and id(highlight) not in view.item_of:
        raise ValueError(
            f"render: the highlight node (shape {highlight.shape}, name {highlight.name!r}) is not part "
            "of the graph that computed the roots"
        )
    trace = _trace(nodes) if backward else None
    names = [labels.short_name(n) for n in _display_names(view)]
    chain = None
    if highlight is not None:
        chain = find_chain(view, highlight, max_paths=MAX_PATHS_SUMMED)
        if chain.total > MAX_PATHS_SUMMED:  # too many to sum term by term: list the first few
            chain = dataclasses.replace(chain, paths=chain.paths[:MAX_PATHS_LISTED])
    notes = state_notes(view, names, trace)
    for note in notes:
        warnings.warn(RenderWarning(f"render: {note}"), stacklevel=2)
    return _draw(view, names, trace, chain, legend, title, rankdir, int(max_values), notes)


def state_notes(view: GraphView, names: list[str], trace: dict[str, dict] | None) -> list[str]:
    """What the picture shows that can mislead, one sentence each (drawn on it and warned).

    - ``backward=True`` while parameters' ``.grad`` is still None (``backward()`` has not run);
    - a parameter whose ``.grad`` is not this graph's gradient of it: gradients of several
      backward passes were summed into it (``zero_grad()`` was not called between them);
    - a parameter with no path to the output along which a gradient flows.
    """
    params = [i for i, item in enumerate(view.items) if isinstance(item, Node) and kind(item) == "parameter"]
    if not params:
        return []
    live: set[int] = set()
    for i in view.roots:
        item = view.items[i]
        for node in item.outputs if isinstance(item, Box) else [item]:
            live.add(id(node))
    for node in reversed(view.order):
        if id(node) in live:
            live.update(id(p) for k, p in enumerate(node.parents) if carries_gradient(node, k))
    notes = []
    cut = [names[i] for i in params if id(view.items[i]) not in live]
    if cut:
        listed = _listing(cut)
        notes.append(
            f"{listed} {'has' if len(cut) == 1 else 'have'} no path to the output that a gradient flows "
            "along: backward() leaves .grad None (check the graph: a comparison, an integer cast or "
            "detach() cuts it)"
        )
    if trace is None:
        return notes
    reached = [i for i in params if id(view.items[i]) in live]
    missing = [names[i] for i in reached if view.items[i].grad is None]
    if missing:
        notes.append(
            f"drawn before backward(): .grad of {_listing(missing)} is still None; the gradients on "
            "the edges are computed for this picture only"
        )
    for i in reached:
        node = view.items[i]
        traced = trace["nodes"].get(id(node))
        if node.grad is None or traced is None:
            continue
        held, traced = np.asarray(node.grad, dtype=np.float64), np.asarray(traced, dtype=np.float64)
        if held.shape == traced.shape and np.allclose(held, traced, rtol=1e-4, atol=1e-6):
            continue
        times = ""
        nonzero = np.abs(traced) > 1e-12
        if nonzero.any():
            ratio = held[nonzero] / traced[nonzero]
            k = round(float(ratio.mean()))
            if k >= 2 and np.allclose(ratio, k, rtol=1e-3):
                times = f" (exactly {k} times it: {k} backward passes)"
        notes.append(
            f"{names[i]}.grad differs from this graph's gradient of it{times}: the gradients of "
            "several backward passes were summed into it (call zero_grad(), or set .grad = None, "
            "before each backward()), or it was set by hand"
        )
    return notes


def _listing(items: list[str], most: int = 4) -> str:
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def _trace(roots: list[Node]) -> dict[str, dict]:
    for i, r in enumerate(roots):
        if not r.requires_grad:
            raise BackwardError(
                f"render(backward=True): root {i} (shape {r.shape}) does not require grad, so no "
                "gradient flows; make a parameter with requires_grad=True"
            )
        if r.size != 1:
            raise BackwardError(
                f"render(backward=True): root {i} has shape {r.shape}; the backward view starts from "
                "one-element outputs (a loss). Reduce it first, e.g. out.sum()"
            )
    return trace_backward(roots)


def _draw(
    view: GraphView,
    names: list[str],
    trace: dict[str, dict] | None,
    chain: Chain | None,
    legend: bool,
    title: str | None,
    rankdir: str,
    max_values: int,
    notes: list[str] = (),  # type: ignore[assignment]
) -> Rendering:
    dot = Rendering(
        name="tinygraph",
        graph_attr={"rankdir": rankdir, "fontname": style.FONT, "nodesep": "0.25", "ranksep": "0.4"},
        node_attr={"fontname": style.FONT, "fontsize": style.TEXT_SIZE, "margin": "0.06,0.04"},
        edge_attr={"fontname": style.FONT, "fontsize": style.TEXT_SIZE, "arrowsize": "0.7"},
    )
    dot.node_ids = {key: f"n{i}" for key, i in view.item_of.items()}
    roots = set(view.roots)
    kinds_used: dict[str, None] = {}
    call_number = _call_numbers(view)
    body = dot.body
    current: tuple[int, ...] = ()
    cluster_ids: dict[int, int] = {}
    order = sorted(range(len(view.items)), key=lambda i: tuple(f.call_id for f in view.clusters[i]))
    for i in order:
        frames = view.clusters[i]
        path = tuple(f.call_id for f in frames)
        common = 0
        while common < min(len(current), len(path)) and current[common] == path[common]:
            common += 1
        for depth in range(len(current), common, -1):
            body.append("\t" * depth + "}\n")
        for depth in range(common, len(path)):
            frame = frames[depth]
            k = cluster_ids.setdefault(frame.call_id, len(cluster_ids))
            attrs = " ".join(f'{key}="{value}"' for key, value in style.CLUSTER_STYLE.items())
            body.append(
                "\t" * (depth + 1) + f"subgraph cluster_{k} {{\n" + "\t" * (depth + 2) + f"{attrs} "
                f'class="composite-call" label=<<B>{labels.escape(labels.short_name(frame.name))}</B>'
                f"{call_number.get(frame.call_id, '')}> "
                f'labeljust="l" fontsize="{style.TEXT_SIZE}"\n'
            )
        current = path
        item = view.items[i]
        k = "composite" if isinstance(item, Box) else kind(item)
        kinds_used[k] = None
        attrs = dict(style.NODE_STYLE[k])
        classes = [k]
        if i in roots:
            attrs["peripheries"] = "2"
            classes.append("root")
        if chain is not None:
            if i in chain.on_path:
                attrs.update(color=style.HIGHLIGHT, penwidth="2.5")
                classes.append("highlight")
        attrs["class"] = " ".join(classes)
        full = item.name
        if full is not None and len(str(full)) > labels.MAX_NAME:
            attrs["tooltip"] = _tooltip(str(full))
        label = _box_label(item, names[i], trace, max_values) if isinstance(item, Box) else None
        if label is None:
            label = _node_label(item, names[i], k, trace, max_values)  # type: ignore[arg-type]
        dot.node(f"n{i}", label=label, **attrs)
    for depth in range(len(current), 0, -1):
        body.append("\t" * depth + "}\n")

    any_index = False
    stagger = _stagger(view, rankdir)
    for k, e in enumerate(view.edges):
        on_path = chain is not None and k in chain.edges
        attrs = _edge_attrs(view, e, trace, max_values, on_path, dimmed=chain is not None and not on_path)
        if e.src in stagger:
            attrs["minlen"] = str(stagger[e.src])
        any_index = any_index or shows_index(view, e)
        dot.edge(f"n{e.src}", f"n{e.dst}", **attrs)

    if legend:
        text = style.legend_label(
            [k for k in style.NODE_STYLE if k in kinds_used],
            clusters=bool(cluster_ids),
            root=True,
            indices=any_index,
            gradients=trace is not None,
            highlight=chain is not None,
        )
        dot.node("legend", label=text, shape="plaintext", **{"class": "legend"})
    caption = [] if title is None else [f"<B>{labels.escape(labels.short_name(title, 200))}</B>"]
    caption += [f'<FONT COLOR="{style.WARNING}">⚠ {labels.escape(note)}</FONT>' for note in notes]
    if chain is not None:
        caption += [labels.escape(line) for line in chain_text(view, chain, names)]
    if caption:
        rows = "".join(f'<TR><TD ALIGN="LEFT">{line}</TD></TR>' for line in caption)
        dot.attr(
            label=f'<<TABLE BORDER="0" CELLSPACING="0">{rows}</TABLE>>',
            labelloc="t",
            labeljust="l",
            fontsize=style.CAPTION_SIZE,
        )
    return dot


def _call_numbers(view: GraphView) -> dict[int, str]:
    """`` #k`` (a no-break space first) for each opened call of a composite called several times."""
    frames = {f.call_id: f for where in view.clusters for f in where}
    by_name: dict[str, list[int]] = {}
    for call_id in sorted(frames):
        by_name.setdefault(frames[call_id].name, []).append(call_id)
    numbers = {}
    for calls in by_name.values():
        if len(calls) > 1:
            numbers.update({c: f"&#160;#{k}" for k, c in enumerate(calls, 1)})  # SVG drops a leading space
    return numbers


def _stagger(view: GraphView, rankdir: str) -> dict[int, int]:
    """``minlen`` for the edges out of each leaf, so that many leaves wrap into a few rows.

    With more than ``LEAVES_PER_ROW`` leaves (inputs, parameters, constants) above one rank, dot
    puts them all in one very wide row; giving the edges of every other leaf a longer minimum
    length (1, 2, 3, ... cyclically) lays them out in staggered rows instead (as ``unflatten -l``).
    """
    has_input = {e.dst for e in view.edges}
    leaves = [i for i in range(len(view.items)) if i not in has_input]
    if rankdir not in ("TB", "BT") or len(leaves) <= LEAVES_PER_ROW:
        return {}
    rows = min(4, math.ceil(len(leaves) / LEAVES_PER_ROW))
    return {leaf: 1 + k % rows for k, leaf in enumerate(leaves) if k % rows}


def _tooltip(text: str) -> str:
    """A tooltip for dot: at most ``MAX_TOOLTIP`` characters, without control characters.

    dot expands backslash escapes (``\\N``) in tooltips however they are quoted, so a backslash
    is written as the look-alike ``⧵`` (U+29F5).
    """
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    if len(text) > MAX_TOOLTIP:
        text = text[: MAX_TOOLTIP - 1] + "…"
    return text.replace("\\", "⧵")


def _rows(*rows: str) -> str:
    cells = "".join(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{r}</TD></TR>' for r in rows if r)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _muted(text: str) -> str:
    return f'<FONT COLOR="{style.MUTED}" POINT-SIZE="{style.SMALL_SIZE}">{text}</FONT>'


def _grad_row(grad: Any, max_values: int, label: str = "grad") -> str:
    if grad is None:
        return f'<FONT COLOR="{style.GRADIENT}">{label} None</FONT>'
    text = labels.escape(labels.short(np.asarray(grad), max_values))
    return f'<FONT COLOR="{style.GRADIENT}">{label} {text}</FONT>'


def _value_rows(value: Any, max_values: int) -> tuple[str, str]:
    head, body = labels.describe(value, max_values)
    return _muted(labels.escape(head)), labels.escape(body)


def _node_label(node: Node, ref: str, k: str, trace: dict[str, dict] | None, max_values: int) -> str:
    value = node._value
    if k == "constant":
        arr = np.asarray(value)
        return _rows(labels.escape(labels.short(arr, max_values)))
    head, body = _value_rows(value, max_values)
    grad = ""
    if trace is not None and node.requires_grad:
        grad = _grad_row(node.grad, max_values, ".grad") if k == "parameter" else ""
        if k == "op":
            grad = _grad_row(trace["nodes"].get(id(node)), max_values)
    if k == "op":
        title = f"<B>{labels.escape(node.op)}</B> " + _muted(labels.escape("#" + ref.rsplit("#", 1)[-1]))
        if node.name is not None:
            name = labels.escape(labels.short_name(str(node.name)))
            title = f"<B>{name}</B>&#160;= {labels.escape(node.op)}"  # SVG drops a leading space
        attrs = labels.attr_text(node.attrs)
        return _rows(title, _muted(labels.escape(attrs)) if attrs else "", head, body, grad)
    return _rows(f"<B>{labels.escape(ref)}</B>", head, body, grad)


def _box_label(box: Box, ref: str, trace: dict[str, dict] | None, max_values: int) -> str:
    number = ref.rsplit("#", 1)[-1] if "#" in ref else ""
    title = f"<B>{labels.escape(labels.short_name(box.name))}</B>"
    if number:
        title += " " + _muted(labels.escape("#" + number))
    elif ref != box.name:
        title = f"<B>{labels.escape(ref)}</B>&#160;= " + labels.escape(labels.short_name(box.name))
    inner = box.nodes[0] if len(box.nodes) == 1 else None
    fused = inner is not None and inner.opdef is not None and inner.opdef.fuses == box.name
    if fused:
        definition = (REGISTRY[inner.op].formula or "").split("\n")[0].split(",  ")[0]
        text = f"one fused op: {inner.op}" + (f"\n{definition}" if 0 < len(definition) <= 48 else "")
        count = _muted(labels.escape(text))
    else:
        count = _muted(f"{len(box.nodes)} node{'' if len(box.nodes) == 1 else 's'} inside")
    outs = box.outputs or box.nodes[-1:]
    if len(outs) == 1:
        head, body = _value_rows(outs[0]._value, max_values)
        grad = ""
        if trace is not None and outs[0].requires_grad:
            grad = _grad_row(trace["nodes"].get(id(outs[0])), max_values)
        return _rows(title, count, head, body, grad)
    shapes = ", ".join(f"{labels.shape_text(np.shape(o._value))}" for o in outs)
    return _rows(title, count, _muted(labels.escape(f"outputs {shapes}")))


def _shown_gradient(view: GraphView, index: int, trace: dict[str, dict]) -> Any:
    """The gradient written on the box of item ``index`` (None when it shows none)."""
    item = view.items[index]
    if isinstance(item, Box):
        outs = item.outputs or item.nodes[-1:]
        return trace["nodes"].get(id(outs[0])) if len(outs) == 1 else None
    k = kind(item)
    if k == "parameter":
        return item.grad
    return trace["nodes"].get(id(item)) if k == "op" else None


def shows_index(view: GraphView, e: Edge) -> bool:
    """Whether an edge is labelled with its argument position: into ops where input order matters."""
    dst = view.items[e.dst]
    if e.index is None or not isinstance(dst, Node):
        return False
    return len(dst.parents) > 1 and dst.op not in COMMUTATIVE


def _edge_attrs(
    view: GraphView, e: Edge, trace: dict[str, dict] | None, max_values: int, on_path: bool, dimmed: bool
) -> dict[str, str]:
    parts = []
    if shows_index(view, e):
        parts.append(f'<FONT COLOR="{style.MUTED}">{e.index}</FONT>')
    classes = []
    if trace is not None:
        grads = [trace["edges"].get((id(child), i)) for child, i in e.links]
        grads = [g for g in grads if g is not None]
        if grads:
            total = grads[0]
            for g in grads[1:]:
                total = total + g
            shown = _shown_gradient(view, e.src, trace)
            total = np.asarray(total)
            if total.size > 1 and shown is not None and np.array_equal(np.asarray(shown), total):
                text = labels.escape(f"{labels.shape_text(total.shape)}: its grad, as on the box")
            else:
                text = labels.escape(labels.short(total, min(max_values, EDGE_VALUES)))
            parts.append(f'<FONT COLOR="{style.GRADIENT}">◀ {text}</FONT>')
            classes.append("gradient")
    attrs: dict[str, str] = {}
    if parts:
        attrs["label"] = (
            '<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0">'
            + "".join(f'<TR><TD BALIGN="LEFT">{p}</TD></TR>' for p in parts)
            + "</TABLE>>"
        )
    if on_path:
        attrs.update(color=style.HIGHLIGHT, penwidth="2.5")
        classes.append("highlight")
    elif dimmed:
        attrs.update(color=style.DIMMED)
    if classes:
        attrs["class"] = " ".join(classes)
    return attrs
