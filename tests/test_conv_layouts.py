"""Layout choices behind conv2d's speed change how fast a product is formed, never its value.

``tinygraph/_blas.py`` makes two such choices for matmul: its rules form a small, wide gradient the
other way round, as ``(Bᵀ Aᵀ)ᵀ`` (``long_product``), and a large product whose rows would alias in
the cache is written with its rows padded apart (``product_memory``). Each is checked here
against the plain computation, in float64, first and second derivatives included.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import _blas
from tinygraph.autodiff import grad
from tinygraph.registry import REGISTRY
from tinygraph.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(11)
MATMUL = REGISTRY["matmul"].array_fn


def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn both choices off: every product as written, into C-contiguous memory."""
    monkeypatch.setattr(_blas, "long_product", lambda a, b: False)
    monkeypatch.setattr(_blas, "ALIASING_ROW_BYTES", 1 << 62)


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record every answer of ``_long_product``."""
    answers: list[bool] = []
    real = _blas.long_product

    def spy(a, b):
        answers.append(real(a, b))
        return answers[-1]

    monkeypatch.setattr(_blas, "long_product", spy)
    return answers


def _array(shape: tuple[int, ...], order: str) -> np.ndarray:
    a = RNG.standard_normal(shape)
    return np.asfortranarray(a) if order == "F" else a


def test_long_product_is_a_rule_on_shapes_and_layout_only():
    g, y = np.ones((2, 40)), np.ones((3, 40))
    assert _blas.long_product(g, y.T)  # (2, 40) @ (40, 3): long contraction, wide, b transposed
    assert _blas.long_product(tg.tensor(g), tg.tensor(y).T)  # Nodes: the same answer
    assert not _blas.long_product(g, np.ascontiguousarray(y.T))  # b row-major
    assert not _blas.long_product(np.ones((3, 40)), np.ones((2, 40)).T)  # already tall
    assert not _blas.long_product(np.ones((2, 3)), np.ones((40, 3)).T)  # short contraction
    assert not _blas.long_product(np.ones((1, 1)), np.ones((1, 1)).T)  # tiny, square


# (x shape, x layout, y shape, y layout, gradient layout): each case makes one of the four 2-D
# branches of matmul's rules form its product the other way round.
CASES = {
    "dX=G·Yᵀ": ((2, 3), "C", (3, 40), "C", "C"),
    "dY=Xᵀ·G": ((40, 2), "C", (2, 3), "C", "F"),
    "dX of a transposed X": ((3, 2), "F", (2, 40), "C", "C"),
    "dY of a transposed Y": ((40, 3), "F", (3, 2), "F", "C"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matmul_gradients_are_the_same_formed_either_way(case, monkeypatch):
    x_shape, x_order, y_shape, y_order, g_order = CASES[case]
    x, y = _array(x_shape, x_order), _array(y_shape, y_order)
    g = _array((x_shape[0], y_shape[1]), g_order)

    def gradients(create_graph: bool) -> tuple[np.ndarray, np.ndarray]:
        xn, yn = tg.tensor(x, requires_grad=True), tg.tensor(y, requires_grad=True)
        z = tg.matmul(xn, yn)
        dx, dy = grad(z, [xn, yn], grad_outputs=g, create_graph=create_graph)
        return dx.data.copy(), dy.data.copy()

    answers = _spy(monkeypatch)
    turned = {create_graph: gradients(create_graph) for create_graph in (False, True)}
    assert any(answers), "the case should form one product the other way round"
    _plain(monkeypatch)
    plain = gradients(False)
    for dx, dy in turned.values():
        np.testing.assert_allclose(dx, g @ y.T, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(dy, x.T @ g, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(dx, plain[0], rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(dy, plain[1], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("case", list(CASES))
def test_matmul_first_and_second_derivatives_with_the_turned_products(case):
    x_shape, x_order, y_shape, y_order, _ = CASES[case]
    x = tg.tensor(_array(x_shape, x_order), requires_grad=True)
    y = tg.tensor(_array(y_shape, y_order), requires_grad=True)
    assert gradcheck(tg.matmul, x, y)
    assert gradgradcheck(tg.matmul, x, y)


@pytest.mark.parametrize(
    ("m", "k", "n", "dtype", "padded"),
    [
        (144, 32, 16384, np.float32, True),  # rows of 64 KiB
        (64, 8, 2048, np.float64, True),  # rows of 16 KiB
        (32, 8, 9216, np.float32, True),  # rows of 36 KiB = 18 · 2 KiB
        (144, 8, 2000, np.float32, False),  # rows of 8,000 bytes: no aliasing to avoid
        (4, 8, 16384, np.float32, False),  # under 1 MiB: not pooled, as numpy makes it
    ],
)
def test_large_products_with_aliasing_rows_are_padded_apart_and_equal(m, k, n, dtype, padded):
    a = RNG.standard_normal((m, k)).astype(dtype)
    b = RNG.standard_normal((k, n)).astype(dtype)
    z = MATMUL(a, b)
    assert z.shape == (m, n) and z.dtype == dtype
    assert z.flags.c_contiguous is not padded
    if padded:
        assert z.strides == ((n + 64 // z.itemsize) * z.itemsize, z.itemsize)
    np.testing.assert_allclose(z, np.matmul(a, b), rtol=1e-6 if dtype == np.float32 else 1e-13, atol=1e-5)
    # A transposed operand (as in conv2d's backward, Wᵀ @ G) is written the same way.
    zt = MATMUL(np.asfortranarray(a), b)
    np.testing.assert_allclose(zt, z, rtol=1e-6 if dtype == np.float32 else 1e-13, atol=1e-5)


def _conv_step(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    xn, wn = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
    y = F.conv2d(xn, wn, padding=1)
    y.backward(g)
    return y.data.copy(), xn.grad.copy(), wn.grad.copy()


def test_conv2d_values_and_gradients_do_not_depend_on_the_layout_choices(monkeypatch):
    # N·H·W = 8·16·16 = 2048 positions: the im2col gradient (72, 2048) is 1.2 MB of float64 rows of
    # 16 KiB (padded), and the weight gradient (16, 72) sums over 2048 positions (turned).
    x = RNG.standard_normal((8, 8, 16, 16))
    w = RNG.standard_normal((16, 8, 3, 3))
    g = RNG.standard_normal((8, 16, 16, 16))
    answers = _spy(monkeypatch)
    padded: list[bool] = []
    real_memory = _blas.product_memory

    def memory(m, n, dtype):
        out = real_memory(m, n, dtype)
        padded.append(not out.flags.c_contiguous)
        return out

    monkeypatch.setattr(_blas, "product_memory", memory)
    chosen = _conv_step(x, w, g)
    assert any(answers) and any(padded), "both choices should be taken on this shape"
    monkeypatch.undo()
    _plain(monkeypatch)
    plain = _conv_step(x, w, g)
    for a, b in zip(chosen, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # and against the definition: y[n, o] = Σ_c,u,v W[o, c, u, v] · x_pad[n, c, i + u, j + v]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    np.testing.assert_allclose(chosen[0], np.einsum("nchwuv,ocuv->nohw", windows, w), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chosen[2], np.einsum("nchwuv,nohw->ocuv", windows, g), rtol=1e-12, atol=1e-12)


def test_conv2d_second_derivatives_with_the_turned_weight_gradient(monkeypatch):
    # The weight gradient (3, 18) sums over 1·5·5 = 25 positions: formed the other way round.
    answers = _spy(monkeypatch)
    x = tg.tensor(RNG.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = tg.tensor(RNG.standard_normal((3, 2, 3, 3)), requires_grad=True)
    assert gradcheck(lambda a, b: F.conv2d(a, b, padding=1), x, w)
    assert any(answers)
    assert gradgradcheck(lambda a, b: F.conv2d(a, b, padding=1), x, w)
