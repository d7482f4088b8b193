"""scaled_dot_product_attention (masks, causal) and nn.MultiheadAttention (a torch state dict loads):
outputs, attention weights and gradients against torch in float64; a small transformer block
renders with the attention as a box; clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import grads_match

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn
from tinygraph.errors import OpError

RNG = np.random.default_rng(21)


@pytest.mark.torch
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"is_causal": True},
        {"attn_mask": RNG.uniform(size=(5, 6)) > 0.3},
        {"attn_mask": RNG.normal(size=(2, 1, 5, 6)), "scale": 0.7},
    ],
    ids=["plain", "causal", "bool-mask", "float-mask"],
)
def test_sdpa_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    if "attn_mask" in kwargs and kwargs["attn_mask"].dtype == bool:
        kwargs["attn_mask"][:, 0] = True  # every query attends to something
    arrays = [RNG.normal(size=s) for s in ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 2))]
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    out = F.scaled_dot_product_attention(*ours, **kwargs)
    tout = torch.nn.functional.scaled_dot_product_attention(*theirs, **tkw)
    grads_match([out], [tout], ours, theirs, torch, RNG)


@pytest.mark.torch
@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_matches_torch(batch_first):
    torch = pytest.importorskip("torch")
    ours = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=np.float64)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=torch.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    shape_q, shape_kv = ((2, 5, 8), (2, 6, 8)) if batch_first else ((5, 2, 8), (6, 2, 8))
    arrays = [RNG.normal(size=s) for s in (shape_q, shape_kv, shape_kv)]
    mask = RNG.uniform(size=(5, 6)) > 0.7
    mask[:, 0] = False
    padding = np.zeros((2, 6), bool)
    padding[1, 4:] = True
    for kwargs in ({}, {"attn_mask": mask}, {"key_padding_mask": padding, "average_attn_weights": False}):
        ours.zero_grad()
        theirs.zero_grad()
        xs = [tg.tensor(a, requires_grad=True) for a in arrays]
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
        tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        out, w = ours(*xs, **kwargs)
        tout, tw = theirs(*ts, **tkw)
        params = [p for _, p in ours.named_parameters()]
        tparams = [p for _, p in theirs.named_parameters()]
        grads_match([out, w], [tout, tw], xs + params, ts + tparams, torch, RNG)


@pytest.mark.torch
def test_self_attention_unbatched_and_causal_match_torch():
    torch = pytest.importorskip("torch")
    ours = nn.MultiheadAttention(4, 4, dtype=np.float64)
    theirs = torch.nn.MultiheadAttention(4, 4, dtype=torch.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = RNG.normal(size=(5, 4))
    causal = np.triu(np.ones((5, 5), bool), 1)
    out, w = ours(x, x, x, attn_mask=causal)
    tout, tw = theirs(*(torch.tensor(x),) * 3, attn_mask=torch.tensor(causal))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-9, atol=1e-12)
    out2, none = ours(x, x, x, is_causal=True, need_weights=False)
    np.testing.assert_allclose(out2.data, out.data, rtol=1e-12)
    assert none is None


def test_a_transformer_block_trains_and_renders_attention_as_a_box():
    tg.manual_seed(0)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
            self.norm1, self.norm2 = nn.LayerNorm(8), nn.LayerNorm(8)
            self.ff = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 8))

        def forward(self, x):
            x = self.norm1(x + self.attn(x, x, x, need_weights=False)[0])
            return self.norm2(x + self.ff(x))

    block = Block()
    x = tg.randn(2, 5, 8)
    loss = (block(x) ** 2).mean()
    loss.backward()
    assert all(p.grad is not None and np.isfinite(p.grad).all() for p in block.parameters())
    source = tg.render(loss).source
    assert "multi_head_attention" in source and "layer_norm" in source and "gelu" in source


def test_attention_errors_are_clear():
    q = tg.randn(3, 4)
    with pytest.raises(
        OpError, match=r"query \(..., L, E\) and key \(..., S, E\) must share their last axis"
    ):
        F.scaled_dot_product_attention(q, tg.randn(5, 3), tg.randn(5, 2))
    with pytest.raises(OpError, match=r"attn_mask of shape \(2, 2\) does not broadcast"):
        F.scaled_dot_product_attention(q, tg.randn(5, 4), tg.randn(5, 2), attn_mask=np.ones((2, 2), bool))
    with pytest.raises(OpError, match="give attn_mask or is_causal, not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool), is_causal=True)
    with pytest.raises(ValueError, match=r"embed_dim \(6\) must be a positive multiple of num_heads \(4\)"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(2, 6\)"):
        nn.MultiheadAttention(8, 2)(
            tg.randn(5, 2, 8), tg.randn(6, 2, 8), tg.randn(6, 2, 8), key_padding_mask=np.ones((2, 5), bool)
        )
