"""Max-pooling introduces invariance: shift the input one pixel, count the pooled outputs that change.

    python demos/lecture/05_pooling_invariance.py [--out FOLDER]

1. The textbook's picture (Goodfellow et al. 2016, fig. 9.8): a row of detector outputs, max
   pooling with a width of 3 and a stride of 1. After shifting the row one pixel to the right,
   every input value has changed, but only some of the pooled values have.
2. The same on a 2-D map of random detector responses: all inputs change, yet for k×k max
   pooling only a fraction 1 - (k-1)/(k+1) of the outputs do — wider pooling, more invariance.
Picture: pooling_invariance.png.
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

# Detector outputs along one row, and the value that enters from the left when shifting right.
ROW = np.array([0.0, 0.1, 1.0, 0.2, 0.1, 0.3, 0.0, 0.2])
ENTERING = 0.4


def shift_right(values: np.ndarray, entering: float | np.ndarray) -> np.ndarray:
    """Shift the last axis one pixel to the right; ``entering`` fills the first column."""
    shifted = np.roll(values, 1, axis=-1)
    shifted[..., 0] = entering
    return shifted


def max_pool(values: np.ndarray, size: int | tuple[int, int], stride: int | tuple[int, int]) -> np.ndarray:
    """``F.max_pool2d`` on a 2-D array (one image, one channel)."""
    x = tg.tensor(values[None, None], dtype=np.float64)
    return F.max_pool2d(x, size, stride=stride).data[0, 0]


def changed(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.count_nonzero(~np.isclose(a, b)))


def one_row() -> dict[str, Any]:
    shifted = shift_right(ROW, ENTERING)
    pooled = max_pool(ROW[None], (1, 3), 1)[0]
    pooled_shifted = max_pool(shifted[None], (1, 3), 1)[0]
    result = {
        "row": ROW,
        "shifted": shifted,
        "pooled": pooled,
        "pooled_shifted": pooled_shifted,
        "inputs_changed": changed(ROW, shifted),
        "outputs_changed": changed(pooled, pooled_shifted),
    }
    print("1) One row of detector outputs, max pooling of width 3, stride 1")
    print(f"   detector row          {ROW}      pooled {pooled}")
    print(f"   shifted right 1 pixel {shifted}      pooled {pooled_shifted}")
    print(
        f"   changed: {result['inputs_changed']} of {ROW.size} inputs, "
        f"only {result['outputs_changed']} of {pooled.size} pooled outputs"
    )
    return result


def detector_map(size: int = 48, seed: int = 0) -> np.ndarray:
    """Random detector responses: every value distinct, so a shift changes every one of them."""
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=(size, size))


def two_dimensional() -> dict[str, Any]:
    response = detector_map()
    shifted = shift_right(response, np.random.default_rng(1).uniform(0.0, 1.0, size=response.shape[0]))
    fraction_in = changed(response, shifted) / response.size
    print(
        f"\n2) A {response.shape[0]}×{response.shape[1]} map of random detector responses, "
        "shifted one pixel to the right"
    )
    print(f"   inputs changed: {fraction_in:.0%}")
    pooled = {}
    for size, stride in ((2, 2), (3, 1), (5, 1)):
        before, after = max_pool(response, size, stride), max_pool(shifted, size, stride)
        fraction = changed(before, after) / before.size
        # A window keeps its max when the max of the k×(k+1) cells it sees before or after the
        # shift lies in the k×(k-1) cells it sees both times: probability (k-1)/(k+1).
        expected = 1 - (size - 1) / (size + 1)
        pooled[f"{size}x{size}/{stride}"] = {
            "before": before,
            "after": after,
            "fraction_changed": fraction,
            "expected_fraction_changed": expected,
        }
        print(
            f"   {size}×{size} max pooling, stride {stride}: {fraction:.0%} of {before.size} outputs changed "
            f"(expected {expected:.0%} = 1 - (k-1)/(k+1))"
        )
    return {
        "response": response,
        "shifted": shifted,
        "fraction_inputs_changed": fraction_in,
        "pooled": pooled,
    }


def picture(row: dict[str, Any], grid: dict[str, Any], out: Path) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.5), gridspec_kw={"height_ratios": [1, 3]})
    for ax, (values, title) in zip(
        axes[0, :2],
        (
            (np.vstack([row["pooled"], row["pooled_shifted"]]), "pooled (width 3): before / after"),
            (np.vstack([row["row"], row["shifted"]]), "detector row: before / after shift"),
        ),
    ):
        show_image(ax, values, title, limit=1.0, annotate=True)
    axes[0, 2].axis("off")
    axes[0, 2].text(
        0,
        0.5,
        f"1-pixel shift:\n{row['inputs_changed']}/{row['row'].size} inputs changed\n"
        f"{row['outputs_changed']}/{row['pooled'].size} pooled outputs changed",
        fontsize=10,
    )
    pooled = grid["pooled"]["3x3/1"]
    show_image(axes[1, 0], grid["response"], "random detector map")
    show_image(axes[1, 1], pooled["before"], "3×3 max pool, stride 1")
    diff = ~np.isclose(pooled["before"], pooled["after"])
    show_image(axes[1, 2], diff.astype(float), f"changed after the shift ({diff.mean():.0%})", limit=1.0)
    return save_figure(fig, out / "pooling_invariance")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    out = parse_out(argv, __file__, __doc__.splitlines()[0])
    row = one_row()
    grid = two_dimensional()
    return {"row": row, "grid": grid, "pictures": [picture(row, grid, out)]}


if __name__ == "__main__":
    main()
