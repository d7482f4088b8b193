"""Convolution or cross-correlation? Identical for a symmetric kernel, different otherwise.

    python demos/lecture/01_convolution_vs_correlation.py [--out FOLDER]

Deep-learning libraries (tinygraph's ``F.conv1d`` / ``F.conv2d`` included) compute the
cross-correlation s[t] = Σ_a x[t+a]·w[a], a sliding dot product, and call it convolution. The true
convolution s[t] = Σ_a x[t-a]·w[a] flips the kernel. The same signal goes through both, with a
symmetric kernel (smoothing, [1 2 1]/4) and an asymmetric one (a difference, [1 0 -1]); the 2-D
case compares ``F.conv2d`` with ``F.convolve2d``. Picture: correlation_vs_convolution.png.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lecture import fmt, parse_out, pyplot, save_figure

import tinygraph as tg
import tinygraph.functional as F

SIGNAL = np.array([0.0, 0.0, 1.0, 2.0, 3.0, 3.0, 3.0, 1.0, 0.0, 0.0, 2.0, 0.0])
KERNELS = {
    "symmetric [1 2 1]/4": np.array([1.0, 2.0, 1.0]) / 4,
    "asymmetric [1 0 -1]": np.array([1.0, 0.0, -1.0]),
}


def correlate_1d(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``F.conv1d`` on a single-channel signal: the cross-correlation, 'valid' mode."""
    x = tg.tensor(signal[None, None, :], dtype=np.float64)
    w = tg.tensor(kernel[None, None, :], dtype=np.float64)
    return F.conv1d(x, w).data[0, 0]


def convolve_1d(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The true convolution: ``F.conv1d`` with the kernel flipped."""
    return correlate_1d(signal, kernel[::-1].copy())


def one_dimensional() -> dict[str, Any]:
    print(f"signal x = {SIGNAL}")
    results = {}
    for name, kernel in KERNELS.items():
        corr = correlate_1d(SIGNAL, kernel)
        conv = convolve_1d(SIGNAL, kernel)
        same = np.allclose(corr, conv)
        print(f"\nkernel {name}: w = {kernel}")
        print(f"  cross-correlation (F.conv1d)      = {np.round(corr, 3)}")
        print(f"  convolution (kernel flipped)      = {np.round(conv, 3)}")
        print(f"  numpy's np.convolve(x, w, 'valid') = {np.round(np.convolve(SIGNAL, kernel, 'valid'), 3)}")
        print(f"  identical: {same}")
        results[name] = {"kernel": kernel, "correlation": corr, "convolution": conv, "identical": same}
    return results


def two_dimensional() -> dict[str, Any]:
    image = tg.tensor(np.arange(25.0).reshape(1, 1, 5, 5) % 7, dtype=np.float64)
    kernel = np.array([[1.0, 2.0], [0.0, -1.0]])
    corr = F.conv2d(image, tg.tensor(kernel[None, None], dtype=np.float64)).data[0, 0]
    conv = F.convolve2d(image, tg.tensor(kernel[None, None], dtype=np.float64)).data[0, 0]
    flipped = F.conv2d(image, tg.tensor(kernel[::-1, ::-1][None, None].copy(), dtype=np.float64)).data[0, 0]
    print(f"\n2-D: a 5×5 image and the kernel\n{fmt(kernel)}")
    print(f"  F.conv2d (cross-correlation) =\n{fmt(corr)}\n  F.convolve2d (convolution)   =\n{fmt(conv)}")
    print(f"  identical: {np.allclose(corr, conv)} (the kernel is not symmetric)")
    print(f"  convolve2d equals conv2d with the kernel flipped in both axes: {np.allclose(conv, flipped)}")
    return {"correlation": corr, "convolution": conv, "flipped_correlation": flipped}


def picture(results: dict[str, Any], out: Path) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(10, 3.2), sharey=True)
    for ax, (name, r) in zip(axes, results.items()):
        t = np.arange(len(r["correlation"])) + 1  # 'valid' outputs sit under the kernel's centre
        ax.plot(np.arange(len(SIGNAL)), SIGNAL, "k.-", label="signal x", alpha=0.5)
        ax.plot(t, r["correlation"], "o-", label="cross-correlation (F.conv1d)")
        ax.plot(t, r["convolution"], "s--", label="convolution (flipped kernel)")
        ax.set_title(f"kernel {name}: " + ("identical" if r["identical"] else "different"), fontsize=9)
        ax.set_xlabel("t")
    axes[0].legend(fontsize=7)
    return save_figure(fig, out / "correlation_vs_convolution")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    out = parse_out(argv, __file__, __doc__.splitlines()[0])
    results = one_dimensional()
    result_2d = two_dimensional()
    return {"1d": results, "2d": result_2d, "pictures": [picture(results, out)]}


if __name__ == "__main__":
    main()
