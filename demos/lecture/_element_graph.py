"""The lecture's 4×4 image and 2×2 filter, built element by element from scalar tinygraph ops.

Every pixel is its own leaf node (named a … p, as in the textbook figure), every filter weight its
own parameter (w, x, y, z), and every output unit s[i][j] = Σ image[i+m][j+n] · kernel[m][n] is
made of 4 multiplications and 3 additions recorded under a scope named after the unit, so a
collapsed rendering draws each output unit as one box wired to exactly the nodes it uses. Demos 2
(sparse interactions) and 3 (parameter sharing) render and count this graph.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

import tinygraph as tg
from tinygraph._state import scope  # records nodes under a named call, as composite ops do

IMAGE = np.arange(1.0, 17.0).reshape(4, 4)
KERNEL = np.array([[0.5, -1.0], [2.0, 1.0]])
PIXEL_NAMES = string.ascii_lowercase[:16]  # a b c d / e f g h / i j k l / m n o p
WEIGHT_NAMES = "wxyz"


@dataclass
class ElementGraph:
    """The scalar nodes of one correlation of an image with a kernel."""

    pixels: list[list[tg.Node]]
    weights: list[list[tg.Node]]
    outputs: list[list[tg.Node]]

    @property
    def flat_outputs(self) -> list[tg.Node]:
        return [s for row in self.outputs for s in row]

    @property
    def flat_weights(self) -> list[tg.Node]:
        return [w for row in self.weights for w in row]

    def values(self) -> np.ndarray:
        return np.array([[s.item() for s in row] for row in self.outputs])


def build(image: np.ndarray = IMAGE, kernel: np.ndarray = KERNEL) -> ElementGraph:
    """Correlate ``image`` with ``kernel`` ('valid' mode), one scalar op at a time."""
    h, w = image.shape
    kh, kw = kernel.shape
    pixels = [
        [tg.tensor(image[i, j], dtype=np.float64, name=PIXEL_NAMES[i * w + j]) for j in range(w)]
        for i in range(h)
    ]
    weights = [
        [
            tg.tensor(kernel[m, n], dtype=np.float64, requires_grad=True, name=WEIGHT_NAMES[m * kw + n])
            for n in range(kw)
        ]
        for m in range(kh)
    ]
    outputs = []
    for i in range(h - kh + 1):
        row = []
        for j in range(w - kw + 1):
            with scope(f"s{i}{j}"):
                terms = [pixels[i + m][j + n] * weights[m][n] for m in range(kh) for n in range(kw)]
                total = terms[0]
                for term in terms[1:]:
                    total = total + term
            total.name = f"s{i}{j}"
            row.append(total)
        outputs.append(row)
    return ElementGraph(pixels, weights, outputs)


def leaves_used(node: tg.Node) -> list[str]:
    """Names of the leaves ``node`` was computed from, in graph order (read off ``.parents``)."""
    return [n.name for n in tg.toposort([node], only_requires_grad=False) if n.op is None and n.name]


def formula(node: tg.Node) -> str:
    """An output unit as the textbook writes it, e.g. ``aw + bx + ey + fz``."""
    products = [
        (n.parents[1].name, n.parents[0].name)
        for n in tg.toposort([node], only_requires_grad=False)
        if n.op == "mul"
    ]
    return " + ".join(pixel + weight for weight, pixel in sorted(products))


def count_ops(roots: list[tg.Node], op: str) -> int:
    """How many nodes made by ``op`` the graph behind ``roots`` holds."""
    return sum(n.op == op for n in tg.toposort(roots, only_requires_grad=False))


def uses_of(node: tg.Node, roots: list[tg.Node]) -> int:
    """How many recorded ops take ``node`` as an input, in the graph behind ``roots``."""
    return sum(p is node for n in tg.toposort(roots, only_requires_grad=False) for p in n.parents)


def build_dense(image: np.ndarray = IMAGE, n_outputs: int = 9, seed: int = 0) -> list[tg.Node]:
    """A fully connected layer on the same pixels: every output unit uses every pixel.

    Output j is Σ_i pixel_i · W[i, j] with its own weights (random, seeded), one scalar op at a time.
    """
    rng = np.random.default_rng(seed)
    pixels = [tg.tensor(v, dtype=np.float64, name=PIXEL_NAMES[i]) for i, v in enumerate(image.ravel())]
    outputs = []
    for j in range(n_outputs):
        with scope(f"dense{j}"):
            total = None
            for i, pixel in enumerate(pixels):
                weight = tg.tensor(rng.normal(), dtype=np.float64, requires_grad=True, name=f"W{i},{j}")
                total = pixel * weight if total is None else total + pixel * weight
        outputs.append(total)
    return outputs


def grid_layout(
    picture: Any, graph: ElementGraph, loss: Any = None, faint: Iterable[Any] = (), spacing: float = 2.0
) -> Any:
    """Pin a rendering of ``graph`` to the image's geometry (graphviz's ``neato`` engine).

    The pixels are drawn as the 4×4 grid they form, each output unit s[i][j] in the middle of the
    2×2 window it reads (so its four edges come from the four pixels around it), the filter
    weights as a 2×2 block to the right and ``loss`` (if drawn) below the grid. The edges out of
    the ``faint`` weights are drawn light grey and unlabelled, so that the others stand out.
    ``picture`` is what ``tg.render`` returned; positions are in inches, y pointing up.
    """
    pixel_rows, out_rows = len(graph.pixels), len(graph.outputs)
    for i, row in enumerate(graph.pixels):
        for j, pixel in enumerate(row):
            picture.node(picture.node_id(pixel), pos=f"{j * spacing:.3f},{-i * spacing:.3f}!")
    for i, row in enumerate(graph.outputs):
        for j, unit in enumerate(row):
            x, y = (j + 0.5) * spacing, -(i + 0.5) * spacing
            picture.node(picture.node_id(unit), pos=f"{x:.3f},{y:.3f}!")
    right = (pixel_rows - 1) * spacing + 1.8
    faint_ids = {picture.node_id(w) for w in faint}
    for m, row in enumerate(graph.weights):
        for n, weight in enumerate(row):
            x, y = right + n * 1.2, -(out_rows - 1) * spacing / 2 - (m - 0.5) * 1.0
            picture.node(picture.node_id(weight), pos=f"{x:.3f},{y:.3f}!")
    if loss is not None:
        x, y = right + 0.6, -(pixel_rows - 1) * spacing
        picture.node(picture.node_id(loss), pos=f"{x:.3f},{y:.3f}!")
    for k, line in enumerate(picture.body):
        src = line.strip().split(" -> ")[0] if " -> " in line else None
        if src in faint_ids:
            head = line.strip().partition(" [")[0]
            picture.body[k] = f'\t{head} [color="#d3d3d3" arrowsize="0.5"]\n'  # no label
    picture.engine = "neato"
    picture.graph_attr.update(splines="true", outputorder="edgesfirst")
    return picture
