"""tinygraph/_blas.py's product for the RNN step equals the plain product (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import _blas

RNG = np.random.default_rng(5)


@pytest.mark.parametrize("transposed", [True, False])
def test_matmul_rows_equals_the_plain_product(transposed):
    a = RNG.standard_normal((16, 32))
    w = RNG.standard_normal((24, 32)).T if transposed else RNG.standard_normal((32, 24))
    assert (not w.flags.c_contiguous) is transposed
    np.testing.assert_allclose(_blas.matmul_rows(a, w), a @ w, rtol=1e-13, atol=1e-13)


def test_the_rnn_step_equals_its_definition_with_and_without_the_turned_products(monkeypatch):
    x, h = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 5))
    w_ih, w_hh, b = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 5)), RNG.standard_normal(5)
    fused = tg.ops.rnn_affine(x, h, w_ih.T, w_hh.T, b).data
    np.testing.assert_allclose(fused, x @ w_ih.T + h @ w_hh.T + b, rtol=1e-13, atol=1e-13)
    monkeypatch.setattr(_blas, "matmul_rows", lambda a, w: np.matmul(a, w))
    np.testing.assert_allclose(tg.ops.rnn_affine(x, h, w_ih.T, w_hh.T, b).data, fused, rtol=1e-13, atol=1e-13)
