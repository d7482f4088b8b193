"""RMSprop, Adagrad, Adadelta, AdamW, parameter groups, the lr schedulers, gradient clipping and the
DataLoader: step for step against torch (float64) where it is installed, and clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import nn, optim
from tinygraph.data import DataLoader, Dataset, TensorDataset
from tinygraph.optim import lr_scheduler

RNG = np.random.default_rng(11)
P0 = [RNG.normal(size=(3, 2)), RNG.normal(size=(4,))]
GRADS = [[RNG.normal(size=p.shape) for p in P0] for _ in range(6)]


def _run_both(ours_cls, torch_name, groups_kwargs=None, **kwargs):
    """The same gradients fed to our optimizer and torch's; parameters compared after each step."""
    torch = pytest.importorskip("torch")
    ps = [nn.Parameter(p.copy()) for p in P0]
    ts = [torch.tensor(p.copy(), requires_grad=True) for p in P0]
    if groups_kwargs is None:
        ours, theirs = ours_cls(ps, **kwargs), getattr(torch.optim, torch_name)(ts, **kwargs)
    else:
        ours = ours_cls([{"params": [ps[0]], **groups_kwargs}, {"params": [ps[1]]}], **kwargs)
        theirs = getattr(torch.optim, torch_name)(
            [{"params": [ts[0]], **groups_kwargs}, {"params": [ts[1]]}], **kwargs
        )
    for grads in GRADS:
        for p, t, g in zip(ps, ts, grads):
            p.grad, t.grad = g, torch.tensor(g)
        ours.step()
        theirs.step()
        for p, t in zip(ps, ts):
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)


OPTIMIZERS = [
    (optim.RMSprop, "RMSprop", {}),
    (
        optim.RMSprop,
        "RMSprop",
        {"lr": 0.05, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
    ),
    (optim.RMSprop, "RMSprop", {"momentum": 0.9, "maximize": True}),
    (optim.Adagrad, "Adagrad", {}),
    (
        optim.Adagrad,
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.01, "initial_accumulator_value": 0.3},
    ),
    (optim.Adadelta, "Adadelta", {}),
    (optim.Adadelta, "Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.2, "maximize": True}),
    (optim.AdamW, "AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
]


@pytest.mark.torch
@pytest.mark.parametrize(
    ("cls", "name", "kwargs"), OPTIMIZERS, ids=[f"{o[1]}-{i}" for i, o in enumerate(OPTIMIZERS)]
)
def test_optimizer_matches_torch_step_for_step(cls, name, kwargs):
    _run_both(cls, name, **kwargs)


@pytest.mark.torch
def test_parameter_groups_with_their_own_options_match_torch():
    _run_both(optim.RMSprop, "RMSprop", groups_kwargs={"lr": 0.1, "momentum": 0.5}, lr=0.01)
    _run_both(optim.Adadelta, "Adadelta", groups_kwargs={"rho": 0.5, "weight_decay": 0.1}, lr=0.7)
    _run_both(optim.Adagrad, "Adagrad", groups_kwargs={"lr_decay": 0.1}, lr=0.2)


def test_new_optimizers_checkpoint_round_trip():
    for cls in (optim.RMSprop, optim.Adagrad, optim.Adadelta):
        p = nn.Parameter(np.ones(3))
        opt = cls([p], lr=0.1)
        p.grad = np.array([1.0, -2.0, 3.0])
        opt.step()
        q = nn.Parameter(p.data.copy())
        restored = cls([q], lr=0.1)
        restored.load_state_dict(opt.state_dict())
        p.grad = q.grad = np.array([0.5, 0.5, -1.0])
        opt.step()
        restored.step()
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, "abc", None, True])
def test_bad_learning_rates_are_refused_clearly(bad):
    p = nn.Parameter(np.ones(2))
    for cls in (optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad, optim.Adadelta):
        expected = TypeError if isinstance(bad, (str, type(None), bool)) else ValueError
        with pytest.raises(expected, match=rf"{cls.__name__}: lr must be"):
            cls([p], lr=bad)
    with pytest.raises(ValueError, match=r"RMSprop: lr must be non-negative and finite, got nan"):
        optim.RMSprop([{"params": [p], "lr": math.nan}], lr=0.1)
    with pytest.raises(TypeError, match=r"Adadelta: rho must be a number, got 'x'"):
        optim.Adadelta([p], rho="x")


# ----------------------------------------------------------------------------- schedulers
def _schedules_match(make_ours, make_theirs, steps=25, optimizer="SGD", metrics=None, per_group=False):
    torch = pytest.importorskip("torch")
    ps = [nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(1))]
    ts = [torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)]
    kwargs = {"lr": 0.1, "momentum": 0.9} if optimizer == "SGD" else {"lr": 0.1}
    ours_opt = getattr(optim, optimizer)([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.5}], **kwargs)
    their_opt = getattr(torch.optim, optimizer)(
        [{"params": [ts[0]]}, {"params": [ts[1]], "lr": 0.5}], **kwargs
    )
    ours, theirs = make_ours(ours_opt), make_theirs(torch, their_opt)
    for step in range(steps):
        np.testing.assert_allclose(
            ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12, err_msg=f"step {step}"
        )
        for key in ("momentum", "betas"):
            if key in ours_opt.defaults:
                for g, h in zip(ours_opt.param_groups, their_opt.param_groups):
                    np.testing.assert_allclose(g[key], h[key], rtol=1e-12, err_msg=f"{key} at step {step}")
        ours_opt.step()
        their_opt.step()
        if metrics is None:
            ours.step()
            theirs.step()
        else:
            ours.step(metrics[step])
            theirs.step(metrics[step])


SCHEDULES = [
    (
        "StepLR",
        lambda o: lr_scheduler.StepLR(o, 4, gamma=0.5),
        lambda t, o: t.optim.lr_scheduler.StepLR(o, 4, gamma=0.5),
    ),
    (
        "MultiStepLR",
        lambda o: lr_scheduler.MultiStepLR(o, [3, 7, 7, 12], gamma=0.3),
        lambda t, o: t.optim.lr_scheduler.MultiStepLR(o, [3, 7, 7, 12], gamma=0.3),
    ),
    (
        "ExponentialLR",
        lambda o: lr_scheduler.ExponentialLR(o, 0.9),
        lambda t, o: t.optim.lr_scheduler.ExponentialLR(o, 0.9),
    ),
    (
        "CosineAnnealingLR",
        lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.01),
        lambda t, o: t.optim.lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.01),
    ),
    (
        "OneCycleLR",
        lambda o: lr_scheduler.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=26),
        lambda t, o: t.optim.lr_scheduler.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=26),
    ),
    (
        "OneCycleLR-linear-3phase",
        lambda o: lr_scheduler.OneCycleLR(
            o, 1.0, epochs=5, steps_per_epoch=6, anneal_strategy="linear", three_phase=True
        ),
        lambda t, o: t.optim.lr_scheduler.OneCycleLR(
            o, 1.0, epochs=5, steps_per_epoch=6, anneal_strategy="linear", three_phase=True
        ),
    ),
]


@pytest.mark.torch
@pytest.mark.parametrize(("name", "ours", "theirs"), SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedule_matches_torch_step_for_step(name, ours, theirs):
    _schedules_match(ours, theirs)


@pytest.mark.torch
def test_onecycle_cycles_adams_beta1_like_torch():
    _schedules_match(
        lambda o: lr_scheduler.OneCycleLR(o, 0.3, total_steps=20, pct_start=0.25),
        lambda t, o: t.optim.lr_scheduler.OneCycleLR(o, 0.3, total_steps=20, pct_start=0.25),
        steps=20,
        optimizer="Adam",
    )


@pytest.mark.torch
@pytest.mark.parametrize(
    "kwargs",
    [
        {"patience": 2},
        {
            "mode": "max",
            "factor": 0.5,
            "patience": 1,
            "threshold": 0.1,
            "threshold_mode": "abs",
            "cooldown": 2,
        },
        {"patience": 0, "min_lr": [0.02, 0.3]},
    ],
)
def test_reduce_on_plateau_matches_torch(kwargs):
    metrics = [
        1.0,
        0.9,
        0.95,
        0.95,
        0.96,
        0.8,
        0.8,
        0.81,
        0.82,
        0.83,
        0.9,
        0.7,
        0.7,
        0.7,
        0.7,
        0.7,
        0.69,
        0.7,
        0.7,
        0.71,
    ]
    _schedules_match(
        lambda o: lr_scheduler.ReduceLROnPlateau(o, **kwargs),
        lambda t, o: t.optim.lr_scheduler.ReduceLROnPlateau(o, **kwargs),
        steps=len(metrics),
        metrics=metrics,
    )


def test_step_lr_formula_and_scheduler_errors():
    p = nn.Parameter(np.zeros(1))
    opt = optim.SGD([p], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    np.testing.assert_allclose(lrs, [1.0, 1.0, 0.1, 0.1, 0.01, 0.01])
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive integer, got 0"):
        lr_scheduler.StepLR(opt, 0)
    with pytest.raises(TypeError, match="ExponentialLR: expected a tinygraph optimizer"):
        lr_scheduler.ExponentialLR(object(), 0.9)
    with pytest.raises(ValueError, match="OneCycleLR: optimizer Adagrad has no momentum to cycle"):
        lr_scheduler.OneCycleLR(optim.Adagrad([p]), 1.0, total_steps=10)
    one = lr_scheduler.OneCycleLR(optim.SGD([p], lr=0.1, momentum=0.9), 1.0, total_steps=2)
    one.step()
    one.step()
    with pytest.raises(ValueError, match="OneCycleLR: stepped 3 times, more than total_steps=2"):
        one.step()


# ----------------------------------------------------------------------------- clipping
@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ps = [nn.Parameter(np.zeros(g.shape)) for g in GRADS[0]]
    ts = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in GRADS[0]]
    for p, t, g in zip(ps, ts, GRADS[0]):
        p.grad, t.grad = g.copy(), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
    their_total = torch.nn.utils.clip_grad_norm_(ts, max_norm, norm_type)
    assert total.item() == pytest.approx(their_total.item(), rel=1e-12)
    for p, t in zip(ps, ts):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_and_errors():
    p = nn.Parameter(np.zeros(4))
    p.grad = np.array([-3.0, -0.5, 0.2, 9.0])
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad, [-1.0, -0.5, 0.2, 1.0])
    p.grad = np.array([np.nan, 1.0, 0.0, 0.0])
    with pytest.raises(
        RuntimeError, match=r"clip_grad_norm_: the total norm of order 2\.0 of the gradients is nan"
    ):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    with pytest.raises(TypeError, match="clip_grad_norm_: parameter 0 is a ndarray"):
        nn.utils.clip_grad_norm_([np.ones(2)], 1.0)


# ----------------------------------------------------------------------------- data
def test_dataloader_batches_shuffles_with_a_seed_and_drops_last():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[0].shape for b in batches] == [(4, 1), (4, 1), (2, 1)]
    assert all(isinstance(t, tg.Node) and not t.requires_grad for b in batches for t in b)
    np.testing.assert_array_equal(batches[2][1].data, [8, 9])
    dropped = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and len(list(dropped)) == 2
    a = DataLoader(TensorDataset(x, y), batch_size=3, shuffle=True, seed=5)
    b = DataLoader(TensorDataset(x, y), batch_size=3, shuffle=True, seed=5)
    first = np.concatenate([yb.data for _, yb in a])
    np.testing.assert_array_equal(first, np.concatenate([yb.data for _, yb in b]))
    assert sorted(first) == list(range(10)) and list(first) != list(range(10))
    second = np.concatenate([yb.data for _, yb in a])  # a new epoch, a new order
    assert list(second) != list(first)


def test_dataloader_over_a_custom_dataset_collates_into_nodes():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full((2, 2), float(i)), i * i

    xb, yb = next(iter(DataLoader(Squares(), batch_size=2)))
    assert xb.shape == (2, 2, 2) and yb.data.tolist() == [0, 1]
    with pytest.raises(NotImplementedError, match="Dataset does not define __len__"):
        len(Dataset())
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive integer, got 0"):
        DataLoader(Squares(), batch_size=0)
    with pytest.raises(ValueError, match=r"TensorDataset: the arrays must share their first dimension"):
        TensorDataset(np.zeros(3), np.zeros(4))
