"""The engine's fast paths give exactly what the plain definition gives (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg

RNG = np.random.default_rng(7)


@pytest.mark.parametrize(
    ("grad_shape", "shape"),
    [
        ((16, 128), (128,)),
        ((5,), ()),
        ((2, 3, 4), (4,)),
        ((2, 3, 4), (3, 1)),
        ((5, 4), (1, 4)),
        ((2, 3, 4), (2, 1, 4)),
    ],
)
def test_the_engines_unbroadcast_equals_sum_to_exactly(grad_shape, shape):
    from tinygraph.autodiff import _unbroadcast_to
    from tinygraph.ops import ARRAY

    g = RNG.standard_normal(grad_shape)
    parent = tg.tensor(np.zeros(shape), requires_grad=True)
    fast = _unbroadcast_to(g, parent, tg.REGISTRY["add"], 1, ARRAY)
    assert fast.shape == shape
    np.testing.assert_array_equal(fast, ARRAY.sum_to(g, shape))


def test_a_broadcast_bias_gets_the_summed_gradient():
    x = tg.tensor(RNG.standard_normal((6, 4)), requires_grad=True)
    b = tg.tensor(RNG.standard_normal(4), requires_grad=True)
    ((x + b) ** 2).sum().backward()
    np.testing.assert_allclose(b.grad, (2 * (x.data + b.data)).sum(axis=0), rtol=1e-13)


def test_gradients_summed_in_place_equal_the_plain_sum(monkeypatch):
    # Wh is used at every step: its gradient is summed over 6 uses, in place when nobody else holds it.
    from tinygraph import autodiff

    in_place = []

    class Add:  # numpy's add, with a record of every in-place add the engine makes
        reduce = staticmethod(np.add.reduce)

        def __call__(self, a, b, out=None):
            in_place.append(out is not None)
            return np.add(a, b, out=out)

    class Numpy:
        add = Add()

        def __getattr__(self, name):
            return getattr(np, name)

    monkeypatch.setattr(autodiff, "np", Numpy())
    wx = tg.tensor(RNG.standard_normal((3, 5)), requires_grad=True)
    wh = tg.tensor(RNG.standard_normal((5, 5)) * 0.5, requires_grad=True)
    b = tg.tensor(RNG.standard_normal(5), requires_grad=True)
    xs = RNG.standard_normal((6, 2, 3))
    h = tg.tensor(np.zeros((2, 5)))
    hs = [h.data]
    for x in xs:
        h = (x @ wx + h @ wh + b).tanh()
        hs.append(h.data)
    (h**2).mean().backward()
    assert any(in_place), "some sum should have been taken in place"
    # by hand: the same chain rule, every sum out of place
    dh = 2 * hs[-1] / hs[-1].size
    g_x, g_h, g_b = np.zeros((3, 5)), np.zeros((5, 5)), np.zeros(5)
    for t in range(len(xs) - 1, -1, -1):
        da = dh * (1 - hs[t + 1] ** 2)
        g_x = g_x + xs[t].T @ da
        g_h = g_h + hs[t].T @ da
        g_b = g_b + da.sum(0)
        dh = da @ wh.data.T
    for got, want in ((wx.grad, g_x), (wh.grad, g_h), (b.grad, g_b)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "expr",
    [
        "x + x",
        "x * x + x",
        "(x + 1) * (x + 1)",
        "x.sum() + x.sum()",
        "(x * 2 + x * 2) + x * 2 + x",
        "x + x + x + x",
    ],
)
def test_a_gradient_summed_from_shared_arrays_is_right_and_leaves_them_intact(expr):
    x = tg.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    out = eval(expr)
    seed = np.ones(out.shape)
    trace = tg.trace_backward([out], [seed])
    kept = {k: np.array(v) for k, v in trace["edges"].items()}
    (gx,) = tg.grad(out, [x], grad_outputs=seed)
    out.backward(seed)
    np.testing.assert_allclose(x.grad, gx.data, rtol=1e-13)
    for k, v in trace["edges"].items():
        np.testing.assert_array_equal(np.asarray(v), kept[k])  # traced gradients not summed into
    xv = x.data
    expected = {
        "x + x": 2 * np.ones_like(xv),
        "x * x + x": 2 * xv + 1,
        "(x + 1) * (x + 1)": 2 * (xv + 1),
        "x.sum() + x.sum()": 2 * np.ones_like(xv),
        # add's rule hands the same array to both inputs: sums over 3+ uses must not write into it
        "(x * 2 + x * 2) + x * 2 + x": 7 * np.ones_like(xv),
        "x + x + x + x": 4 * np.ones_like(xv),
    }[expr]
    np.testing.assert_allclose(x.grad, expected, rtol=1e-13)
