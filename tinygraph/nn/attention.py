"""``MultiheadAttention`` in PyTorch's shape: ``in_proj_weight`` (3E, E), ``in_proj_bias``, ``out_proj``.

The inputs are projected to queries, keys and values, split into ``num_heads`` heads of size
``E / num_heads``, each head attends (``F.scaled_dot_product_attention``'s weights), and the heads'
outputs are concatenated and projected back: a torch state dict loads as is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinygraph import functional as F
from tinygraph import ops
from tinygraph._inputs import int_arg
from tinygraph._state import scope
from tinygraph.functional.attention import attention_weights
from tinygraph.nn import init
from tinygraph.nn.linear import Linear
from tinygraph.nn.module import Module, Parameter
from tinygraph.node import Node

__all__ = ["MultiheadAttention"]


def _shape(x: object) -> tuple[int, ...]:
    return np.shape(x.data if isinstance(x, Node) else x)


def _as_node(x: object) -> Node:
    return x if isinstance(x, Node) else Node(np.asarray(x))


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017), as ``torch.nn.MultiheadAttention``.

    ``head_i = softmax(Q W_qiᵀ (K W_kiᵀ)ᵀ / √d + M) V W_viᵀ``, ``y = concat(head_1..h) W_oᵀ + b_o``.

    Parameters
    ----------
    embed_dim : int
    num_heads : int (must divide embed_dim)
    dropout : float, on the attention weights in training
    bias : bool
    batch_first : bool — inputs (N, L, E) instead of (L, N, E)
    dtype : numpy dtype of the parameters (float32)

    Attributes
    ----------
    in_proj_weight : (3E, E), the query, key and value projections stacked (Xavier uniform)
    in_proj_bias : (3E,), zeros (or None)
    out_proj : Linear(E, E) with a zero bias
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        name = "MultiheadAttention"
        embed_dim, num_heads = int_arg(name, "embed_dim", embed_dim), int_arg(name, "num_heads", num_heads)
        if embed_dim < 1 or num_heads < 1 or embed_dim % num_heads:
            raise ValueError(
                f"{name}: embed_dim ({embed_dim}) must be a positive multiple of num_heads ({num_heads})"
            )
        if add_bias_kv or add_zero_attn or (kdim not in (None, embed_dim)) or (vdim not in (None, embed_dim)):
            raise NotImplementedError(
                f"{name}: add_bias_kv, add_zero_attn and kdim/vdim != embed_dim are not implemented"
            )
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        e = self.embed_dim
        self.in_proj_weight = init.xavier_uniform_(Parameter(init.empty((3 * e, e), dtype)))
        self.in_proj_bias = init.zeros_(Parameter(init.empty((3 * e,), dtype))) if bias else None
        self.out_proj = Linear(e, e, bias=bias, dtype=dtype)
        if bias:
            init.zeros_(self.out_proj.bias)

    def _project(self, x: Node, k: int) -> Node:
        e = self.embed_dim
        w = self.in_proj_weight[k * e : (k + 1) * e]
        b = None if self.in_proj_bias is None else self.in_proj_bias[k * e : (k + 1) * e]
        return F.linear(x, w, b)

    def _heads(self, x: Node) -> Node:
        """(N, L, E) -> (N, heads, L, head_dim)."""
        n, length, _ = x.shape
        return ops.transpose(ops.reshape(x, (n, length, self.num_heads, self.head_dim)), (0, 2, 1, 3))

    def _mask(
        self, attn_mask: Any, key_padding_mask: Any, n: int, length: int, source: int, dtype
    ) -> Node | None:
        """The additive mask (N or 1, heads or 1, L, S): -inf where a boolean mask is True."""
        total = None
        for what, m, shapes in (
            ("attn_mask", attn_mask, [(length, source), (n * self.num_heads, length, source)]),
            ("key_padding_mask", key_padding_mask, [(n, source)]),
        ):
            if m is None:
                continue
            arr = m.data if isinstance(m, Node) else np.asarray(m)
            if arr.shape not in shapes:
                raise ValueError(
                    f"{self.describe()}: {what} must have shape {' or '.join(map(str, shapes))}, "
                    f"got {arr.shape}"
                )
            add = np.where(arr, -np.inf, 0.0).astype(dtype) if arr.dtype == np.bool_ else arr.astype(dtype)
            if what == "key_padding_mask":
                add = add.reshape(n, 1, 1, source)
            elif add.ndim == 3:
                add = add.reshape(n, self.num_heads, length, source)
            total = add if total is None else total + add
        return None if total is None else Node(total)

    def forward(
        self,
        query: Node,
        key: Node,
        value: Node,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Node, Node | None]:
        """Attend from ``query`` (L, N, E) to ``key``/``value`` (S, N, E) ((N, ·, E) with batch_first).

        Masks: ``attn_mask`` (L, S) or (N·heads, L, S) and ``key_padding_mask`` (N, S) — boolean
        (True: *not* allowed to attend, PyTorch's convention for this module) or float (added).
        ``is_causal`` masks the later keys (a hint in PyTorch: give attn_mask too; here it is
        applied when attn_mask is None).

        Returns
        -------
        attn_output : (L, N, E) (or (N, L, E)), and the attention weights (N, L, S) averaged over
        the heads — (N, heads, L, S) with ``average_attn_weights=False`` — or None without
        ``need_weights``.
        """
        shapes = [_shape(t) for t in (query, key, value)]
        e = self.embed_dim
        if any(len(s) not in (2, 3) or s[-1] != e for s in shapes) or len({len(s) for s in shapes}) != 1:
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ValueError(
                f"{self.describe()}: query, key and value must be {layout} with E={e}, got shapes {shapes}"
            )
        batched = len(shapes[0]) == 3
        q, k, v = (_as_node(t) for t in (query, key, value))
        if not batched:
            q, k, v = (ops.expand_dims(t, 0) for t in (q, k, v))
        elif not self.batch_first:
            q, k, v = (ops.transpose(t, (1, 0, 2)) for t in (q, k, v))
        n, length, source = q.shape[0], q.shape[1], k.shape[1]
        if k.shape[:2] != v.shape[:2] or k.shape[0] != n:
            raise ValueError(
                f"{self.describe()}: key and value must have the same batch and length, got {shapes}"
            )
        mask = self._mask(attn_mask, key_padding_mask, n, length, source, self.in_proj_weight.dtype)
        causal = is_causal and mask is None
        with scope("multi_head_attention"):
            qh, kh, vh = (self._heads(self._project(t, i)) for i, t in enumerate((q, k, v)))
            with scope("scaled_dot_product_attention"):
                weights = attention_weights(qh, kh, mask, causal)
                if self.dropout and self.training:
                    weights = F.dropout(weights, self.dropout)
                heads = ops.matmul(weights, vh)  # (N, heads, L, head_dim)
            joined = ops.reshape(ops.transpose(heads, (0, 2, 1, 3)), (n, length, e))
            out = self.out_proj(joined)
        if not batched:
            out = ops.squeeze(out, 0)
        elif not self.batch_first:
            out = ops.transpose(out, (1, 0, 2))
        if not need_weights:
            return out, None
        w = ops.mean(weights, axis=1) if average_attn_weights else weights
        return out, (w if batched else ops.squeeze(w, 0))

    def extra_repr(self) -> str:
        text = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if self.dropout:
            text += f", dropout={self.dropout}"
        return text + (", batch_first=True" if self.batch_first else "")
