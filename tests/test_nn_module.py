"""nn.Module and nn.Parameter: registration, dotted names, modes, state dicts, repr."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        return self.out(tg.relu(self.hidden(x)))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Dropout(0.5))
        self.mlp = MLP()
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))

    def forward(self, x):
        return self.mlp(self.features(x)) * self.scale


def test_parameter_is_a_trainable_leaf_node():
    p = nn.Parameter(np.zeros((2, 3), dtype=np.float32))
    assert isinstance(p, tg.Node)
    assert p.requires_grad and p.is_leaf and p.op is None
    assert p.dtype == np.float32 and p.shape == (2, 3)
    assert repr(p).startswith("Parameter(")
    with pytest.raises(TypeError, match="floating point"):
        nn.Parameter(np.arange(3))
    frozen = nn.Parameter(np.zeros(2), requires_grad=False)
    assert not frozen.requires_grad


def test_named_parameters_are_dotted_and_in_registration_order():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "scale",
        "features.0.weight",
        "features.0.bias",
        "mlp.hidden.weight",
        "mlp.hidden.bias",
        "mlp.out.weight",
        "mlp.out.bias",
    ]  # a module's own parameters first, then each submodule's (as PyTorch)
    # parameters() yields the very same nodes
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]


def test_parameter_name_is_its_dotted_path_whatever_the_order_of_assembly():
    net = Net()
    for name, p in net.named_parameters():
        assert p.name == name
    # a parent attached before its child is filled in still gets full names
    outer = nn.Module()
    outer.block = nn.Module()
    outer.block.fc = nn.Linear(2, 2)
    assert outer.block.fc.weight.name == "block.fc.weight"


def test_parameter_names_show_in_the_graph():
    mlp = MLP()
    loss = mlp(tg.randn(2, 4)).sum()
    leaves = [n for n in tg.toposort([loss]) if isinstance(n, nn.Parameter)]
    assert {n.name for n in leaves} == {"hidden.weight", "hidden.bias", "out.weight", "out.bias"}


def test_shared_parameters_are_listed_once():
    net = nn.Module()
    layer = nn.Linear(3, 3)
    net.a = layer
    net.b = layer
    assert len(list(net.parameters())) == 2
    assert net.num_parameters() == 12


def test_reassigning_an_attribute_unregisters_it():
    m = MLP()
    m.out = None
    assert [n for n, _ in m.named_parameters()] == ["hidden.weight", "hidden.bias"]
    del m.hidden
    assert list(m.parameters()) == []


def test_assigning_before_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_zero_grad_resets_every_gradient():
    m = MLP()
    m(tg.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_train_and_eval_reach_every_submodule_and_drive_dropout():
    net = Net()
    assert net.training and net.features[2].training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    x = tg.ones((64, 4))
    np.testing.assert_array_equal(net.features[2](x).data, x.data)
    net.train()
    assert all(m.training for m in net.modules())
    dropped = net.features[2](x).data
    assert set(np.unique(dropped)) == {0.0, 2.0}


def test_requires_grad_freezes_parameters():
    m = MLP().requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    assert m.num_parameters(trainable_only=True) == 0
    assert m.num_parameters() == 4 * 8 + 8 + 8 * 3 + 3


def test_state_dict_round_trip_reproduces_outputs():
    tg.manual_seed(1)
    a = Net().eval()
    tg.manual_seed(2)
    b = Net().eval()
    x = tg.randn(3, 4)
    assert not np.allclose(a(x).data, b(x).data)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(x).data, b(x).data)
    # values were copied, not aliased
    b.mlp.out.bias.data[...] = 5.0
    assert not np.allclose(a.mlp.out.bias.data, 5.0)


def test_state_dict_holds_the_live_arrays_as_pytorch_does():
    m = MLP()
    sd = m.state_dict()
    assert list(sd) == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert sd["hidden.weight"] is m.hidden.weight.data


def test_load_state_dict_accepts_nodes_and_keeps_the_parameter_dtype_and_identity():
    m = MLP()
    weight = m.hidden.weight
    sd = {k: tg.tensor(np.full(v.shape, 0.5)) for k, v in m.state_dict().items()}  # float64 values
    m.load_state_dict(sd)
    assert m.hidden.weight is weight and weight.dtype == np.float32
    np.testing.assert_array_equal(weight.data, 0.5)


def test_load_state_dict_strict_names_missing_and_unexpected_keys():
    m = MLP()
    sd = dict(m.state_dict())
    del sd["out.bias"]
    sd["out.gain"] = np.ones(3)
    with pytest.raises(KeyError) as info:
        m.load_state_dict(sd)
    message = str(info.value)
    assert "MLP" in message and "'out.bias'" in message and "'out.gain'" in message
    assert "missing" in message and "unexpected" in message


def test_load_state_dict_non_strict_reports_keys_and_loads_the_rest():
    m = MLP()
    sd = {"hidden.bias": np.full(8, 3.0, dtype=np.float32), "extra": np.zeros(1)}
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["hidden.weight", "out.weight", "out.bias"]
    assert result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(m.hidden.bias.data, 3.0)


def test_load_state_dict_shape_mismatch_names_key_and_both_shapes_and_changes_nothing():
    m = MLP()
    before = m.hidden.bias.data.copy()
    sd = dict(m.state_dict())
    sd = {k: v.copy() + 1 for k, v in sd.items()}
    sd["out.weight"] = np.zeros((3, 9), dtype=np.float32)
    with pytest.raises(ValueError, match=r"out\.weight: checkpoint \(3, 9\), model \(3, 8\)"):
        m.load_state_dict(sd)
    np.testing.assert_array_equal(m.hidden.bias.data, before)


def test_buffers_are_saved_and_loaded():
    m = nn.Module()
    m.register_buffer("running_mean", np.zeros(3, dtype=np.float32))
    m.fc = nn.Linear(3, 1)
    assert list(m.state_dict()) == ["fc.weight", "fc.bias", "running_mean"]
    sd = {k: np.ones_like(v) for k, v in m.state_dict().items()}
    m.load_state_dict(sd)
    np.testing.assert_array_equal(m.running_mean, 1.0)


def test_repr_shows_structure_and_parameter_counts():
    text = repr(MLP())
    assert text.splitlines()[0] == "MLP("
    assert "(hidden): Linear(in_features=4, out_features=8, bias=True)  # 40 params" in text
    assert "(out): Linear(in_features=8, out_features=3, bias=True)  # 27 params" in text
    assert text.splitlines()[-1] == ")  # 67 params"
    assert repr(nn.ReLU()) == "ReLU()"


def test_sequential_indexing_slicing_append_and_named_entries():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    assert head(tg.ones((1, 2))).shape == (1, 3)
    seq.append(nn.Sigmoid())
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear", "Sigmoid"]
    named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.Tanh()))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    assert named.fc is named[0]
    with pytest.raises(IndexError, match="out of range"):
        seq[7]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), tg.relu)


def test_module_list_registers_its_entries():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3
    assert [n for n, _ in layers.named_parameters()][-1] == "2.bias"
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 2
    assert layers[-1] is list(layers)[2]
    with pytest.raises(NotImplementedError, match="ModuleList does not define forward"):
        layers(tg.ones(2))


def test_training_a_module_reduces_the_loss():
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    m = MLP()
    opt = tg.optim.SGD(m.parameters(), lr=0.5)
    first = None
    for _ in range(100):
        opt.zero_grad()
        loss = F.cross_entropy(m(tg.tensor(x)), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.5 * first


def test_tied_parameters_save_once_and_load_back():
    net = nn.Module()
    net.enc = nn.Linear(3, 3, bias=False)
    net.dec = nn.Linear(3, 3, bias=False)
    net.dec.weight = net.enc.weight  # weight tying
    sd = net.state_dict()
    assert list(sd) == ["enc.weight"]
    net.load_state_dict({"enc.weight": np.eye(3, dtype=np.float32)})
    np.testing.assert_array_equal(net.dec.weight.data, np.eye(3))


def test_register_buffer_refuses_a_name_in_use():
    m = MLP()
    with pytest.raises(KeyError, match="already has a parameter or submodule 'hidden'"):
        m.register_buffer("hidden", np.zeros(2))
    with pytest.raises(ValueError, match="not a valid attribute name"):
        m.register_buffer("a.b", np.zeros(2))
