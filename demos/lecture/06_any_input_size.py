"""Inputs of any size: adaptive pooling summarizes any feature map into a fixed-size vector.

    python demos/lecture/06_any_input_size.py [--out FOLDER] [--epochs N]

A fully connected network accepts one input size only. A convolutional network whose last
pooling scales its regions with the input (``nn.AdaptiveAvgPool2d``: "scale the pooling region
with respect to the input size") accepts any. One network — the same parameters — is trained on
the 8×8 digits shown at three sizes (8×8, 12×12, 28×28, resampled) and then classifies held-out
digits at each size. Picture: any_input_size.png, the three inputs drawn at their real sizes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lecture import parse_out, pyplot, save_figure, show_image

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import data, nn, optim

SIZES = (8, 12, 28)
POOLED = 4  # the adaptive pooling's output: 4×4 whatever the input size


def resize(images: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour resampling of (N, C, H, W) images to (N, C, size, size)."""
    h, w = images.shape[-2:]
    rows = np.arange(size) * h // size
    cols = np.arange(size) * w // size
    return images[..., rows[:, None], cols[None, :]]


def make_network() -> nn.Module:
    """conv → relu → conv → relu → adaptive average pooling to 4×4 → linear: any input size."""
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(POOLED),
        nn.Flatten(),
        nn.Linear(8 * POOLED * POOLED, 10),
    )


def train(model: nn.Module, split: data.DataSplit, epochs: int) -> None:
    """Adam on mini-batches, each shown at a size drawn at random from SIZES."""
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    for epoch in range(epochs):
        total, count = 0.0, 0
        for xb, yb in data.BatchIterator(
            split.x_train, split.y_train, batch_size=64, shuffle=True, seed=epoch
        ):
            size = int(rng.choice(SIZES))
            loss = F.cross_entropy(model(tg.tensor(resize(xb, size))), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, count = total + loss.item() * len(yb), count + len(yb)
        print(f"  epoch {epoch + 1}: mean training loss {total / count:.3f}")


def predict(model: nn.Module, images: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """Class probabilities for a batch of images, and the shape after adaptive pooling."""
    with tg.no_grad():
        features = tg.tensor(images)
        for layer in list(model.children())[:5]:
            features = layer(features)
        logits = model(tg.tensor(images))
    return F.softmax(logits).data, features.shape


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--epochs", type=int, default=3, help="training epochs (default 3)")
    extra, rest = parser.parse_known_args(argv)
    out = parse_out(rest, __file__, __doc__.splitlines()[0])

    fully_connected = nn.Linear(8 * 8, 10)
    try:
        fully_connected(tg.ones((1, 12 * 12)))
        fc_error = ""
    except (tg.OpError, ValueError) as error:
        fc_error = str(error)
    print(f"A fully connected layer built for 8×8 inputs, given a 12×12 one:\n  {fc_error}\n")

    tg.manual_seed(0)
    model = make_network()
    print(f"One convolutional network, {model.num_parameters():,} parameters:\n{model}\n")
    split = data.load_digits(seed=0)
    print(f"Training on {len(split.y_train)} digits shown at sizes {SIZES} ...")
    train(model, split, extra.epochs)

    results = {}
    for size in SIZES:
        probabilities, pooled_shape = predict(model, resize(split.x_test, size))
        accuracy = float(np.mean(probabilities.argmax(axis=1) == split.y_test))
        results[size] = {
            "accuracy": accuracy,
            "output_shape": probabilities.shape,
            "pooled_shape": pooled_shape,
            "probabilities": probabilities,
        }
        print(
            f"  {size:2d}×{size:<2d} inputs -> pooled features {pooled_shape[1:]} -> scores "
            f"{probabilities.shape[1:]}; test accuracy {accuracy:.1%}"
        )

    # Each input drawn at its real size: one pixel of every image takes the same room on the
    # page, so the 28×28 input is 3.5 times as wide as the 8×8 one.
    plt = pyplot()
    fig, axes = plt.subplots(
        1, len(SIZES), figsize=(9, 5.4), gridspec_kw={"width_ratios": SIZES, "wspace": 0.35}
    )
    # Placed by hand: tight_layout cannot lay out fixed-aspect axes in columns of set widths, and
    # constrained layout would shrink the widest one below the others' scale.
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.82)
    for ax, size in zip(axes, SIZES):
        p = results[size]["probabilities"][0]
        accuracy = results[size]["accuracy"]
        title = f"{size}×{size} pixels\nsays {p.argmax()} ({p.max():.0%})\ntest accuracy {accuracy:.0%}"
        show_image(ax, resize(split.x_test[:1], size)[0, 0], title)
    fig.suptitle(
        f"one network, three input sizes, each at its real size (the digit is a {split.y_test[0]})",
        fontsize=10,
    )
    picture = save_figure(fig, out / "any_input_size", tight=False)
    pixel_width = {size: ax.get_window_extent().width / size for ax, size in zip(axes, SIZES)}
    return {
        "epochs": extra.epochs,
        "fc_error": fc_error,
        "parameters": model.num_parameters(),
        "results": results,
        "pictures": [picture],
        "pixel_width": pixel_width,
    }


if __name__ == "__main__":
    main()
