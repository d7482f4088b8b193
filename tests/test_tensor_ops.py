"""The tensor ops of issue #14 against PyTorch in float64 (values and gradients), and their errors.

Every op is also gradchecked and gradgradchecked on its registry samples (test_registry_ops.py);
here each is mapped to its PyTorch equivalent and compared on the same inputs.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.errors import OpError
from tinygraph.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(7)


def _x(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


IDX = np.array([[0, 2, 2, 1], [1, 0, 0, 0], [2, 2, 1, 0]])
MASK = np.array([[True, False, True, False]] * 3)

# name -> (tinygraph function, torch function, float inputs, other arguments)
UNARY = {
    "sin": (tg.sin, "sin", (-3, 3)),
    "cos": (tg.cos, "cos", (-3, 3)),
    "tan": (tg.tan, "tan", (-1.2, 1.2)),
    "arcsin": (tg.arcsin, "asin", (-0.9, 0.9)),
    "arccos": (tg.arccos, "acos", (-0.9, 0.9)),
    "arctan": (tg.arctan, "atan", (-3, 3)),
    "sinh": (tg.sinh, "sinh", (-2, 2)),
    "cosh": (tg.cosh, "cosh", (-2, 2)),
    "arcsinh": (tg.asinh, "asinh", (-3, 3)),
    "arccosh": (tg.acosh, "acosh", (1.1, 3)),
    "arctanh": (tg.atanh, "atanh", (-0.9, 0.9)),
    "log1p": (tg.log1p, "log1p", (-0.5, 3)),
    "expm1": (tg.expm1, "expm1", (-2, 2)),
    "log2": (tg.log2, "log2", (0.1, 3)),
    "log10": (tg.log10, "log10", (0.1, 3)),
    "floor": (tg.floor, "floor", (-3, 3)),
    "ceil": (tg.ceil, "ceil", (-3, 3)),
    "trunc": (tg.trunc, "trunc", (-3, 3)),
    "round": (tg.round, "round", (-3, 3)),
}


def _compare(torch, ours, theirs, arrays, grads=True):
    """Run both on the same float64 arrays; compare values and the gradient of Σ v·out."""
    xs = [tg.tensor(a, requires_grad=grads) for a in arrays]
    ts = [torch.tensor(a, requires_grad=grads) for a in arrays]
    out, tout = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert out.dtype == tout.detach().numpy().dtype
    if not grads:
        return
    v = RNG.standard_normal(out.shape)
    out.backward(v)
    tout.backward(torch.tensor(v))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(UNARY))
def test_elementwise_functions_match_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs, (low, high) = UNARY[name]
    _compare(torch, ours, getattr(torch, theirs), [_x(3, 4, low=low, high=high)])


@pytest.mark.torch
def test_binary_and_clipping_ops_match_pytorch():
    torch = pytest.importorskip("torch")
    a, b = _x(3, 4), RNG.uniform(0.3, 2, size=(3, 4)) * RNG.choice([-1, 1], size=(3, 4))
    _compare(torch, tg.logaddexp, torch.logaddexp, [a, b])
    _compare(torch, tg.logaddexp, torch.logaddexp, [a * 500, b * 500])
    _compare(torch, tg.remainder, torch.remainder, [a, b])
    _compare(torch, lambda x, y: x % y, lambda x, y: x % y, [a, b])
    _compare(torch, lambda x: x // 0.7, lambda x: torch.div(x, 0.7, rounding_mode="floor"), [a])
    _compare(torch, lambda x: tg.clamp(x, -1, 0.5), lambda x: torch.clamp(x, -1, 0.5), [a])
    _compare(torch, lambda x: x.clamp(min=0.0), lambda x: x.clamp(min=0.0), [a])
    _compare(torch, lambda x: tg.round(x, 1), lambda x: torch.round(x, decimals=1), [a])


@pytest.mark.torch
def test_logical_and_bitwise_ops_match_pytorch():
    torch = pytest.importorskip("torch")
    p, q = RNG.random((3, 4)) > 0.5, RNG.random((3, 4)) > 0.5
    i, j = RNG.integers(-8, 8, size=(3, 4)), RNG.integers(1, 8, size=(3, 4))
    for ours, theirs, args in [
        (lambda x, y: x & y, lambda x, y: x & y, (p, q)),
        (lambda x, y: x | y, lambda x, y: x | y, (p, q)),
        (lambda x, y: x ^ y, lambda x, y: x ^ y, (p, q)),
        (lambda x: ~x, lambda x: ~x, (p,)),
        (lambda x, y: x & y, lambda x, y: x & y, (i, j)),
        (lambda x: ~x, lambda x: ~x, (i,)),
        (lambda x, y: x // y, lambda x, y: torch.div(x, y, rounding_mode="floor"), (i, j)),
        (lambda x, y: x % y, lambda x, y: x % y, (i, j)),
        (tg.logical_and, torch.logical_and, (i, j)),
        (tg.logical_or, torch.logical_or, (p, q)),
        (tg.logical_xor, torch.logical_xor, (i, q)),
        (tg.logical_not, torch.logical_not, (i,)),
        (tg.isnan, torch.isnan, (np.array([1.0, np.nan, np.inf]),)),
        (tg.isinf, torch.isinf, (np.array([1.0, np.nan, -np.inf]),)),
        (tg.isfinite, torch.isfinite, (np.array([1.0, np.nan, np.inf]),)),
    ]:
        _compare(torch, ours, theirs, list(args), grads=False)


def test_boolean_operators_refuse_floats_and_integer_division_by_zero():
    x = tg.tensor(np.ones((2, 3)))
    with pytest.raises(OpError, match=r"bitwise_and: needs booleans or integers, got \(2, 3\) float64"):
        x & (x > 0)
    with pytest.raises(OpError, match="bitwise_not: needs booleans or integers"):
        _ = ~x
    with pytest.raises(ZeroDivisionError, match="floor_divide: integer division by zero"):
        tg.tensor([1, 2]) // tg.tensor([1, 0])
    with pytest.raises(ZeroDivisionError, match="remainder: integer division by zero"):
        tg.tensor([1, 2]) % 0
    with pytest.raises(OpError, match="clip: at least one of min and max must be given"):
        tg.clip(x)
    with pytest.raises(OpError, match="clip: a bound that requires grad is not supported"):
        tg.clip(x, tg.tensor(0.0, requires_grad=True))


def test_zero_gradient_ops_still_carry_grad():
    x = tg.tensor(np.array([0.3, 1.7, -2.2]), requires_grad=True)
    for out in (tg.floor(x), tg.ceil(x), tg.round(x), x // 2):
        assert out.requires_grad
        (out * 3).sum().backward()
        np.testing.assert_array_equal(x.grad, 0)
        x.grad = None


# ------------------------------------------------------------------ reductions


@pytest.mark.torch
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_reductions_match_pytorch(axis):
    torch = pytest.importorskip("torch")
    a = _x(3, 4)
    kw, tkw = ({}, {}) if axis is None else ({"dim": axis}, {"dim": axis})
    _compare(torch, lambda x: tg.prod(x, **kw), lambda x: torch.prod(x, **tkw) if tkw else torch.prod(x), [a])
    for c in (0, 1):
        _compare(
            torch,
            lambda x, c=c: tg.var(x, axis=axis, correction=c),
            lambda x, c=c: torch.var(x, dim=axis, correction=c),
            [a],
        )
        _compare(
            torch,
            lambda x, c=c: x.std(dim=axis, ddof=c, keepdim=True),
            lambda x, c=c: torch.std(x, dim=axis, correction=c, keepdim=True),
            [a],
        )
    if axis is not None:
        _compare(torch, lambda x: tg.cumsum(x, axis), lambda x: torch.cumsum(x, axis), [a])
        for name in ("argmax", "argmin"):
            _compare(
                torch,
                lambda x, n=name: getattr(x, n)(dim=axis, keepdim=True),
                lambda x, n=name: getattr(x, n)(dim=axis, keepdim=True),
                [a],
                grads=False,
            )
        b = a > 0
        _compare(torch, lambda x: tg.any(x, dim=axis), lambda x: torch.any(x, dim=axis), [b], grads=False)
        _compare(torch, lambda x: tg.all(x, axis=axis), lambda x: torch.all(x, dim=axis), [b], grads=False)
    else:
        _compare(torch, tg.argmax, torch.argmax, [a], grads=False)
        _compare(torch, tg.cumsum, lambda x: torch.cumsum(x.flatten(), 0), [a])


@pytest.mark.torch
def test_prod_gradient_is_exact_where_the_input_holds_zeros():
    torch = pytest.importorskip("torch")
    a = np.array([[0.5, 0.0, 2.0, 3.0], [0.0, 0.0, 1.5, 1.0], [1.0, 2.0, 3.0, 4.0]])
    for axis in (0, 1):
        _compare(torch, lambda x, ax=axis: tg.prod(x, ax), lambda x, ax=axis: torch.prod(x, ax), [a])
    _compare(torch, tg.prod, torch.prod, [a])
    x = tg.tensor(a, requires_grad=True)
    assert gradcheck(lambda x: tg.prod(x, 1), x) and gradgradcheck(lambda x: tg.prod(x, 1), x)


def test_reduction_errors_name_the_op():
    x = tg.tensor(np.ones((2, 3)))
    with pytest.raises(OpError, match="argmax: axis 2 is out of range for an input with 2 dimensions"):
        x.argmax(dim=2)
    with pytest.raises(OpError, match="argmax: cannot take the maximum of an empty input"):
        tg.argmax(tg.zeros(0))
    with pytest.raises(OpError, match="cumsum: axis must be an int or None"):
        tg.cumsum(x, (0, 1))
    with pytest.raises(ValueError, match=r"var: 2 element.* with ddof 2 leave no degrees of freedom"):
        tg.var(x, axis=0, ddof=2)
    with pytest.raises(TypeError, match="var: got both ddof= and correction="):
        tg.var(x, ddof=1, correction=1)
    with pytest.raises(TypeError, match="argmin: got both axis= and dim="):
        x.argmin(axis=0, dim=1)


# ------------------------------------------------------------------ indexing


@pytest.mark.torch
def test_indexing_ops_match_pytorch():
    torch = pytest.importorskip("torch")
    a, b = _x(3, 4), _x(3, 4)
    ti = torch.tensor(IDX)
    _compare(torch, lambda x: tg.gather(x, 0, IDX), lambda x: torch.gather(x, 0, ti), [a])
    _compare(torch, lambda x: x.gather(1, IDX[:2, :3]), lambda x: x.gather(1, ti[:2, :3]), [a])
    _compare(
        torch,
        lambda x, s: tg.scatter_add(x, 0, IDX, s),
        lambda x, s: torch.scatter_add(x, 0, ti, s),
        [a, b],
    )
    _compare(
        torch,
        lambda x, s: x.scatter_add(1, IDX[:2, :2], s),
        lambda x, s: x.scatter_add(1, ti[:2, :2], s),
        [a, b[:2, :2]],
    )
    # a src longer than index: only its index-shaped corner is used (PyTorch's backward refuses it)
    x, src = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    expected = torch.scatter_add(torch.tensor(a), 1, ti[:2, :2], torch.tensor(b)).numpy()
    np.testing.assert_allclose(x.scatter_add(1, IDX[:2, :2], src).data, expected)
    assert gradgradcheck(lambda x, s: tg.scatter_add(x, 1, IDX[:2, :2], s), x, src)
    tm = torch.tensor(MASK)
    _compare(torch, lambda x: x.masked_fill(MASK, -1.5), lambda x: x.masked_fill(tm, -1.5), [a])
    _compare(torch, lambda x: tg.masked_fill(x, MASK[0], 0.0), lambda x: x.masked_fill(tm[0], 0.0), [a])
    _compare(torch, lambda x: tg.flip(x, dims=(0, 1)), lambda x: torch.flip(x, (0, 1)), [a])
    _compare(torch, lambda x: x.flip(1), lambda x: x.flip(1), [a])
    _compare(torch, lambda x: tg.roll(x, 2, 1), lambda x: torch.roll(x, 2, 1), [a])
    _compare(
        torch,
        lambda x: tg.roll(x, shifts=(1, -1), dims=(0, 1)),
        lambda x: torch.roll(x, (1, -1), (0, 1)),
        [a],
    )
    _compare(torch, lambda x: tg.roll(x, 5), lambda x: torch.roll(x, 5), [a])
    for k in (-1, 0, 2):
        _compare(torch, lambda x, k=k: tg.tril(x, k), lambda x, k=k: torch.tril(x, k), [a])
        _compare(torch, lambda x, k=k: x.triu(diagonal=k), lambda x, k=k: x.triu(diagonal=k), [a])
    _compare(torch, lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3), [a])
    _compare(torch, lambda x: tg.tile(x, (2, 2)), lambda x: torch.tile(x, (2, 2)), [a])
    _compare(
        torch, lambda x: tg.repeat_interleave(x, 2, dim=1), lambda x: torch.repeat_interleave(x, 2, 1), [a]
    )
    counts = np.array([1, 0, 3])
    _compare(
        torch,
        lambda x: x.repeat_interleave(counts, axis=0),
        lambda x: x.repeat_interleave(torch.tensor(counts), 0),
        [a],
    )
    _compare(torch, lambda x: tg.repeat_interleave(x, 2), lambda x: torch.repeat_interleave(x, 2), [a])
    labels = np.array([[0, 3], [2, 2]])
    _compare(
        torch,
        lambda t: tg.one_hot(t, 5),
        lambda t: torch.nn.functional.one_hot(t, 5),
        [labels],
        grads=False,
    )


@pytest.mark.torch
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda x: tg.split(x, 2, axis=1), lambda x: torch_split(x, 2, 1)),
        (lambda x: x.split([1, 3], dim=1), lambda x: torch_split(x, [1, 3], 1)),
        (lambda x: tg.split(x, 5), lambda x: torch_split(x, 5, 0)),
        (lambda x: tg.chunk(x, 2), lambda x: torch_chunk(x, 2, 0)),
        (lambda x: x.chunk(3, dim=1), lambda x: torch_chunk(x, 3, 1)),
        (lambda x: tg.chunk(x, 4, 0), lambda x: torch_chunk(x, 4, 0)),
    ],
)
def test_split_and_chunk_match_pytorch(ours, theirs):
    torch = pytest.importorskip("torch")
    a = _x(3, 4)
    pieces, tpieces = ours(tg.tensor(a, requires_grad=True)), theirs(torch.tensor(a))
    assert [p.shape for p in pieces] == [tuple(t.shape) for t in tpieces]
    for p, t in zip(pieces, tpieces):
        np.testing.assert_array_equal(p.data, t.numpy())
    x = tg.tensor(a, requires_grad=True)
    assert gradcheck(lambda x: ours(x), x)


def torch_split(x, s, d):
    import torch

    return torch.split(x, s, d)


def torch_chunk(x, n, d):
    import torch

    return torch.chunk(x, n, d)


def test_indexing_errors_name_the_op_and_shapes():
    x = tg.tensor(np.ones((3, 4)))
    with pytest.raises(OpError, match=r"gather: index has 1 dimensions but the input has 2"):
        tg.gather(x, 0, np.array([0, 1]))
    with pytest.raises(OpError, match=r"gather: index 3 is out of range for dimension 0 of size 3"):
        tg.gather(x, 0, np.array([[3]]))
    with pytest.raises(
        OpError, match=r"gather: index \(4, 1\) is longer than the input \(3, 4\) along dimension 0"
    ):
        tg.gather(x, 1, np.zeros((4, 1), dtype=int))
    with pytest.raises(OpError, match="gather: index must hold integers"):
        tg.gather(x, 0, np.zeros((1, 1)))
    with pytest.raises(
        ValueError, match=r"masked_fill: mask \(2,\) does not broadcast to the input's shape \(3, 4\)"
    ):
        tg.masked_fill(x, np.array([True, False]), 0.0)
    with pytest.raises(TypeError, match="masked_fill: mask must be boolean"):
        tg.masked_fill(x, np.ones((3, 4)), 0.0)
    with pytest.raises(OpError, match=r"one_hot: indices must lie in \[0, 3\)"):
        tg.one_hot(np.array([0, 3]), 3)
    with pytest.raises(OpError, match="tril: needs at least 2 dimensions"):
        tg.tril(tg.zeros(3))
    with pytest.raises(
        ValueError, match=r"split: piece lengths \[1, 2\] must be non-negative and add up to 4"
    ):
        tg.split(x, [1, 2], axis=1)
    with pytest.raises(ValueError, match="chunk: chunks must be a positive integer"):
        tg.chunk(x, 0)
    with pytest.raises(ValueError, match="repeat_interleave: 2 repeat counts for 3 elements along axis 0"):
        tg.repeat_interleave(x, np.array([1, 2]), axis=0)
    with pytest.raises(OpError, match=r"scatter_add: src \(1, 1\) must have index's number of dimensions"):
        tg.scatter_add(x, 0, np.zeros((2, 3), dtype=int), tg.zeros(1, 1))
    with pytest.raises(IndexError, match="scatter_add: index 5 is out of range for dimension 0 of size 3"):
        tg.scatter_add(x, 0, np.full((2, 3), 5), tg.zeros(2, 3))
    with pytest.raises(OpError, match=r"triu: the diagonal k must be an int, got 1\.5"):
        tg.triu(x, 1.5)
    with pytest.raises(TypeError, match="masked_fill: value must be a number, got str"):
        tg.masked_fill(x, np.ones((3, 4), dtype=bool), "a")
    with pytest.raises(OpError, match=r"logaddexp: shapes \(3, 4\) and \(5,\) do not broadcast"):
        tg.logaddexp(x, tg.zeros(5))


# ------------------------------------------------------------------ einsum and pad


@pytest.mark.torch
@pytest.mark.parametrize(
    ("subscripts", "shapes"),
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("ij,jk", [(2, 3), (3, 4)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("ij->ji", [(2, 3)]),
        ("ij->", [(2, 3)]),
        ("i,j->ij", [(3,), (4,)]),
        ("...ij,...jk->...ik", [(2, 3, 4), (4, 2)]),
        ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
        ("ij,j,ki->k", [(2, 3), (3,), (5, 2)]),
        ("ij,kl->", [(2, 3), (4, 5)]),
    ],
)
def test_einsum_matches_pytorch(subscripts, shapes):
    torch = pytest.importorskip("torch")
    arrays = [_x(*s) for s in shapes]
    _compare(
        torch,
        lambda *xs: tg.einsum(subscripts, *xs),
        lambda *ts: torch.einsum(subscripts, *ts),
        arrays,
    )
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    assert gradgradcheck(lambda *xs: tg.einsum(subscripts, *xs), *xs)


def test_einsum_errors():
    a, b = tg.zeros(2, 3), tg.zeros(4, 5)
    with pytest.raises(
        ValueError, match=r"einsum: letter 'j' has size 3 in operand 0 \(shape \(2, 3\)\) but 4"
    ):
        tg.einsum("ij,jk->ik", a, b)
    with pytest.raises(
        ValueError, match="einsum: operand 0 has 2 dimensions but its subscripts 'ijk' name 3"
    ):
        tg.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="einsum: repeated letters within one operand"):
        tg.einsum("ii->i", tg.zeros(3, 3))
    with pytest.raises(ValueError, match="einsum: subscripts 'ij,jk->ik' name 2 operands, got 1"):
        tg.einsum("ij,jk->ik", a)
    assert tg.einsum("ij,jk->ik", [a, tg.zeros(3, 2)]).shape == (2, 2)  # operands as a list


@pytest.mark.torch
@pytest.mark.parametrize(
    ("mode", "torch_mode"),
    [("reflect", "reflect"), ("edge", "replicate"), ("replicate", "replicate"), ("wrap", "circular")],
)
def test_pad_modes_match_pytorch(mode, torch_mode):
    torch = pytest.importorskip("torch")
    a = _x(2, 3, 4, 5)
    # numpy's pad_width pairs per axis; PyTorch's F.pad lists (before, after) from the last axis back
    _compare(
        torch,
        lambda x: tg.pad(x, ((0, 0), (0, 0), (1, 2), (3, 1)), mode=mode),
        lambda x: torch.nn.functional.pad(x, (3, 1, 1, 2), mode=torch_mode),
        [a],
    )


@pytest.mark.torch
def test_pad_constant_value_matches_pytorch_and_zero_padding_is_the_primitive():
    torch = pytest.importorskip("torch")
    a = _x(3, 4)
    _compare(
        torch,
        lambda x: tg.pad(x, ((1, 0), (2, 2)), value=-1.5),
        lambda x: torch.nn.functional.pad(x, (2, 2, 1, 0), value=-1.5),
        [a],
    )
    assert tg.pad(tg.tensor(a), 1).op == "pad"
    np.testing.assert_array_equal(tg.pad(tg.tensor(a), 1, mode="symmetric").data, np.pad(a, 1, "symmetric"))


def test_pad_errors():
    x = tg.zeros(2, 3)
    with pytest.raises(ValueError, match="pad: unknown mode 'mirror'; expected one of 'constant', 'reflect'"):
        tg.pad(x, 1, mode="mirror")
    with pytest.raises(ValueError, match="pad: value= is only used in mode 'constant', not 'reflect'"):
        tg.pad(x, 1, mode="reflect", value=1.0)
    with pytest.raises(ValueError, match="pad: pad widths must be non-negative"):
        tg.pad(x, -1, mode="edge")


# ------------------------------------------------------------------ Node methods and numpy functions


def test_pytorch_style_node_methods():
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.view(3, 2).shape == (3, 2) and x.view(-1).shape == (6,) and x.view((1, 6)).shape == (1, 6)
    assert x.view_as(tg.zeros(6)).shape == (6,)
    assert x.unsqueeze(0).shape == (1, 2, 3) and x.unsqueeze(-1).shape == (2, 3, 1)
    assert x.unsqueeze(1).squeeze().shape == (2, 3) and x.unsqueeze(1).squeeze(dim=1).shape == (2, 3)
    assert x.permute(1, 0).shape == (3, 2) and x[None].expand(4, -1, -1).shape == (4, 2, 3)
    assert x.float().dtype == np.float32 and x.double().dtype == np.float64
    assert x.long().dtype == np.int64 and x.int().dtype == np.int32 and (x > 1).bool().dtype == bool
    assert x.numel() == 6 and x.dim() == 2
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2
    assert x.size == 6 and x.size * 2 == 12 and f"{x.size}" == "6"  # numpy's attribute still works
    assert pickle.loads(pickle.dumps(x.size))() == (2, 3) and copy.deepcopy(x.size) == 6
    with pytest.raises(IndexError, match=r"size: dimension 2 is out of range for shape \(2, 3\)"):
        x.size(2)
    assert x.sum(dim=1, keepdim=True).shape == (2, 1) and x.mean(axis=0).shape == (3,)
    assert x.max(dim=0).data.tolist() == [3, 4, 5] and x.argmax(dim=1).data.tolist() == [2, 2]
    labels = tg.tensor([2, 0])
    pred = x.argmax(dim=1, keepdim=True)
    assert pred.eq(labels.view_as(pred)).sum().item() == 1  # PyTorch's MNIST accuracy line
    assert isinstance(x.tolist(), list) and x[0, 1].item() == 1.0
    assert (x.ne(1) & x.gt(0)).data.tolist() == [[False, False, True], [True, True, True]]


def test_numpy_functions_on_nodes_build_graph_nodes():
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    s = np.sum(x)
    assert isinstance(s, tg.Node) and s.op == "sum" and s.item() == 15
    m = np.mean(x, axis=0, keepdims=True)
    assert m.shape == (1, 3) and m.requires_grad
    (np.sum(np.concatenate([x, x])) + np.max(x)).backward()
    np.testing.assert_array_equal(x.grad, [[2, 2, 2], [2, 2, 3]])
    assert np.shape(x) == (2, 3) and np.ndim(x) == 2 and np.size(x) == 6
    assert np.var(x).op == "div" and np.clip(x, 1, 2).op == "clip" and np.round(x).op == "round"
    assert np.einsum("ij->j", x).shape == (3,) and np.pad(x, 1, mode="edge").shape == (4, 5)
    assert np.argmax(x).item() == 5 and np.where(x > 2, x, 0).op == "where"
    with pytest.raises(OpError, match="sum: out= cannot be filled for a tinygraph Node"):
        np.sum(x, out=np.zeros(()))
    with pytest.raises(OpError, match=r"mean: dtype= is not supported on Nodes; convert first"):
        np.mean(x, dtype=np.float32)
    with pytest.raises(TypeError, match=r"numpy\.median is not supported on tinygraph Nodes"):
        np.median(x)


def test_pytorch_argument_names_on_shape_functions():
    x = tg.zeros(2, 3, 4)
    assert tg.flatten(x, 1).shape == (2, 12) and tg.flatten(x, start_dim=1).shape == (2, 12)
    assert x.flatten(start_dim=0, end_dim=1).shape == (6, 4)
    assert tg.squeeze(tg.zeros(1, 3), dim=0).shape == (3,) and tg.expand_dims(x, dim=0).shape == (1, 2, 3, 4)
    assert tg.concatenate([x, x], dim=1).shape == (2, 6, 4) and tg.stack([x, x], dim=0).shape == (2, 2, 3, 4)
    assert x.split(2, dim=2)[0].shape == (2, 3, 2) and tg.chunk(x, 2, dim=1)[1].shape == (2, 1, 4)
    with pytest.raises(TypeError, match="flatten: got both start_axis= and start_dim="):
        tg.flatten(x, start_axis=1, start_dim=1)


def test_numpy_value_functions_run_on_the_values():
    x = tg.tensor([1.0, 2.0, 0.5])
    assert np.allclose(x, [1, 2, 0.5]) and np.array_equal(x, x) and not np.array_equal(x, x * 2)
    np.testing.assert_array_equal(np.isclose(x, [1, 3, 0.5]), [True, False, True])
    np.testing.assert_array_equal(np.argsort(x), [2, 0, 1])
    assert np.count_nonzero(x > 0.7) == 2


def test_to_and_cpu():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert x.to("cpu") is x and x.cpu() is x and x.to(None) is x
    y = x.to(np.float64)
    assert y.dtype == np.float64 and y.requires_grad and x.to("cpu", dtype=np.float16).dtype == np.float16
    with pytest.raises(TypeError, match="to: tinygraph computes with numpy on the CPU; got 'cuda'"):
        x.to("cuda")


# The test above that compares each op of the new modules with PyTorch.
COMPARISONS = {
    "test_elementwise_functions_match_pytorch": sorted(UNARY),
    "test_binary_and_clipping_ops_match_pytorch": ["logaddexp", "remainder", "floor_divide", "clip"],
    "test_logical_and_bitwise_ops_match_pytorch": [
        *("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"),
        *("logical_and", "logical_or", "logical_xor", "logical_not"),
        *("isnan", "isinf", "isfinite"),
    ],
    "test_reductions_match_pytorch": ["prod", "var", "std", "cumsum", "argmax", "argmin", "any", "all"],
    "test_indexing_ops_match_pytorch": [
        *("gather", "scatter_add_along", "masked_fill", "one_hot", "flip", "roll"),
        *("tril", "triu", "tile", "repeat_interleave"),
    ],
    "test_einsum_matches_pytorch": ["einsum"],
    "test_pad_modes_match_pytorch": ["pad_mode"],
}
NEW_MODULES = ["unary", "rounding", "logical", "statistics", "indexing", "einsum", "composites"]


def test_every_new_op_is_compared_with_pytorch():
    from tinygraph.registry import REGISTRY

    modules = {f"tinygraph.ops.{m}" for m in NEW_MODULES}
    new = {name for name, op in REGISTRY.items() if op.array_fn.__module__ in modules}
    assert new, "no op found in the new modules"
    compared = {op for ops in COMPARISONS.values() for op in ops}
    missing = sorted(new - compared)
    assert not missing, f"ops without a comparison with PyTorch: {missing}"
    assert all(test in globals() for test in COMPARISONS)


def test_erf_is_a_top_level_function_as_in_torch():
    torch = pytest.importorskip("torch")
    x = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(
        tg.erf(tg.tensor(x, dtype=np.float64)).data, torch.erf(torch.tensor(x)).numpy()
    )
