"""The saved explorers the docs link to ("Exploring the graph"), written at build time.

    python docs/_build/explorers.py [FOLDER]     # default output/explorers

The lecture's three blocks, the sparse-interactions 4×4 example, one training step of a small
LeNet-style CNN on a batch of 32 digits, and an Elman RNN unrolled over 12 time steps. The mkdocs
hook calls :func:`add_explorers`, which writes them next to the pages (``explorers/*.html``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from demo_scripts import load_script
from figures import expression

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "output" / "docs-build"


def three_blocks() -> tg.Explorer:
    """o1 = w1·x, o2 = tanh(o1), o3 = w2·o2 — the lecture's three chained blocks (as on the pages)."""
    o3, _, _ = expression()
    return tg.explore(o3, title="three blocks: o3 = w2 · tanh(w1 · x)")


def sparse_interactions() -> tg.Explorer:
    """The lecture's 4×4 image and 2×2 filter, one scalar op at a time; the loss sums the 9 outputs."""
    graph = load_script(REPO / "demos" / "lecture" / "_element_graph.py", "_element_graph").build()
    return tg.explore(graph.flat_outputs, title="sparse interactions: a 4×4 image ⋆ a 2×2 filter")


def lenet(width: int = 6) -> nn.Sequential:
    """The main demo's CNN (demos/train_cnn.py) for 8×8 digits, ``width`` filters in its first layer."""
    return load_script(REPO / "demos" / "train_cnn.py", "train_cnn").build_cnn(image_size=8, width=width)


def lenet_step(batch: int = 32) -> tg.Explorer:
    """One training step's loss of the small CNN on a batch of 8×8 digits (random ones without sklearn)."""
    tg.manual_seed(0)
    model = lenet()
    try:
        split = tg.data.load_digits(seed=0)
        images, labels = split.x_train[:batch], split.y_train[:batch]
    except ImportError:
        rng = np.random.default_rng(0)
        images = rng.random((batch, 1, 8, 8), dtype=np.float32)
        labels = rng.integers(0, 10, batch)
    loss = F.cross_entropy(model(tg.tensor(images, name="images")), labels)
    return tg.explore(loss, title=f"one training step of a small CNN: cross-entropy of {batch} digits")


def unrolled_rnn(steps: int = 12) -> tg.Explorer:
    """An Elman RNN over ``steps`` time steps, then a linear layer on the last hidden state."""
    tg.manual_seed(0)
    rnn, head = nn.RNN(1, 8, batch_first=True), nn.Linear(8, 3)
    bits = np.random.default_rng(0).integers(0, 2, size=(2, steps, 1)).astype(np.float32)
    _, h_last = rnn(tg.tensor(bits, name="bits"))
    loss = F.cross_entropy(head(h_last[0]), bits.sum(axis=(1, 2)).astype(np.int64) % 3)
    return tg.explore(loss, title=f"an RNN unrolled over {steps} time steps (backpropagation through time)")


EXPLORERS: dict[str, Callable[[], tg.Explorer]] = {
    "three-blocks": three_blocks,
    "sparse-interactions": sparse_interactions,
    "lenet-step": lenet_step,
    "rnn-unrolled": unrolled_rnn,
}


def write_explorers(folder: Path) -> list[Path]:
    """Write every explorer above into ``folder`` as ``<name>.html``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    return [make().save(folder / f"{name}.html") for name, make in EXPLORERS.items()]


def add_explorers(files: Any, config: Any) -> None:
    """Write the saved explorers and add them to the MkDocs site under ``explorers/`` (the docs hook)."""
    from mkdocs.structure.files import File

    for path in write_explorers(BUILD / "explorers"):
        files.append(File.generated(config, path.relative_to(BUILD).as_posix(), abs_src_path=str(path)))


if __name__ == "__main__":
    for path in write_explorers(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "output" / "explorers"):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
