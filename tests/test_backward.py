"""Backward semantics: accumulation, aliasing, modes, higher order, the documented tie rule."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.testing import gradcheck


def test_backward_twice_accumulates_into_leaves():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    x.grad = None
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_intermediate_nodes_keep_no_gradient():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    y.backward()
    assert h.grad is None and h._grad_in is None and y._grad_in is None


def test_leaf_grad_does_not_alias_the_callers_gradient():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    g = np.array([1.0, 1.0], dtype=np.float32)
    (x + 0).backward(g)
    x.grad[0] = 100.0
    assert g[0] == 1.0
    y = x * 1
    y.backward(g)
    assert x.grad[0] == 101.0 and g[0] == 1.0


def test_a_leaf_keeps_a_fresh_gradient_without_copying_but_never_one_held_elsewhere():
    x = tg.tensor(np.arange(4.0), requires_grad=True)
    h = x * 2
    y = tg.tanh(h)
    (h * 3).sum().backward()
    first = x.grad
    x.grad[:] = 0  # in place: must not reach the graph's values
    np.testing.assert_array_equal(h.data, [0.0, 2.0, 4.0, 6.0])
    x.grad = None
    g = np.ones(4)
    y.backward(g)  # tanh's rule makes a fresh array; mul's passes through a product
    assert x.grad is not first and not np.shares_memory(x.grad, g)
    np.testing.assert_allclose(x.grad, 2 * (1 - np.tanh(h.data) ** 2))
    x.grad = None
    (x + 0).backward(g)  # add's rule hands on the very array the caller holds
    assert not np.shares_memory(x.grad, g)
    x.grad = None
    x.backward(g)  # the root is the leaf: the gradient is the caller's array
    assert not np.shares_memory(x.grad, g)


def test_gradient_fans_in_from_every_use():
    x = tg.tensor(3.0, dtype=np.float64, requires_grad=True)
    y = x * x + x * 2 + tg.exp(x * 0)
    y.backward()
    assert x.grad == pytest.approx(2 * 3 + 2)


def test_a_failed_backward_leaves_no_stale_gradients(monkeypatch):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = tg.tanh(h).sum()
    rules = tg.REGISTRY["tanh"].vjp

    def broken(xp, g, z, x):
        raise RuntimeError("boom")

    monkeypatch.setattr(tg.REGISTRY["tanh"], "vjp", (broken,))
    with pytest.raises(RuntimeError, match="boom"):
        y.backward()
    monkeypatch.setattr(tg.REGISTRY["tanh"], "vjp", rules)
    assert all(n._grad_in is None for n in tg.toposort([y]))
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * (1 - np.tanh(2 * x.data) ** 2), rtol=1e-6)


def test_no_grad_records_nothing():
    x = tg.tensor([1.0], requires_grad=True)
    with tg.no_grad():
        y = x * 2
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y.parents == () and y.op is None
    with pytest.raises(tg.BackwardError, match="does not require grad"):
        y.backward()


def test_backward_without_gradient_on_a_non_scalar_explains_what_to_pass():
    x = tg.tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(tg.BackwardError) as info:
        (x * 2).backward()
    message = str(info.value)
    assert "shape (3, 4)" in message and "np.ones((3, 4))" in message and ".sum().backward()" in message


def test_backward_with_a_wrong_gradient_shape():
    x = tg.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(tg.BackwardError, match=r"gradient for output 0 has shape \(2,\).*\(3,\)"):
        (x * 2).backward(np.ones(2))


def test_broadcast_gradients_are_summed_back_to_input_shapes():
    a = tg.tensor(np.ones((2, 1, 3)), requires_grad=True)
    b = tg.tensor(np.ones(4)[:, None] * np.ones(3), requires_grad=True)  # (4, 3)
    c = tg.tensor(2.0, dtype=np.float64, requires_grad=True)
    ((a * b) * c).sum().backward()
    assert a.grad.shape == (2, 1, 3) and b.grad.shape == (4, 3) and c.grad.shape == ()
    np.testing.assert_allclose(a.grad, 8.0)
    np.testing.assert_allclose(b.grad, 4.0)
    assert c.grad == 24.0


def test_a_rule_returning_a_wrong_shape_is_named(monkeypatch):
    x = tg.tensor(np.ones(3), requires_grad=True)
    y = tg.exp(x).sum()

    def wrong_shape(xp, g, z, x):
        return xp.reshape(g, (3, 1)) * np.ones((3, 2))

    monkeypatch.setattr(tg.REGISTRY["exp"], "vjp", (wrong_shape,))
    with pytest.raises(tg.BackwardError, match=r"exp: the gradient for input 0 has shape \(3, 2\)"):
        y.backward()


def test_grad_returns_gradients_without_touching_dot_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor([3.0, 4.0], requires_grad=True)
    (gx,) = tg.grad((x * w).sum(), x)
    np.testing.assert_array_equal(gx.data, [3.0, 4.0])
    assert x.grad is None and w.grad is None
    gx, gw = tg.grad([x * w], [x, w], grad_outputs=[np.array([1.0, 10.0], np.float32)])
    np.testing.assert_array_equal(gw.data, [1.0, 20.0])


def test_grad_on_unused_inputs():
    x = tg.tensor(1.0, requires_grad=True)
    z = tg.tensor(1.0, requires_grad=True)
    with pytest.raises(tg.BackwardError, match=r"input 1 .* not used"):
        tg.grad(x * 2, [x, z])
    assert tg.grad(x * 2, [x, z], allow_unused=True)[1] is None


def test_second_derivative_of_tanh():
    x = tg.tensor(np.array([0.3, -1.2]), requires_grad=True)
    (g,) = tg.grad(tg.tanh(x).sum(), x, create_graph=True)
    assert g.requires_grad and g.op is not None
    (gg,) = tg.grad(g.sum(), x)
    t = np.tanh(x.data)
    np.testing.assert_allclose(gg.data, -2 * t * (1 - t**2))


def test_third_derivative_of_a_polynomial():
    x = tg.tensor(np.array(2.0), requires_grad=True)
    y = x**4
    (d1,) = tg.grad(y, x, create_graph=True)
    (d2,) = tg.grad(d1, x, create_graph=True)
    (d3,) = tg.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (32.0, 48.0, 48.0)


def test_backward_with_create_graph_fills_grad():
    x = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    np.testing.assert_allclose(x.grad, 3 * x.data**2)


def test_max_ties_share_the_gradient_evenly():
    x = tg.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0, 0.5, 0.5, 0])
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([1.0, 3.0], requires_grad=True)
    tg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0])
    np.testing.assert_array_equal(b.grad, [0.5, 1])


def test_relu_derivative_at_zero_is_zero():
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    tg.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])


def test_dtype_of_gradients_follows_data_even_with_float64_constants():
    x = tg.tensor([1.0, 2.0], requires_grad=True)  # float32
    (x * np.array([1.0, 2.0])).sum().backward()  # float64 constant promotes the product
    assert x.grad.dtype == np.float32


def test_gradcheck_reports_input_element_and_values(monkeypatch):
    monkeypatch.setattr(tg.REGISTRY["exp"], "vjp", (lambda xp, g, z, x: g * z * 1.5,))
    x = tg.tensor(np.array([0.1, 0.2]), requires_grad=True)
    with pytest.raises(tg.GradcheckError, match=r"input 0, element \(0,\): analytic gradient .* but numeric"):
        gradcheck(tg.exp, x)


def test_gradcheck_refuses_float32():
    with pytest.raises(ValueError, match="float64"):
        gradcheck(tg.exp, tg.tensor([1.0], requires_grad=True))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's own warning; the test wants ours
def test_detect_anomaly_names_the_op_in_forward():
    x = tg.tensor([-1.0, 1.0], requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError, match=r"log produced nan in the forward pass"):
        tg.log(x)
    tg.log(x)  # outside the context: numpy's nan, no error


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_names_the_op_in_backward_and_its_composite():
    from tinygraph._state import scope

    x = tg.tensor([0.0, 1.0], requires_grad=True)
    with scope("my_block"):
        y = tg.sqrt(x).sum()
    with (
        tg.detect_anomaly(),
        pytest.raises(tg.AnomalyError, match=r"sqrt \(inside my_block\) .*backward pass"),
    ):
        y.backward()
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError, match=r"div \(inside my_block\) produced inf"):
        with scope("my_block"):
            tg.tensor([1.0]) / tg.tensor([0.0])


def test_errors_inside_a_composite_name_the_scope():
    from tinygraph._state import scope

    with scope("conv_block"), pytest.raises(tg.OpError, match=r"\(inside conv_block\)"):
        tg.tensor(np.ones((3, 4))) @ tg.tensor(np.ones((5, 6)))


def test_matmul_shape_error_names_both_shapes_and_the_op():
    with pytest.raises(tg.OpError) as info:
        tg.tensor(np.ones((3, 4))) @ tg.tensor(np.ones((5, 6)))
    assert str(info.value).startswith("matmul: shapes (3, 4) and (5, 6) are not aligned")


def test_matmul_batch_mismatch_names_the_batch_axes():
    with pytest.raises(tg.OpError, match=r"matmul: the batch axes of shapes \(2, 3, 4\) and \(5, 4, 2\)"):
        tg.tensor(np.ones((2, 3, 4))) @ tg.tensor(np.ones((5, 4, 2)))


def test_op_errors_name_the_op_and_shapes():
    with pytest.raises(tg.OpError, match=r"add: cannot apply to inputs \(2,\) float32 and \(3,\) float32"):
        tg.tensor([1.0, 2.0]) + tg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(tg.OpError, match=r"sum: axis 2 is out of range .* 2 dimensions"):
        tg.tensor(np.ones((2, 2))).sum(axis=2)
    with pytest.raises(tg.OpError, match=r"reshape: .*\(2, 3\)"):
        tg.tensor(np.ones((2, 3))).reshape(4, 2)
    with pytest.raises(tg.OpError, match=r"max: cannot reduce over an empty axis"):
        tg.tensor(np.ones((0, 2))).max(axis=0)
    with pytest.raises(tg.OpError, match=r"pad: pad widths must be non-negative"):
        tg.pad(tg.tensor(np.ones(3)), -1)
    with pytest.raises(tg.OpError, match=r"transpose: axes \(0, 0\) are not a permutation"):
        tg.tensor(np.ones((2, 3))).transpose(0, 0)
    with pytest.raises(TypeError, match=r"exp: takes 1 inputs, got 2"):
        tg.exp(tg.tensor(1.0), 2)
    with pytest.raises(TypeError, match=r"sum: unexpected keyword argument"):
        tg.sum(tg.tensor(1.0), axes=0)
