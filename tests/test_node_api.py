"""The Node's public API: construction and dtypes, operators with numpy operands, indexing."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg


def test_python_floats_and_lists_become_float32():
    assert tg.tensor(1.5).dtype == np.float32
    assert tg.tensor([1.0, 2.0]).dtype == np.float32
    assert tg.tensor([1, 2.5]).dtype == np.float32


def test_ndarrays_keep_their_dtype_and_are_copied():
    a = np.arange(3.0)
    x = tg.tensor(a)
    assert x.dtype == np.float64
    a[0] = 42.0
    assert x.data[0] == 0.0
    assert tg.tensor(np.float64(2.0)).dtype == np.float64
    assert tg.tensor([1, 2]).dtype == np.int64
    assert tg.tensor([1.0], dtype=np.float64).dtype == np.float64


def test_only_float_nodes_can_require_grad():
    with pytest.raises(TypeError, match="only floating point"):
        tg.tensor([1, 2], requires_grad=True)


def test_ragged_data_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="tensor: cannot make an array"):
        tg.tensor([[1.0], [1.0, 2.0]])


def test_attributes():
    x = tg.tensor(np.ones((2, 3)), requires_grad=True, name="w")
    assert (x.shape, x.ndim, x.size, x.name, x.op, x.is_leaf) == ((2, 3), 2, 6, "w", None, True)
    y = x * 2
    assert y.op == "mul" and not y.is_leaf and y.parents[0] is x
    assert y.parents[1].is_constant and not x.is_constant
    assert y.T.shape == (3, 2)
    assert isinstance(y.data, np.ndarray) and isinstance(y.numpy(), np.ndarray)
    assert tg.tensor(3.0).item() == 3.0
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and np.shares_memory(d.data, y.data)


def test_scalar_values_are_handed_out_as_ndarrays():
    x = tg.tensor(2.0, requires_grad=True)
    y = x * 3.0 + 1.0
    assert isinstance(y.data, np.ndarray) and y.data.shape == () and y.data.dtype == np.float32
    y.backward()
    assert type(x.grad) is np.ndarray and x.grad.dtype == np.float32 and x.grad == 3.0


def test_reflected_operators_with_python_and_numpy_operands():
    x = tg.tensor([1.0, 2.0, 4.0], requires_grad=True)
    for expr, expected in [
        (lambda: 2 + x, [3, 4, 6]),
        (lambda: 2 - x, [1, 0, -2]),
        (lambda: 2 * x, [2, 4, 8]),
        (lambda: 8 / x, [8, 4, 2]),
        (lambda: 2**x, [2, 4, 16]),
        (lambda: np.float32(2) * x, [2, 4, 8]),
        (lambda: np.ones(3) + x, [2, 3, 5]),
        (lambda: np.ones(3, np.float32) - x, [0, -1, -3]),
        (lambda: np.exp(x) * 0 + 1, [1, 1, 1]),
    ]:
        out = expr()
        assert isinstance(out, tg.Node), expr
        np.testing.assert_allclose(out.data, expected)
        assert out.requires_grad
    assert (np.float32(2) * x).dtype == np.float32
    assert (np.ones(3) + x).dtype == np.float64  # numpy's promotion: a float64 array wins


def test_unsupported_numpy_functions_say_what_to_do():
    with pytest.raises(TypeError, match="not supported on tinygraph Nodes"):
        np.cbrt(tg.tensor([1.0]))  # np.sin is routed to tg.sin now


def test_matmul_operator_both_ways():
    a = np.eye(2, dtype=np.float32)
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    np.testing.assert_allclose((a @ x).data, x.data)
    np.testing.assert_allclose((x @ a).data, x.data)


def test_comparisons_are_not_differentiable():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for out in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2):
        assert out.dtype == bool and not out.requires_grad and out.is_leaf
    np.testing.assert_array_equal((x > 1.5).data, [False, True, True])
    assert (x == x).parents[0] is x  # recorded for rendering, with no gradient


def test_integer_array_indexing_accumulates_repeats():
    x = tg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    x[[0, 2, 2, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 0, 3, 0])


def test_indexing_with_a_node_and_masks():
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    idx = tg.tensor([1, 1])
    x[idx].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [2, 2, 2]])
    x.grad = None
    x[x > 2].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [1, 1, 1]])


def test_basic_indexing_slices_and_newaxis():
    x = tg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = x[1:, ::2][:, None]
    assert y.shape == (2, 1, 2)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0]])


def test_index_out_of_range_is_an_op_error():
    with pytest.raises(tg.OpError, match=r"getitem: .*\(3,\)"):
        tg.tensor([1.0, 2.0, 3.0])[5]


def test_methods_match_numpy():
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    x = tg.tensor(a)
    np.testing.assert_allclose(x.sum(axis=(0, 2)).data, a.sum(axis=(0, 2)))
    np.testing.assert_allclose(x.mean(1, keepdims=True).data, a.mean(1, keepdims=True))
    np.testing.assert_allclose(x.max(-1).data, a.max(-1))
    np.testing.assert_allclose(x.min().data, a.min())
    np.testing.assert_allclose(x.reshape(4, 6).data, a.reshape(4, 6))
    np.testing.assert_allclose(x.reshape((4, -1)).data, a.reshape(4, -1))
    np.testing.assert_allclose(x.transpose(2, 0, 1).data, a.transpose(2, 0, 1))
    np.testing.assert_allclose(x.transpose().data, a.T)
    np.testing.assert_allclose(x.flatten().data, a.ravel())
    np.testing.assert_allclose(x.flatten(1).data, a.reshape(2, 12))
    np.testing.assert_allclose(tg.pad(x, 1).data, np.pad(a, 1))
    np.testing.assert_allclose(tg.pad(x, ((0, 0), (1, 0), (0, 2))).data, np.pad(a, ((0, 0), (1, 0), (0, 2))))
    np.testing.assert_allclose(tg.concatenate([x, x], axis=1).data, np.concatenate([a, a], axis=1))
    np.testing.assert_allclose(tg.stack([x, x], axis=-1).data, np.stack([a, a], axis=-1))
    np.testing.assert_allclose(tg.where(x > 0, x, 0.0).data, np.where(a > 0, a, 0.0))
    np.testing.assert_allclose(tg.maximum(x, 0.1).data, np.maximum(a, 0.1))
    np.testing.assert_allclose(tg.squeeze(tg.expand_dims(x, 1)).data, a)


def test_creation_functions():
    tg.manual_seed(0)
    a = tg.randn(2, 3)
    tg.manual_seed(0)
    b = tg.randn((2, 3))
    np.testing.assert_array_equal(a.data, b.data)
    assert a.dtype == np.float32
    assert tg.zeros((2, 3)).data.sum() == 0 and tg.ones(4).shape == (4,)
    assert tg.zeros_like(a).shape == (2, 3) and tg.ones_like(a.data).dtype == np.float32
    assert 0 <= tg.rand(5).data.min() and tg.rand(5).data.max() < 1


def test_repr_shows_value_dtype_op_and_name():
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="w")
    assert repr(x) == "Node([1., 2.], dtype=float32, requires_grad=True, name='w')"
    assert "op='add'" in repr(x + 1)


def test_truth_value_of_many_elements_is_ambiguous():
    with pytest.raises(ValueError, match="ambiguous"):
        bool(tg.tensor([1.0, 2.0]))
    assert bool(tg.tensor(1.0))
