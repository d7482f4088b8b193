"""``einsum``: Einstein summation over any number of operands, as one variadic primitive.

The subscripts are first written out in full (implicit outputs made explicit, ``...`` replaced by
letters), so the derivative is one more einsum: the gradient of operand i is
``einsum(out, other operands -> operand i's letters)``, broadcast over the letters that appear
in operand i only (they were summed away).
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from tinygraph.node import Node
from tinygraph.registry import Sample, primitive


def _parse(subscripts: str, ndims: list[int]) -> tuple[list[str], str]:
    """``subscripts`` for operands with ``ndims`` axes as (one letter string per operand, output)."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string such as 'ij,jk->ik', got {subscripts!r}")
    spec = subscripts.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(ndims):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(inputs)} operands, got {len(ndims)}")
    used = set(spec) - set(".,->")
    bad = sorted(c for c in used if c not in string.ascii_letters)
    if bad:
        raise ValueError(f"einsum: subscripts may hold letters only, got {bad[0]!r} in {subscripts!r}")
    spare = [c for c in string.ascii_letters if c not in used]
    n_ell = max([n - len(s.replace("...", "")) for s, n in zip(inputs, ndims) if "..." in s], default=0)
    ell = "".join(spare[:n_ell])
    out_inputs = []
    for s, n in zip(inputs, ndims):
        if "..." in s:
            k = n - len(s.replace("...", ""))
            s = s.replace("...", ell[n_ell - k :] if k else "")
        if len(s) != n:
            raise ValueError(
                f"einsum: operand {len(out_inputs)} has {n} dimensions but its subscripts {s!r} name {len(s)}"
            )
        if len(set(s)) != len(s):
            raise ValueError(
                f"einsum: repeated letters within one operand ({s!r}, a diagonal) are not supported"
            )
        out_inputs.append(s)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        letters = "".join(out_inputs)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    missing = [c for c in out if c not in "".join(out_inputs)]
    if missing or len(set(out)) != len(out):
        raise ValueError(f"einsum: output subscripts {rhs!r} must be distinct letters of the inputs")
    return out_inputs, out


def _call(xp, operands, subscripts):
    """``xp.einsum`` on a list of operands: the recording op takes the list, the raw forward ``*operands``."""
    if hasattr(xp.einsum, "opdef"):
        return xp.einsum(operands, subscripts=subscripts)
    return xp.einsum(*operands, subscripts=subscripts)


def _einsum_vjp(xp, g, z, *xs, subscripts, index):
    inputs, out = subscripts.split("->")[0].split(","), subscripts.split("->")[1]
    mine = inputs[index]
    others = [x for i, x in enumerate(xs) if i != index]
    other_subs = [s for i, s in enumerate(inputs) if i != index]
    available = set(out).union(*other_subs)
    kept = "".join(c for c in mine if c in available)
    r = _call(xp, [g, *others], ",".join([out, *other_subs]) + "->" + kept)
    if kept == mine:
        return r
    shape = tuple(n if c in kept else 1 for c, n in zip(mine, xs[index].shape))
    return xp.broadcast_to(xp.reshape(r, shape), xs[index].shape)


@primitive(
    "einsum",
    formula="z = Σ over the letters not in the output of Π operands  (e.g. 'ij,jk->ik' is a matmul)\n"
    "∂L/∂xᵢ = einsum(g, the other operands -> xᵢ's letters), broadcast over letters only xᵢ has",
    variadic_vjp=_einsum_vjp,
    samples=(
        Sample((2, 3), (3, 4), subscripts="ij,jk->ik"),
        Sample((2, 3, 4), (2, 4, 5), subscripts="bij,bjk->bik"),
        Sample((3, 4), subscripts="ij->j"),
        Sample((3,), (4,), subscripts="i,j->ij"),
        Sample((2, 3), (3,), (5, 2), subscripts="ij,j,ki->k"),
        Sample((3, 4), (3, 4), subscripts="ij,ij->"),
    ),
)
def _einsum(*operands, subscripts):
    """Einstein summation, called as ``tg.einsum("ij,jk->ik", a, b)`` (as numpy and PyTorch).

    The recorded primitive takes the operands as one list and the subscripts written out in
    full (``...`` and implicit outputs expanded by ``tg.einsum``).
    """
    return np.einsum(subscripts, *operands, optimize=len(operands) > 2)


def einsum(subscripts: str, *operands: Any) -> Node:
    """Einstein summation, as ``numpy.einsum`` and ``torch.einsum``: ``einsum("ij,jk->ik", a, b)``.

    Each operand's axes are named by letters; letters missing from the output (after ``->``, or
    in implicit mode the letters seen once, sorted) are summed over. ``...`` stands for leading
    broadcast axes. Operands may also be passed as one list, as PyTorch allows. Repeated letters
    within one operand (diagonals) are not supported.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    ndims = [x.ndim if isinstance(x, Node) else np.ndim(x) for x in operands]
    inputs, out = _parse(subscripts, ndims)
    full = ",".join(inputs) + "->" + out
    for i, (s, x) in enumerate(zip(inputs, operands)):
        shape = x.shape if isinstance(x, Node) else np.shape(x)
        for c, n in zip(s, shape):
            for k, (t, y) in enumerate(zip(inputs, operands)):
                other = y.shape if isinstance(y, Node) else np.shape(y)
                if c in t and other[t.index(c)] not in (n, 1) and n != 1:
                    raise ValueError(
                        f"einsum: letter {c!r} has size {n} in operand {i} (shape {tuple(shape)}) but "
                        f"{other[t.index(c)]} in operand {k} (shape {tuple(other)})"
                    )
    return _einsum(list(operands), subscripts=full)
