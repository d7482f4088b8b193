"""Optimizers: PyTorch's update rules step by step, in place, in float32; checkpoints; errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import nn, optim

STEPS = 5


def gradients(shape, steps=STEPS, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype(dtype) for _ in range(steps)]


def run(opt_factory, p0, grads):
    """Apply ``grads`` one per step to a parameter starting at ``p0``; return its values after each."""
    p = nn.Parameter(p0.copy())
    opt = opt_factory([p])
    values = []
    for g in grads:
        p.grad = g
        opt.step()
        values.append(p.data.copy())
    return values


def sgd_reference(
    p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
):
    """PyTorch's SGD written out with plain numpy."""
    p, buf, out = p.copy(), None, []
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p)
    return out


def adam_reference(
    p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False
):
    """PyTorch's Adam / AdamW written out with plain numpy."""
    p = p.copy()
    m, v, vmax, out = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        vmax = np.maximum(vmax, v)
        vhat = vmax if amsgrad else v
        p = p - lr / (1 - betas[0] ** t) * m / (np.sqrt(vhat) / np.sqrt(1 - betas[1] ** t) + eps)
        out.append(p)
    return out


SGD_CASES = [
    {},
    {"momentum": 0.9},
    {"momentum": 0.9, "dampening": 0.3},
    {"momentum": 0.8, "nesterov": True},
    {"momentum": 0.9, "weight_decay": 0.1},
    {"weight_decay": 0.05, "maximize": True},
]
ADAM_CASES = [
    {},
    {"betas": (0.8, 0.99), "eps": 1e-6},
    {"weight_decay": 0.1},
    {"amsgrad": True},
]


@pytest.mark.parametrize("options", SGD_CASES, ids=str)
def test_sgd_follows_the_update_rule(options):
    p0 = np.random.default_rng(1).normal(size=(3, 4))
    grads = gradients((3, 4))
    ours = run(lambda ps: optim.SGD(ps, lr=0.1, **options), p0, grads)
    for got, want in zip(ours, sgd_reference(p0, grads, 0.1, **options)):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("options", ADAM_CASES, ids=str)
def test_adam_follows_the_update_rule(options):
    p0 = np.random.default_rng(1).normal(size=(3, 4))
    grads = gradients((3, 4))
    ours = run(lambda ps: optim.Adam(ps, lr=0.01, **options), p0, grads)
    for got, want in zip(ours, adam_reference(p0, grads, 0.01, **options)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_adamw_decouples_weight_decay():
    p0 = np.random.default_rng(1).normal(size=(5,))
    grads = gradients((5,))
    ours = run(lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1), p0, grads)
    for got, want in zip(ours, adam_reference(p0, grads, 0.01, weight_decay=0.1, decoupled=True)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert optim.AdamW([nn.Parameter(np.zeros(1))]).param_groups[0]["weight_decay"] == 0.01


@pytest.mark.torch
@pytest.mark.parametrize(
    ("name", "options"),
    [("SGD", {"lr": 0.1, **o}) for o in SGD_CASES]
    + [("Adam", {"lr": 0.01, **o}) for o in ADAM_CASES]
    + [("AdamW", {"lr": 0.01, "weight_decay": 0.1})],
    ids=str,
)
def test_optimizers_match_torch_optim_step_for_step(name, options):
    torch = pytest.importorskip("torch")
    p0 = np.random.default_rng(2).normal(size=(4, 3))
    grads = gradients((4, 3), steps=8, seed=3)
    ours = run(lambda ps: getattr(optim, name)(ps, **options), p0, grads)
    tp = torch.nn.Parameter(torch.from_numpy(p0.copy()))
    topt = getattr(torch.optim, name)([tp], **options)
    for got, g in zip(ours, grads):
        tp.grad = torch.from_numpy(g)
        topt.step()
        np.testing.assert_allclose(got, tp.detach().numpy(), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize(
    "factory",
    [
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.01),
    ],
    ids=["sgd", "adam"],
)
def test_updates_are_in_place_and_keep_float32(factory):
    p = nn.Parameter(np.ones((3, 3), dtype=np.float32))
    array = p.data
    opt = factory([p])
    for _ in range(3):
        p.grad = np.full((3, 3), 0.5, dtype=np.float32)
        opt.step()
    assert p.data is array and p.dtype == np.float32
    assert not np.allclose(array, 1.0)
    assert all(v.dtype == np.float32 for s in opt.state.values() for v in s.values() if hasattr(v, "dtype"))


def test_parameters_without_gradient_are_skipped_and_zero_grad_clears():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.SGD([a, b], lr=1.0)
    a.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(a.data, 0.0)
    np.testing.assert_array_equal(b.data, 1.0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_param_groups_override_the_defaults():
    a, b = nn.Parameter(np.ones(1)), nn.Parameter(np.ones(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad = b.grad = np.ones(1)
    opt.step()
    np.testing.assert_allclose([a.data[0], b.data[0]], [0.9, 0.5])


def test_optimizer_errors_are_clear():
    p = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="empty list of parameters"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="nesterov momentum needs momentum > 0"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="lr must be non-negative"):
        optim.Adam([p], lr=-1.0)
    with pytest.raises(ValueError, match="betas must be two numbers"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="appears more than once"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="computed by op 'mul'; only leaves"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="unknown option"):
        optim.SGD([{"params": [p], "momentom": 0.9}], lr=0.1)
    with pytest.raises(TypeError, match="not a tinygraph Node"):
        optim.SGD([np.ones(2)], lr=0.1)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_optimizer_state_survives_a_checkpoint(tmp_path, name):
    """Saving mid-training and resuming gives exactly the run that never stopped."""
    options = {"lr": 0.05, "momentum": 0.9} if name == "SGD" else {"lr": 0.05, "amsgrad": True}
    grads = gradients((3,), steps=6)
    p = nn.Parameter(np.zeros(3))
    opt = getattr(optim, name)([p], **options)
    for g in grads[:3]:
        p.grad = g
        opt.step()
    tg.save({"p": p.data}, tmp_path / "model.npz")
    tg.save(opt.state_dict(), tmp_path / "optim.npz")
    for g in grads[3:]:
        p.grad = g
        opt.step()

    q = nn.Parameter(tg.load(tmp_path / "model.npz")["p"])
    resumed = getattr(optim, name)([q], lr=1.0)  # options come back from the checkpoint
    resumed.load_state_dict(tg.load(tmp_path / "optim.npz"))
    assert resumed.param_groups[0]["lr"] == 0.05
    for g in grads[3:]:
        q.grad = g
        resumed.step()
    np.testing.assert_array_equal(q.data, p.data)


def test_optimizer_load_state_dict_rejects_foreign_state():
    opt = optim.Adam([nn.Parameter(np.zeros(3))])
    with pytest.raises(KeyError, match="unexpected key"):
        opt.load_state_dict({"weights": np.zeros(3)})
    with pytest.raises(ValueError, match=r"state.0.exp_avg has shape \(4,\)"):
        opt.load_state_dict({"state.0.exp_avg": np.zeros(4)})
