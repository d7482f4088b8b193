"""One constant node per Python number object and scope: same values and gradients as before."""

from __future__ import annotations

import numpy as np

import tinygraph as tg
import tinygraph.functional as F
from tinygraph._state import scope
from tinygraph.registry import constant


def test_the_same_number_in_the_same_scope_is_one_node():
    c = 1.0001
    x = tg.tensor(np.array([0.5, -1.5]), requires_grad=True)
    a, b = x * c, x * c
    assert a.parents[1] is b.parents[1]
    assert a.parents[1].is_constant and not a.parents[1].requires_grad


def test_values_and_gradients_equal_the_plain_definition_in_float64():
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(5)
    x = tg.tensor(x0, requires_grad=True)
    y = x
    for i in range(30):
        y = tg.tanh(y) * 1.5 + 0.25 if i % 2 else y * 1.5 - 0.25
    y.sum().backward()
    # the plain definition, by hand
    v, d = x0.copy(), np.ones(5)
    for i in range(30):
        if i % 2:
            t = np.tanh(v)
            d = d * (1 - t**2) * 1.5
            v = t * 1.5 + 0.25
        else:
            v, d = v * 1.5 - 0.25, d * 1.5
    np.testing.assert_allclose(y.data, v, rtol=1e-12)
    np.testing.assert_allclose(x.grad, d, rtol=1e-12)


def test_second_derivative_through_a_shared_constant():
    x = tg.tensor(np.array([0.3, -0.7]), requires_grad=True)
    y = (x * 3.0) * (x * 3.0) * 3.0  # 27 x², every 3.0 one node
    (g,) = tg.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 54 * x.data, rtol=1e-14)
    (h,) = tg.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, [54.0, 54.0], rtol=1e-14)


def test_minus_zero_and_zero_are_not_shared():
    x = tg.tensor(np.array([1.0]), requires_grad=True)
    assert np.signbit((x * -0.0).data[0]) and not np.signbit((x * 0.0).data[0])


def test_numbers_of_other_scopes_are_their_own_and_weak_promotion_is_kept():
    x = tg.tensor(np.array([[1.0, 2.0, 3.0]], dtype=np.float32), requires_grad=True)
    outside = constant(2.0)
    with scope("a"):
        inside = constant(2.0)
    assert inside is not outside and inside.scope is not None and outside.scope is None
    loss = F.cross_entropy(x * 2.0, np.array([1]))
    assert loss.dtype == np.float32 and (x * 2.0).dtype == np.float32


def test_a_constant_changed_or_made_to_require_grad_is_not_handed_out_again():
    c = 7.0
    first = constant(c)
    assert first.data.shape == ()  # reading .data makes the stored number an array
    second = constant(c)
    assert second is not first and second._value is c
    second.requires_grad_()
    assert constant(c) is not second
