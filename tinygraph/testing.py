"""Gradient checking: analytic gradients from the engine against central finite differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygraph.autodiff import grad
from tinygraph.errors import GradcheckError
from tinygraph.node import Node


def _outputs(result: Any) -> tuple[Node, ...]:
    items = result if isinstance(result, (tuple, list)) else (result,)
    return tuple(o for o in items if isinstance(o, Node))


def _projected(fn: Callable[..., Any], inputs: tuple[Any, ...], weights: list[np.ndarray]) -> float:
    outs = _outputs(fn(*inputs))
    return float(sum(np.sum(o.data.astype(np.float64) * w) for o, w in zip(outs, weights)))


def _unpacked(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """The inputs, also when given PyTorch's way: one tuple of them (``gradcheck(fn, (x, y))``)."""
    if len(inputs) == 1 and isinstance(inputs[0], tuple) and any(isinstance(x, Node) for x in inputs[0]):
        return inputs[0]
    return inputs


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s analytic gradients against central differences; return True or raise.

    The outputs are projected on fixed random weights ``v`` (``L = Σ v · fn(inputs)``), and for
    every element ``i`` of every input that requires grad::

        numeric_i = (L(x + eps·e_i) - L(x - eps·e_i)) / (2·eps)

    must match the analytic ``∂L/∂x_i`` within ``atol + rtol·|numeric_i|``.

    Parameters
    ----------
    fn : callable returning a Node or a tuple of Nodes
    *inputs : the arguments of ``fn``; Nodes with ``requires_grad=True`` are checked and must be
        float64 (finite differences in float32 are too coarse to mean anything). One tuple of
        them is accepted too, as ``torch.autograd.gradcheck(fn, (x, y))`` takes them.
    eps, atol, rtol : step and tolerances.

    Raises
    ------
    GradcheckError
        Naming the input, the element, the analytic and the numeric value.
    """
    inputs = _unpacked(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Node) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; gradcheck needs float64 inputs")
    outs = _outputs(fn(*inputs))
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(o.shape) for o in outs]
    live = [(o, w) for o, w in zip(outs, weights) if o.requires_grad]
    if live:
        analytic = grad(
            [o for o, _ in live], [inputs[i] for i in checked],
            grad_outputs=[w for _, w in live], allow_unused=True,
        )  # fmt: skip
    else:
        analytic = (None,) * len(checked)
    for i, a in zip(checked, analytic):
        x = inputs[i]
        a_values = np.zeros(x.shape) if a is None else a.data
        for idx in np.ndindex(*x.shape):
            # x.data afresh for each write: the evaluations record x again, which makes the array
            # read-only until a backward reads it (tinygraph._inplace); x.data carries writes through.
            original = x.data[idx].copy()
            x.data[idx] = original + eps
            plus = _projected(fn, inputs, weights)
            x.data[idx] = original - eps
            minus = _projected(fn, inputs, weights)
            x.data[idx] = original
            numeric = (plus - minus) / (2 * eps)
            analytic_i = float(a_values[idx])
            if not abs(analytic_i - numeric) <= atol + rtol * abs(numeric):
                raise GradcheckError(
                    f"gradcheck: input {i}, element {idx}: analytic gradient {analytic_i:.8g} but "
                    f"numeric {numeric:.8g} (difference {abs(analytic_i - numeric):.3g} exceeds "
                    f"atol + rtol·|numeric| = {atol + rtol * abs(numeric):.3g})"
                )
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck the recorded gradient ``v · ∂fn/∂inputs`` itself.

    The first derivatives are computed with ``grad(..., create_graph=True)``, so this checks that
    every local-derivative rule is itself correctly differentiable.
    """
    inputs = _unpacked(inputs)
    checked = [x for x in inputs if isinstance(x, Node) and x.requires_grad]
    outs = _outputs(fn(*inputs))
    rng = np.random.default_rng(seed + 1)
    weights = [rng.standard_normal(o.shape) for o in outs]

    def first_derivatives(*xs: Any) -> tuple[Node, ...]:
        live = [(o, w) for o, w in zip(_outputs(fn(*xs)), weights) if o.requires_grad]
        if not live:
            return ()
        chosen = [x for x in xs if isinstance(x, Node) and x.requires_grad]
        grads = grad([o for o, _ in live], chosen, grad_outputs=[w for _, w in live],
                     create_graph=True, allow_unused=True)  # fmt: skip
        return tuple(g for g in grads if g is not None)

    if not checked:
        raise ValueError("gradgradcheck: no input requires grad, so there is nothing to check")
    return gradcheck(first_derivatives, *inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
