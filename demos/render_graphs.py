"""Render backprop graphs: a two-layer MLP loss and a small CNN loss, the way tinygraph draws them.

    python demos/render_graphs.py [--out FOLDER] [--format svg|png|pdf]

Writes into ``output/render_graphs/`` (git-ignored) by default:

- ``blocks_chain``: the lecture's three chained blocks o1 = w1·x, o2 = tanh(o1), o3 = w2·o2, with
  the path from w1 highlighted and ∂o3/∂w1 = ∂o3/∂o2 · ∂o2/∂o1 · ∂o1/∂w1 listed;
- ``mlp_forward``: a two-layer MLP's cross-entropy loss, forward values (with the legend);
- ``mlp_backward``: the same after ``backward()``: the gradient along every edge, ``.grad`` on
  the parameters;
- ``mlp_highlight``: the backward view with the chain from ``fc1.weight`` to the loss;
- ``cnn_collapsed``: a small CNN on the lecture's 4×4 image with a 2×2 filter: conv2d,
  max_pool2d and cross_entropy each one box;
- ``cnn_expanded``: the same graph with every composite opened into its primitives.

Needs graphviz's ``dot`` program; without it the DOT sources (``.gv``) are still written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn
from tinygraph.render import Rendering

REPO = Path(__file__).resolve().parents[1]


class TwoLayerMLP(nn.Module):
    """fc1 → ReLU → fc2: 3 features → 4 hidden units → 2 classes."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x: tg.Node) -> tg.Node:
        return self.fc2(tg.relu(self.fc1(x)))


class SmallCNN(nn.Module):
    """conv (one 2×2 filter) → ReLU → 2×2 max-pool with stride 1 → linear to 2 classes."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 2)
        self.pool = nn.MaxPool2d(2, stride=1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: tg.Node) -> tg.Node:
        h = self.pool(tg.relu(self.conv(x)))
        return self.fc(h.reshape(h.shape[0], -1))


def three_blocks() -> tuple[tg.Node, tg.Node]:
    """The lecture's chain of blocks, with the intermediate outputs named o1, o2, o3."""
    x = tg.tensor(0.5, dtype=np.float64, name="x")
    w1 = tg.tensor(1.5, dtype=np.float64, requires_grad=True, name="w1")
    w2 = tg.tensor(-2.0, dtype=np.float64, requires_grad=True, name="w2")
    o1 = w1 * x
    o2 = tg.tanh(o1)
    o3 = w2 * o2
    o1.name, o2.name, o3.name = "o1", "o2", "o3"
    return o3, w1


def mlp_loss() -> tuple[tg.Node, TwoLayerMLP]:
    """Cross-entropy of the MLP on 4 examples of 3 features."""
    model = TwoLayerMLP()
    x = tg.tensor(np.random.default_rng(0).normal(size=(4, 3)).round(2).astype(np.float32), name="x")
    return F.cross_entropy(model(x), np.array([0, 1, 1, 0])), model


def cnn_loss() -> tuple[tg.Node, SmallCNN]:
    """Cross-entropy of the small CNN on the lecture's 4×4 image (a vertical edge), class 1."""
    image = np.zeros((1, 1, 4, 4), dtype=np.float32)
    image[..., 2:] = 1.0
    model = SmallCNN()
    return F.cross_entropy(model(tg.tensor(image, name="image")), np.array([1])), model


def renderings() -> dict[str, Rendering]:
    """Build every rendering (no files written): name -> graphviz Digraph."""
    tg.manual_seed(0)
    pictures = {}
    o3, w1 = three_blocks()
    o3.backward()
    pictures["blocks_chain"] = tg.render(
        o3, backward=True, highlight=w1, rankdir="LR", title="three chained blocks"
    )
    loss, mlp = mlp_loss()
    pictures["mlp_forward"] = tg.render(loss, legend=True, title="two-layer MLP: forward")
    loss.backward()
    pictures["mlp_backward"] = tg.render(loss, backward=True, legend=True, title="after loss.backward()")
    pictures["mlp_highlight"] = tg.render(
        loss, backward=True, highlight=mlp.fc1.weight, title="the chain from fc1.weight to the loss"
    )
    loss, _ = cnn_loss()
    loss.backward()
    pictures["cnn_collapsed"] = tg.render(
        loss, backward=True, legend=True, title="small CNN, composites collapsed"
    )
    pictures["cnn_expanded"] = tg.render(
        loss, backward=True, expand=True, title="small CNN, composites expanded"
    )
    return pictures


def main(argv: list[str] | None = None) -> list[Path]:
    """Write the renderings and return the paths written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "output" / "render_graphs", help="output folder")
    parser.add_argument("--format", default="svg", choices=("svg", "png", "pdf"), help="picture format")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, picture in renderings().items():
        written.append(picture.write(args.out / name, format=args.format))
        print(f"wrote {written[-1]}")
    return written


if __name__ == "__main__":
    main()
