"""Hypothesis properties: broadcasting in every binary op, and gradients that fit their inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import tinygraph as tg
from tinygraph.testing import gradcheck

BINARY = [tg.ops.add, tg.ops.sub, tg.ops.mul, tg.maximum, tg.minimum]
shapes = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


def _leaf(rng, shape):
    return tg.tensor(rng.uniform(0.5, 2.0, size=shape), requires_grad=True)


@settings(max_examples=40, deadline=None)
@given(shapes=shapes, op=st.sampled_from(BINARY), seed=st.integers(0, 2**16))
def test_binary_ops_broadcast_like_numpy(shapes, op, seed):
    rng = np.random.default_rng(seed)
    (sx, sy), result = shapes.input_shapes, shapes.result_shape
    x, y = _leaf(rng, sx), _leaf(rng, sy)
    out = op(x, y)
    assert out.shape == result
    np.testing.assert_allclose(out.data, op.opdef.array_fn(x.data, y.data))
    out.backward(np.ones(result))
    assert x.grad.shape == sx and y.grad.shape == sy


@settings(max_examples=25, deadline=None)
@given(shapes=shapes, seed=st.integers(0, 2**16))
def test_sum_of_broadcast_product_counts_the_copies(shapes, seed):
    """d/dx Σ (x · 1) over the broadcast shape = how many times each x element was copied."""
    (sx, sy), result = shapes.input_shapes, shapes.result_shape
    x = _leaf(np.random.default_rng(seed), sx)
    (x * np.ones(sy)).sum().backward()
    copies = int(np.prod(result)) // max(int(np.prod(sx)), 1) if np.prod(sx) else 0
    np.testing.assert_allclose(x.grad, np.full(sx, copies))


@settings(max_examples=15, deadline=None)
@given(shapes=shapes, seed=st.integers(0, 2**16))
def test_division_broadcast_gradcheck(shapes, seed):
    rng = np.random.default_rng(seed)
    (sx, sy) = shapes.input_shapes
    assert gradcheck(lambda a, b: a / b + a * b, _leaf(rng, sx), _leaf(rng, sy))


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    data=st.data(),
)
def test_reductions_over_any_axes(shape, data):
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True, max_size=len(shape)).map(tuple))
    keepdims = data.draw(st.booleans())
    a = np.random.default_rng(len(shape)).standard_normal(shape)
    # Each output's unit gradient reaches the input as: n copies of 1 (sum), n shares of 1/n (mean),
    # one 1 (max, continuous random values have no ties): totals x.size, out.size, out.size.
    for fn, ref, total in [(tg.sum, np.sum, "x"), (tg.mean, np.mean, "out"), (tg.max, np.max, "out")]:
        x = tg.tensor(a, requires_grad=True)
        out = fn(x, axis=axes, keepdims=keepdims)
        np.testing.assert_allclose(out.data, ref(a, axis=axes, keepdims=keepdims))
        out.backward(np.ones(out.shape))
        assert x.grad.shape == shape
        np.testing.assert_allclose(x.grad.sum(), x.size if total == "x" else out.size)
