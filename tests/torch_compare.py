"""A check shared by the tests that compare layers with torch in float64 (not a test module itself)."""

from __future__ import annotations

from typing import Any

import numpy as np


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
