"""The engine's fast paths give exactly what the plain definition gives (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg

RNG = np.random.default_rng(7)


@pytest.mark.parametrize(
    ("grad_shape", "shape"),
    [((16, 128), (128,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 1)), ((5, 4), (1, 4)), ((2, 3, 4), (2, 1, 4))],
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
