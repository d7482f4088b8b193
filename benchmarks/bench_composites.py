"""Composite ops, side by side: tinygraph, PyTorch (CPU, 2 threads), MyGrad, HIPS autograd, the
same workloads written by hand in numpy for exactly these shapes, and the numpy floors: for conv2d
its three matrix products (with numpy's GEMM rate), for cross-entropy its exp and one scaling pass.

Three workloads, float32, forward + backward each:

1. conv2d: x (16, 16, 32, 32), w (32, 16, 3, 3), padding 1;
2. softmax cross-entropy on logits (256, 1000) with class-index targets;
3. a LeNet-style training step: batch 32 of 1×28×28, conv 1→8 3×3 pad 1, relu, max-pool 2,
   conv 8→16 3×3 pad 1, relu, max-pool 2, linear 784→10, cross-entropy, one SGD update.

Each figure is the best of several timed loops (as ``timeit``), in milliseconds; the ratio column is
time / PyTorch's time. Libraries that are not installed are shown as "-". Run::

    python benchmarks/bench_composites.py [--repeat 7] [--only conv2d|ce|lenet] [--glibc-defaults]
    python benchmarks/bench_composites.py --profile conv2d|ce|lenet
    python benchmarks/bench_composites.py --products

``--profile`` runs tinygraph's version of one workload under cProfile and prints the hot spots;
``--products`` times conv2d's three products inside tinygraph against numpy's plain ones in one
process and prints both GEMM rates (``--products --cpu-time``: on one thread, by thread time).
Under each workload a line also gives tinygraph's time with its fused ops replaced by their
definitions in primitives (the same calls inside ``tg.decompose()``), which is what the fused ops
(``conv2d_gemm``, ``window_max``, ``affine``, ``softmax_cross_entropy``) buy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
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


# ---------------------------------------------------------------------------------------- numpy by hand
def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, pad: int) -> tuple[np.ndarray, tuple]:
    """A stride-1 conv2d written by hand in numpy, im2col style: ``y = W · cols + b``.

    The padded input's windows are copied into ``cols`` (C·KH·KW, N·OH·OW) and one product forms
    the output. Returns the output (N, O, OH, OW) and what the backward needs.
    """
    n, c = x.shape[:2]
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (N, C, OH, OW, KH, KW)
    oh, ow = windows.shape[2:4]
    cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * oh * ow)
    out = w.reshape(o, -1) @ cols
    if b is not None:
        out += b[:, None]
    return out.reshape(o, n, oh, ow).transpose(1, 0, 2, 3), (xp.shape, cols, pad)


def conv_backward(g: np.ndarray, w: np.ndarray, saved: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hand-written conv2d's backward: ``∂W = G · colsᵀ``, ``∂b = Σ G``, ``∂cols = Wᵀ · G``, and
    ``∂cols`` folded back onto the padded input (one strided add per kernel offset)."""
    padded_shape, cols, pad = saved
    n, o, oh, ow = g.shape
    c, kh, kw = w.shape[1:]
    g2 = g.transpose(1, 0, 2, 3).reshape(o, -1)
    dw = (g2 @ cols.T).reshape(w.shape)
    db = g2.sum(axis=1)
    dcols = (w.reshape(o, -1).T @ g2).reshape(c, kh, kw, n, oh, ow)
    dxp = np.zeros(padded_shape, g.dtype)
    for u in range(kh):
        for v in range(kw):
            dxp[:, :, u : u + oh, v : v + ow] += dcols[:, u, v].transpose(1, 0, 2, 3)
    h, wd = padded_shape[2] - 2 * pad, padded_shape[3] - 2 * pad
    return dxp[:, :, pad : pad + h, pad : pad + wd], dw, db


def _pool_views(shape: tuple[int, ...]) -> list[tuple[slice, ...]]:
    """The four strided views of 2×2 max pooling with stride 2, one per window offset."""
    oh, ow = shape[-2] // 2, shape[-1] // 2
    return [(Ellipsis, slice(u, u + 2 * oh, 2), slice(v, v + 2 * ow, 2)) for u in (0, 1) for v in (0, 1)]


def pool_forward(x: np.ndarray) -> np.ndarray:
    """2×2 max pooling by hand: the max of the input's four strided views."""
    views = [x[v] for v in _pool_views(x.shape)]
    z = np.maximum(views[0], views[1])
    for view in views[2:]:
        np.maximum(z, view, out=z)
    return z


def pool_backward(g: np.ndarray, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The hand-written pooling's backward: each window's gradient to the positions equal to its max.

    A tie gives it to every tied position (tinygraph shares it evenly). After a relu the ties are
    windows of zeros, whose gradient the relu's mask drops either way.
    """
    dx = np.zeros(x.shape, g.dtype)
    for v in _pool_views(x.shape):
        np.multiply(g, x[v] == z, out=dx[v])
    return dx


def softmax_ce_grad(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of class indices and its gradient by hand: ``(softmax(z) − onehot) / N``."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(len(target))
    loss = float(np.mean(np.log(s[:, 0]) - z[rows, target]))
    g = e / (s * len(target))
    g[rows, target] -= 1 / len(target)
    return loss, g


def lenet_grads(params: dict[str, np.ndarray], x: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """The LeNet-style step's gradients written by hand in numpy (the layers above, in order)."""
    p = params
    a1, s1 = conv_forward(x, p["w1"], p["b1"], 1)
    r1 = np.maximum(a1, 0)
    z1 = pool_forward(r1)
    a2, s2 = conv_forward(z1, p["w2"], p["b2"], 1)
    r2 = np.maximum(a2, 0)
    z2 = pool_forward(r2)
    flat = z2.reshape(len(x), -1)
    _, g = softmax_ce_grad(flat @ p["w3"].T + p["b3"], target)
    grads = {"w3": g.T @ flat, "b3": g.sum(axis=0)}
    g = pool_backward((g @ p["w3"]).reshape(z2.shape), r2, z2) * (a2 > 0)
    g, grads["w2"], grads["b2"] = conv_backward(g, p["w2"], s2)
    g = pool_backward(g, r1, z1) * (a1 > 0)
    _, grads["w1"], grads["b1"] = conv_backward(g, p["w1"], s1)
    return grads


def numpy_workloads() -> dict[str, Callable[[], None]]:
    """The same three workloads written by hand in numpy for exactly these networks: no graph, no
    checks, every gradient formula inlined. What a numpy framework at no cost of its own would take."""

    def conv() -> None:
        _, saved = conv_forward(CONV_X, CONV_W, None, 1)
        conv_backward(CONV_G, CONV_W, saved)

    def ce() -> None:
        softmax_ce_grad(CE_X, CE_T)

    params = {k: v.copy() for k, v in LENET_PARAMS.items()}

    def lenet() -> None:
        for k, g in lenet_grads(params, LENET_X, LENET_T).items():
            params[k] -= LR * g

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


def product_rates(loops: int = 15, calls: int = 5) -> None:
    """Print the GEMM rate of tinygraph's three conv2d products beside numpy's plain ones, in one process.

    tinygraph's products are timed inside its conv2d workload (every ``np.matmul`` call it makes,
    forward and backward), alternating with the floor's three plain products; each figure is the
    best of ``loops`` loops of ``calls`` calls. The rate is conv2d's 2·m·n·k per product over the
    time (``conv2d_gemm``'s wide layout computes 6% more, which counts against it). Issue 15 asks
    for tinygraph's products at ≥ 60% of numpy's rate.
    """
    import time

    clock = time.thread_time if CPU_TIME else time.perf_counter
    inside = [0.0]
    plain_matmul = np.matmul

    def timed_matmul(*args, **kwargs):
        start = clock()
        try:
            return plain_matmul(*args, **kwargs)
        finally:
            inside[0] += clock() - start

    conv, floor = tinygraph_workloads()["conv2d"], floor_workloads()["conv2d"]
    conv(), floor()
    best_tiny = best_floor = float("inf")
    for _ in range(loops):
        inside[0] = 0.0
        np.matmul = timed_matmul
        try:
            for _ in range(calls):
                conv()
        finally:
            np.matmul = plain_matmul
        best_tiny = min(best_tiny, inside[0] / calls)
        start = clock()
        for _ in range(calls):
            floor()
        best_floor = min(best_floor, (clock() - start) / calls)
    flops = gemm_flops()
    print(
        f"conv2d's three products: tinygraph {best_tiny * 1e3:.2f} ms "
        f"({flops / best_tiny / 1e9:.1f} GFLOP/s), numpy's plain products {best_floor * 1e3:.2f} ms "
        f"({flops / best_floor / 1e9:.1f} GFLOP/s): "
        f"tinygraph at {best_floor / best_tiny:.0%} of numpy's rate (target >= 60%)"
    )


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
    "numpy": numpy_workloads,
    "numpy floor": floor_workloads,
}
TIMED = {**WORKLOADS, "definitions": definition_workloads}  # the definitions: reported under each row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_options(parser, LABELS, TIMED, repeat=7)
    parser.add_argument("--profile", choices=sorted(LABELS))
    parser.add_argument(
        "--products",
        action="store_true",
        help="time conv2d's three products inside tinygraph against numpy's plain ones (one process)",
    )
    args = parser.parse_args()
    names = args.only or list(LABELS)
    if args.worker:
        run_worker(TIMED[args.worker](), names, args.repeat)
        return
    if args.profile:
        profile(tinygraph_workloads()[args.profile], calls=50, rows=20)
        return
    if args.products:
        if args.cpu_time and not CPU_TIME:  # the clock and the thread counts are read at start-up
            command = [sys.executable, __file__, "--products"]
            subprocess.run(command, check=True, env={**os.environ, **allocator_env(args)})
        else:
            product_rates()
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
        by_hand = row["numpy"]
        if isinstance(by_hand, float) and isinstance(tiny, float):
            notes.append(
                f"numpy by hand {by_hand / ref:.2f}x PyTorch's time, tinygraph {tiny / by_hand:.2f}x numpy's"
                if ref
                else f"tinygraph {tiny / by_hand:.2f}x numpy by hand"
            )
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
