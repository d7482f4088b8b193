"""Training workloads, side by side: tinygraph, PyTorch (CPU, 2 threads), hand-written numpy, MyGrad, HIPS
autograd.

Four workloads, float32:

1. mlp: one training step of an MLP 784-256-128-10 (ReLU) on a batch of 64: zero the gradients,
   forward, softmax cross-entropy, backward, SGD with momentum 0.9 (in place);
2. rnn: an Elman RNN (tanh; input 32, hidden 128) over a sequence of length 50 with batch 16,
   forward and backward of ``sum(all hidden states)`` (gradients of the four weights);
3. mlp-ops: the same MLP written with operators, ``(x @ W1 + b1).relu()`` ... (weights stored (in,
   out)), ``F.cross_entropy``, then plain SGD ``p.data[...] -= lr * p.grad``;
4. rnn-ops: the same RNN written with operators, ``h = (x_t @ Wx + h @ Wh + b).tanh()``, forward and
   backward of ``(h ** 2).mean()`` for the last state.

Each figure is the best of several timed loops, in milliseconds per call, with each library
timed in its own process; the ratio column is time / PyTorch's time. Run::

    python benchmarks/bench_training.py [--repeat 7] [--only NAME] [--profile NAME] [--demo] [--bookkeeping]

``--profile`` runs tinygraph's version under cProfile and prints the hot spots; ``--demo`` also
times the main demo's full training run (``demos/train_cnn.py``, default settings);
``--bookkeeping`` also times every library on the same graphs with tiny arrays, which leaves each
one's own cost per step (recording, dispatch, the backward walk), and prints what issue 15's ratios
allow for it.
"""

from __future__ import annotations

import argparse
import itertools
import os
from collections.abc import Callable
from pathlib import Path

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

DTYPE = np.float32
LR, MOMENTUM = 0.01, 0.9
RNG = np.random.default_rng(0)

TINY = os.environ.get("TINYGRAPH_BENCH_SIZES") == "tiny"
"""``--bookkeeping``: the same graphs on tiny arrays (a batch of 1 or 2, 4 to 8 features), where
numpy's own work is almost nothing and what is left is each library's cost per recorded op."""

MLP_SIZES, MLP_BATCH = ((8, 8, 8, 4), 2) if TINY else ((784, 256, 128, 10), 64)
MLP_X = RNG.random((MLP_BATCH, MLP_SIZES[0]), dtype=DTYPE)
MLP_T = RNG.integers(0, MLP_SIZES[-1], size=MLP_BATCH)
MLP_PARAMS = []
for fan_in, fan_out in itertools.pairwise(MLP_SIZES):
    bound = 1 / np.sqrt(fan_in)
    MLP_PARAMS.append(RNG.uniform(-bound, bound, (fan_out, fan_in)).astype(DTYPE))
    MLP_PARAMS.append(RNG.uniform(-bound, bound, fan_out).astype(DTYPE))

# The operator form (issue 15): weights stored (in, out) so a layer is written ``x @ W + b``.
OPS_PARAMS = [p.T.copy() if p.ndim == 2 else p.copy() for p in MLP_PARAMS]

RNN_IN, RNN_HIDDEN, RNN_LEN, RNN_BATCH = (4, 4, 50, 1) if TINY else (32, 128, 50, 16)
RNN_X = RNG.standard_normal((RNN_LEN, RNN_BATCH, RNN_IN)).astype(DTYPE)
_b = 1 / np.sqrt(RNN_HIDDEN)
RNN_PARAMS = [
    RNG.uniform(-_b, _b, shape).astype(DTYPE)
    for shape in [(RNN_HIDDEN, RNN_IN), (RNN_HIDDEN, RNN_HIDDEN), (RNN_HIDDEN,), (RNN_HIDDEN,)]
]
# The operator form: h = tanh(x_t @ Wx + h @ Wh + b), Wx (in, hidden), Wh (hidden, hidden).
RNN_OPS_PARAMS = [RNN_PARAMS[0].T.copy(), RNN_PARAMS[1].T.copy(), RNN_PARAMS[2] + RNN_PARAMS[3]]


# ---------------------------------------------------------------------------------------- tinygraph
def tinygraph_workloads() -> dict[str, Callable[[], None]]:
    import tinygraph as tg
    import tinygraph.functional as F
    from tinygraph import nn, optim

    d_in, h1, h2, d_out = MLP_SIZES
    mlp = nn.Sequential(nn.Linear(d_in, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(), nn.Linear(h2, d_out))
    mlp.load_state_dict(dict(zip((n for n, _ in mlp.named_parameters()), MLP_PARAMS)))
    opt = optim.SGD(mlp.parameters(), lr=LR, momentum=MOMENTUM)
    x = tg.tensor(MLP_X)

    def mlp_step() -> None:
        opt.zero_grad()
        F.cross_entropy(mlp(x), MLP_T).backward()
        opt.step()

    rnn = nn.RNN(RNN_IN, RNN_HIDDEN)
    rnn.load_state_dict(dict(zip((n for n, _ in rnn.named_parameters()), RNN_PARAMS)))
    seq = tg.tensor(RNN_X)

    def rnn_fwd_bwd() -> None:
        rnn.zero_grad()
        out, _ = rnn(seq)
        out.sum().backward()

    ops_params = [tg.tensor(p.copy(), requires_grad=True) for p in OPS_PARAMS]

    def mlp_ops_step() -> None:
        w1, b1, w2, b2, w3, b3 = ops_params
        h = (x @ w1 + b1).relu()
        h = (h @ w2 + b2).relu()
        F.cross_entropy(h @ w3 + b3, MLP_T).backward()
        for p in ops_params:
            p.data[...] -= LR * p.grad
            p.grad = None

    wx, wh, b = (tg.tensor(p, requires_grad=True) for p in RNN_OPS_PARAMS)
    xs = [tg.tensor(x_t) for x_t in RNN_X]

    def rnn_ops_fwd_bwd() -> None:
        h = tg.tensor(np.zeros((RNN_BATCH, RNN_HIDDEN), DTYPE))
        for x_t in xs:
            h = (x_t @ wx + h @ wh + b).tanh()
        (h**2).mean().backward()
        wx.grad = wh.grad = b.grad = None

    return {"mlp": mlp_step, "rnn": rnn_fwd_bwd, "mlp-ops": mlp_ops_step, "rnn-ops": rnn_ops_fwd_bwd}


# ---------------------------------------------------------------------------------------- PyTorch
def torch_workloads() -> dict[str, Callable[[], None]] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1 if CPU_TIME else 2)
    tF = torch.nn.functional
    d_in, h1, h2, d_out = MLP_SIZES
    mlp = torch.nn.Sequential(
        torch.nn.Linear(d_in, h1),
        torch.nn.ReLU(),
        torch.nn.Linear(h1, h2),
        torch.nn.ReLU(),
        torch.nn.Linear(h2, d_out),
    )
    with torch.no_grad():
        for p, v in zip(mlp.parameters(), MLP_PARAMS):
            p.copy_(torch.from_numpy(v))
    opt = torch.optim.SGD(mlp.parameters(), lr=LR, momentum=MOMENTUM)
    x, t = torch.from_numpy(MLP_X), torch.from_numpy(MLP_T)

    def mlp_step() -> None:
        opt.zero_grad()
        tF.cross_entropy(mlp(x), t).backward()
        opt.step()

    rnn = torch.nn.RNN(RNN_IN, RNN_HIDDEN)
    with torch.no_grad():
        for p, v in zip(rnn.parameters(), RNN_PARAMS):
            p.copy_(torch.from_numpy(v))
    seq = torch.from_numpy(RNN_X)

    def rnn_fwd_bwd() -> None:
        rnn.zero_grad()
        out, _ = rnn(seq)
        out.sum().backward()

    ops_params = [torch.tensor(p, requires_grad=True) for p in OPS_PARAMS]

    def mlp_ops_step() -> None:
        w1, b1, w2, b2, w3, b3 = ops_params
        h = (x @ w1 + b1).relu()
        h = (h @ w2 + b2).relu()
        tF.cross_entropy(h @ w3 + b3, t).backward()
        with torch.no_grad():
            for p in ops_params:
                p -= LR * p.grad
                p.grad = None

    wx, wh, b = (torch.tensor(p, requires_grad=True) for p in RNN_OPS_PARAMS)
    xs = [torch.from_numpy(x_t) for x_t in RNN_X]

    def rnn_ops_fwd_bwd() -> None:
        h = torch.zeros((RNN_BATCH, RNN_HIDDEN))
        for x_t in xs:
            h = (x_t @ wx + h @ wh + b).tanh()
        (h**2).mean().backward()
        wx.grad = wh.grad = b.grad = None

    return {"mlp": mlp_step, "rnn": rnn_fwd_bwd, "mlp-ops": mlp_ops_step, "rnn-ops": rnn_ops_fwd_bwd}


# ---------------------------------------------------------------------------------------- numpy
def numpy_workloads() -> dict[str, Callable[[], None]]:
    """The same computations written by hand: the floor an autodiff library's overhead sits on."""
    params = [p.copy() for p in MLP_PARAMS]
    bufs = [np.zeros_like(p) for p in params]
    onehot = np.eye(MLP_SIZES[-1], dtype=DTYPE)[MLP_T]

    def mlp_step() -> None:
        w1, b1, w2, b2, w3, b3 = params
        h1 = MLP_X @ w1.T + b1
        r1 = np.maximum(h1, 0)
        h2 = r1 @ w2.T + b2
        r2 = np.maximum(h2, 0)
        z = r2 @ w3.T + b3
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g3 = (p - onehot) / len(MLP_T)
        g2 = (g3 @ w3) * (h2 > 0)
        g1 = (g2 @ w2) * (h1 > 0)
        grads = [g1.T @ MLP_X, g1.sum(0), g2.T @ r1, g2.sum(0), g3.T @ r2, g3.sum(0)]
        for q, g, buf in zip(params, grads, bufs):
            buf *= MOMENTUM
            buf += g
            q -= LR * buf

    w_ih, w_hh, b_ih, b_hh = RNN_PARAMS

    def rnn_fwd_bwd() -> None:
        b = b_ih + b_hh
        hs = [np.zeros((RNN_BATCH, RNN_HIDDEN), DTYPE)]
        for x_t in RNN_X:
            hs.append(np.tanh(x_t @ w_ih.T + hs[-1] @ w_hh.T + b))
        g_ih, g_hh, g_b = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros_like(b)
        dh = np.zeros((RNN_BATCH, RNN_HIDDEN), DTYPE)
        for t in range(RNN_LEN - 1, -1, -1):
            da = (dh + 1.0) * (1 - hs[t + 1] * hs[t + 1])  # d(sum of outputs)/dh_t = 1
            g_ih += da.T @ RNN_X[t]
            g_hh += da.T @ hs[t]
            g_b += da.sum(0)
            dh = da @ w_hh

    ops = [p.copy() for p in OPS_PARAMS]

    def mlp_ops_step() -> None:
        w1, b1, w2, b2, w3, b3 = ops
        h1 = MLP_X @ w1 + b1
        r1 = np.maximum(h1, 0)
        h2 = r1 @ w2 + b2
        r2 = np.maximum(h2, 0)
        z = r2 @ w3 + b3
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g3 = (p - onehot) / len(MLP_T)
        g2 = (g3 @ w3.T) * (h2 > 0)
        g1 = (g2 @ w2.T) * (h1 > 0)
        grads = [MLP_X.T @ g1, g1.sum(0), r1.T @ g2, g2.sum(0), r2.T @ g3, g3.sum(0)]
        for q, g in zip(ops, grads):
            q -= LR * g

    wx, wh, bo = RNN_OPS_PARAMS

    def rnn_ops_fwd_bwd() -> None:
        hs = [np.zeros((RNN_BATCH, RNN_HIDDEN), DTYPE)]
        for x_t in RNN_X:
            hs.append(np.tanh(x_t @ wx + hs[-1] @ wh + bo))
        g_x, g_h, g_b = np.zeros_like(wx), np.zeros_like(wh), np.zeros_like(bo)
        dh = hs[-1] * (2.0 / hs[-1].size)  # d mean(h²) / dh
        for t in range(RNN_LEN - 1, -1, -1):
            da = dh * (1 - hs[t + 1] * hs[t + 1])
            g_x += RNN_X[t].T @ da
            g_h += hs[t].T @ da
            g_b += da.sum(0)
            dh = da @ wh.T

    return {"mlp": mlp_step, "rnn": rnn_fwd_bwd, "mlp-ops": mlp_ops_step, "rnn-ops": rnn_ops_fwd_bwd}


# ---------------------------------------------------------------------------------------- MyGrad
def mygrad_workloads() -> dict[str, Callable[[], None]] | None:
    try:
        import mygrad as mg
        from mygrad.nnet import relu
        from mygrad.nnet.losses import softmax_crossentropy
    except ImportError:
        return None
    params = [mg.tensor(p.copy()) for p in MLP_PARAMS]
    bufs = [np.zeros_like(p) for p in MLP_PARAMS]

    def mlp_step() -> None:
        w1, b1, w2, b2, w3, b3 = params
        h = relu(mg.matmul(MLP_X, w1.T) + b1)
        h = relu(mg.matmul(h, w2.T) + b2)
        loss = softmax_crossentropy(mg.matmul(h, w3.T) + b3, MLP_T)
        loss.backward()
        for q, buf in zip(params, bufs):
            buf *= MOMENTUM
            buf += q.grad
            q.data -= LR * buf

    w_ih, w_hh, b_ih, b_hh = (mg.tensor(p.copy()) for p in RNN_PARAMS)

    def rnn_fwd_bwd() -> None:
        b = b_ih + b_hh
        w_ih_t, w_hh_t = w_ih.T, w_hh.T
        h = mg.tanh(mg.matmul(RNN_X[0], w_ih_t) + b)
        hs = [h]
        for x_t in RNN_X[1:]:
            h = mg.tanh(mg.matmul(x_t, w_ih_t) + mg.matmul(h, w_hh_t) + b)
            hs.append(h)
        mg.stack(hs).sum().backward()

    ops_params = [mg.tensor(p.copy()) for p in OPS_PARAMS]

    def mlp_ops_step() -> None:
        w1, b1, w2, b2, w3, b3 = ops_params
        h = relu(MLP_X @ w1 + b1)
        h = relu(h @ w2 + b2)
        softmax_crossentropy(h @ w3 + b3, MLP_T).backward()
        for q in ops_params:
            q.data -= LR * q.grad

    wx, wh, bo = (mg.tensor(p.copy()) for p in RNN_OPS_PARAMS)

    def rnn_ops_fwd_bwd() -> None:
        h = np.zeros((RNN_BATCH, RNN_HIDDEN), DTYPE)
        for x_t in RNN_X:
            h = mg.tanh(x_t @ wx + h @ wh + bo)
        (h**2).mean().backward()

    return {"mlp": mlp_step, "rnn": rnn_fwd_bwd, "mlp-ops": mlp_ops_step, "rnn-ops": rnn_ops_fwd_bwd}


# ---------------------------------------------------------------------------------------- HIPS autograd
def autograd_workloads() -> dict[str, Callable[[], None]] | None:
    """The same steps in HIPS autograd: a loss function of the parameters, and ``grad`` of it."""
    try:
        import autograd.numpy as anp
        from autograd import grad
        from autograd.scipy.special import logsumexp
    except ImportError:
        return None

    def cross_entropy(z, t):
        return anp.mean(logsumexp(z, axis=1) - z[np.arange(len(t)), t])

    def mlp_loss(params, transposed):
        w1, b1, w2, b2, w3, b3 = params
        if transposed:  # nn.Linear's layout, x @ W.T
            w1, w2, w3 = w1.T, w2.T, w3.T
        h = anp.maximum(anp.dot(MLP_X, w1) + b1, 0)
        h = anp.maximum(anp.dot(h, w2) + b2, 0)
        return cross_entropy(anp.dot(h, w3) + b3, MLP_T)

    mlp_grad = grad(mlp_loss)
    params = [p.copy() for p in MLP_PARAMS]
    bufs = [np.zeros_like(p) for p in MLP_PARAMS]

    def mlp_step() -> None:
        for q, g, buf in zip(params, mlp_grad(params, True), bufs):
            buf *= MOMENTUM
            buf += g
            q -= LR * buf

    def rnn_loss(weights):
        w_ih, w_hh, b_ih, b_hh = weights
        b = b_ih + b_hh
        h = anp.zeros((RNN_BATCH, RNN_HIDDEN), DTYPE)
        total = 0.0
        for x_t in RNN_X:
            h = anp.tanh(anp.dot(x_t, w_ih.T) + anp.dot(h, w_hh.T) + b)
            total = total + anp.sum(h)
        return total

    rnn_grad = grad(rnn_loss)
    rnn_weights = [p.copy() for p in RNN_PARAMS]

    def rnn_fwd_bwd() -> None:
        rnn_grad(rnn_weights)

    ops = [p.copy() for p in OPS_PARAMS]

    def mlp_ops_step() -> None:
        for q, g in zip(ops, mlp_grad(ops, False)):
            q -= LR * g

    def rnn_ops_loss(weights):
        wx, wh, b = weights
        h = anp.zeros((RNN_BATCH, RNN_HIDDEN), DTYPE)
        for x_t in RNN_X:
            h = anp.tanh(anp.dot(x_t, wx) + anp.dot(h, wh) + b)
        return anp.mean(h**2)

    rnn_ops_grad = grad(rnn_ops_loss)
    rnn_ops_weights = [p.copy() for p in RNN_OPS_PARAMS]

    def rnn_ops_fwd_bwd() -> None:
        rnn_ops_grad(rnn_ops_weights)

    return {"mlp": mlp_step, "rnn": rnn_fwd_bwd, "mlp-ops": mlp_ops_step, "rnn-ops": rnn_ops_fwd_bwd}


LABELS = {
    "mlp": "MLP 784-256-128-10 training step, batch 64",
    "rnn": "Elman RNN fwd+bwd, in 32, hidden 128, len 50, batch 16",
    "mlp-ops": "MLP with operators (x @ W1 + b1).relu() ..., plain SGD",
    "rnn-ops": "Elman RNN with operators (x_t @ Wx + h @ Wh + b).tanh()",
}
# Issue 15's targets for the operator forms: at most this many times PyTorch's time, and at most 1.15x
# the hand-written numpy step; ahead of MyGrad and HIPS autograd by 1.3x. (The nn forms: not slower.)
TARGETS = {"mlp-ops": 1.0, "rnn-ops": 0.85}
NUMPY_TARGET, PEER_TARGET = 1.15, 1.3
WORKLOADS = {
    "tinygraph": tinygraph_workloads,
    "PyTorch": torch_workloads,
    "numpy": numpy_workloads,
    "MyGrad": mygrad_workloads,
    "autograd": autograd_workloads,
}


def time_demo() -> None:
    """Run the main demo with its default settings and report its training time."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "demos" / "train_cnn.py"
    spec = importlib.util.spec_from_file_location("train_cnn_demo", path)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    result = demo.main(["--out", "output/bench_training_demo"])
    print(
        f"\nmain demo (demos/train_cnn.py, defaults): {100 * result['test_accuracy']:.2f}% test accuracy, "
        f"training {result['train_seconds']:.1f} s"
    )


def _notes(name: str, times: dict[str, dict[str, float | str | None]]) -> str:
    """tinygraph's time against numpy's and its peers', with issue 15's targets where it sets them."""
    tiny = times["tinygraph"][name]
    if not isinstance(tiny, float):
        return ""
    notes = []
    torch_time, numpy_time = times["PyTorch"][name], times["numpy"][name]
    if name in TARGETS and isinstance(torch_time, float):
        notes.append(f"tinygraph/PyTorch {tiny / torch_time:.2f}x (target <= {TARGETS[name]}x)")
    if isinstance(numpy_time, float):
        target = f" (target <= {NUMPY_TARGET}x)" if name in TARGETS else ""
        notes.append(f"tinygraph/numpy {tiny / numpy_time:.2f}x{target}")
    for peer in ("MyGrad", "autograd"):
        other = times[peer][name]
        if isinstance(other, float):
            target = f" (target >= {PEER_TARGET}x)" if name in TARGETS else ""
            notes.append(f"{other / tiny:.2f}x faster than {peer}{target}")
    return "; ".join(notes)


def _bookkeeping(names: list[str], full: dict, tiny: dict) -> None:
    """Print each library's cost per step beyond numpy's own work, and what issue 15's ratios allow.

    A library's bookkeeping is its time on the tiny graphs minus hand-written numpy's time on them:
    recording, dispatch, the backward pass's walk, everything but the arithmetic. The 1.15x-numpy
    target allows 0.15 of numpy's full-size step for it; a library with no bookkeeping at all would
    still take about numpy's full-size time, so no numpy framework leads a peer by more than
    peer / numpy.
    """
    print(
        "\nbookkeeping per step, in µs: each library on the same graphs with tiny arrays, "
        "minus numpy's time on them"
    )
    libs = [lib for lib in WORKLOADS if lib != "numpy"]
    print(f"{'workload':<56}" + "".join(f"{lib:>17}" for lib in libs) + f"{'numpy (tiny)':>17}")
    for name in names:
        base = tiny["numpy"][name]
        if not isinstance(base, float):
            continue
        cells = [
            f"{(tiny[lib][name] - base) * 1e3:17.0f}" if isinstance(tiny[lib][name], float) else f"{'-':>17}"
            for lib in libs
        ]
        print(f"{name + ', the same graph on tiny arrays':<56}" + "".join(cells) + f"{base * 1e3:17.0f}")
        numpy_full = full["numpy"][name]
        if name not in TARGETS or not isinstance(numpy_full, float):
            continue
        notes = [f"{NUMPY_TARGET}x numpy leaves {(NUMPY_TARGET - 1) * numpy_full * 1e3:.0f} µs for it"]
        for peer in ("MyGrad", "autograd"):
            other = full[peer][name]
            if isinstance(other, float):
                allowed = (other / PEER_TARGET - numpy_full) * 1e3
                notes.append(
                    f"{PEER_TARGET}x ahead of {peer} leaves {allowed:.0f} µs "
                    f"(with none at all, {other / numpy_full:.2f}x ahead)"
                )
        print(" " * 4 + "; ".join(notes))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_options(parser, LABELS, WORKLOADS, repeat=7)
    parser.add_argument("--profile", choices=sorted(LABELS))
    parser.add_argument("--demo", action="store_true", help="also time the main demo's training run")
    parser.add_argument(
        "--bookkeeping",
        action="store_true",
        help="also time the same graphs on tiny arrays: each library's own cost per step",
    )
    args = parser.parse_args()
    names = args.only or list(LABELS)
    if args.worker:
        run_worker(WORKLOADS[args.worker](), names, args.repeat)
        return
    if args.profile:
        profile(tinygraph_workloads()[args.profile], calls=100, rows=25)
        return
    print(environment())
    times = time_libraries(__file__, WORKLOADS, names, args.repeat, allocator_env(args), args.rounds)
    print(method_line(args))
    header = f"{'workload':<56}" + "".join(f"{lib:>17}" for lib in WORKLOADS)
    print(header)
    print("-" * len(header))
    for name in names:
        ref = times["PyTorch"][name]
        cells = []
        for lib in WORKLOADS:
            t = times[lib][name]
            if t is None:
                cells.append(f"{'-':>17}")
            elif ref:
                cells.append(f"{t:8.3f} ({t / ref:4.2f}×)".rjust(17))
            else:
                cells.append(f"{t:17.3f}")
        print(f"{LABELS[name]:<56}" + "".join(cells))
        print(" " * 4 + _notes(name, times))
    print("(×: time / PyTorch's time)")
    if args.bookkeeping:
        env = {**allocator_env(args), "TINYGRAPH_BENCH_SIZES": "tiny"}
        _bookkeeping(names, times, time_libraries(__file__, WORKLOADS, names, args.repeat, env, args.rounds))
    if args.demo:
        time_demo()


if __name__ == "__main__":
    main()
