"""Composite ops, side by side: tinygraph, PyTorch (CPU, 2 threads), MyGrad and HIPS autograd, and
the numpy floors: for conv2d its three matrix products (with numpy's GEMM rate), for cross-entropy
its exp and one scaling pass.

Three workloads, float32, forward + backward each:

1. conv2d: x (16, 16, 32, 32), w (32, 16, 3, 3), padding 1;
2. softmax cross-entropy on logits (256, 1000) with class-index targets;
3. a LeNet-style training step: batch 32 of 1×28×28, conv 1→8 3×3 pad 1, relu, max-pool 2,
   conv 8→16 3×3 pad 1, relu, max-pool 2, linear 784→10, cross-entropy, one SGD update.

Each figure is the best of several timed loops (as ``timeit``), in milliseconds; the ratio column is
time / PyTorch's time. Libraries that are not installed are shown as "-". Run::

    python benchmarks/bench_composites.py [--repeat 7] [--only conv2d|ce|lenet] [--glibc-defaults]
    python benchmarks/bench_composites.py --profile conv2d|ce|lenet

``--profile`` runs tinygraph's version of one workload under cProfile and prints the hot spots.
Under each workload a line also gives tinygraph's time with its fused ops replaced by their
definitions in primitives (the same calls inside ``tg.decompose()``), which is what the fused ops
(``conv2d_gemm``, ``window_max``, ``affine``, ``softmax_cross_entropy``) buy.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
from _harness import (
    CPU_TIME,
    add_common_options,
    allocator_env,
    environment,
    method_line,
    profile,
    run_worker,
    time_libraries,
)

import tinygraph as tg
import tinygraph.functional as F

DTYPE = np.float32
RNG = np.random.default_rng(0)


def _data(*shape: int, scale: float = 1.0) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(DTYPE)


CONV_X, CONV_W = _data(16, 16, 32, 32), _data(32, 16, 3, 3, scale=0.1)
CONV_G = _data(16, 32, 32, 32)
CE_X, CE_T = _data(256, 1000), RNG.integers(0, 1000, size=256)
LENET_X, LENET_T = _data(32, 1, 28, 28), RNG.integers(0, 10, size=32)
LENET_PARAMS = {
    "w1": _data(8, 1, 3, 3, scale=0.3),
    "b1": np.zeros(8, DTYPE),
    "w2": _data(16, 8, 3, 3, scale=0.1),
    "b2": np.zeros(16, DTYPE),
    "w3": _data(10, 784, scale=0.03),
    "b3": np.zeros(10, DTYPE),
}
LR = 0.01


# ---------------------------------------------------------------------------------------- tinygraph
def tinygraph_workloads() -> dict[str, Callable[[], None]]:
    x = tg.tensor(CONV_X, requires_grad=True)
    w = tg.tensor(CONV_W, requires_grad=True)

    def conv() -> None:
        x.grad = w.grad = None
        F.conv2d(x, w, padding=1).backward(CONV_G)

    logits = tg.tensor(CE_X, requires_grad=True)

    def ce() -> None:
        logits.grad = None
        F.cross_entropy(logits, CE_T).backward()

    params = {k: tg.tensor(v, requires_grad=True) for k, v in LENET_PARAMS.items()}
    images = tg.tensor(LENET_X)

    def lenet() -> None:
        p = params
        h = F.max_pool2d(F.relu(F.conv2d(images, p["w1"], p["b1"], padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, p["w2"], p["b2"], padding=1)), 2)
        loss = F.cross_entropy(F.linear(tg.flatten(h, 1), p["w3"], p["b3"]), LENET_T)
        loss.backward()
        for q in p.values():
            q.data -= LR * q.grad
            q.grad = None

    return {"conv2d": conv, "ce": ce, "lenet": lenet}


def definition_workloads() -> dict[str, Callable[[], None]]:
    """tinygraph's workloads with every composite recorded as its definition (no fused op)."""

    def decomposed(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            with tg.decompose():
                fn()

        return run

    return {name: decomposed(fn) for name, fn in tinygraph_workloads().items()}


# ---------------------------------------------------------------------------------------- PyTorch
def torch_workloads() -> dict[str, Callable[[], None]] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1 if CPU_TIME else 2)
    tF = torch.nn.functional
    x = torch.tensor(CONV_X, requires_grad=True)
    w = torch.tensor(CONV_W, requires_grad=True)
    g = torch.tensor(CONV_G)

    def conv() -> None:
        x.grad = w.grad = None
        tF.conv2d(x, w, padding=1).backward(g)

    logits = torch.tensor(CE_X, requires_grad=True)
    target = torch.tensor(CE_T)

    def ce() -> None:
        logits.grad = None
        tF.cross_entropy(logits, target).backward()

    params = {k: torch.tensor(v, requires_grad=True) for k, v in LENET_PARAMS.items()}
    images, labels = torch.tensor(LENET_X), torch.tensor(LENET_T)

    def lenet() -> None:
        p = params
        h = tF.max_pool2d(tF.relu(tF.conv2d(images, p["w1"], p["b1"], padding=1)), 2)
        h = tF.max_pool2d(tF.relu(tF.conv2d(h, p["w2"], p["b2"], padding=1)), 2)
        loss = tF.cross_entropy(tF.linear(h.flatten(1), p["w3"], p["b3"]), labels)
        loss.backward()
        with torch.no_grad():
            for q in p.values():
                q -= LR * q.grad
                q.grad = None

    return {"conv2d": conv, "ce": ce, "lenet": lenet}


# ---------------------------------------------------------------------------------------- MyGrad
def mygrad_workloads() -> dict[str, Callable[[], None]] | None:
    try:
        import mygrad as mg
        from mygrad.nnet import conv_nd, max_pool, relu
        from mygrad.nnet.losses import softmax_crossentropy
    except ImportError:
        return None
    x = mg.tensor(CONV_X)
    w = mg.tensor(CONV_W)

    def conv() -> None:
        conv_nd(x, w, stride=1, padding=1).backward(CONV_G)

    logits = mg.tensor(CE_X)

    def ce() -> None:
        softmax_crossentropy(logits, CE_T).backward()

    params = {k: mg.tensor(v) for k, v in LENET_PARAMS.items()}

    def lenet() -> None:
        p = params
        h = conv_nd(LENET_X, p["w1"], stride=1, padding=1) + p["b1"].reshape(1, -1, 1, 1)
        h = max_pool(relu(h), (2, 2), 2)
        h = conv_nd(h, p["w2"], stride=1, padding=1) + p["b2"].reshape(1, -1, 1, 1)
        h = max_pool(relu(h), (2, 2), 2)
        logits = mg.matmul(h.reshape(32, -1), p["w3"].T) + p["b3"]
        softmax_crossentropy(logits, LENET_T).backward()
        for q in p.values():
            q.data -= LR * q.grad
            q.null_grad()

    return {"conv2d": conv, "ce": ce, "lenet": lenet}


# ---------------------------------------------------------------------------------------- HIPS autograd
def autograd_workloads() -> dict[str, Callable[[], None]] | None:
    try:
        import autograd.numpy as anp
        from autograd import grad
        from autograd.scipy.signal import convolve
        from autograd.scipy.special import logsumexp
    except ImportError:
        return None

    def conv2d(x, w):
        # autograd's own convnet example: scipy-style convolution with a channel dot product.
        x = anp.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="constant")
        return convolve(x, w, axes=([2, 3], [2, 3]), dot_axes=([1], [1]), mode="valid")

    conv_grad = grad(lambda x, w: anp.sum(conv2d(x, w) * CONV_G), argnum=(0, 1))

    def conv() -> None:
        conv_grad(CONV_X, CONV_W)

    def cross_entropy(logits, target):
        picked = logits[np.arange(len(target)), target]
        return -anp.mean(picked - logsumexp(logits, axis=1))

    ce_grad = grad(cross_entropy)

    def ce() -> None:
        ce_grad(CE_X, CE_T)

    def max_pool2(h):
        n, c, hh, ww = h.shape
        return anp.max(anp.max(h.reshape(n, c, hh // 2, 2, ww // 2, 2), axis=5), axis=3)

    def loss(p):
        h = max_pool2(anp.maximum(conv2d(LENET_X, p["w1"]) + p["b1"].reshape(1, -1, 1, 1), 0))
        h = max_pool2(anp.maximum(conv2d(h, p["w2"]) + p["b2"].reshape(1, -1, 1, 1), 0))
        return cross_entropy(anp.dot(h.reshape(32, -1), p["w3"].T) + p["b3"], LENET_T)

    loss_grad = grad(loss)
    params = {k: v.copy() for k, v in LENET_PARAMS.items()}

    def lenet() -> None:
        grads = loss_grad(params)
        for k in params:
            params[k] = params[k] - LR * grads[k]

    return {"conv2d": conv, "ce": ce, "lenet": lenet}


def floor_workloads() -> dict[str, Callable[[], None]]:
    """The floors: the numpy passes no numpy implementation of the op can do without.

    conv2d: only its three matrix products, on the shapes im2col gives — forward
    ``W (32, 144) @ cols (144, 16·32·32)``, then the weight gradient ``G @ colsᵀ`` and the columns'
    gradient ``Wᵀ @ G`` — no padding, no window copies, no folding back. Its GFLOP/s is the GEMM
    rate numpy reaches on this machine.

    ce: the exponentials of the logits (forward) and one scaling pass over them (the backward's
    ``softmax · G``), each into memory of its own: numpy runs both on one core, where PyTorch
    splits them across its threads.
    """
    n, c, h, w = CONV_X.shape
    k = CONV_W.shape[0]
    cols = np.ascontiguousarray(RNG.standard_normal((c * 9, n * h * w)).astype(DTYPE))
    weight = CONV_W.reshape(k, c * 9)
    grad = np.ascontiguousarray(RNG.standard_normal((k, n * h * w)).astype(DTYPE))

    def conv() -> None:
        weight @ cols
        grad @ cols.T
        weight.T @ grad

    scale = np.full((CE_X.shape[0], 1), 1 / CE_X.shape[0], DTYPE)

    def ce() -> None:
        np.exp(CE_X) * scale

    return {"conv2d": conv, "ce": ce}


def gemm_flops() -> float:
    """Floating-point operations of conv2d's three products (2·m·n·k each)."""
    n, c, h, w = CONV_X.shape
    k = CONV_W.shape[0]
    return 3 * 2.0 * k * (c * 9) * (n * h * w)


LABELS = {
    "conv2d": "conv2d fwd+bwd x(16,16,32,32) w(32,16,3,3) pad 1",
    "ce": "softmax cross-entropy fwd+bwd (256,1000)",
    "lenet": "LeNet-style training step, batch 32",
}
TARGETS = {"conv2d": 1.3, "ce": 1.1, "lenet": 1.1}  # issue #15


WORKLOADS = {
    "tinygraph": tinygraph_workloads,
    "PyTorch": torch_workloads,
    "MyGrad": mygrad_workloads,
    "autograd": autograd_workloads,
    "numpy floor": floor_workloads,
}
TIMED = {**WORKLOADS, "definitions": definition_workloads}  # the definitions: reported under each row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_options(parser, LABELS, TIMED, repeat=7)
    parser.add_argument("--profile", choices=sorted(LABELS))
    args = parser.parse_args()
    names = args.only or list(LABELS)
    if args.worker:
        run_worker(TIMED[args.worker](), names, args.repeat)
        return
    if args.profile:
        profile(tinygraph_workloads()[args.profile], calls=50, rows=20)
        return
    env = allocator_env(args)
    times = time_libraries(__file__, TIMED, names, args.repeat, env, args.rounds)
    print(environment())
    print(
        method_line(args)
        + "; ratio = time / PyTorch"
        + ("; glibc's default allocator settings" if args.glibc_defaults else "")
    )
    header = f"{'workload':<52}" + "".join(f"{lib:>18}" for lib in WORKLOADS)
    print(header)
    print("-" * len(header))
    for name in names:
        row = {lib: times[lib][name] for lib in WORKLOADS}
        ref = row["PyTorch"]
        cells = []
        for t in row.values():
            if t is None:
                cells.append(f"{'-':>18}")
            elif ref:
                cells.append(f"{t:>9.2f} ({t / ref:4.1f}x)")
            else:
                cells.append(f"{t:>18.2f}")
        print(f"{LABELS[name]:<52}" + "".join(cells))
        tiny = row["tinygraph"]
        notes = []
        if ref:
            notes.append(f"tinygraph/PyTorch {tiny / ref:.2f}x (target <= {TARGETS[name]:.1f}x)")
        for lib in ("MyGrad", "autograd"):
            if row[lib]:
                notes.append(f"{row[lib] / tiny:.1f}x faster than {lib}")
        definitions = times["definitions"][name]
        if isinstance(definitions, float) and isinstance(tiny, float):
            notes.append(f"with the definitions instead of the fused ops {definitions:.2f} ms")
        floor = row["numpy floor"]
        if isinstance(floor, float) and isinstance(tiny, float):
            if name == "conv2d":
                notes.append(
                    f"numpy's GEMM rate on its three products {gemm_flops() / floor / 1e6:.1f} GFLOP/s"
                )
            notes.append(
                f"the numpy floor is {floor / tiny:.0%} of tinygraph's time"
                + (f" and {floor / ref:.2f}x PyTorch's" if ref else "")
            )
        print(" " * 4 + "; ".join(notes))


if __name__ == "__main__":
    main()
