"""Every op in the registry, checked on the samples it declares.

The suite enumerates the registry, so an op cannot be added without samples: differentiable ops
are gradchecked in float64 (and second derivatives gradgradchecked); non-differentiable ones must
match numpy and produce results that need no grad.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.registry import REGISTRY
from tinygraph.testing import gradcheck, gradgradcheck

CASES = [
    pytest.param(name, k, id=f"{name}-{k}")
    for name, opdef in sorted(REGISTRY.items())
    for k in range(len(opdef.samples))
]


FLOAT_CASES = [
    pytest.param(name, k, id=f"{name}-{k}")
    for name, opdef in sorted(REGISTRY.items())
    for k, sample in enumerate(opdef.samples)
    if opdef.differentiable and "dtype" not in sample.attrs
]


def _call(opdef, inputs, attrs):
    if opdef.variadic_vjp is not None:
        return opdef.graph_fn(list(inputs), **attrs)
    return opdef.graph_fn(*inputs, **attrs)


def test_every_op_declares_samples_and_a_formula():
    missing = sorted(name for name, op in REGISTRY.items() if not op.samples)
    assert not missing, f"ops without samples: {missing}"
    no_formula = sorted(name for name, op in REGISTRY.items() if not op.formula)
    assert not no_formula, f"ops without a formula: {no_formula}"
    no_doc = sorted(name for name, op in REGISTRY.items() if not op.doc)
    assert not no_doc, f"ops without a docstring: {no_doc}"


def test_primitives_declare_one_rule_per_input():
    import inspect

    for name, op in REGISTRY.items():
        if op.kind != "primitive" or op.variadic_vjp is not None:
            continue
        params = [
            p for p in inspect.signature(op.array_fn).parameters.values()
            if p.default is p.empty and p.kind == p.POSITIONAL_OR_KEYWORD
        ]  # fmt: skip
        assert len(op.vjp) >= 1, name
        assert len(params) >= len(op.vjp), f"{name}: more rules than inputs"


@pytest.mark.parametrize(("name", "k"), CASES)
def test_op_sample(name, k):
    opdef = REGISTRY[name]
    sample = opdef.samples[k]
    rng = np.random.default_rng(1234 + k)
    inputs = sample.make_inputs(rng)
    attrs = dict(sample.attrs)

    def fn(*xs):
        return _call(opdef, xs, attrs)

    out = fn(*inputs)
    assert isinstance(out, tg.Node)
    if not opdef.differentiable:
        assert not out.requires_grad and out.is_leaf
        expected = opdef.array_fn(*[x.data if isinstance(x, tg.Node) else x for x in inputs], **attrs)
        np.testing.assert_array_equal(out.data, expected)
        return
    assert out.requires_grad
    assert out.op == name or opdef.kind == "composite"
    assert gradcheck(fn, *inputs)
    if sample.second_order:
        assert gradgradcheck(fn, *inputs)


@pytest.mark.parametrize(("name", "k"), FLOAT_CASES)
def test_op_keeps_float32(name, k):
    """float32 inputs give float32 outputs and float32 gradients of the inputs' shapes."""
    opdef = REGISTRY[name]
    sample = opdef.samples[k]
    inputs = sample.make_inputs(np.random.default_rng(k))
    inputs = [
        tg.tensor(x.data.astype(np.float32), requires_grad=True) if isinstance(x, tg.Node) else x
        for x in inputs
    ]
    out = _call(opdef, inputs, dict(sample.attrs))
    assert out.dtype == np.float32, f"{name} returned {out.dtype}"
    out.backward(np.ones(out.shape, np.float32))
    for x in inputs:
        if isinstance(x, tg.Node):
            assert x.grad.shape == x.shape and x.grad.dtype == np.float32
