"""Equivariance: convolving a shifted image gives the shifted convolution.

    python demos/lecture/04_equivariance.py [--out FOLDER]

representation(transform(x)) = transform(representation(x)): with representation = a convolution
(``F.conv2d``, an edge filter) and transform = a translation, both sides are computed and compared.
Equivariance is a consequence of parameter sharing: a locally connected layer — sparse too, but
with a different filter at every position — is not equivariant. Picture: equivariance.png.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lecture import parse_out, pyplot, save_figure, show_image

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn

SHIFT = (2, 3)  # rows down, columns right
EDGE_FILTER = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])  # vertical edges (Sobel)


def make_image(size: int = 14) -> np.ndarray:
    """A dark image with a bright L-shaped stroke, away from the borders."""
    image = np.zeros((size, size))
    image[3:8, 3] = 1.0
    image[7, 3:7] = 1.0
    return image


def shift(image: np.ndarray, offset: tuple[int, int] = SHIFT) -> np.ndarray:
    """Translate an image by ``offset`` (rows, columns), filling with zeros."""
    dy, dx = offset
    shifted = np.zeros_like(image)
    shifted[dy:, dx:] = image[: image.shape[0] - dy, : image.shape[1] - dx]
    return shifted


def apply(layer: Any, image: np.ndarray) -> np.ndarray:
    """Run a layer (a function of an NCHW node) on a single-channel 2-D image."""
    with tg.no_grad():
        return layer(tg.tensor(image[None, None], dtype=np.float64)).data[0, 0]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    out = parse_out(argv, __file__, __doc__.splitlines()[0])
    image = make_image()
    kernel = tg.tensor(EDGE_FILTER[None, None], dtype=np.float64)

    def conv(x: tg.Node) -> tg.Node:
        return F.conv2d(x, kernel, padding=1)

    conv_of_shifted = apply(conv, shift(image))
    shifted_conv = shift(apply(conv, image))
    conv_error = float(np.abs(conv_of_shifted - shifted_conv).max())
    print(f"image {image.shape}, shifted by {SHIFT} (rows, columns); a 3×3 vertical-edge filter, padding 1")
    print(f"  max |conv(shift(x)) - shift(conv(x))| = {conv_error:g}   -> equivariant: {conv_error < 1e-12}")
    print(f"  (the response is not trivial: max |conv(x)| = {np.abs(apply(conv, image)).max():g})")

    tg.manual_seed(0)
    local = nn.LocallyConnected2d(
        1, 1, input_size=image.shape, kernel_size=3, padding=1, bias=False, dtype=np.float64
    )
    local_error = float(np.abs(apply(local, shift(image)) - shift(apply(local, image))).max())
    print("a locally connected layer (random, unshared 3×3 filters) on the same images:")
    print(
        f"  max |local(shift(x)) - shift(local(x))| = {local_error:.3f}"
        f"   -> equivariant: {local_error < 1e-12}"
    )

    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(8, 5.6))
    limit = float(np.abs(shifted_conv).max())
    show_image(axes[0, 0], image, "x")
    show_image(axes[0, 1], apply(conv, image), "conv(x)", signed=True, limit=limit)
    show_image(axes[0, 2], shifted_conv, "shift(conv(x))", signed=True, limit=limit)
    show_image(axes[1, 0], shift(image), f"shift(x), by {SHIFT}")
    show_image(axes[1, 1], conv_of_shifted, "conv(shift(x))", signed=True, limit=limit)
    show_image(
        axes[1, 2],
        conv_of_shifted - shifted_conv,
        f"difference (max {conv_error:g})",
        signed=True,
        limit=limit,
    )
    picture = save_figure(fig, out / "equivariance")
    return {
        "image": image,
        "conv_of_shifted": conv_of_shifted,
        "shifted_conv": shifted_conv,
        "conv_error": conv_error,
        "local_error": local_error,
        "pictures": [picture],
    }


if __name__ == "__main__":
    main()
