"""Checks shared by the tests that compare layers with torch in float64 (not a test module itself)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygraph as tg


def grads_match(outs, touts, leaves, tleaves, torch: Any, rng: np.random.Generator) -> None:
    """Each output equals torch's, and the gradients of ``Σ_k sum(out_k · r_k)`` (random ``r_k``
    from ``rng``, the same for both) w.r.t. ``leaves`` equal torch's for ``tleaves``."""
    loss = tloss = 0.0
    for o, t in zip(outs, touts):
        np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=1e-9, atol=1e-12)
        r = rng.normal(size=o.shape)
        loss = loss + (o * r).sum()
        tloss = tloss + (t * torch.tensor(r)).sum()
    loss.backward()
    tloss.backward()
    for a, b in zip(leaves, tleaves):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-8, atol=1e-12)


def load_from_torch(ours, theirs) -> None:
    """Give the tinygraph module ``ours`` the torch module ``theirs``'s parameters and buffers."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def module_matches(ours, theirs, x, rng, *, rtol=1e-9, grad_rtol=1e-8, atol=1e-12) -> None:
    """The two modules on the same input ``x``: equal outputs, and equal gradients of
    ``sum(out · r)`` (random ``r`` from ``rng``) w.r.t. the input and every parameter, by name."""
    torch = pytest.importorskip("torch")
    xn, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(xn), theirs(xt)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=atol)
    r = rng.normal(size=out.shape)
    (out * r).sum().backward()
    (tout * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(xn.grad, xt.grad.numpy(), rtol=grad_rtol, atol=atol)
    params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, params[name].grad.numpy(), rtol=grad_rtol, atol=atol, err_msg=name)
