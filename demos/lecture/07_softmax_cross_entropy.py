"""Softmax and cross-entropy: what softmax does to raw scores, the loss, and its gradient q − y.

    python demos/lecture/07_softmax_cross_entropy.py [--out FOLDER]

q_c = exp(f_c) / Σ_k exp(f_k) turns a network's raw scores f into probabilities: it normalizes
them (positive, summing to 1) and emphasizes the largest score. With a one-hot target y the
cross-entropy L = -Σ_c y_c log q_c is minus the log-probability of the right class, and its
gradient with respect to the scores is simply q − y, which the engine's backward must reproduce.
Pictures: softmax.png, and the graph of the loss (collapsed and expanded).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lecture import fmt, parse_out, pyplot, save_figure, save_graph

import tinygraph as tg
import tinygraph.functional as F

SCORES = np.array([3.0, 2.0, 1.0, 0.5])  # raw scores f(x) of one example, 4 classes
TARGET = 0  # the right class


def softmax_effects() -> dict[str, Any]:
    f = tg.tensor(SCORES, dtype=np.float64)
    q = F.softmax(f).data
    plain = SCORES / SCORES.sum()
    sharper = F.softmax(f * 3).data
    print(f"raw scores f               = {SCORES}")
    print(f"softmax q                  = {np.round(q, 3)}   (sum {q.sum():.3f}, all > 0)")
    print(f"softmax of 3·f             = {np.round(sharper, 3)}   (larger gaps: the max takes over)")
    print(f"f / Σ f for comparison     = {np.round(plain, 3)}   (also sums to 1)")
    print(f"  the top score gets {q.max():.0%} from softmax, {plain.max():.0%} from plain normalization")
    shifted = F.softmax(f + 100).data
    print(f"softmax(f + 100)           = {np.round(shifted, 3)}   (unchanged: only differences matter)")
    return {"q": q, "q_sharper": sharper, "q_shifted": shifted}


def loss_and_gradient(out: Path) -> dict[str, Any]:
    logits = tg.tensor(SCORES[None], dtype=np.float64, requires_grad=True, name="f")
    y = np.eye(len(SCORES))[[TARGET]]
    loss = F.cross_entropy(logits, y)
    loss.name = "L"
    loss.backward()
    q = F.softmax(logits).data
    print(f"\none-hot target y = {y[0]} (class {TARGET})")
    print(f"L = -Σ y_c log q_c = -log q_{TARGET} = {loss.item():.4f}   (-log {q[0, TARGET]:.4f})")
    print(f"∂L/∂f from backward() = {np.round(logits.grad[0], 4)}")
    print(f"q − y                 = {np.round((q - y)[0], 4)}")
    print(f"equal: {np.allclose(logits.grad, q - y)}")

    # A batch of N examples with int class targets: the mean loss's gradient is (q − y) / N.
    rng = np.random.default_rng(0)
    batch = tg.tensor(rng.normal(size=(5, 4)), dtype=np.float64, requires_grad=True)
    labels = np.array([0, 3, 1, 1, 2])
    F.cross_entropy(batch, labels).backward()
    batch_q, batch_y = F.softmax(batch).data, np.eye(4)[labels]
    batch_ok = np.allclose(batch.grad, (batch_q - batch_y) / len(labels))
    print(f"\na batch of 5 with class indices {labels}, mean reduction: ∂L/∂f = (q − y)/N: {batch_ok}")
    print(f"∂L/∂f =\n{fmt(batch.grad)}")
    pictures = [
        save_graph(out / "cross_entropy", loss, backward=True),
        save_graph(out / "cross_entropy_expanded", loss, backward=True, expand=True),
    ]
    return {
        "loss": loss.item(),
        "q": q,
        "y": y,
        "grad": logits.grad,
        "batch_grad": batch.grad,
        "batch_expected": (batch_q - batch_y) / len(labels),
        "pictures": pictures,
    }


def picture(effects: dict[str, Any], out: Path) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(10, 3))
    classes = np.arange(len(SCORES))
    for ax, values, title in (
        (axes[0], SCORES, "raw scores f"),
        (axes[1], effects["q"], "softmax(f): sums to 1"),
        (axes[2], effects["q_sharper"], "softmax(3·f): the max takes over"),
    ):
        ax.bar(classes, values, color=["tab:green" if c == TARGET else "tab:gray" for c in classes])
        ax.set_title(title, fontsize=9)
        ax.set_xticks(classes)
        ax.set_xlabel("class")
    return save_figure(fig, out / "softmax")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    out = parse_out(argv, __file__, __doc__.splitlines()[0])
    effects = softmax_effects()
    result = loss_and_gradient(out)
    result["pictures"].append(picture(effects, out))
    return {**effects, **result}


if __name__ == "__main__":
    main()
