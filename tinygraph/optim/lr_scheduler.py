"""Learning-rate schedules, stepped as in PyTorch: ``scheduler.step()`` once per epoch (or per batch
for OneCycleLR), after ``optimizer.step()``::

    opt = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    for epoch in range(epochs):
        train(...)               # opt.step() for each batch
        scheduler.step()

Each schedule sets ``group["lr"]`` of every parameter group of the optimizer; ``get_last_lr()``
gives the values it set last. The update rules are PyTorch's (its recursive "chainable" forms,
so a schedule composes with manual changes of the learning rate as it does there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tinygraph.optim.optimizers import Optimizer

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "MultiStepLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "StepLR",
]


def _check_optimizer(name: str, optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: expected a tinygraph optimizer, got {type(optimizer).__name__}")
    return optimizer


class LRScheduler:
    """Base class: holds the optimizer, the epoch counter ``last_epoch`` and the initial rates.

    Subclasses define :meth:`get_lr`, the rates for epoch ``last_epoch`` computed from the current
    ones. Construction performs the first step (epoch 0), as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = _check_optimizer(type(self).__name__, optimizer)
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rates of each parameter group for epoch ``last_epoch``."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last :meth:`step`, one per parameter group."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch and set the new learning rates."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (``load_state_dict`` restores it)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by :meth:`state_dict`."""
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: ``lr = base · γ^(epoch // step_size)``."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = step_size, float(gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each epoch listed in ``milestones``."""

    def __init__(
        self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        hits = self.milestones.count(self.last_epoch)
        return [lr * self.gamma**hits for lr in self._lrs()]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: ``lr = base · γ^epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing (Loshchilov & Hutter's SGDR without restarts), PyTorch's recursive form.

    ``lr_t = η_min + (base - η_min) · (1 + cos(π t / T_max)) / 2`` when nothing else changes the
    rate; past ``T_max`` the rate climbs back, a cosine of period ``2 T_max``.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max!r}")
        self.T_max, self.eta_min = T_max, float(eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, eta = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return self._lrs()
        if self._step_count == 1 and t > 0:  # started from a saved epoch: the closed form
            return [eta + (base - eta) * (1 + math.cos(t * math.pi / T)) / 2 for base in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [
                lr + (base - eta) * (1 - math.cos(math.pi / T)) / 2
                for lr, base in zip(self._lrs(), self.base_lrs)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta) + eta for lr in self._lrs()]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): warm up from ``max_lr / div_factor`` to ``max_lr``, then
    anneal to ``max_lr / (div_factor · final_div_factor)``; stepped once per *batch*.

    The momentum (or Adam's β₁) cycles the other way, between ``max_momentum`` and
    ``base_momentum``, when ``cycle_momentum``. ``total_steps`` or ``epochs · steps_per_epoch``
    steps in all; ``three_phase`` adds a symmetric descent before the final annealing, as PyTorch.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        name = "OneCycleLR"
        _check_optimizer(name, optimizer)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(f"{name}: give total_steps, or both epochs and steps_per_epoch")
            total_steps = int(epochs) * int(steps_per_epoch)
        if int(total_steps) < 1:
            raise ValueError(f"{name}: total_steps must be a positive integer, got {total_steps}")
        if not 0.0 <= float(pct_start) <= 1.0:
            raise ValueError(f"{name}: pct_start must be in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.total_steps = int(total_steps)
        self.anneal_strategy = anneal_strategy
        groups = optimizer.param_groups
        max_lrs = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * len(groups)
        if len(max_lrs) != len(groups):
            raise ValueError(f"{name}: expected {len(groups)} values of max_lr, got {len(max_lrs)}")
        self._max_lrs = [float(m) for m in max_lrs]
        self._initial = [m / div_factor for m in self._max_lrs]
        self._min = [i / final_div_factor for i in self._initial]
        # (last step of the phase, lr from, lr to, momentum from, momentum to)
        up = float(pct_start * self.total_steps) - 1
        if three_phase:
            down = float(2 * pct_start * self.total_steps) - 2
            self._phases = [
                (up, "initial", "max", "max_m", "base_m"),
                (down, "max", "initial", "base_m", "max_m"),
                (self.total_steps - 1, "initial", "min", "max_m", "max_m"),
            ]
        else:
            self._phases = [
                (up, "initial", "max", "max_m", "base_m"),
                (self.total_steps - 1, "max", "min", "base_m", "max_m"),
            ]
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self._use_beta1 = "betas" in optimizer.defaults
            if not self._use_beta1 and "momentum" not in optimizer.defaults:
                raise ValueError(f"{name}: optimizer {type(optimizer).__name__} has no momentum to cycle")
            self._momenta = (float(base_momentum), float(max_momentum))
            for group in groups:
                self._set_momentum(group, float(max_momentum))
        for group, lr in zip(groups, self._initial):
            group["lr"] = lr
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict[str, Any], m: float) -> None:
        if self._use_beta1:
            group["betas"] = (m, *group["betas"][1:])
        else:
            group["momentum"] = m

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: stepped {step} times, more than total_steps={self.total_steps} "
                "(step once per batch)"
            )
        lrs = []
        for g, group in enumerate(self.optimizer.param_groups):
            values = {
                "initial": self._initial[g],
                "max": self._max_lrs[g],
                "min": self._min[g],
                **({"base_m": self._momenta[0], "max_m": self._momenta[1]} if self.cycle_momentum else {}),
            }
            start_step = 0.0
            for i, (end_step, start, end, m_start, m_end) in enumerate(self._phases):
                if step <= end_step or i == len(self._phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(values[start], values[end], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(values[m_start], values[m_end], pct))
                    break
                start_step = end_step
        return lrs


class ReduceLROnPlateau:
    """Divide the rate by ``1/factor`` when a metric has stopped improving for ``patience`` epochs.

    ``scheduler.step(val_loss)`` once per epoch. A value is an improvement when it beats the best
    so far by ``threshold`` (relative, ``threshold_mode="rel"``, or absolute, ``"abs"``); after a
    reduction, ``cooldown`` epochs pass before bad epochs are counted again. Rates never go below
    ``min_lr``, and changes smaller than ``eps`` are skipped, as in PyTorch.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        name = "ReduceLROnPlateau"
        self.optimizer = _check_optimizer(name, optimizer)
        if not 0.0 <= float(factor) < 1.0:
            raise ValueError(f"{name}: factor must be in [0, 1), got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        groups = optimizer.param_groups
        self.min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * len(groups)
        if len(self.min_lrs) != len(groups):
            raise ValueError(f"{name}: expected {len(groups)} values of min_lr, got {len(self.min_lrs)}")
        self.mode, self.factor, self.patience = mode, float(factor), int(patience)
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.cooldown, self.eps = int(cooldown), float(eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in groups]

    def is_better(self, a: float, best: float) -> bool:
        """Whether ``a`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            return a < (
                best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold
            )
        return a > (best * (1.0 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold)

    def step(self, metrics: Any) -> None:
        """Record this epoch's metric (a number or a one-element Node) and reduce the rate if due."""
        try:
            current = float(metrics)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"ReduceLROnPlateau.step: the metric must be a number, got {metrics!r}") from exc
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                old = group["lr"]
                new = max(old * self.factor, floor)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates after the last :meth:`step`, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by :meth:`state_dict`."""
        self.__dict__.update(state_dict)
