"""Deep graphs: traversal is iterative, so chains far past Python's recursion limit work."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tinygraph as tg


def _chain(n: int, with_tanh: bool = True) -> tuple[tg.Node, tg.Node]:
    x = tg.tensor(np.float64(0.5), requires_grad=True)
    y = x
    for i in range(n):
        if with_tanh and i % 10 == 9:
            y = y.tanh()
        elif i % 2 == 0:
            y = y * 1.0001
        else:
            y = y + 0.0001
    return x, y


def _expected_grad(n: int) -> float:
    value, grad = 0.5, 1.0
    for i in range(n):
        if i % 10 == 9:
            value = np.tanh(value)
            grad *= 1 - value**2
        elif i % 2 == 0:
            value *= 1.0001
            grad *= 1.0001
        else:
            value += 0.0001
    return grad


def test_100k_node_chain():
    assert sys.getrecursionlimit() < 100_000
    x, y = _chain(100_000)
    y.backward()
    assert x.grad == pytest.approx(_expected_grad(100_000), rel=1e-9)
    assert len(tg.toposort([y])) == 100_001


@pytest.mark.slow
def test_million_node_chain_does_not_recurse():
    x, y = _chain(1_000_000, with_tanh=False)  # tanh's derivatives would underflow a million deep
    y.backward()
    assert x.grad == pytest.approx(1.0001**500_000, rel=1e-9)
    del y  # freeing a million-deep chain must not overflow the C stack either


def test_wide_fan_in():
    x = tg.tensor(np.ones(3), requires_grad=True)
    total = x * 0
    for _ in range(5000):
        total = total + x
    total.sum().backward()
    np.testing.assert_array_equal(x.grad, 5000)
