"""The hand-written numpy versions in ``benchmarks/bench_composites.py`` compute what tinygraph does.

The benchmark reports tinygraph's time against these as "numpy by hand"; a reference that computed
something else (a missing fold, a wrong transpose) would make that ratio meaningless. Checked in
float64 against tinygraph's values and gradients, with non-zero biases and relu'd ties.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_composites as bench  # (benchmarks/ is a folder of scripts, not a package)

RNG = np.random.default_rng(7)


def _lenet_params() -> dict[str, np.ndarray]:
    params = {k: v.astype(np.float64) for k, v in bench.LENET_PARAMS.items()}
    params["b1"] = RNG.standard_normal(8) * 0.1
    params["b2"] = RNG.standard_normal(16) * 0.1
    return params


def test_lenet_step_gradients_match_tinygraph():
    params = _lenet_params()
    x = bench.LENET_X.astype(np.float64)
    by_hand = bench.lenet_grads(params, x, bench.LENET_T)
    p = {k: tg.tensor(v, requires_grad=True) for k, v in params.items()}
    h = F.max_pool2d(F.relu(F.conv2d(tg.tensor(x), p["w1"], p["b1"], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, p["w2"], p["b2"], padding=1)), 2)
    F.cross_entropy(F.linear(tg.flatten(h, 1), p["w3"], p["b3"]), bench.LENET_T).backward()
    assert set(by_hand) == set(params)
    for name, grad in by_hand.items():
        assert grad.shape == params[name].shape
        np.testing.assert_allclose(grad, p[name].grad, rtol=1e-10, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("pad", [0, 1, 2])
def test_conv_forward_and_backward_match_tinygraph(pad):
    x = RNG.standard_normal((2, 3, 7, 6))
    w = RNG.standard_normal((4, 3, 3, 3))
    b = RNG.standard_normal(4)
    g = RNG.standard_normal((2, 4, 5 + 2 * pad, 4 + 2 * pad))
    y, saved = bench.conv_forward(x, w, b, pad)
    dx, dw, db = bench.conv_backward(g, w, saved)
    tx, tw, tb = (tg.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = F.conv2d(tx, tw, tb, padding=pad)
    ty.backward(g)
    np.testing.assert_allclose(y, ty.data, rtol=1e-12, atol=1e-12)
    for got, want in ((dx, tx.grad), (dw, tw.grad), (db, tb.grad)):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_pooling_gives_each_window_gradient_to_its_maximum():
    x = RNG.standard_normal((2, 3, 6, 8))
    z = bench.pool_forward(x)
    g = RNG.standard_normal(z.shape)
    tx = tg.tensor(x, requires_grad=True)
    tz = F.max_pool2d(tx, 2)
    tz.backward(g)
    np.testing.assert_array_equal(z, tz.data)
    np.testing.assert_allclose(bench.pool_backward(g, x, z), tx.grad, rtol=0, atol=0)


def test_cross_entropy_loss_and_gradient_match_tinygraph():
    logits = RNG.standard_normal((5, 7)) * 3
    target = RNG.integers(0, 7, size=5)
    loss, grad = bench.softmax_ce_grad(logits, target)
    t = tg.tensor(logits, requires_grad=True)
    tl = F.cross_entropy(t, target)
    tl.backward()
    assert loss == pytest.approx(float(tl.data), rel=1e-12)
    np.testing.assert_allclose(grad, t.grad, rtol=1e-12, atol=1e-15)
