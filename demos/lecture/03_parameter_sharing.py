"""Parameter sharing: the same filter is applied at every position of the input.

    python demos/lecture/03_parameter_sharing.py [--out FOLDER]

The 4×4 image and 2×2 filter of demo 2, one scalar op at a time. Each of the four filter weights
w, x, y, z is a single node, and every one of the 9 output units uses it ("these circles are
actually the same neuron"): parameter_sharing.svg highlights the 9 paths from w to the loss
L = Σ s[i][j]. Because the weight is shared, its gradient is the sum over every position where it
is used: ∂L/∂w = Σ_ij ∂L/∂s_ij · ∂s_ij/∂w, the sum of the pixels under w in every window
(a + b + c + e + ... = 54), printed and written on the picture with its numbers. A locally
connected layer on the same image needs 9 filters (36 weights), each used once.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _element_graph as eg
from _lecture import fmt, parse_out, save_picture

import tinygraph as tg
from tinygraph import nn
from tinygraph._state import scope  # records the loss under one named call, drawn as one box


def main(argv: list[str] | None = None) -> dict[str, Any]:
    out = parse_out(argv, __file__, __doc__.splitlines()[0])
    graph = eg.build()
    outputs = graph.flat_outputs
    uses = {w.name: eg.uses_of(w, outputs) for w in graph.flat_weights}
    print("A 4×4 image ⋆ a 2×2 filter, element by element: 9 output units")
    for w in graph.flat_weights:
        print(
            f"  weight {w.name} = {w.item():+.1f} is one node, used by {uses[w.name]} multiplications "
            f"(one in each output unit)"
        )
    print(f"  distinct parameters: {len(graph.flat_weights)} (the filter), whatever the image size")

    with scope("Σ s"):  # the loss L = Σ s[i][j], drawn as one box fed by the 9 output units
        loss = outputs[0]
        for s in outputs[1:]:
            loss = loss + s
    loss.name = "L"
    loss.backward()
    grads = np.array([[w.grad.item() for w in row] for row in graph.weights])
    window_sums = np.array(
        [[eg.IMAGE[m : m + 3, n : n + 3].sum() for n in range(2)] for m in range(2)]
    )  # each weight meets the 3×3 block of pixels it slides over
    print("\nL = Σ s[i][j]; the gradient of a shared weight sums its uses over all positions:")
    print(f"  ∂L/∂(w x / y z) from backward() =\n{fmt(grads)}")
    print(f"  Σ over the 9 windows of the pixel under each weight =\n{fmt(window_sums)}")
    print(f"  equal: {np.allclose(grads, window_sums)}")
    w = graph.weights[0][0]
    under_w = [graph.pixels[i][j] for i in range(3) for j in range(3)]  # w's pixel in each window
    sum_text = (
        f"∂L/∂w = Σ_ij ∂L/∂s_ij · ∂s_ij/∂w = {' + '.join(p.name for p in under_w)}"
        f" = {' + '.join(f'{p.item():g}' for p in under_w)} = {w.grad.item():g}"
    )
    print(f"  {sum_text}")

    local = nn.LocallyConnected2d(1, 1, input_size=4, kernel_size=2, bias=False)
    conv = nn.Conv2d(1, 1, kernel_size=2, bias=False)
    print(
        f"\nWithout sharing, a locally connected layer on the same image has {local.num_parameters()} "
        f"weights (9 positions × 4); the convolution has {conv.num_parameters()}."
    )

    title = "parameter sharing: the one weight w is used in all 9 windows; ∂L/∂w sums the 9 paths"
    others = graph.flat_weights[1:]  # x, y, z: drawn faint, so that w's 9 edges stand out
    forward = tg.render(loss, highlight=w, title=title)
    backward = tg.render(loss, backward=True, highlight=w, title=title + " (after backward())")
    pictures = [
        save_picture(out / "parameter_sharing", eg.grid_layout(forward, graph, loss, faint=others)),
        save_picture(
            out / "parameter_sharing_gradients", eg.grid_layout(backward, graph, loss, faint=others)
        ),
    ]
    return {
        "uses": uses,
        "grads": grads,
        "sum_text": sum_text,
        "window_sums": window_sums,
        "image": eg.IMAGE,
        "local_parameters": local.num_parameters(),
        "conv_parameters": conv.num_parameters(),
        "pictures": pictures,
    }


if __name__ == "__main__":
    main()
