"""softmax, log_softmax, logsumexp and the losses: numpy references, stability, PyTorch, errors."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph.errors import OpError
from tinygraph.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(5)


def np_log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax_match_numpy(axis):
    x = RNG.standard_normal((3, 4, 5))
    np.testing.assert_allclose(
        F.log_softmax(tg.tensor(x), axis=axis).data, np_log_softmax(x, axis), atol=1e-14
    )
    s = F.softmax(tg.tensor(x), axis=axis).data
    np.testing.assert_allclose(s, np.exp(np_log_softmax(x, axis)), atol=1e-14)
    np.testing.assert_allclose(s.sum(axis=axis), 1.0)
    lse = F.logsumexp(tg.tensor(x), axis=axis).data
    np.testing.assert_allclose(lse, np.log(np.exp(x).sum(axis=axis)), atol=1e-13)


def test_stable_for_logits_of_plus_minus_1000():
    x = tg.tensor(np.array([[1000.0, -1000.0, 0.0], [1000.0, 1000.0, -1000.0]]), requires_grad=True)
    with tg.detect_anomaly():
        s = F.softmax(x)
        logp = F.log_softmax(x)
        loss = F.cross_entropy(x, np.array([1, 2]))
        loss.backward()
    assert np.isfinite(s.data).all() and np.isfinite(logp.data).all() and np.isfinite(x.grad).all()
    np.testing.assert_allclose(s.data, [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]], atol=1e-300)
    np.testing.assert_allclose(
        logp.data, [[0.0, -2000.0, -1000.0], [-np.log(2), -np.log(2), -2000 - np.log(2)]]
    )
    np.testing.assert_allclose(loss.item(), (2000.0 + 2000 + np.log(2)) / 2)
    np.testing.assert_allclose(x.grad, [[0.5, -0.5, 0.0], [0.25, 0.25, -0.5]], atol=1e-15)
    assert np.isfinite(F.logsumexp(tg.tensor([1000.0, 1000.0], dtype=np.float32)).item())


def test_softmax_family_gradients():
    x = tg.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    for fn in (F.softmax, F.log_softmax, lambda x: F.logsumexp(x, axis=0), lambda x: F.softmax(x, axis=0)):
        assert gradcheck(fn, x) and gradgradcheck(fn, x)


def test_cross_entropy_with_class_indices_one_hot_and_probabilities_agree():
    logits = RNG.standard_normal((4, 5))
    labels = np.array([0, 4, 2, 2])
    one_hot = np.eye(5)[labels]
    expected = -np_log_softmax(logits)[np.arange(4), labels]
    for reduction, value in (("none", expected), ("sum", expected.sum()), ("mean", expected.mean())):
        by_index = F.cross_entropy(tg.tensor(logits), labels, reduction=reduction)
        by_one_hot = F.cross_entropy(tg.tensor(logits), one_hot, reduction=reduction)
        np.testing.assert_allclose(by_index.data, value, atol=1e-14)
        np.testing.assert_allclose(by_one_hot.data, value, atol=1e-14)
    probs = RNG.dirichlet(np.ones(5), size=4)
    soft = F.cross_entropy(tg.tensor(logits), tg.tensor(probs), reduction="none").data
    np.testing.assert_allclose(soft, -(probs * np_log_softmax(logits)).sum(axis=1), atol=1e-14)


def test_cross_entropy_gradient_is_softmax_minus_target_over_n():
    """The lecture's L = -Σ_i Σ_c y_ic log q_ic, whose gradient w.r.t. the logits is (q - y) / N."""
    logits = tg.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    labels = np.array([2, 0, 1, 1])
    F.cross_entropy(logits, labels).backward()
    q = np.exp(np_log_softmax(logits.data))
    np.testing.assert_allclose(logits.grad, (q - np.eye(3)[labels]) / 4, atol=1e-15)


def test_loss_gradients_by_finite_differences():
    logits = tg.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    probs = tg.tensor(RNG.dirichlet(np.ones(4), size=3), requires_grad=True)
    labels = np.array([3, 0, 1])
    for r in ("mean", "sum", "none"):
        assert gradcheck(lambda x, r=r: F.cross_entropy(x, labels, reduction=r), logits)
        assert gradcheck(lambda x, p, r=r: F.cross_entropy(x, p, reduction=r), logits, probs)
        assert gradcheck(lambda x, y, r=r: F.mse_loss(x, y, reduction=r), logits, probs)
    assert gradgradcheck(lambda x: F.cross_entropy(x, labels), logits)


def test_nll_loss_and_mse_loss_values():
    logp = np_log_softmax(RNG.standard_normal((3, 4)))
    labels = np.array([1, 1, 3])
    assert np.isclose(F.nll_loss(tg.tensor(logp), labels).item(), -logp[[0, 1, 2], labels].mean())
    np.testing.assert_allclose(
        F.nll_loss(tg.tensor(logp), labels, reduction="none").data, -logp[[0, 1, 2], labels]
    )
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    assert np.isclose(F.mse_loss(tg.tensor(a), tg.tensor(b)).item(), ((a - b) ** 2).mean())
    assert np.isclose(F.mse_loss(tg.tensor(a), b, reduction="sum").item(), ((a - b) ** 2).sum())


def test_nested_composites_nest():
    """cross_entropy contains log_softmax, which contains logsumexp (recorded as such when decomposed)."""
    x = tg.randn(2, 3, requires_grad=True)
    with tg.decompose():
        loss = F.cross_entropy(x, np.array([0, 2]))
    paths = {n.scope_path for n in tg.toposort([loss]) if n.op}
    assert {
        "cross_entropy > log_softmax > logsumexp",
        "cross_entropy > log_softmax",
        "cross_entropy > nll_loss",
    } <= paths
    assert loss.dtype == np.float32


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: F.cross_entropy(tg.zeros((3, 4)), np.array([0, 4, 1])),
            r"cross_entropy: target\[1\] = 4 is out of range for 4 classes",
        ),
        (
            lambda: F.cross_entropy(tg.zeros((3, 4)), np.array([0, -1, 1])),
            r"cross_entropy: target\[1\] = -1 is out of range",
        ),
        (
            lambda: F.cross_entropy(tg.zeros((3, 4)), np.array([0, 1])),
            r"cross_entropy: target of shape \(2,\) does not fit input of shape \(3, 4\)",
        ),
        (
            lambda: F.cross_entropy(tg.zeros((3, 4)), np.zeros((3, 5))),
            r"cross_entropy: probability targets of shape \(3, 5\) must have the logits' shape \(3, 4\)",
        ),
        (
            lambda: F.cross_entropy(tg.zeros((3, 4, 2)), np.array([0, 1, 2])),
            r"cross_entropy: target of shape \(3,\) does not fit input of shape \(3, 4, 2\): class indices "
            r"must have shape \(3, 2\)",
        ),
        (
            lambda: F.cross_entropy(tg.zeros(()), np.array(0)),
            r"cross_entropy: logits must have shape \(C,\), \(N, C\) or \(N, C, d1, ...\), got shape \(\)",
        ),
        (
            lambda: F.cross_entropy(tg.zeros((3, 4)), np.array([0, 1, 2]), reduction="avg"),
            r"cross_entropy: reduction must be one of",
        ),
        (
            lambda: F.nll_loss(tg.zeros((3, 4)), np.array([True, False, True])),
            r"nll_loss: class-index targets must be integers, got dtype bool",
        ),
        (
            lambda: F.mse_loss(tg.zeros((3, 4)), tg.zeros((4, 3))),
            r"mse_loss: input of shape \(3, 4\) and target of shape \(4, 3\) differ",
        ),
        (lambda: F.softmax(tg.zeros((3, 4)), axis=2), r"softmax: axis 2 is out of range"),
    ],
)
def test_loss_errors(call, message):
    with pytest.raises(OpError, match=message):
        call()


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("target_kind", ["indices", "one_hot", "probabilities"])
def test_cross_entropy_matches_pytorch(reduction, target_kind):
    torch = pytest.importorskip("torch")
    logits = RNG.standard_normal((5, 7)) * 3
    labels = RNG.integers(0, 7, size=5)
    target = {
        "indices": labels,
        "one_hot": np.eye(7)[labels],
        "probabilities": RNG.dirichlet(np.ones(7), size=5),
    }[target_kind]
    xs = tg.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(xs, target, reduction=reduction)
    g = RNG.standard_normal(loss.shape)
    loss.backward(g)
    xt = torch.tensor(logits, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(xt, torch.tensor(target), reduction=reduction)
    lt.backward(torch.tensor(g))
    np.testing.assert_allclose(loss.data, lt.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.torch
def test_softmax_family_and_other_losses_match_pytorch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((4, 6)) * 500
    for ours, theirs in ((F.softmax, torch.softmax), (F.log_softmax, torch.log_softmax)):
        for axis in (0, 1):
            xs, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            y, yt = ours(xs, axis=axis), theirs(xt, dim=axis)
            g = RNG.standard_normal(y.shape)
            y.backward(g)
            yt.backward(torch.tensor(g))
            np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12, atol=1e-300)
            np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        F.logsumexp(tg.tensor(x), axis=0).data, torch.logsumexp(torch.tensor(x), 0).numpy()
    )
    logp = np_log_softmax(x)
    labels = np.array([5, 0, 2, 2])
    for reduction in ("mean", "sum", "none"):
        np.testing.assert_allclose(
            F.nll_loss(tg.tensor(logp), labels, reduction=reduction).data,
            torch.nn.functional.nll_loss(
                torch.tensor(logp), torch.tensor(labels), reduction=reduction
            ).numpy(),
        )
        a, b = RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2))
        np.testing.assert_allclose(
            F.mse_loss(tg.tensor(a), tg.tensor(b), reduction=reduction).data,
            torch.nn.functional.mse_loss(torch.tensor(a), torch.tensor(b), reduction=reduction).numpy(),
        )


def test_cross_entropy_with_class_indices_records_one_fused_op():
    x = tg.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 2, 1, 1]))
    assert loss.op == "softmax_cross_entropy" and loss.scope_path == "cross_entropy"
    assert [n.op for n in tg.toposort([loss])] == [None, "softmax_cross_entropy"]
    assert tg.REGISTRY["softmax_cross_entropy"].fuses == "cross_entropy"
    probs = np.full((4, 3), 1 / 3, dtype=np.float32)
    assert F.cross_entropy(x, probs).op != "softmax_cross_entropy"  # probabilities: the definition


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("scale", ["normal", "huge", "far_below_zero", "mixed_rows", "with_minus_inf"])
def test_fused_cross_entropy_equals_its_definition(dtype, reduction, scale):
    """Values and gradients of the fused op and of nll_loss(log_softmax(x)), on easy and extreme logits."""
    target = np.array([0, 4, 1, 3, 2, 2])
    x = RNG.standard_normal((6, 5))
    x = {
        "normal": x,
        "huge": x * 1000,  # exp overflows: the stable path
        "far_below_zero": x - 900,  # every exp underflows: the stable path
        "mixed_rows": x + np.array([[0.0], [80], [-80], [300], [-300], [5]]),
        "with_minus_inf": np.where(np.arange(5) == (target[:, None] + 1) % 5, -np.inf, x),  # off target
    }[scale].astype(dtype)
    seed = RNG.standard_normal(6).astype(dtype) if reduction == "none" else None
    results = []
    for decomposed in (False, True):
        logits = tg.tensor(x, requires_grad=True)
        with tg.decompose() if decomposed else contextlib.nullcontext():
            loss = F.cross_entropy(logits, target, reduction=reduction)
        loss.backward(seed)
        assert loss.dtype == dtype and logits.grad.dtype == dtype
        results.append((loss.data, logits.grad))
    (fused, fused_grad), (reference, reference_grad) = results
    tol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(fused, reference, rtol=tol, atol=0)
    np.testing.assert_allclose(fused_grad, reference_grad, rtol=tol, atol=tol)
    assert np.isfinite(fused).all() and np.isfinite(fused_grad).all()


def test_fused_cross_entropy_propagates_nan_and_keeps_the_saved_softmax_intact():
    x = tg.tensor([[0.0, np.nan], [1.0, 2.0]], requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 1]), reduction="none")
    assert np.isnan(loss.data[0]) and np.isfinite(loss.data[1])
    y = tg.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    loss = F.cross_entropy(y, np.array([0, 1, 3]))
    loss.backward()
    first = y.grad.copy()
    y.grad *= 0  # writing into .grad must not reach what the graph saved for its backward
    loss.backward()
    np.testing.assert_array_equal(y.grad, first)


def test_fused_cross_entropy_second_derivatives():
    x = tg.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    for reduction in ("mean", "sum", "none"):

        def fn(x, reduction=reduction):
            return F.cross_entropy(x, np.array([1, 0, 3]), reduction=reduction)

        assert gradgradcheck(fn, x)


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("target_kind", ["indices", "indices_some_ignored", "probabilities"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_options_match_pytorch(reduction, target_kind, weighted, label_smoothing):
    """weight, ignore_index and label_smoothing, with PyTorch's denominators for "mean"."""
    torch = pytest.importorskip("torch")
    logits = RNG.standard_normal((6, 5)) * 2
    labels = np.array([0, 4, 1, 3, 2, 2])
    target = {
        "indices": labels,
        "indices_some_ignored": np.where([False, True, False, False, True, False], 7, labels),
        "probabilities": RNG.dirichlet(np.ones(5), size=6),
    }[target_kind]
    weight = np.array([0.5, 2.0, 1.0, 3.0, 0.25]) if weighted else None
    options = {"weight": weight, "label_smoothing": label_smoothing}
    if target_kind == "indices_some_ignored":
        options["ignore_index"] = 7
    xs = tg.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(xs, target, reduction=reduction, **options)
    g = RNG.standard_normal(loss.shape)
    loss.backward(g)
    xt = torch.tensor(logits, requires_grad=True)
    options_t = {**options, "weight": None if weight is None else torch.tensor(weight)}
    lt = torch.nn.functional.cross_entropy(xt, torch.tensor(target), reduction=reduction, **options_t)
    lt.backward(torch.tensor(g))
    np.testing.assert_allclose(loss.data, lt.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_weight_and_ignore_index_match_pytorch(reduction):
    torch = pytest.importorskip("torch")
    logp = np_log_softmax(RNG.standard_normal((5, 4)))
    labels = np.array([3, -100, 0, 3, 1])
    weight = np.array([0.5, 2.0, 1.0, 3.0])
    xs = tg.tensor(logp, requires_grad=True)
    loss = F.nll_loss(xs, labels, reduction=reduction, weight=weight)
    g = RNG.standard_normal(loss.shape)
    loss.backward(g)
    xt = torch.tensor(logp, requires_grad=True)
    lt = torch.nn.functional.nll_loss(
        xt, torch.tensor(labels), weight=torch.tensor(weight), reduction=reduction
    )
    lt.backward(torch.tensor(g))
    np.testing.assert_allclose(loss.data, lt.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_options_take_the_definition_and_every_ignored_target_gives_nan():
    x = tg.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    assert F.cross_entropy(x, _LABELS_3).op == "softmax_cross_entropy"
    for options in ({"weight": np.ones(4)}, {"label_smoothing": 0.1}):
        assert F.cross_entropy(x, _LABELS_3, **options).op != "softmax_cross_entropy"
    assert F.cross_entropy(x, np.array([1, -100, 2])).op != "softmax_cross_entropy"
    with np.errstate(invalid="ignore"):
        assert np.isnan(F.cross_entropy(x, np.full(3, -100)).item())  # as PyTorch: 0 / 0
    np.testing.assert_allclose(  # uniform weights change nothing
        F.cross_entropy(x, _LABELS_3, weight=np.full(4, 2.0)).item(), F.cross_entropy(x, _LABELS_3).item()
    )


_LABELS_3 = np.array([1, 0, 3])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"weight": np.ones(3)}, r"cross_entropy: weight must be a 1-D array of 4 numbers.*shape \(3,\)"),
        ({"weight": np.ones((4, 1))}, r"cross_entropy: weight must be a 1-D array of 4 numbers"),
        ({"label_smoothing": 1.5}, r"cross_entropy: label_smoothing must be a number in \[0, 1\], got 1.5"),
        ({"label_smoothing": "0.1"}, r"cross_entropy: label_smoothing must be a number in \[0, 1\]"),
        ({"ignore_index": 1.0}, r"cross_entropy: ignore_index must be an int, got 1.0"),
    ],
)
def test_cross_entropy_option_errors(options, message):
    with pytest.raises(OpError, match=message):
        F.cross_entropy(tg.zeros((3, 4)), _LABELS_3, **options)


def test_cross_entropy_refuses_integer_logits():
    with pytest.raises(OpError, match=r"cross_entropy: logits must be floating point, got dtype int64"):
        F.cross_entropy(tg.tensor(np.array([[1, 2, 3]])), [0])
    loss = F.cross_entropy(tg.tensor(np.array([[1, 2, 3]], dtype=np.float16)), [0])
    assert loss.dtype == np.float16 and np.isclose(float(loss.item()), 2.4076, atol=2e-3)


def test_ignore_index_is_for_class_indices_only_and_other_targets_stay_checked():
    with pytest.raises(OpError, match="ignore_index applies to class-index targets only"):
        F.cross_entropy(tg.zeros((2, 3)), np.full((2, 3), 1 / 3), ignore_index=0)
    with pytest.raises(OpError, match=r"target\[1\] = -1 is out of range for 3 classes.*ignore_index=-100"):
        F.cross_entropy(tg.zeros((2, 3)), np.array([0, -1]))
    with pytest.raises(OpError, match=r"nll_loss: target\[0\] = 5 is out of range"):
        F.nll_loss(tg.zeros((2, 3)), np.array([5, 9]), ignore_index=9)


@pytest.mark.parametrize("ignore_index", [-100, 2, 3, 7])
def test_class_index_checks_agree_whether_ignore_index_is_a_class_or_not(ignore_index):
    # The check takes a shortcut (min and max) when ignore_index cannot be a class; the results
    # and the errors must be the same as the masked path's.
    logits = tg.tensor(np.random.default_rng(3).standard_normal((4, 5)), requires_grad=True)
    target = np.array([0, 2, 4, 2])
    loss = F.cross_entropy(logits, target, ignore_index=ignore_index)
    kept = target != ignore_index
    z = logits.data - logits.data.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = -logp[np.arange(4), target][kept].mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    with pytest.raises(OpError, match=r"target\[3\] = 5 is out of range for 5 classes"):
        F.cross_entropy(logits, np.array([0, 2, 4, 5]), ignore_index=ignore_index)
    with pytest.raises(OpError, match=r"target\[0\] = -1 is out of range"):
        F.cross_entropy(logits, np.array([-1, 2, 4, 2]), ignore_index=ignore_index)
    with pytest.raises(OpError, match="class-index targets must be integers, got dtype bool"):
        F.cross_entropy(logits, np.array([True, False, True, False]))
