"""Optimizers (``from tinygraph import optim``): SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, with
PyTorch's update rules (the learning-rate schedules that drive them are in
:mod:`tinygraph.optim.lr_scheduler`).

An optimizer holds the parameters it was given and, after ``loss.backward()``, ``step()`` updates
each one in place from its ``.grad`` (parameters whose ``.grad`` is None are skipped);
``zero_grad()`` clears the gradients before the next backward::

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in batches:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

Updates are done on the parameters' arrays in place, in their own dtype (float32 stays float32).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from tinygraph.node import Node

ParamsArg = Iterable[Node] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad`` and (de)serialisation.

    Parameters
    ----------
    params : iterable of Nodes, or of dicts ``{"params": [...], <option>: value}`` (param groups,
        each overriding the defaults for its parameters, e.g. a smaller ``lr`` for a backbone)
    defaults : the optimizer's options
    """

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Node, dict[str, Any]] = {}
        items = list(params) if not isinstance(params, Node) else [params]
        if not items:
            raise ValueError(f"{type(self).__name__}: got an empty list of parameters to optimize")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters, with options that override the defaults for them."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' entry")
        params = group["params"]
        params = [params] if isinstance(params, Node) else list(params)
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise TypeError(
                f"{name}: unknown option(s) {sorted(unknown)}; options are {sorted(self.defaults)}"
            )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Node):
                raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, not a tinygraph Node")
            if p.op is not None:
                raise ValueError(
                    f"{name}: parameter {i} ({p.name or 'unnamed'}, shape {p.shape}) was computed by "
                    f"op {p.op!r}; only leaves can be optimized"
                )
            if not np.issubdtype(p.dtype, np.floating):
                raise TypeError(
                    f"{name}: parameter {i} has dtype {p.dtype}; only floating point can be optimized"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{name}: parameter {i} ({p.name or 'unnamed'}, shape {p.shape}) appears more than once"
                )
            seen.add(id(p))
        full = {**self.defaults, **group, "params": params}
        self._validate(full)
        self.param_groups.append(full)

    def _validate(self, group: dict[str, Any]) -> None:
        for key in self._nonnegative:
            if key in group:
                group[key] = self._number(key, group[key])

    _nonnegative: tuple[str, ...] = ("lr", "weight_decay")

    def _number(self, key: str, value: Any, below: float | None = None) -> float:
        """``value`` as a float that is finite and >= 0 (and < ``below``), else a clear error."""
        name = type(self).__name__
        if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"{name}: {key} must be a number, got {value!r} ({type(value).__name__})")
        value = float(value)
        if not math.isfinite(value) or value < 0 or (below is not None and value >= below):
            bound = "non-negative and finite" + ("" if below is None else f" and below {below}")
            raise ValueError(f"{name}: {key} must be {bound}, got {value}")
        return value

    def zero_grad(self) -> None:
        """Reset the gradient of every parameter to None (PyTorch's ``set_to_none=True``)."""
        for group in self.param_groups:
            for p in group["params"]:
                p._grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        raise NotImplementedError

    @staticmethod
    def _gradients(group: dict[str, Any]) -> Iterator[tuple[Node, np.ndarray, np.ndarray]]:
        """``(parameter, its array, its gradient)`` for the group's parameters that have a gradient;
        the gradient is negated when the group maximizes."""
        maximize = group["maximize"]
        for p in group["params"]:
            g = p.grad
            if g is not None:
                yield p, p.data, (-g if maximize else g)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, np.ndarray]:
        """The options of every group and the state of every parameter, as a flat dict of arrays.

        Keys are ``param_groups.<g>.<option>`` and ``state.<i>.<name>``, where ``i`` counts the
        parameters across groups in order; the dict can be written with ``tg.save``.
        """
        out: dict[str, np.ndarray] = {}
        index = 0
        for g, group in enumerate(self.param_groups):
            for key, value in group.items():
                if key != "params":
                    out[f"param_groups.{g}.{key}"] = np.asarray(value)
            for p in group["params"]:
                for key, value in self.state.get(p, {}).items():
                    out[f"state.{index}.{key}"] = np.array(value)
                index += 1
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore options and per-parameter state saved by :meth:`state_dict` (copies are taken)."""
        name = type(self).__name__
        params = [p for group in self.param_groups for p in group["params"]]
        new_state: dict[Node, dict[str, Any]] = {}
        for key, value in state_dict.items():
            parts = key.split(".")
            if len(parts) != 3 or parts[0] not in ("param_groups", "state") or not parts[1].isdigit():
                raise KeyError(f"{name}.load_state_dict: unexpected key {key!r}")
            i, field = int(parts[1]), parts[2]
            if parts[0] == "param_groups":
                if i >= len(self.param_groups) or field not in self.defaults:
                    raise KeyError(f"{name}.load_state_dict: key {key!r} matches no group option")
                continue
            if i >= len(params):
                raise KeyError(
                    f"{name}.load_state_dict: key {key!r}: this optimizer has {len(params)} parameters"
                )
            arr = np.array(value)
            if field != "step" and arr.shape != params[i].shape:
                raise ValueError(
                    f"{name}.load_state_dict: {key} has shape {arr.shape}, the parameter has "
                    f"{params[i].shape}"
                )
            new_state.setdefault(params[i], {})[field] = (
                int(arr) if field == "step" else arr.astype(params[i].dtype, copy=False)
            )
        for key, value in state_dict.items():
            _, g, field = key.split(".")
            if key.startswith("param_groups."):
                current = self.param_groups[int(g)][field]
                if isinstance(current, tuple):
                    self.param_groups[int(g)][field] = tuple(float(v) for v in np.asarray(value))
                else:
                    self.param_groups[int(g)][field] = type(current)(np.asarray(value).item())
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for g, group in enumerate(self.param_groups):
            lines.append(f"  group {g}: {len(group['params'])} parameters")
            lines.extend(f"    {k}: {v}" for k, v in group.items() if k != "params")
        return "\n".join(lines) + "\n)"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and weight decay (PyTorch's rule).

    For each parameter ``p`` with gradient ``g``, at step ``t``::

        g ← g + λ·p                                  (weight_decay λ)
        b ← g                        if t = 1        (momentum μ > 0)
        b ← μ·b + (1 - τ)·g          otherwise       (dampening τ)
        g ← g + μ·b  if nesterov, else  g ← b
        p ← p - lr·g                                 (p + lr·g with maximize)

    Parameters
    ----------
    params : parameters or parameter groups
    lr : float
        Learning rate (required, as in PyTorch).
    momentum, dampening, weight_decay : float
    nesterov : bool
        Needs ``momentum > 0`` and ``dampening = 0``.
    maximize : bool
        Ascend the objective instead of descending it.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    _nonnegative = ("lr", "weight_decay", "momentum", "dampening")

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov momentum needs momentum > 0 and dampening = 0, got momentum="
                f"{group['momentum']} and dampening={group['dampening']}"
            )

    def step(self) -> None:
        """Apply one SGD update to every parameter that has a gradient (see the class docstring)."""
        state = self.state
        for group in self.param_groups:
            lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
            dampening, nesterov = group["dampening"], group["nesterov"]
            for p, data, g in self._gradients(group):
                if wd:
                    g = g + wd * data
                if momentum:
                    s = state.get(p)
                    if s is None:
                        buf = g.copy()
                        state[p] = {"momentum_buffer": buf}
                    else:
                        buf = s["momentum_buffer"]
                        buf *= momentum
                        buf += g if dampening == 0 else (1.0 - dampening) * g
                    g = g + momentum * buf if nesterov else buf
                data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), with PyTorch's bias correction, epsilon placement and options.

    For each parameter ``p`` with gradient ``g``, at step ``t``::

        g ← g + λ·p                                     (weight_decay λ; decoupled in AdamW)
        m ← β₁·m + (1 - β₁)·g
        v ← β₂·v + (1 - β₂)·g²
        v̂ ← max(v̂, v) with amsgrad, else v̂ ← v
        p ← p - (lr / (1 - β₁ᵗ)) · m / (√v̂ / √(1 - β₂ᵗ) + ε)

    Parameters
    ----------
    params : parameters or parameter groups
    lr : float
        Learning rate (default 1e-3).
    betas : (β₁, β₂)
        Decay rates of the gradient's running mean and running uncentred variance (0.9, 0.999).
    eps : float
        Added to the denominator for numerical stability (1e-8).
    weight_decay : float
        L2 penalty added to the gradient (default 0; AdamW: decoupled decay, default 0.01).
    amsgrad : bool
        Use the running maximum of ``v`` (Reddi et al., 2018).
    maximize : bool
        Ascend the objective instead of descending it.
    """

    decoupled_weight_decay = False
    default_weight_decay = 0.0
    _nonnegative = ("lr", "weight_decay", "eps")

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float | None = None,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        if weight_decay is None:
            weight_decay = self.default_weight_decay
        if not isinstance(betas, (tuple, list)):
            raise TypeError(f"{type(self).__name__}: betas must be a pair of numbers (β₁, β₂), got {betas!r}")
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        betas = tuple(group["betas"])
        if len(betas) != 2 or not all(isinstance(b, (int, float)) and 0.0 <= b < 1.0 for b in betas):
            raise ValueError(
                f"{type(self).__name__}: betas must be two numbers in [0, 1), got {group['betas']}"
            )
        group["betas"] = (float(betas[0]), float(betas[1]))

    def step(self) -> None:
        """Apply one Adam update to every parameter that has a gradient (see the class docstring)."""
        state = self.state
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            wd, amsgrad = group["weight_decay"], group["amsgrad"]
            for p, data, g in self._gradients(group):
                s = state.get(p)
                if s is None:
                    s = state[p] = {
                        "step": 0,
                        "exp_avg": np.zeros_like(data),
                        "exp_avg_sq": np.zeros_like(data),
                    }
                    if amsgrad:
                        s["max_exp_avg_sq"] = np.zeros_like(data)
                if wd:
                    if self.decoupled_weight_decay:
                        data *= 1.0 - lr * wd
                    else:
                        g = g + wd * data
                s["step"] = t = s["step"] + 1
                m, v = s["exp_avg"], s["exp_avg_sq"]
                m *= beta1
                m += (1.0 - beta1) * g
                v *= beta2
                v += (1.0 - beta2) * (g * g)
                if amsgrad:
                    np.maximum(s["max_exp_avg_sq"], v, out=s["max_exp_avg_sq"])
                    v = s["max_exp_avg_sq"]
                step_size = lr / (1.0 - beta1**t)
                denom = np.sqrt(v)
                denom /= math.sqrt(1.0 - beta2**t)
                denom += eps
                data -= step_size * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as PyTorch's AdamW.

    Before the Adam update (without any L2 term in ``g``): ``p ← p · (1 - lr·λ)``. The default
    ``weight_decay`` is 0.01.
    """

    decoupled_weight_decay = True
    default_weight_decay = 0.01


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), PyTorch's form, with momentum and the centred variant.

    For each parameter ``p`` with gradient ``g``::

        g ← g + λ·p                                   (weight_decay λ)
        v ← α·v + (1 - α)·g²
        ḡ ← α·ḡ + (1 - α)·g,  d ← √(v - ḡ²) + ε      (centered)   else  d ← √v + ε
        b ← μ·b + g / d,  p ← p - lr·b                (momentum μ > 0)   else  p ← p - lr·g / d

    Defaults as PyTorch: ``lr=0.01, alpha=0.99, eps=1e-8``.
    """

    _nonnegative = ("lr", "weight_decay", "eps", "momentum", "alpha")

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def step(self) -> None:
        """Apply one RMSprop update to every parameter that has a gradient (see the class docstring)."""
        for group in self.param_groups:
            lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered = group["momentum"], group["centered"]
            for p, data, g in self._gradients(group):
                s = self.state.get(p)
                if s is None:
                    s = self.state[p] = {"step": 0, "square_avg": np.zeros_like(data)}
                    if momentum > 0:
                        s["momentum_buffer"] = np.zeros_like(data)
                    if centered:
                        s["grad_avg"] = np.zeros_like(data)
                s["step"] += 1
                if wd:
                    g = g + wd * data
                v = s["square_avg"]
                v *= alpha
                v += (1.0 - alpha) * (g * g)
                if centered:
                    ga = s["grad_avg"]
                    ga *= alpha
                    ga += (1.0 - alpha) * g
                    avg = np.sqrt(v - ga * ga) + eps
                else:
                    avg = np.sqrt(v) + eps
                if momentum > 0:
                    buf = s["momentum_buffer"]
                    buf *= momentum
                    buf += g / avg
                    data -= lr * buf
                else:
                    data -= lr * (g / avg)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), PyTorch's form: steps shrink with the summed squared gradients.

    At step ``t``::

        g ← g + λ·p,   η ← lr / (1 + (t - 1)·lr_decay)
        s ← s + g²     (s starts at initial_accumulator_value)
        p ← p - η·g / (√s + ε)

    Defaults as PyTorch: ``lr=0.01, eps=1e-10``.
    """

    _nonnegative = ("lr", "weight_decay", "eps", "lr_decay", "initial_accumulator_value")

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def step(self) -> None:
        """Apply one Adagrad update to every parameter that has a gradient (see the class docstring)."""
        for group in self.param_groups:
            lr, eps, wd, decay = group["lr"], group["eps"], group["weight_decay"], group["lr_decay"]
            for p, data, g in self._gradients(group):
                s = self.state.get(p)
                if s is None:
                    s = self.state[p] = {
                        "step": 0,
                        "sum": np.full_like(data, group["initial_accumulator_value"]),
                    }
                s["step"] = t = s["step"] + 1
                if wd:
                    g = g + wd * data
                clr = lr / (1.0 + (t - 1) * decay)
                acc = s["sum"]
                acc += g * g
                data -= clr * (g / (np.sqrt(acc) + eps))


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), PyTorch's form: the step size adapts from two running averages.

    For each parameter ``p`` with gradient ``g``::

        g ← g + λ·p
        v ← ρ·v + (1 - ρ)·g²
        Δ ← √(u + ε) / √(v + ε) · g
        u ← ρ·u + (1 - ρ)·Δ²
        p ← p - lr·Δ

    Defaults as PyTorch: ``lr=1.0, rho=0.9, eps=1e-6``.
    """

    _nonnegative = ("lr", "weight_decay", "eps", "rho")

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        if group["rho"] > 1.0:
            raise ValueError(f"Adadelta: rho must be in [0, 1], got {group['rho']}")

    def step(self) -> None:
        """Apply one Adadelta update to every parameter that has a gradient (see the class docstring)."""
        for group in self.param_groups:
            lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
            for p, data, g in self._gradients(group):
                s = self.state.get(p)
                if s is None:
                    s = self.state[p] = {
                        "step": 0,
                        "square_avg": np.zeros_like(data),
                        "acc_delta": np.zeros_like(data),
                    }
                s["step"] += 1
                if wd:
                    g = g + wd * data
                v, u = s["square_avg"], s["acc_delta"]
                v *= rho
                v += (1.0 - rho) * (g * g)
                delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
                u *= rho
                u += (1.0 - rho) * (delta * delta)
                data -= lr * delta
