"""Creation functions: sizes as ``zeros(2, 3)`` or ``zeros((2, 3))``, dtypes as PyTorch, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg


@pytest.mark.parametrize("make", [tg.zeros, tg.ones, tg.rand, tg.randn])
def test_sizes_as_separate_ints_or_one_tuple(make):
    for size in ((2, 3), ((2, 3),), ([2, 3],), (np.int64(2), 3)):
        out = make(*size)
        assert out.shape == (2, 3) and out.dtype == np.float32
    assert make(4).shape == (4,) and make(()).shape == ()
    assert make(2, 3, dtype=np.float64, requires_grad=True).requires_grad


@pytest.mark.parametrize("make", [tg.zeros, tg.ones, tg.rand, tg.randn])
def test_bad_sizes_say_what_is_wrong(make):
    name = make.__name__
    with pytest.raises(TypeError, match=rf"{name}: the size must be integers, as {name}\(2, 3\)"):
        make(2.5)
    with pytest.raises(TypeError, match=rf"{name}: the size must be integers"):
        make(2, "3")
    with pytest.raises(TypeError, match=rf"{name}: the size must be integers"):
        make(True)
    with pytest.raises(ValueError, match=rf"{name}: sizes must be non-negative, got \(2, -1\)"):
        make(2, -1)


def test_full_takes_its_dtype_from_the_value():
    assert tg.full((2, 3), 1.5).dtype == np.float32
    assert tg.full(3, 7).dtype == np.int64 and tg.full(3, 7).data.tolist() == [7, 7, 7]
    assert tg.full((2,), True).dtype == np.bool_
    assert tg.full((2,), 1, dtype=np.float64).dtype == np.float64
    with pytest.raises(TypeError, match="full: fill_value must be a number, got str"):
        tg.full((2,), "a")


def test_like_functions_copy_shape_and_dtype():
    x = tg.tensor(np.zeros((2, 3), np.float64))
    for out, value in ((tg.zeros_like(x), 0), (tg.ones_like(x), 1), (tg.full_like(x, 2.5), 2.5)):
        assert out.shape == (2, 3) and out.dtype == np.float64
        np.testing.assert_array_equal(out.data, value)
    assert tg.ones_like(x, dtype=np.int64).dtype == np.int64
    assert tg.full_like(x.data, 1, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="zeros_like: expects a Node or a numpy array, got list"):
        tg.zeros_like([1, 2])


def test_arange_as_pytorch():
    assert tg.arange(5).data.tolist() == [0, 1, 2, 3, 4] and tg.arange(5).dtype == np.int64
    assert tg.arange(1, 10, 3).data.tolist() == [1, 4, 7]
    out = tg.arange(0, 1, 0.25)
    assert out.dtype == np.float32 and out.data.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert tg.arange(5, 0, -2).data.tolist() == [5, 3, 1]
    assert tg.arange(3, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="arange: step must not be zero"):
        tg.arange(0, 3, 0)
    with pytest.raises(ValueError, match="arange: step 1 goes away from end -3"):
        tg.arange(0, -3)
    with pytest.raises(TypeError, match="arange: end must be a real number, got str"):
        tg.arange("3")


def test_linspace_and_eye():
    np.testing.assert_allclose(tg.linspace(0, 1, 5).data, [0, 0.25, 0.5, 0.75, 1])
    assert tg.linspace(0, 1, 5).dtype == np.float32 and tg.linspace(0, 1, 0).shape == (0,)
    with pytest.raises(TypeError, match=r"linspace: steps must be a non-negative integer, got 2\.5"):
        tg.linspace(0, 1, 2.5)
    np.testing.assert_array_equal(tg.eye(3).data, np.eye(3))
    assert tg.eye(2, 3).shape == (2, 3) and tg.eye(2).dtype == np.float32
    with pytest.raises(TypeError, match="eye: the size must be integers"):
        tg.eye(2.0)


@pytest.mark.torch
def test_creation_matches_pytorch():
    torch = pytest.importorskip("torch")
    pairs = [
        (tg.arange(7), torch.arange(7)),
        (tg.arange(1, 2, 0.1), torch.arange(1, 2, 0.1)),
        (tg.arange(10, 0, -3), torch.arange(10, 0, -3)),
        (tg.linspace(-1, 2, 7), torch.linspace(-1, 2, 7)),
        (tg.eye(3, 4), torch.eye(3, 4)),
        (tg.full((2, 2), 3), torch.full((2, 2), 3)),
        (tg.full((2, 2), 0.5), torch.full((2, 2), 0.5)),
        (tg.zeros(2, 3), torch.zeros(2, 3)),
    ]
    for ours, theirs in pairs:
        assert ours.shape == tuple(theirs.shape)
        assert ours.dtype == theirs.numpy().dtype, (ours, theirs)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)


def test_torch_argument_names_on_reductions_and_composites():
    import tinygraph.functional as F

    x = tg.tensor(np.arange(6.0).reshape(2, 3))
    assert tg.sum(x, dim=1, keepdim=True).shape == (2, 1)
    np.testing.assert_allclose(tg.mean(x, dim=0).data, [1.5, 2.5, 3.5])
    np.testing.assert_allclose(F.softmax(x, dim=0).data, F.softmax(x, axis=0).data)
    np.testing.assert_allclose(F.logsumexp(x, dim=1, keepdim=True).data, F.logsumexp(x, 1, True).data)
    with pytest.raises(TypeError, match=r"sum: got both axis= and dim= \(PyTorch's name for it\); pass one"):
        tg.sum(x, axis=0, dim=1)
    with pytest.raises(TypeError, match="softmax: got both axis= and dim="):
        F.softmax(x, axis=0, dim=1)
    with pytest.raises(TypeError, match=r"sum: unexpected keyword argument\(s\) \['axes'\]"):
        tg.sum(x, axes=1)
