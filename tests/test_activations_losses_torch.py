"""The activations and losses PyTorch users reach for: values and gradients against torch (float64),
modules, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn
from tinygraph.errors import OpError

RNG = np.random.default_rng(7)


def _both(fn_tg, fn_torch, *arrays, grad_of=(0,)):
    """Value and gradients of sum(out · r) with tinygraph and with torch, compared in float64."""
    torch = pytest.importorskip("torch")
    xs = [tg.tensor(a, requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    ts = [torch.tensor(a, requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    out, tout = fn_tg(*xs), fn_torch(*ts)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    if not grad_of:
        return
    r = RNG.normal(size=out.shape)
    (out * r).sum().backward() if out.ndim else (out * float(r)).backward()
    (tout * torch.tensor(r)).sum().backward()
    for i in grad_of:
        np.testing.assert_allclose(xs[i].grad, ts[i].grad.numpy(), rtol=1e-9, atol=1e-12)


X = np.concatenate([RNG.normal(size=20) * 3, [-50.0, -30.0, -1e-3, 1e-3, 30.0, 50.0]]).reshape(2, 13)


ACTIVATIONS = [
    ("gelu", lambda x: F.gelu(x), lambda t, x: t.nn.functional.gelu(x)),
    ("gelu_tanh", lambda x: F.gelu(x, "tanh"), lambda t, x: t.nn.functional.gelu(x, approximate="tanh")),
    ("silu", F.silu, lambda t, x: t.nn.functional.silu(x)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1), lambda t, x: t.nn.functional.leaky_relu(x, 0.1)),
    ("elu", lambda x: F.elu(x, 0.7), lambda t, x: t.nn.functional.elu(x, 0.7)),
    ("softplus", F.softplus, lambda t, x: t.nn.functional.softplus(x)),
    ("softplus_beta", lambda x: F.softplus(x, 2.0, 5.0), lambda t, x: t.nn.functional.softplus(x, 2.0, 5.0)),
    ("relu6", F.relu6, lambda t, x: t.nn.functional.relu6(x)),
    ("hardtanh", lambda x: F.hardtanh(x, -2.0, 3.0), lambda t, x: t.nn.functional.hardtanh(x, -2.0, 3.0)),
    ("logsigmoid", F.logsigmoid, lambda t, x: t.nn.functional.logsigmoid(x)),
]


@pytest.mark.torch
@pytest.mark.parametrize(("name", "ours", "theirs"), ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_matches_torch(name, ours, theirs):
    torch = pytest.importorskip("torch")
    _both(ours, lambda x: theirs(torch, x), X)


@pytest.mark.torch
def test_activation_modules_match_torch():
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.GELU(), torch.nn.GELU()),
        (nn.GELU("tanh"), torch.nn.GELU("tanh")),
        (nn.SiLU(), torch.nn.SiLU()),
        (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
        (nn.ELU(), torch.nn.ELU()),
        (nn.Softplus(beta=0.5), torch.nn.Softplus(beta=0.5)),
        (nn.ReLU6(), torch.nn.ReLU6()),
        (nn.Hardtanh(), torch.nn.Hardtanh()),
        (nn.LogSigmoid(), torch.nn.LogSigmoid()),
        (nn.Softmax(dim=0), torch.nn.Softmax(dim=0)),
        (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)),
        (nn.Identity(3, foo=1), torch.nn.Identity(3, foo=1)),
    ]
    for ours, theirs in pairs:
        _both(ours, theirs, X)


def test_activations_keep_float32_and_stay_finite():
    x = tg.tensor(np.array([-1000.0, -5.0, 0.0, 5.0, 1000.0], np.float32), requires_grad=True)
    for fn in (F.gelu, F.silu, F.elu, F.softplus, F.logsigmoid, F.leaky_relu, F.relu6):
        x.grad = None
        y = fn(x)
        assert y.dtype == np.float32
        y.sum().backward()
        assert np.isfinite(y.data).all() and np.isfinite(x.grad).all(), fn


def test_activation_errors_are_clear():
    x = tg.randn(3)
    with pytest.raises(OpError, match="gelu: approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(x, "fast")
    with pytest.raises(OpError, match=r"hardtanh: min_val \(2.0\) must not exceed max_val \(1.0\)"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(OpError, match="leaky_relu: negative_slope must be a number, got 'a'"):
        F.leaky_relu(x, "a")
    with pytest.raises(ValueError, match="GELU: approximate"):
        nn.GELU("erf")


# ----------------------------------------------------------------------------- losses
P = RNG.uniform(0.02, 0.98, size=(4, 3))
Y = (RNG.uniform(size=(4, 3)) > 0.5).astype(np.float64)
Z = RNG.normal(size=(4, 3)) * 4
W = RNG.uniform(0.5, 2.0, size=(4, 3))
PW = np.array([0.5, 1.0, 3.0])


def _losses(t):
    f = t.nn.functional
    return [
        ("l1", lambda a, b: F.l1_loss(a, b), lambda a, b: f.l1_loss(a, b)),
        ("l1_none", lambda a, b: F.l1_loss(a, b, "none"), lambda a, b: f.l1_loss(a, b, reduction="none")),
        (
            "smooth_l1",
            lambda a, b: F.smooth_l1_loss(a, b, beta=2.0),
            lambda a, b: f.smooth_l1_loss(a, b, beta=2.0),
        ),
        (
            "smooth_l1_0",
            lambda a, b: F.smooth_l1_loss(a, b, beta=0.0),
            lambda a, b: f.smooth_l1_loss(a, b, beta=0.0),
        ),
        ("huber", lambda a, b: F.huber_loss(a, b, "sum", 0.5), lambda a, b: f.huber_loss(a, b, "sum", 0.5)),
        ("bce_logits", F.binary_cross_entropy_with_logits, f.binary_cross_entropy_with_logits),
        (
            "bce_logits_weights",
            lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight=W, pos_weight=PW, reduction="sum"),
            lambda a, b: f.binary_cross_entropy_with_logits(
                a, b, weight=t.tensor(W), pos_weight=t.tensor(PW), reduction="sum"
            ),
        ),
    ]


@pytest.mark.torch
@pytest.mark.parametrize("k", range(7))
def test_pointwise_losses_match_torch(k):
    torch = pytest.importorskip("torch")
    _, ours, theirs = _losses(torch)[k]
    _both(ours, theirs, Z, Z[::-1].copy() * 0.5, grad_of=(0, 1))
    _both(ours, theirs, Z, Y, grad_of=(0, 1))


@pytest.mark.torch
def test_binary_cross_entropy_matches_torch():
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    _both(F.binary_cross_entropy, f.binary_cross_entropy, P, Y, grad_of=(0, 1))
    _both(
        lambda a, b: F.binary_cross_entropy(a, b, weight=W, reduction="none"),
        lambda a, b: f.binary_cross_entropy(a, b, weight=torch.tensor(W), reduction="none"),
        P,
        Y,
    )
    # the log clamp at -100: p = 0 and p = 1 give PyTorch's finite losses
    edge = np.array([0.0, 1.0, 0.5])
    _both(F.binary_cross_entropy, f.binary_cross_entropy, edge, np.array([1.0, 0.0, 1.0]), grad_of=())


@pytest.mark.torch
def test_bce_with_logits_is_stable_for_huge_logits():
    torch = pytest.importorskip("torch")
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    _both(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
        lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(a, b, reduction="none"),
        z,
        y,
    )


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:reduction. .mean. divides")
@pytest.mark.parametrize("reduction", ["mean", "sum", "batchmean", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    torch = pytest.importorskip("torch")
    logp = np.log(RNG.dirichlet(np.ones(5), size=3))
    q = RNG.dirichlet(np.ones(5), size=3)
    q[0, 1] = 0.0  # a zero target contributes 0
    target = np.log(q + 1e-3) if log_target else q
    _both(
        lambda a, b: F.kl_div(a, b, reduction, log_target=log_target),
        lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction, log_target=log_target),
        logp,
        target,
        grad_of=(0, 1) if log_target else (0,),
    )


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll_on_spatial_and_unbatched_inputs(reduction):
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    logits = RNG.normal(size=(2, 4, 3, 5))
    target = RNG.integers(0, 4, size=(2, 3, 5))
    target[0, 1, 2] = -100
    w = RNG.uniform(0.5, 2.0, size=4)
    tt = torch.tensor(target)
    _both(
        lambda a: F.cross_entropy(a, target, reduction),
        lambda a: f.cross_entropy(a, tt, reduction=reduction),
        logits,
    )
    _both(
        lambda a: F.cross_entropy(a, target, reduction, weight=w, label_smoothing=0.1),
        lambda a: f.cross_entropy(a, tt, weight=torch.tensor(w), reduction=reduction, label_smoothing=0.1),
        logits,
    )
    _both(
        lambda a: F.nll_loss(a, target, reduction), lambda a: f.nll_loss(a, tt, reduction=reduction), logits
    )
    probs = RNG.dirichlet(np.ones(4), size=(2, 3, 5)).transpose(0, 3, 1, 2).copy()
    _both(
        lambda a, b: F.cross_entropy(a, b, reduction),
        lambda a, b: f.cross_entropy(a, b, reduction=reduction),
        logits,
        probs,
        grad_of=(0, 1),
    )
    one = RNG.normal(size=4)  # (C,) with a scalar class index
    _both(
        lambda a: F.cross_entropy(a, np.array(2), reduction),
        lambda a: f.cross_entropy(a, torch.tensor(2), reduction=reduction),
        one,
    )
    _both(
        lambda a: F.nll_loss(a, np.array(1), reduction),
        lambda a: f.nll_loss(a, torch.tensor(1), reduction=reduction),
        one,
    )
    _both(
        lambda a, b: F.cross_entropy(a, b, reduction),
        lambda a, b: f.cross_entropy(a, b, reduction=reduction),
        one,
        probs[0, :, 0, 0].copy(),
        grad_of=(0, 1),
    )


@pytest.mark.torch
def test_loss_modules_match_torch():
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.L1Loss(), torch.nn.L1Loss(), Z, Y),
        (nn.SmoothL1Loss(beta=0.5), torch.nn.SmoothL1Loss(beta=0.5), Z, Y),
        (nn.HuberLoss(delta=2.0), torch.nn.HuberLoss(delta=2.0), Z, Y),
        (nn.BCELoss(weight=W), torch.nn.BCELoss(weight=torch.tensor(W)), P, Y),
        (
            nn.BCEWithLogitsLoss(pos_weight=PW),
            torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(PW)),
            Z,
            Y,
        ),
        (
            nn.KLDivLoss(reduction="batchmean"),
            torch.nn.KLDivLoss(reduction="batchmean"),
            np.log(P),
            P[::-1].copy(),
        ),
    ]
    for ours, theirs, a, b in pairs:
        _both(ours, theirs, a, b)
    logp = np.log(RNG.dirichlet(np.ones(3), size=4))
    t = np.array([0, 2, 1, 2])
    _both(
        lambda a: nn.NLLLoss(weight=PW)(a, t),
        lambda a: torch.nn.NLLLoss(weight=torch.tensor(PW))(a, torch.tensor(t)),
        logp,
    )


def test_loss_errors_are_clear():
    with pytest.raises(OpError, match=r"l1_loss: input of shape \(3,\) and target of shape \(4,\) differ"):
        F.l1_loss(tg.zeros(3), np.zeros(4))
    with pytest.raises(OpError, match=r"binary_cross_entropy: input must hold probabilities in \[0, 1\]"):
        F.binary_cross_entropy(tg.tensor([0.5, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(OpError, match="huber_loss: delta must be a finite number > 0, got 0"):
        F.huber_loss(tg.zeros(3), np.zeros(3), delta=0)
    with pytest.raises(OpError, match="kl_div: reduction must be one of"):
        F.kl_div(tg.zeros(3), np.zeros(3), reduction="avg")
    with pytest.raises(OpError, match=r"pos_weight of shape \(4,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(tg.zeros((2, 3)), np.zeros((2, 3)), pos_weight=np.ones(4))
    with pytest.raises(
        OpError, match=r"nll_loss: target of shape \(2, 3\) does not fit input of shape \(2, 4, 5\)"
    ):
        F.nll_loss(tg.zeros((2, 4, 5)), np.zeros((2, 3), np.int64))
    with pytest.raises(OpError, match=r"cross_entropy: target\[3\] = 7 is out of range for 4 classes"):
        F.cross_entropy(tg.zeros((2, 4, 2)), np.array([[0, 1], [2, 7]]))
