"""Train an Elman RNN to count the ones in a bit sequence, and draw backpropagation through time.

    python demos/train_rnn.py [--length 10] [--hidden 32] [--steps 600]
                              [--batch-size 64] [--lr 0.01] [--out output/train_rnn] [--seed 0]

Each input is a random sequence of bits fed to the network one bit per time step; after the last
step a linear layer reads the final hidden state and classifies it. The answer depends on every
bit, so the network must carry a running count in its hidden state: the class is the number of
ones (0 … length). (Parity, whether that number is odd, is a classic much harder task: neither this
network nor the same one in PyTorch learns it in a few thousand steps.)

Training backpropagates through the unrolled graph: ``RNN`` applies the same ``rnn_cell``
(``h_t = tanh(x_t W_ihᵀ + h_{t-1} W_hhᵀ + b)``) at every step, all sharing one set of weights, so
the gradient of ``weight_hh_l0`` is the sum of its contributions at every step.

Writes into ``--out`` (``output/train_rnn/``, git-ignored):

- ``model.npz``: the checkpoint;
- ``rnn_unrolled.svg``: the graph of the loss for two sequences of 4 bits after ``backward()``,
  one box per time step (``rnn_cell #1`` … ``#4``, top to bottom), with the gradient flowing back
  along every edge and each parameter's ``.grad`` (backpropagation through time);
- ``rnn_unrolled_expanded.svg``: the same with each step opened into its ops.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn, optim


class BitCounter(nn.Module):
    """An Elman RNN over the bits, then a linear layer on the last hidden state."""

    def __init__(self, hidden: int, classes: int) -> None:
        super().__init__()
        self.rnn = nn.RNN(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, bits: tg.Node) -> tg.Node:
        _, h_last = self.rnn(bits)  # h_last: (1, N, hidden)
        return self.head(h_last[0])


def make_batch(rng: np.random.Generator, n: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random bit sequences as float32 (n, length, 1) and their counts of ones (int64)."""
    bits = rng.integers(0, 2, size=(n, length, 1))
    return bits.astype(np.float32), bits.sum(axis=(1, 2)).astype(np.int64)


def train(model: BitCounter, args: argparse.Namespace, rng: np.random.Generator) -> list[float]:
    """Adam on fresh random batches; returns the loss of every step."""
    from tqdm import tqdm

    opt = optim.Adam(model.parameters(), lr=args.lr)
    losses = []
    with tqdm(range(args.steps), unit="step", desc="training") as bar:
        for step in bar:
            x, y = make_batch(rng, args.batch_size, args.length)
            opt.zero_grad()
            loss = F.cross_entropy(model(tg.tensor(x)), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if step % 20 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    return losses


def accuracy(model: BitCounter, x: np.ndarray, y: np.ndarray) -> float:
    """Share of sequences classified correctly (no graph recorded)."""
    with tg.no_grad():
        return float((model(tg.tensor(x)).data.argmax(axis=1) == y).mean())


def render_unrolled(model: BitCounter, out: Path, length: int = 4) -> list[Path]:
    """Render the loss of two short sequences after backward(): the unrolled RNN, collapsed and expanded.

    The gradients are zeroed and one backward pass run first, so every parameter shows the
    ``.grad`` of this loss (the sum of its contributions at every step), and the edges the
    gradient flowing back along them. The time steps run top to bottom, numbered ``rnn_cell #1``
    (t = 1) to ``#length``.
    """
    bits = np.array([[1, 0, 1, 1], [0, 1, 0, 0]], dtype=np.float32)[:, :length, None]
    labels = bits.sum(axis=(1, 2)).astype(np.int64)
    model.zero_grad()
    loss = F.cross_entropy(model(tg.tensor(bits, name="bits")), labels)
    loss.backward()
    steps = bits.shape[1]
    title = f"backpropagation through time: the RNN unrolled over {steps} steps (top: rnn_cell #1, t = 1)"
    pictures = {
        "rnn_unrolled": tg.render(loss, backward=True, title=title),
        "rnn_unrolled_expanded": tg.render(
            loss, expand={"rnn_cell"}, backward=True, title=title + ", each step opened"
        ),
    }
    return [picture.write(out / name) for name, picture in pictures.items()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--length", type=int, default=10, help="bits per sequence (default 10)")
    parser.add_argument("--hidden", type=int, default=32, help="hidden units (default 32)")
    parser.add_argument("--steps", type=int, default=600, help="training steps (default 600)")
    parser.add_argument("--batch-size", type=int, default=64, help="sequences per step (default 64)")
    parser.add_argument("--lr", type=float, default=1e-2, help="Adam's learning rate (default 0.01)")
    parser.add_argument("--out", type=Path, default=Path("output/train_rnn"), help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initialisation and the data")
    args = parser.parse_args(argv)
    for name in ("length", "hidden", "steps", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: list[str] | None = None) -> dict:
    """Run the demo; returns the test accuracy, the training time and the files written."""
    args = parse_args(argv)
    tg.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = BitCounter(args.hidden, args.length + 1)
    print(f"counting the ones in {args.length}-bit sequences")
    print(model)
    start = time.perf_counter()
    losses = train(model, args, rng)
    seconds = time.perf_counter() - start
    x_test, y_test = make_batch(np.random.default_rng(args.seed + 1), 1000, args.length)
    acc = accuracy(model, x_test, y_test)
    chance = float(np.mean(y_test == np.bincount(y_test).argmax()))
    print(
        f"test accuracy {100 * acc:.1f}% on 1000 new sequences (always guessing the most common "
        f"answer: {100 * chance:.1f}%); training took {seconds:.1f} s"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    checkpoint = args.out / "model.npz"
    tg.save(model.state_dict(), checkpoint)
    files = [checkpoint, *render_unrolled(model, args.out, min(args.length, 4))]
    for path in files:
        print(f"wrote {path}")
    return {"test_accuracy": acc, "train_seconds": seconds, "losses": losses, "files": files, "model": model}


if __name__ == "__main__":
    main()
