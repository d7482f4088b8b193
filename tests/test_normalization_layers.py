"""BatchNorm, LayerNorm, GroupNorm, Embedding, ModuleDict, Module.apply and nn.init: against torch
in float64 (same weights -> same outputs, gradients and running statistics), and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import load_from_torch, module_matches

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn
from tinygraph.errors import OpError

RNG = np.random.default_rng(3)


@pytest.mark.torch
@pytest.mark.parametrize(
    ("kind", "shape", "kwargs"),
    [
        ("BatchNorm1d", (6, 3), {}),
        ("BatchNorm1d", (4, 3, 5), {"momentum": 0.3}),
        ("BatchNorm2d", (3, 3, 4, 2), {}),
        ("BatchNorm2d", (3, 3, 4, 2), {"momentum": None}),
        ("BatchNorm2d", (3, 3, 4, 2), {"affine": False, "eps": 1e-2}),
        ("BatchNorm1d", (5, 3), {"track_running_stats": False}),
    ],
)
def test_batchnorm_matches_torch_in_train_and_eval(kind, shape, kwargs):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, kind)(3, dtype=torch.float64, **kwargs)
    ours = getattr(nn, kind)(3, dtype=np.float64, **kwargs)
    if ours.affine:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            theirs.bias.uniform_(-0.5, 0.5)
    load_from_torch(ours, theirs)
    for _ in range(3):  # training steps update the running statistics
        theirs.zero_grad()
        ours.zero_grad()
        module_matches(ours, theirs, RNG.normal(2.0, 3.0, size=shape), RNG, atol=1e-10)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-12, err_msg=key)
    ours.eval()
    theirs.eval()
    theirs.zero_grad()
    ours.zero_grad()
    module_matches(ours, theirs, RNG.normal(size=shape), RNG, atol=1e-10)


def test_batchnorm_buffers_have_pytorch_names_and_eval_uses_them():
    bn = nn.BatchNorm1d(2)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    x = np.array([[1.0, 10.0], [3.0, 30.0]], np.float32)
    bn(tg.tensor(x))
    np.testing.assert_allclose(bn.running_mean, [0.2, 2.0], rtol=1e-6)  # 0.9·0 + 0.1·mean
    np.testing.assert_allclose(bn.running_var, [0.9 + 0.1 * 2.0, 0.9 + 0.1 * 200.0], rtol=1e-6)  # unbiased
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    y = bn(tg.tensor(x))
    np.testing.assert_allclose(y.data, (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-5), rtol=1e-5)
    assert int(bn.num_batches_tracked) == 1  # evaluation does not count


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3, .*expected an input of shape \(N, 3, H, W\)"):
        nn.BatchNorm2d(3)(tg.randn(2, 3, 4))
    with pytest.raises(OpError, match="expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(tg.randn(1, 3))
    with pytest.raises(ValueError, match="momentum must be in"):
        nn.BatchNorm1d(3, momentum=2.0)
    with pytest.raises(OpError, match=r"batch_norm: running_mean must be an array of shape \(3,\)"):
        F.batch_norm(tg.randn(4, 3), np.zeros(2), np.ones(3))


@pytest.mark.torch
def test_layernorm_and_groupnorm_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs, shape in [
        (nn.LayerNorm(5, dtype=np.float64), torch.nn.LayerNorm(5, dtype=torch.float64), (3, 5)),
        (nn.LayerNorm((2, 5), dtype=np.float64), torch.nn.LayerNorm((2, 5), dtype=torch.float64), (3, 2, 5)),
        (
            nn.LayerNorm(4, elementwise_affine=False, dtype=np.float64),
            torch.nn.LayerNorm(4, elementwise_affine=False, dtype=torch.float64),
            (2, 3, 4),
        ),
        (nn.GroupNorm(2, 6, dtype=np.float64), torch.nn.GroupNorm(2, 6, dtype=torch.float64), (3, 6, 2, 3)),
        (
            nn.GroupNorm(3, 3, eps=1e-3, dtype=np.float64),
            torch.nn.GroupNorm(3, 3, eps=1e-3, dtype=torch.float64),
            (2, 3, 5),
        ),
    ]:
        with torch.no_grad():
            for p in theirs.parameters():
                p.uniform_(-1.0, 1.0)
        load_from_torch(ours, theirs)
        module_matches(ours, theirs, RNG.normal(1.0, 2.0, size=shape), RNG, atol=1e-10)


def test_norm_errors():
    with pytest.raises(ValueError, match=r"LayerNorm\(\(4,\).*trailing axes are \(4,\), got shape \(2, 5\)"):
        nn.LayerNorm(4)(tg.randn(2, 5))
    with pytest.raises(
        ValueError, match=r"GroupNorm: num_channels \(6\) must be divisible by num_groups \(4\)"
    ):
        nn.GroupNorm(4, 6)
    with pytest.raises(
        OpError, match=r"group_norm: the 6 channels of input \(2, 6\) cannot be split into 4 groups"
    ):
        F.group_norm(tg.randn(2, 6), 4)


@pytest.mark.torch
def test_embedding_matches_torch_with_padding_idx():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Embedding(5, 3, padding_idx=1, dtype=torch.float64)
    ours = nn.Embedding(5, 3, padding_idx=1, dtype=np.float64)
    assert not ours.weight.data[1].any()
    load_from_torch(ours, theirs)
    idx = np.array([[0, 1, 4], [4, 4, 2]])
    out, tout = ours(idx), theirs(torch.tensor(idx))
    np.testing.assert_allclose(out.data, tout.detach().numpy())
    r = RNG.normal(size=out.shape)
    (out * r).sum().backward()
    (tout * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-12)
    assert not ours.weight.grad[1].any()


def test_embedding_errors():
    emb = nn.Embedding(4, 2)
    with pytest.raises(OpError, match=r"embedding: index 4 is out of range for 4 embeddings"):
        emb(np.array([0, 4]))
    with pytest.raises(OpError, match="embedding: indices must be integers, got dtype float64"):
        emb(np.array([0.0, 1.0]))


def test_moduledict_identity_and_apply():
    heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 2)})
    heads["extra"] = nn.Identity()
    assert list(heads) == ["cls", "box", "extra"] and "box" in heads and len(heads) == 3
    assert [k for k, _ in heads.named_parameters()] == ["cls.weight", "cls.bias", "box.weight", "box.bias"]
    assert heads["cls"].weight.name == "cls.weight"
    with pytest.raises(KeyError, match="ModuleDict: no module 'nope'; keys are"):
        heads["nope"]
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 1)))
    seen = []

    def init_weights(m):
        seen.append(type(m).__name__)
        if isinstance(m, nn.Linear):
            nn.init.ones_(m.weight)

    assert model.apply(init_weights) is model
    assert seen == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]  # children first
    assert all((p.data == 1).all() for n, p in model.named_parameters() if n.endswith("weight"))


def test_init_functions_have_pytorch_names_and_statistics():
    tg.manual_seed(0)
    w = nn.Parameter(np.empty((400, 300)))
    fan_in, fan_out = 300, 400
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert w.data.std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.02)
    nn.init.kaiming_normal_(w, mode="fan_out")
    assert w.data.std() == pytest.approx(np.sqrt(2 / (1 + 0.0)) / np.sqrt(fan_out), rel=0.02)
    nn.init.xavier_normal_(w, gain=2.0)
    assert w.data.std() == pytest.approx(2.0 * np.sqrt(2 / (fan_in + fan_out)), rel=0.02)
    nn.init.xavier_uniform_(w)
    assert np.abs(w.data).max() <= np.sqrt(6 / (fan_in + fan_out))
    nn.init.kaiming_uniform_(w, a=np.sqrt(5))
    assert np.abs(w.data).max() <= 1 / np.sqrt(fan_in)
    nn.init.normal_(w, 1.0, 0.5)
    assert w.data.mean() == pytest.approx(1.0, abs=0.01) and w.data.std() == pytest.approx(0.5, rel=0.02)
    nn.init.uniform_(w, -3, -2)
    assert w.data.min() >= -3 and w.data.max() <= -2
    nn.init.constant_(w, 0.25)
    assert (w.data == 0.25).all()
    nn.init.ones_(w)
    assert (w.data == 1).all()
    nn.init.zeros_(w)
    assert not w.data.any()
    nn.init.trunc_normal_(w, std=1.0, a=-0.5, b=0.5)
    assert np.abs(w.data).max() <= 0.5
    with pytest.raises(ValueError, match="kaiming_normal_: mode must be 'fan_in' or 'fan_out'"):
        nn.init.kaiming_normal_(w, mode="in")
