"""Every fused primitive agrees with the composite it fuses, in value and gradient (float64)."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.registry import REGISTRY

CASES = [
    (name, k)
    for name, op in sorted(REGISTRY.items())
    if op.fuses is not None
    for k in range(len(REGISTRY[op.fuses].samples))
]


FUSED_RUNS: set[str] = set()


@pytest.mark.parametrize(("name", "k"), CASES)
def test_a_fused_primitive_equals_its_composite_definition(name, k):
    composite = REGISTRY[REGISTRY[name].fuses]
    sample = composite.samples[k]
    results = []
    for decomposed in (False, True):
        inputs = sample.make_inputs(np.random.default_rng(k))
        with tg.decompose() if decomposed else contextlib.nullcontext():
            out = composite.graph_fn(*inputs, **sample.attrs)
        ops = {n.op for n in tg.toposort([out], only_requires_grad=False) if n.op is not None}
        if decomposed:
            assert name not in ops
        else:
            if name in ops:
                FUSED_RUNS.add(name)
        leaves = [x for x in inputs if isinstance(x, tg.Node) and x.requires_grad]
        grads = tg.grad(out.sum(), leaves)
        results.append((out.data, [g.data for g in grads]))
    (value, grads), (value_d, grads_d) = results
    np.testing.assert_allclose(value, value_d, rtol=1e-12, atol=1e-12)
    for g, g_d in zip(grads, grads_d):
        np.testing.assert_allclose(g, g_d, rtol=1e-12, atol=1e-12)


def test_each_fused_primitive_ran_in_some_sample_of_its_composite():
    for name, k in CASES:
        if name not in FUSED_RUNS:
            test_a_fused_primitive_equals_its_composite_definition(name, k)
    assert {name for name, _ in CASES} == FUSED_RUNS


def test_what_a_primitive_saves_has_its_own_slot_not_an_attribute():
    logits = tg.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    loss = tg.functional.cross_entropy(logits, np.array([1, 0, 3]))
    assert loss.op == "softmax_cross_entropy"
    assert sorted(loss.attrs) == ["reduction", "target"]
    e, s = loss.saved
    np.testing.assert_allclose(
        e / s[:, None], np.exp(logits.data) / np.exp(logits.data).sum(1, keepdims=True)
    )
    assert logits.saved is None and (logits * 2).saved is None
    with tg.no_grad():
        assert tg.functional.cross_entropy(logits, np.array([1, 0, 3])).saved is None
