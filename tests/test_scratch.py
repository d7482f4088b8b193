"""Reused memory for large temporaries: never handed out while anything can still see it."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import _scratch

BIG = (512, 1024)  # 2 MiB of float32: pooled


def test_the_idle_reference_count_is_calibrated():
    assert _scratch._IDLE_REFCOUNT > 0


def test_an_array_is_reused_only_when_nothing_refers_to_it():
    _scratch.clear()
    a = _scratch.empty(BIG, np.float32)
    b = _scratch.empty(BIG, np.float32)
    assert b is not a  # a is still held
    address = a.__array_interface__["data"][0]
    del a
    c = _scratch.empty(BIG, np.float32)
    assert c.__array_interface__["data"][0] == address  # reused
    view = c[10:]
    del c
    d = _scratch.empty(BIG, np.float32)
    assert d.__array_interface__["data"][0] != address  # a view keeps it busy
    del view, b, d
    _scratch.clear()


def test_small_arrays_are_not_pooled():
    _scratch.clear()
    _scratch.empty((4, 4), np.float32)
    assert _scratch._kept_bytes == 0


def test_pooled_zeros_are_zero_even_after_reuse():
    _scratch.clear()
    a = _scratch.empty(BIG, np.float32)
    a.fill(7.0)
    del a
    assert not _scratch.zeros(BIG, np.float32).any()
    _scratch.clear()


def _conv_step(x, w):
    y = F.conv2d(x, w, padding=1)
    y.backward(np.ones(y.shape, np.float32))
    return y


@pytest.mark.parametrize("keep", ["output", "data"])
def test_values_kept_from_a_step_survive_the_next_steps(keep):
    """A user holding a result (or its .data) must never see it overwritten by later steps."""
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((8, 16, 32, 32)).astype(np.float32), requires_grad=True)
    w = tg.tensor(rng.standard_normal((16, 16, 3, 3)).astype(np.float32), requires_grad=True)
    kept = _conv_step(x, w)
    kept_value = kept if keep == "output" else kept.data
    snapshot = np.array(kept.data)
    grads = np.array(x.grad)
    for scale in (2.0, -3.0):
        x.grad = w.grad = None
        x.data *= scale
        _conv_step(x, w)
        x.data /= scale
    held = kept_value.data if keep == "output" else kept_value
    np.testing.assert_array_equal(held, snapshot)
    x.grad = w.grad = None
    _conv_step(x, w)
    np.testing.assert_allclose(x.grad, grads, rtol=1e-6)


def test_training_steps_give_the_same_numbers_with_and_without_the_pool(monkeypatch):
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((8, 16, 32, 32)).astype(np.float32)
    w0 = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)

    def run():
        x, w = tg.tensor(x0), tg.tensor(w0, requires_grad=True)
        for _ in range(3):
            w.grad = None
            loss = (F.conv2d(x, w, padding=1) ** 2).mean()
            loss.backward()
            w.data -= 0.01 * w.grad
        return w.data.copy()

    pooled = run()
    monkeypatch.setattr(_scratch, "MIN_BYTES", 1 << 62)  # nothing is pooled
    np.testing.assert_array_equal(run(), pooled)


def test_leaves_fed_the_same_gradient_get_arrays_of_their_own():
    a = tg.tensor(np.ones(BIG, np.float32), requires_grad=True)
    b = tg.tensor(np.ones(BIG, np.float32), requires_grad=True)
    (a + b).backward(np.ones(BIG, np.float32))
    assert not np.shares_memory(a.grad, b.grad)
    a.grad[0, 0] = 5.0
    assert b.grad[0, 0] == 1.0
    a.grad = None
    (a * 3).backward(np.ones(BIG, np.float32))  # may reuse a's old memory, never b's
    assert b.grad[0, 0] == 1.0 and a.grad[0, 0] == 3.0


def test_only_held_by_caller_sees_every_other_holder():
    from tinygraph._scratch import only_held_by_caller

    fresh = np.ones(4)
    assert only_held_by_caller(fresh)
    other = fresh
    assert not only_held_by_caller(fresh)
    del other
    whole = np.ones(6).reshape(2, 3)  # a view of all of an array that only the view holds
    assert only_held_by_caller(whole)
    base = whole.base
    assert not only_held_by_caller(whole)
    del base
    assert not only_held_by_caller(np.ones((2, 3)).T)  # not C-contiguous: left to be copied
    assert not only_held_by_caller(np.ones(6)[:3])  # a part: keeping it would keep all of it alive
    assert not only_held_by_caller(np.broadcast_to(np.ones(1), (3,)))
