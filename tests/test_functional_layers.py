"""linear, the activations, dropout and maxout."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph.errors import OpError
from tinygraph.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(2)


def test_linear_matches_numpy_and_gradchecks():
    x, w, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((5, 4)), RNG.standard_normal(5)
    np.testing.assert_allclose(
        F.linear(tg.tensor(x), tg.tensor(w), tg.tensor(b)).data, x @ w.T + b, atol=1e-14
    )
    np.testing.assert_allclose(F.linear(tg.tensor(x[0, 0]), tg.tensor(w)).data, w @ x[0, 0], atol=1e-14)
    args = [tg.tensor(a, requires_grad=True) for a in (x, w, b)]
    assert gradcheck(F.linear, *args) and gradgradcheck(F.linear, *args)


@pytest.mark.parametrize("x_shape", [(3, 4), (2, 3, 4), (4,)])
def test_linear_with_bias_is_one_fused_op_equal_to_its_definition(x_shape):
    rng = np.random.default_rng(7)
    x = tg.tensor(rng.standard_normal(x_shape), requires_grad=True)
    w = tg.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    b = tg.tensor(rng.standard_normal(5), requires_grad=True)
    seed = rng.standard_normal(x_shape[:-1] + (5,))
    results = []
    for decomposed in (False, True):
        with tg.decompose() if decomposed else contextlib.nullcontext():
            y = F.linear(x, w, b)
        ops = [n.op for n in tg.toposort([y]) if n.op]
        assert ops == (["transpose", "matmul", "add"] if decomposed else ["affine"])
        assert {n.scope_path for n in tg.toposort([y]) if n.op} == {"linear"}
        y.backward(seed)
        results.append([y.data, x.grad, w.grad, b.grad])
        x.grad = w.grad = b.grad = None
    for fused, reference in zip(*results):
        np.testing.assert_allclose(fused, reference, rtol=1e-13, atol=1e-14)
    assert tg.REGISTRY["affine"].fuses == "linear"
    assert [n.op for n in tg.toposort([F.linear(x, w)]) if n.op] == ["transpose", "matmul"]  # no bias


def test_linear_keeps_float32_and_promotes_like_numpy():
    x32, w32, b32 = tg.randn(2, 3), tg.randn(4, 3, requires_grad=True), tg.zeros(4, requires_grad=True)
    y = F.linear(x32, w32, b32)
    y.sum().backward()
    assert y.dtype == np.float32 and w32.grad.dtype == np.float32 and b32.grad.dtype == np.float32
    b64 = tg.tensor(np.ones(4), requires_grad=True)  # a float64 bias promotes, as x @ w.T + b would
    y = F.linear(x32, w32, b64)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.data, x32.data @ w32.data.T + 1.0, rtol=1e-6)
    y.sum().backward()
    assert b64.grad.dtype == np.float64


def test_linear_errors():
    with pytest.raises(
        OpError, match=r"linear: input of shape \(2, 3\) does not fit weight of shape \(4, 5\)"
    ):
        F.linear(tg.zeros((2, 3)), tg.zeros((4, 5)))
    with pytest.raises(OpError, match=r"linear: bias of shape \(3,\) does not match the 4 outputs"):
        F.linear(tg.zeros((2, 5)), tg.zeros((4, 5)), tg.zeros(3))


def test_activations_are_the_primitives():
    x = tg.tensor(np.array([-2.0, -0.5, 0.5, 2.0]))
    np.testing.assert_allclose(F.relu(x).data, [0, 0, 0.5, 2])
    np.testing.assert_allclose(F.tanh(x).data, np.tanh(x.data))
    np.testing.assert_allclose(F.sigmoid(x).data, 1 / (1 + np.exp(-x.data)))
    assert F.relu(x).op == "relu" and F.sigmoid(x).op == "sigmoid" and F.tanh(x).op == "tanh"


def test_dropout_zeroes_with_probability_p_and_keeps_the_mean():
    tg.manual_seed(0)
    x = tg.ones((200, 200), requires_grad=True)
    y = F.dropout(x, p=0.3)
    kept = y.data != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y.data[kept], 1 / 0.7, rtol=1e-6)
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)  # the gradient goes through the same mask


def test_dropout_is_reproducible_and_the_identity_in_evaluation():
    x = tg.randn(5, 6)
    tg.manual_seed(42)
    a = F.dropout(x, 0.5).data
    tg.manual_seed(42)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, a)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_gradient_for_a_fixed_mask():
    x = tg.tensor(RNG.standard_normal((4, 5)), requires_grad=True)

    def fn(x):
        tg.manual_seed(3)  # the same mask on every evaluation
        return F.dropout(x, p=0.4)

    assert gradcheck(fn, x)


@pytest.mark.parametrize("p", [-0.1, 1.5, "half", True])
def test_dropout_rejects_bad_probabilities(p):
    with pytest.raises(OpError, match=r"dropout: p must be a probability in \[0, 1\]"):
        F.dropout(tg.ones(3), p)


def test_maxout_takes_the_max_over_consecutive_channel_groups():
    x = RNG.standard_normal((2, 6, 3, 3))
    y = F.maxout(tg.tensor(x), pieces=3)
    assert y.shape == (2, 2, 3, 3)
    np.testing.assert_array_equal(y.data, np.stack([x[:, :3].max(axis=1), x[:, 3:].max(axis=1)], axis=1))
    z = F.maxout(tg.tensor(x[:, :, 0, 0]), pieces=2, axis=-1)
    np.testing.assert_array_equal(z.data, x[:, :, 0, 0].reshape(2, 3, 2).max(axis=-1))
    xs = tg.tensor(x, requires_grad=True)
    assert gradcheck(lambda x: F.maxout(x, 2), xs)


def test_maxout_errors():
    with pytest.raises(
        OpError, match=r"maxout: the 5 channels along axis 1 \(input shape \(2, 5\)\) cannot be split"
    ):
        F.maxout(tg.zeros((2, 5)), pieces=2)
    with pytest.raises(OpError, match=r"maxout: axis 3 is out of range"):
        F.maxout(tg.zeros((2, 4)), pieces=2, axis=3)
