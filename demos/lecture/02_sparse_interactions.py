"""Sparse interactions: each output of a convolution uses only a few inputs.

    python demos/lecture/02_sparse_interactions.py [--out FOLDER]

1. The lecture's 4×4 image and 2×2 filter, built from scalar ops: every output unit is wired to
   exactly 4 of the 16 pixels (rendered: sparse_interactions.svg, the pixels as their 4×4 grid and
   each output unit in the middle of its 2×2 window; the first two units opened up into their
   multiplications and additions: sparse_interactions_expanded.svg). A fully connected layer on the
   same pixels wires every output to all 16.
2. The lecture's 200×200 image with 40K hidden units: parameter counts of a fully connected, a
   locally connected (10×10 filters) and a convolutional layer, from real tinygraph layers.
3. The cost: O(m·n) multiply-adds for a fully connected layer, O(n·k) for a sparse one.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _element_graph as eg
from _lecture import parse_out, save_graph, save_picture

import tinygraph as tg
from tinygraph import nn

SIDE = 200  # the lecture's 200×200 image
FILTER = 10  # its 10×10 filters


def small_image_graph(out: Path) -> dict[str, Any]:
    """Build, check and render the 4×4 image ⋆ 2×2 filter graph, and its fully connected twin."""
    graph = eg.build()
    print("1) A 4×4 image (pixels a … p) and a 2×2 filter (w x / y z), one scalar op at a time")
    inputs_per_output = {}
    for s in graph.flat_outputs:
        pixels = [n for n in eg.leaves_used(s) if n in eg.PIXEL_NAMES]
        inputs_per_output[s.name] = sorted(pixels)
        print(f"   {s.name} = {eg.formula(s):22s} uses {len(pixels)} of the 16 pixels: {sorted(pixels)}")
    expected = np.array(
        [[np.sum(eg.IMAGE[i : i + 2, j : j + 2] * eg.KERNEL) for j in range(3)] for i in range(3)]
    )
    values_ok = np.allclose(graph.values(), expected)
    print(f"   values equal the 'valid' cross-correlation computed by numpy: {values_ok}")

    dense = eg.build_dense()
    dense_inputs = [len([n for n in eg.leaves_used(o) if n in eg.PIXEL_NAMES]) for o in dense]
    sparse_mults = eg.count_ops(graph.flat_outputs, "mul")
    dense_mults = eg.count_ops(dense, "mul")
    print(f"   a fully connected layer with 9 outputs: each output uses {dense_inputs[0]} pixels")
    print(
        f"   multiplications recorded: sparse {sparse_mults} (= n·k = 9·4), "
        f"dense {dense_mults} (= m·n = 16·9)"
    )
    title = (
        "sparse interactions: each output unit s_ij reads only the 4 pixels of its 2×2 window "
        "(grey: the filter weights w x / y z, shared by every unit)"
    )
    grid = eg.grid_layout(tg.render(*graph.flat_outputs, title=title), graph, faint=graph.flat_weights)
    pictures = [
        save_picture(out / "sparse_interactions", grid),
        save_graph(out / "sparse_interactions_expanded", *graph.flat_outputs[:2], expand=True, rankdir="TB"),
    ]
    return {
        "outputs": graph.flat_outputs,
        "inputs_per_output": inputs_per_output,
        "values_ok": values_ok,
        "dense_inputs_per_output": dense_inputs,
        "sparse_mults": sparse_mults,
        "dense_mults": dense_mults,
        "pictures": pictures,
    }


def linear_count(n_in: int, n_out: int) -> int:
    """Weights and biases of ``nn.Linear(n_in, n_out)``: ``n_in·n_out + n_out``."""
    return n_in * n_out + n_out


def parameter_counts() -> dict[str, int]:
    """The lecture's 200×200 image with 40K hidden units, three ways, counted on real layers."""
    print(f"\n2) Parameters for a {SIDE}×{SIDE} image and ~40K hidden units")
    # A 40,000 → 40,000 Linear layer would hold 1.6 billion float32 weights (6.4 GB): too big to
    # build. Build smaller ones, check their count against the layer's shape formula, and apply
    # the formula at the lecture's size.
    small_layers = {}
    for side in (10, 20, 30):
        layer = nn.Linear(side * side, side * side)
        small_layers[side * side] = layer.num_parameters()
        print(
            f"   nn.Linear({side * side}, {side * side}) has {layer.num_parameters():,} parameters "
            f"= in·out + out"
        )
    fully_connected = linear_count(SIDE * SIDE, SIDE * SIDE)
    print(
        f"   fully connected, nn.Linear({SIDE * SIDE}, {SIDE * SIDE}): {fully_connected:,} parameters "
        f"(~{fully_connected / 1e9:.1f}B; the slide rounds it to ~2B), "
        f"{fully_connected * 4 / 1e9:.1f} GB as float32"
    )

    # Locally connected: one 10×10 filter per hidden unit. padding=5 gives 201×201 = 40,401 units,
    # the closest a 10×10 window gets to one unit per pixel. Small enough to build for real.
    local = nn.LocallyConnected2d(1, 1, input_size=SIDE, kernel_size=FILTER, padding=FILTER // 2)
    units = local.output_size[0] * local.output_size[1]
    local_weights = int(local.weight.size)
    print(
        f"   locally connected, {local.__class__.__name__}(1, 1, input_size={SIDE}, "
        f"kernel_size={FILTER}, padding={FILTER // 2}): {units:,} hidden units × {FILTER * FILTER} weights "
        f"= {local_weights:,} weights (~{local_weights / 1e6:.0f}M), {local.num_parameters():,} with biases"
    )

    conv = nn.Conv2d(1, 1, kernel_size=FILTER, padding=FILTER // 2)
    conv100 = nn.Conv2d(1, 100, kernel_size=FILTER, padding=FILTER // 2)
    print(
        f"   convolutional, nn.Conv2d(1, 1, kernel_size={FILTER}): {conv.num_parameters()} parameters "
        f"(one shared 10×10 filter and a bias), whatever the image size"
    )
    print(
        f"   convolutional, nn.Conv2d(1, 100, kernel_size={FILTER}): {conv100.num_parameters():,} "
        "parameters for 100 feature maps"
    )
    return {
        "small_linear": small_layers,
        "fully_connected": fully_connected,
        "locally_connected_units": units,
        "locally_connected_weights": local_weights,
        "locally_connected": local.num_parameters(),
        "convolutional": conv.num_parameters(),
        "convolutional_100": conv100.num_parameters(),
    }


def costs() -> dict[str, int]:
    """Multiply-adds of one forward pass: m·n dense against n·k sparse (40K inputs and units)."""
    m, n, k = SIDE * SIDE, SIDE * SIDE, FILTER * FILTER
    print("\n3) Cost of one forward pass (multiply-adds)")
    print(f"   m = {m:,} inputs, n = {n:,} outputs, k = {k} filter elements (k ≪ m)")
    print(f"   fully connected O(m·n) = {m * n:,}")
    print(f"   sparse          O(n·k) = {n * k:,}   ({m * n / (n * k):,.0f}× fewer)")
    return {"dense_cost": m * n, "sparse_cost": n * k}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    out = parse_out(argv, __file__, __doc__.splitlines()[0])
    result = small_image_graph(out)
    counts = parameter_counts()
    return {**result, "counts": counts, "costs": costs()}


if __name__ == "__main__":
    main()
