"""Odd inputs and in-place edits: a right answer or a clear error, never a silent wrong answer."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn, optim
from tinygraph.errors import InPlaceError
from tinygraph.ops import sign
from tinygraph.testing import gradcheck, gradgradcheck


def f64(value, requires_grad=True):
    return tg.tensor(np.asarray(value, dtype=np.float64), requires_grad=requires_grad)


# ---------------------------------------------------------------- wrong answers, no error
def test_x_to_the_zero_has_zero_derivative_even_at_zero():
    x = f64([0.0, 2.0])
    (g,) = tg.grad((x**0.0).sum(), x)
    np.testing.assert_array_equal(g.data, [0.0, 0.0])


def test_zero_to_the_y_has_zero_derivative_in_y_as_pytorch():
    y = f64([2.0, 0.0, 0.5])
    (g,) = tg.grad((f64([0.0, 0.0, 0.0], False) ** y).sum(), y)
    np.testing.assert_array_equal(g.data, [0.0, 0.0, 0.0])


def test_pow_limits_match_pytorch():
    torch = pytest.importorskip("torch")
    xs, ys = np.array([0.0, 0.0, 0.0, 2.0, 0.0]), np.array([0.0, 2.0, 0.5, 0.0, 1.0])
    x, y = f64(xs), f64(ys)
    gx, gy = tg.grad((x**y).sum(), [x, y])
    tx = torch.tensor(xs, requires_grad=True)
    ty = torch.tensor(ys, requires_grad=True)
    (tx**ty).sum().backward()
    np.testing.assert_array_equal(gx.data, tx.grad.numpy())
    np.testing.assert_array_equal(gy.data, ty.grad.numpy())


def test_pow_still_gradchecks_away_from_the_limits():
    x, y = f64([0.7, 1.3]), f64([1.5, -0.5])
    assert gradcheck(lambda a, b: a**b, x, y)
    assert gradgradcheck(lambda a, b: a**b, x, y)


def test_logsumexp_of_an_all_minus_inf_row_is_minus_inf():
    x = tg.tensor([[-np.inf, -np.inf], [0.0, 1.0]])
    out = F.logsumexp(x, axis=1).data
    assert out[0] == -np.inf
    np.testing.assert_allclose(out[1], np.log(1 + np.e), rtol=1e-6)


def test_astype_to_an_integer_dtype_is_not_differentiable():
    x = tg.tensor([1.5, 2.5], requires_grad=True)
    assert not tg.astype(x, np.int64).requires_grad
    assert not x.astype(np.bool_).requires_grad
    assert tg.astype(x, np.float64).requires_grad


def test_leaf_edited_in_place_after_the_forward_is_caught_at_backward():
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = (x * x).sum()
    x.data[:] = 10
    with pytest.raises(InPlaceError, match=r"leaf 'x' \(shape \(2,\), float32\) was modified in place"):
        y.backward()


@pytest.mark.parametrize(
    "edit",
    [
        lambda x: x.data.__setitem__(slice(None), 10),
        lambda x: x.data.fill(3),
        lambda x: np.multiply(x.data, 2, out=x.data),
        lambda x: setattr(x, "data", np.zeros(2, np.float32)),
    ],
)
def test_every_kind_of_edit_of_a_recorded_leaf_is_caught(edit):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    edit(x)
    with pytest.raises(InPlaceError):
        y.backward()


def test_augmented_assignment_on_a_recorded_leaf_is_caught():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.data -= 1
    np.testing.assert_array_equal(x.data, [0.0, 1.0])
    with pytest.raises(InPlaceError):
        y.backward()


def test_a_new_forward_after_the_edit_is_fine():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum()
    x.data[:] = 10
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [20.0, 20.0])


def test_intermediate_values_are_read_only_and_say_why():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    mid = x * 3
    y = (mid * mid).sum()
    with pytest.raises(InPlaceError, match="output of mul"):
        mid.data[:] = 0
    with pytest.raises(InPlaceError):
        mid.data *= 0
    y.backward()
    np.testing.assert_allclose(x.grad, 18 * np.array([1.0, 2.0]))


def test_optimizer_updates_after_backward_keep_working_and_cost_no_lock():
    tg.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = tg.tensor(np.ones((4, 3), np.float32))
    before = model.weight.data.copy()
    for _ in range(3):
        opt.zero_grad()
        model(x).sum().backward()
        assert type(model.weight.data) is np.ndarray and model.weight.data.flags.writeable
        opt.step()
    assert not np.array_equal(before, model.weight.data)


def test_loading_weights_after_a_forward_without_backward_works():
    tg.manual_seed(0)
    model, other = nn.Linear(3, 2), nn.Linear(3, 2)
    x = tg.tensor(np.ones((1, 3), np.float32))
    stale = model(x).sum()  # recorded, never backpropagated
    model.load_state_dict(other.state_dict())
    with pytest.raises(InPlaceError, match="modified in place"):
        stale.backward()  # it would read the new weights
    np.testing.assert_array_equal(model(x).data, other(x).data)


def test_reading_recorded_values_works_as_with_numpy():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert type(y.data + 1) is np.ndarray and type(y.data.copy()) is np.ndarray
    np.testing.assert_array_equal(y.data, [2.0, 4.0])
    assert repr(y.data) == repr(np.array([2.0, 4.0], np.float32))
    copy = y.data.copy()
    copy[0] = 7  # a copy is the user's own
    assert copy[0] == 7


@pytest.mark.parametrize(
    "make",
    [
        lambda: tg.mean([tg.tensor(1.0, requires_grad=True), tg.tensor(2.0, requires_grad=True)]),
        lambda: tg.tensor([1.0], requires_grad=True) * [tg.tensor(1.0, requires_grad=True)],
        lambda: tg.maximum((tg.tensor(1.0, requires_grad=True),), 1.0),
    ],
)
def test_a_list_of_nodes_where_an_array_is_expected_is_refused(make):
    with pytest.raises(TypeError, match=r"stack"):
        make()


@pytest.mark.parametrize(
    "bad, error",
    [
        (lambda: nn.Linear(2.5, 3), TypeError),
        (lambda: nn.Linear("a", 3), TypeError),
        (lambda: nn.Linear(2, True), TypeError),
        (lambda: tg.tensor("abc"), TypeError),
        (lambda: tg.tensor(np.array([1 + 2j])), TypeError),
        (lambda: tg.tensor(np.array([1, None], dtype=object)), TypeError),
        (lambda: tg.Node(np.array(["a"])), TypeError),
        (lambda: tg.set_grad_enabled("no"), TypeError),
        (lambda: nn.Linear(2, 3).register_buffer("b", "abc"), TypeError),
        (lambda: nn.Linear(2, 3).add_module("a.b", nn.Linear(2, 2)), ValueError),
        (lambda: nn.Linear(2, 3).add_module("", nn.Linear(2, 2)), ValueError),
        (lambda: tg.tensor([[1, 2], [3]]), ValueError),
    ],
)
def test_bad_arguments_get_a_clear_error(bad, error):
    with pytest.raises(error, match=r"^(tensor|Linear|set_grad_enabled|register_buffer|add_module): "):
        bad()


def test_load_state_dict_names_the_key_holding_a_string():
    model = nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"'weight' is not a numeric array"):
        model.load_state_dict({"weight": "abc", "bias": np.zeros(3)})


@pytest.mark.parametrize(
    "compute",
    [
        lambda: tg.tensor(1) + 0.5,
        lambda: tg.tensor(1) / tg.tensor(2),
        lambda: tg.tensor([1, 2]) / 2,
        lambda: tg.tensor(2).exp(),
        lambda: tg.log(tg.tensor([1, 2])),
        lambda: 0.7 ** tg.tensor([1, 2]),
        lambda: tg.tensor(np.array([4], np.int32)) ** 0.5,
        lambda: tg.maximum(tg.tensor(np.array([1], np.int64)), tg.tensor(np.float32(0.5))),
        lambda: tg.sqrt(tg.tensor(np.array([4], np.int64))),
        lambda: tg.mean(tg.tensor([1, 2])),
    ],
)
def test_python_floats_and_integer_maths_give_float32(compute):
    assert compute().dtype == np.float32


def test_dtype_rules_keep_float64_and_integers_where_pytorch_does():
    assert (tg.tensor(np.float64(1.0)) + 0.5).dtype == np.float64
    assert (tg.tensor(1) + 2).dtype == np.int64
    assert (tg.tensor(np.array([1], np.int32)) * 2).dtype == np.int32
    assert (tg.tensor(np.array([1.0], np.float64)) * tg.tensor(np.array([2], np.int64))).dtype == np.float64


# ---------------------------------------------------------------- crashes on valid input
def test_transpose_with_negative_axes_backpropagates():
    x = f64(np.random.default_rng(0).standard_normal((3, 4, 5, 6)))
    x.transpose((-2, -1, 1, 0)).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((3, 4, 5, 6)))
    assert gradcheck(
        lambda a: a.transpose((-1, 0, -2)) * f64(np.arange(24.0).reshape(4, 2, 3), False),
        f64(np.ones((2, 3, 4))),
    )


@pytest.mark.parametrize("axis", [-1, 0])
def test_reductions_of_a_0d_input_along_axis_0_or_minus_1(axis):
    x = tg.tensor(1.0, requires_grad=True)
    x.sum(axis).backward()
    assert x.grad == 1.0
    assert tg.mean(tg.tensor(3.0), axis).item() == 3.0


@pytest.mark.parametrize(
    "fn, expected",
    [(F.softmax, 1.0), (F.log_softmax, 0.0), (F.logsumexp, 2.0)],
)
def test_softmax_family_on_a_0d_input(fn, expected):
    x = tg.tensor(2.0, requires_grad=True)
    y = fn(x)
    assert y.shape == () and y.item() == pytest.approx(expected)
    y.backward()
    assert x.grad.shape == ()


def test_squeeze_of_a_0d_input():
    x = tg.tensor(1.0)
    assert tg.squeeze(x).shape == () and tg.squeeze(x, 0).shape == () and tg.squeeze(x, -1).shape == ()


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8])
def test_max_pool2d_of_integers_with_padding(dtype):
    x = np.arange(16, dtype=dtype).reshape(1, 1, 4, 4)
    y = F.max_pool2d(tg.tensor(x), 2, padding=1)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.data[0, 0], [[0, 2, 3], [8, 10, 11], [12, 14, 15]])


def test_cross_entropy_of_an_empty_batch():
    logits = tg.tensor(np.zeros((0, 3), np.float32), requires_grad=True)
    target = np.zeros(0, np.int64)
    assert np.isnan(F.cross_entropy(logits, target).item())
    assert F.cross_entropy(logits, target, reduction="sum").item() == 0.0
    loss = F.cross_entropy(logits, target, reduction="sum")
    loss.backward()
    assert logits.grad.shape == (0, 3)


def test_dropout_of_one_gives_zeros_in_training_and_identity_in_eval():
    layer = nn.Dropout(1.0)
    x = tg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = layer(x)
    np.testing.assert_array_equal(y.data, np.zeros((2, 3)))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))
    layer.eval()
    assert layer(x) is x


def test_sign_has_a_zero_derivative():
    x = f64([1.0, -2.0, 3.0])
    (g,) = tg.grad((sign(x) * x).sum(), x)
    np.testing.assert_array_equal(g.data, [1.0, -1.0, 1.0])  # d(|x|)/dx through sign(x)·x
    (g,) = tg.grad(sign(x).sum(), x)  # sign alone: the zero derivative, not "does not require grad"
    np.testing.assert_array_equal(g.data, [0.0, 0.0, 0.0])


# ---------------------------------------------------------------- errors that say what is wrong
def test_gradcheck_takes_a_tuple_of_inputs_as_pytorch():
    x, y = f64([1.0, 2.0]), f64([0.5, -1.0])
    assert gradcheck(lambda a, b: a * b, (x, y))
    assert gradgradcheck(lambda a, b: a * b, (x, y))


@pytest.mark.parametrize(
    "index",
    [lambda: tg.tensor(3.14)[0], lambda: tg.ones((4, 3))[1, 3], lambda: tg.ones(3)[np.array([5])]],
)
def test_index_errors_are_index_errors_and_op_errors(index):
    with pytest.raises(IndexError) as info:
        index()
    assert isinstance(info.value, tg.OpError) and "getitem" in str(info.value)


def test_wrong_types_give_an_error_that_is_also_a_type_error():
    with pytest.raises(TypeError) as info:
        tg.ones(3) + "a"
    assert isinstance(info.value, tg.OpError)


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps)])
def test_an_optimizer_step_after_an_extra_forward_without_backward_works(make):
    tg.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = make(model.parameters())
    x = tg.tensor(np.ones((4, 3), np.float32))
    model(x).sum().backward()
    expected = nn.Linear(3, 2)
    expected.load_state_dict(model.state_dict())
    reference = make(expected.parameters())
    for p, q in zip(expected.parameters(), model.parameters()):
        p.grad = q.grad.copy()
    reference.step()
    stale = model(x).sum()  # e.g. a logged evaluation, recorded, never backpropagated
    opt.step()
    for p, q in zip(expected.parameters(), model.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    with pytest.raises(InPlaceError):
        stale.backward()
