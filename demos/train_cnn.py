"""Train a small CNN on handwritten digits with tinygraph, and look at what it learned.

    python demos/train_cnn.py [--epochs 20] [--batch-size 32] [--lr 0.005] [--out output/train_cnn]
                              [--mnist DIR] [--seed 0] [--max-steps N]

By default it uses the 1,797 8×8 digits that ship with scikit-learn (no download) and reaches
about 98% test accuracy in a few seconds. ``--mnist DIR`` trains on MNIST IDX files you already
have instead (``train-images-idx3-ubyte[.gz]`` and friends).

The network is the lecture's convolutional pipeline, twice: convolution (sparse interactions,
shared weights) → ReLU → 2×2 max-pooling (a little translation invariance), then a linear layer
to the 10 classes, trained with Adam on the cross-entropy loss.

Writes into ``--out`` (``output/train_cnn/``, git-ignored):

- ``model.npz``: the checkpoint (``tg.save(model.state_dict(), ...)``; reload with ``tg.load``);
- ``model.onnx`` and ``model_onnx.svg``: the trained model exported to ONNX, and its graph (when
  the ``onnx`` package is installed: ``pip install 'tinygraph[onnx]'``);
- ``training_curves.png``: training loss and test accuracy per epoch;
- ``filters.png``: the learned first-layer 3×3 filters;
- ``step_collapsed.svg``: the graph of one training step's loss, each conv2d / max_pool2d /
  cross_entropy call one box (with the gradient along each edge);
- ``step_conv_expanded.svg``: the same graph with the convolutions opened into their
  primitives (pad, sliding_window, transpose, reshape, matmul, add);
- ``explore_step.html``: the same step in the explorer (``tg.explore``), one offline page: open
  the boxes, step through backward, watch the gradients arrive at the filters.
"""

from __future__ import annotations

import argparse
import math
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import data, nn, optim


def build_cnn(image_size: int = 8, width: int = 16, classes: int = 10) -> nn.Sequential:
    """conv 3×3 → ReLU → max-pool 2 → conv 3×3 → ReLU → max-pool 2 → flatten → linear."""
    side = image_size // 4
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(1, width, 3, padding=1),
            relu1=nn.ReLU(),
            pool1=nn.MaxPool2d(2),
            conv2=nn.Conv2d(width, 2 * width, 3, padding=1),
            relu2=nn.ReLU(),
            pool2=nn.MaxPool2d(2),
            flatten=nn.Flatten(),
            fc=nn.Linear(2 * width * side * side, classes),
        )
    )


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 512) -> float:
    """Share of ``x`` that ``model`` classifies as ``y`` (evaluation mode, no graph recorded)."""
    model.eval()
    correct = 0
    with tg.no_grad():
        for xb, yb in data.BatchIterator(x, y, batch_size=batch_size):
            correct += int((model(tg.tensor(xb)).data.argmax(axis=1) == yb).sum())
    model.train()
    return correct / len(y)


def cosine_lr(base: float, step: int, total: int) -> float:
    """The learning rate at ``step`` of ``total`` on a cosine decay from ``base`` to 0."""
    return base * 0.5 * (1.0 + math.cos(math.pi * step / max(total, 1)))


def train(
    model: nn.Module,
    split: data.DataSplit,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    max_steps: int | None = None,
) -> dict[str, list[float]]:
    """Train with Adam and a cosine learning-rate decay; returns the per-epoch history."""
    from tqdm import tqdm

    opt = optim.Adam(model.parameters(), lr=lr)
    batches = data.BatchIterator(split.x_train, split.y_train, batch_size=batch_size, shuffle=True, seed=seed)
    total = epochs * len(batches) if max_steps is None else min(max_steps, epochs * len(batches))
    history: dict[str, list[float]] = {"loss": [], "test_accuracy": []}
    step = 0
    with tqdm(total=total, unit="step", desc="training") as bar:
        for epoch in range(epochs):
            losses = []
            for xb, yb in batches:
                if step >= total:
                    break
                opt.param_groups[0]["lr"] = cosine_lr(lr, step, total)
                opt.zero_grad()
                loss = F.cross_entropy(model(tg.tensor(xb)), yb)
                loss.backward()
                opt.step()
                losses.append(loss.item())
                step += 1
                bar.update(1)
            if not losses:
                break
            history["loss"].append(float(np.mean(losses)))
            history["test_accuracy"].append(accuracy(model, split.x_test, split.y_test))
            bar.set_postfix(
                epoch=epoch + 1,
                loss=f"{history['loss'][-1]:.3f}",
                test_acc=f"{history['test_accuracy'][-1]:.3f}",
            )
    return history


def plot_history(history: dict[str, list[float]], path: Path) -> None:
    """Training loss and test accuracy per epoch, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(epochs, history["loss"], marker="o")
    left.set(xlabel="epoch", ylabel="mean training loss (cross-entropy)", yscale="log", title="loss")
    right.plot(epochs, 100 * np.asarray(history["test_accuracy"]), marker="o", color="tab:green")
    right.set(xlabel="epoch", ylabel="test accuracy (%)", title="accuracy")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_filters(weight: np.ndarray, path: Path) -> None:
    """The first layer's filters (C_out, 1, KH, KW), one small image each, on a shared colour scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = weight.shape[0]
    cols = min(8, count)
    rows = math.ceil(count / cols)
    limit = float(np.abs(weight).max()) or 1.0
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.2 * rows + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < count:
            ax.imshow(weight[i, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.suptitle("learned first-layer filters (red +, blue -)")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def render_step(model: nn.Module, x: np.ndarray, y: np.ndarray, out: Path) -> list[Path]:
    """Render one training step's loss graph, collapsed and with the convolutions expanded."""

    model.zero_grad()
    loss = F.cross_entropy(model(tg.tensor(x, name="images")), y)
    loss.backward()
    title = f"one training step: cross-entropy of a batch of {len(y)} digits"
    pictures = {
        "step_collapsed": tg.render(loss, backward=True, title=title + " (composites collapsed)"),
        "step_conv_expanded": tg.render(
            loss, backward=True, expand={"conv2d"}, title=title + " (convolutions expanded)"
        ),
    }
    explorer = tg.explore(loss, title=title)  # the same step, interactive: open it in a browser
    model.zero_grad()
    return [picture.write(out / name) for name, picture in pictures.items()] + [
        explorer.save(out / "explore_step.html")
    ]


def export_onnx(model: nn.Module, example: np.ndarray, out: Path) -> list[Path]:
    """The trained model as ONNX and a picture of its graph; nothing when onnx is not installed."""
    try:
        import tinygraph.onnx as tgonnx
    except ImportError:
        return []
    path, picture = out / "model.onnx", out / "model_onnx.svg"
    exported = tgonnx.export(model, example, path, input_names=["images"], output_names=["logits"])
    picture.write_bytes(tgonnx.to_graphviz(exported, title="the trained CNN, exported to ONNX").pipe("svg"))
    return [path, picture]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set (default 20)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per step (default 32)")
    parser.add_argument("--lr", type=float, default=5e-3, help="Adam's initial learning rate (default 0.005)")
    parser.add_argument("--out", type=Path, default=Path("output/train_cnn"), help="output folder")
    parser.add_argument(
        "--mnist", type=Path, default=None, help="folder with MNIST IDX files to train on instead"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the initialisation, split and shuffling")
    parser.add_argument(
        "--max-steps", type=int, default=None, help="stop after this many steps (smoke tests)"
    )
    parser.add_argument("--width", type=int, default=16, help="filters in the first conv layer (default 16)")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "width"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.lr <= 0:
        parser.error("--lr must be positive")
    return args


def main(argv: list[str] | None = None) -> dict:
    """Run the demo; returns the test accuracy, the training time and the files written."""
    args = parse_args(argv)
    tg.manual_seed(args.seed)
    if args.mnist is not None:
        split = data.load_mnist(args.mnist)
        source = f"MNIST from {args.mnist}"
    else:
        split = data.load_digits(seed=args.seed)
        source = "scikit-learn's 8×8 digits"
    image_size = split.x_train.shape[-1]
    model = build_cnn(image_size, args.width)
    print(
        f"{source}: {len(split.y_train)} training and {len(split.y_test)} test images "
        f"of {image_size}×{image_size}"
    )
    print(model)

    start = time.perf_counter()
    history = train(model, split, args.epochs, args.batch_size, args.lr, args.seed, args.max_steps)
    seconds = time.perf_counter() - start
    final = history["test_accuracy"][-1]
    print(
        f"test accuracy {100 * final:.2f}% after {len(history['loss'])} epochs; training took {seconds:.1f} s"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    checkpoint = args.out / "model.npz"
    tg.save(model.state_dict(), checkpoint)
    files = [checkpoint, args.out / "training_curves.png", args.out / "filters.png"]
    plot_history(history, files[1])
    plot_filters(model.conv1.weight.data, files[2])
    files += render_step(model, split.x_train[:8], split.y_train[:8], args.out)
    files += export_onnx(model, split.x_test[:1], args.out)
    for path in files:
        print(f"wrote {path}")
    return {
        "test_accuracy": final,
        "train_seconds": seconds,
        "history": history,
        "files": files,
        "model": model,
    }


if __name__ == "__main__":
    main()
