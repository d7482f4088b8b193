"""Maxout: pooling over channels makes a unit invariant to which of its filters fires.

    python demos/lecture/09_maxout.py [--out FOLDER]

Spatial pooling gives invariance to translation; pooling over channels gives other invariances
(Maxout networks, Goodfellow et al. 2013; Deep Learning fig. 9.9). Three filters detect a stroke
at three orientations (horizontal, vertical, diagonal); ``F.maxout(x, pieces=3, axis=1)`` takes the
maximum over the three channels. Each filter responds strongly to one orientation only; the maxout
unit responds strongly to all three: it has learned (here, been given) invariance to orientation.
Pictures: maxout.png and the graph of conv2d → maxout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lecture import parse_out, pyplot, save_figure, save_graph, show_image

import tinygraph as tg
import tinygraph.functional as F

ORIENTATIONS = ("horizontal", "vertical", "diagonal")
FILTERS = np.array(
    [
        [[-1.0, -1.0, -1.0], [2.0, 2.0, 2.0], [-1.0, -1.0, -1.0]],  # horizontal stroke
        [[-1.0, 2.0, -1.0], [-1.0, 2.0, -1.0], [-1.0, 2.0, -1.0]],  # vertical stroke
        [[2.0, -1.0, -1.0], [-1.0, 2.0, -1.0], [-1.0, -1.0, 2.0]],  # diagonal stroke
    ]
)


def stroke_images(size: int = 9) -> np.ndarray:
    """Three images (3, 1, size, size), each with one stroke: horizontal, vertical, diagonal."""
    images = np.zeros((3, 1, size, size))
    middle = size // 2
    images[0, 0, middle, 2:-2] = 1.0
    images[1, 0, 2:-2, middle] = 1.0
    for k in range(2, size - 2):
        images[2, 0, k, k] = 1.0
    return images


def main(argv: list[str] | None = None) -> dict[str, Any]:
    out = parse_out(argv, __file__, __doc__.splitlines()[0])
    images = tg.tensor(stroke_images(), dtype=np.float64, name="images")
    weight = tg.tensor(FILTERS[:, None], dtype=np.float64, requires_grad=True, name="filters")
    responses = F.conv2d(images, weight)  # (3 images, 3 channels, 7, 7)
    pooled = F.maxout(responses, pieces=3, axis=1)  # (3 images, 1 channel, 7, 7)

    # Strongest response of each channel (and of the maxout unit) anywhere in each image.
    per_filter = responses.data.max(axis=(2, 3))
    per_maxout = pooled.data.max(axis=(1, 2, 3))
    print(f"conv2d responses {responses.shape} -> maxout over 3 channels -> {pooled.shape}")
    print("strongest response in each image:")
    print(f"  {'image':>18s} " + " ".join(f"{o:>10s}" for o in ORIENTATIONS) + "     maxout")
    for i, name in enumerate(ORIENTATIONS):
        row = " ".join(f"{v:10.1f}" for v in per_filter[i])
        print(f"  {name + ' stroke':>18s} {row} {per_maxout[i]:10.1f}")
    print("each filter fires for one orientation; the maxout unit fires for all three")

    plt = pyplot()
    fig, axes = plt.subplots(3, 5, figsize=(9, 5.6))
    limit = float(np.abs(responses.data).max())
    for i, name in enumerate(ORIENTATIONS):
        show_image(axes[i, 0], images.data[i, 0], f"{name} stroke")
        for c in range(3):
            show_image(
                axes[i, c + 1], responses.data[i, c], f"{ORIENTATIONS[c]} filter", signed=True, limit=limit
            )
        show_image(axes[i, 4], pooled.data[i, 0], "maxout (max over 3)", signed=True, limit=limit)
    pictures = [save_figure(fig, out / "maxout")]

    loss = tg.sum(pooled)
    loss.name = "total response"
    loss.backward()
    pictures.append(save_graph(out / "maxout_graph", loss, backward=True, expand={"maxout"}))
    return {
        "per_filter": per_filter,
        "per_maxout": per_maxout,
        "pooled_shape": pooled.shape,
        "responses": responses.data,
        "pooled": pooled.data,
        "pictures": pictures,
    }


if __name__ == "__main__":
    main()
