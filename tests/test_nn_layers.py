"""The layers: formulas, shapes, default initialisation, clear errors, and PyTorch agreement."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn
from tinygraph.testing import gradcheck

RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.float32):
    return RNG.normal(size=shape).astype(dtype)


# ----------------------------------------------------------------------------- Linear
def test_linear_is_x_wT_plus_b():
    layer = nn.Linear(4, 3)
    x = rand(5, 4)
    y = layer(tg.tensor(x))
    assert y.dtype == np.float32 and y.shape == (5, 3)
    np.testing.assert_allclose(y.data, x @ layer.weight.data.T + layer.bias.data, rtol=1e-6)
    assert nn.Linear(4, 3, bias=False).bias is None


def test_linear_wrong_input_names_layer_and_shapes():
    with pytest.raises(ValueError) as info:
        nn.Linear(4, 3)(tg.randn(2, 5))
    message = str(info.value)
    assert "Linear(in_features=4, out_features=3" in message and "(2, 5)" in message and "4" in message


def test_linear_default_init_is_pytorch_kaiming_uniform():
    tg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    w, b = layer.weight.data, layer.bias.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound
    # U(-a, a) has standard deviation a/√3
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound


def test_init_is_reproducible_with_manual_seed():
    tg.manual_seed(3)
    a = nn.Conv2d(2, 4, 3).weight.data.copy()
    tg.manual_seed(3)
    b = nn.Conv2d(2, 4, 3).weight.data
    np.testing.assert_array_equal(a, b)


def test_init_helpers():
    w = nn.Parameter(np.empty((6, 4, 3, 3), dtype=np.float32))
    assert nn.init.fan_in_and_fan_out(w.shape) == (36, 54)
    nn.init.xavier_uniform_(w)
    assert np.abs(w.data).max() <= np.sqrt(6 / 90)
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    assert np.abs(w.data).max() <= np.sqrt(2) * np.sqrt(3 / 36)
    nn.init.zeros_(w)
    assert not w.data.any()
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        nn.init.calculate_gain("softsign")


# ----------------------------------------------------------------------------- Conv2d
def test_conv2d_layer_shape_params_and_repr():
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    assert conv.weight.shape == (8, 3, 3, 3) and conv.bias.shape == (8,)
    assert conv(tg.randn(2, 3, 9, 9)).shape == (2, 8, 5, 5)
    assert repr(conv) == "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))  # 224 params"
    bound = 1 / np.sqrt(27)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound


def test_conv2d_wrong_channels_names_layer_and_shape():
    with pytest.raises(
        ValueError, match=r"Conv2d\(3, 8.*expected an input of shape \(N, 3, H, W\).*\(2, 4, 9, 9\)"
    ):
        nn.Conv2d(3, 8, 3)(tg.randn(2, 4, 9, 9))
    with pytest.raises(ValueError, match=r"Conv2d: kernel_size must be an int or a sequence of 2 ints"):
        nn.Conv2d(3, 8, (3, 3, 3))


# ----------------------------------------------------------------------------- LocallyConnected2d
def locally_connected_reference(x, w, b, stride, padding):
    """The layer's formula as explicit loops over positions."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow, c_out, _, kh, kw = w.shape
    y = np.zeros((x.shape[0], c_out, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
            y[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w[i, j]) + b[:, i, j]
    return y


@pytest.mark.parametrize(("size", "kernel", "stride", "padding"), [(5, 3, 1, 0), (6, 2, 2, 1), (4, 3, 1, 1)])
def test_locally_connected_matches_its_formula(size, kernel, stride, padding):
    layer = nn.LocallyConnected2d(2, 3, size, kernel, stride=stride, padding=padding, dtype=np.float64)
    x = rand(4, 2, size, size, dtype=np.float64)
    y = layer(tg.tensor(x))
    expected = locally_connected_reference(x, layer.weight.data, layer.bias.data, stride, padding)
    np.testing.assert_allclose(y.data, expected, rtol=1e-10, atol=1e-12)


def test_locally_connected_with_tied_weights_is_a_convolution():
    """Sharing one filter across positions turns the locally connected layer into Conv2d."""
    lc = nn.LocallyConnected2d(2, 3, 6, 3, padding=1, bias=False, dtype=np.float64)
    conv = nn.Conv2d(2, 3, 3, padding=1, bias=False, dtype=np.float64)
    lc.weight.data[...] = conv.weight.data  # broadcast the shared filter to every position
    x = tg.tensor(rand(2, 2, 6, 6, dtype=np.float64))
    np.testing.assert_allclose(lc(x).data, conv(x).data, rtol=1e-10, atol=1e-12)


def test_locally_connected_gradients():
    layer = nn.LocallyConnected2d(1, 2, 4, 2, stride=2, dtype=np.float64)
    x = tg.tensor(rand(2, 1, 4, 4, dtype=np.float64), requires_grad=True)
    assert gradcheck(lambda x, w, b: layer(x), x, layer.weight, layer.bias)


def test_locally_connected_parameter_count_of_the_lecture_example():
    """200×200 image, 40K hidden units, 10×10 filters: 4M weights (a conv filter has 100)."""
    layer = nn.LocallyConnected2d(1, 1, 209, 10, bias=False)
    assert layer.output_size == (200, 200)
    assert layer.num_parameters() == 4_000_000
    assert nn.Conv2d(1, 1, 10, bias=False).num_parameters() == 100


def test_locally_connected_fixes_its_input_size():
    layer = nn.LocallyConnected2d(1, 2, 5, 3)
    with pytest.raises(ValueError, match=r"built for inputs of size \(5, 5\), got shape \(1, 1, 6, 6\)"):
        layer(tg.randn(1, 1, 6, 6))


# ----------------------------------------------------------------------------- pooling, activations
def test_pooling_layers_call_the_functional_ops():
    x = tg.tensor(rand(2, 3, 6, 6))
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).data, F.max_pool2d(x, 2).data)
    np.testing.assert_array_equal(
        nn.MaxPool2d(3, stride=1, padding=1)(x).data, F.max_pool2d(x, 3, stride=1, padding=1).data
    )
    np.testing.assert_array_equal(nn.AvgPool2d(3, stride=3)(x).data, F.avg_pool2d(x, 3, stride=3).data)
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 3, 1, 1)
    np.testing.assert_allclose(
        nn.AdaptiveAvgPool2d(1)(x).data[..., 0, 0], x.data.mean(axis=(2, 3)), rtol=1e-5
    )
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2))"


def test_adaptive_pooling_gives_a_fixed_size_for_any_input():
    pool = nn.AdaptiveAvgPool2d((2, 3))
    for size in (6, 7, 11):
        assert pool(tg.randn(1, 2, size, size + 1)).shape == (1, 2, 2, 3)


def test_activations():
    x = rand(3, 4)
    np.testing.assert_array_equal(nn.ReLU()(tg.tensor(x)).data, np.maximum(x, 0))
    np.testing.assert_allclose(nn.Tanh()(tg.tensor(x)).data, np.tanh(x), rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(tg.tensor(x)).data, 1 / (1 + np.exp(-x)), rtol=1e-6)


def test_maxout_takes_the_max_over_groups_of_channels():
    x = rand(2, 6, 3, 3)
    y = nn.Maxout(3)(tg.tensor(x))
    np.testing.assert_array_equal(y.data, x.reshape(2, 2, 3, 3, 3).max(axis=2))
    with pytest.raises(ValueError, match="pieces"):
        nn.Maxout(0)


def test_flatten():
    assert nn.Flatten()(tg.randn(2, 3, 4, 5)).shape == (2, 60)
    assert nn.Flatten(0, 1)(tg.randn(2, 3, 4)).shape == (6, 4)


def test_dropout_scales_kept_units_and_is_identity_in_eval():
    tg.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = tg.ones((200, 50))
    y = drop(x).data
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.02
    drop.eval()
    np.testing.assert_array_equal(drop(x).data, x.data)
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability"):
        nn.Dropout(1.5)


# ----------------------------------------------------------------------------- recurrent
def rnn_reference(x, params, h0=None, batch_first=False):
    """Elman recurrence in numpy, one layer: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)."""
    if batch_first:
        x = x.transpose(1, 0, 2)
    w_ih, w_hh, b_ih, b_hh = params
    h = np.zeros((x.shape[1], w_hh.shape[0])) if h0 is None else h0
    outs = []
    for x_t in x:
        h = np.tanh(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        outs.append(h)
    out = np.stack(outs)
    return (out.transpose(1, 0, 2) if batch_first else out), h


def test_rnn_cell_matches_the_elman_formula():
    cell = nn.RNNCell(3, 5, dtype=np.float64)
    x, h = rand(4, 3, dtype=np.float64), rand(4, 5, dtype=np.float64)
    p = [cell.weight_ih.data, cell.weight_hh.data, cell.bias_ih.data, cell.bias_hh.data]
    expected = np.tanh(x @ p[0].T + p[2] + h @ p[1].T + p[3])
    np.testing.assert_allclose(cell(tg.tensor(x), tg.tensor(h)).data, expected, rtol=1e-12)
    # no state given: zeros
    np.testing.assert_allclose(cell(tg.tensor(x)).data, np.tanh(x @ p[0].T + p[2] + p[3]), rtol=1e-12)


@pytest.mark.parametrize("batch_first", [False, True])
def test_rnn_returns_every_hidden_state_and_the_last(batch_first):
    rnn = nn.RNN(3, 4, batch_first=batch_first, dtype=np.float64)
    shape = (2, 6, 3) if batch_first else (6, 2, 3)
    x = rand(*shape, dtype=np.float64)
    h0 = rand(1, 2, 4, dtype=np.float64)
    out, h_n = rnn(tg.tensor(x), tg.tensor(h0))
    params = [rnn.weight_ih_l0.data, rnn.weight_hh_l0.data, rnn.bias_ih_l0.data, rnn.bias_hh_l0.data]
    expected_out, expected_h = rnn_reference(x, params, h0[0], batch_first)
    assert out.shape == expected_out.shape and h_n.shape == (1, 2, 4)
    np.testing.assert_allclose(out.data, expected_out, rtol=1e-12)
    np.testing.assert_allclose(h_n.data[0], expected_h, rtol=1e-12)


def test_rnn_backpropagates_through_time():
    rnn = nn.RNN(2, 3, num_layers=2, dtype=np.float64)
    x = tg.tensor(rand(5, 2, 2, dtype=np.float64), requires_grad=True)
    params = list(rnn.parameters())

    def loss(x, *ps):
        out, h_n = rnn(x)
        return (out * out).sum() + h_n.sum()

    assert gradcheck(loss, x, *params)


def test_rnn_unrolls_one_rnn_cell_per_step_sharing_the_weights():
    rnn = nn.RNN(2, 3)
    out, _ = rnn(tg.randn(7, 1, 2))
    nodes = tg.toposort([out.sum()])
    cells = {f.call_id for n in nodes if n.scope for f in n.scope if f.name == "rnn_cell"}
    assert len(cells) == 7
    weight_users = [n for n in nodes if any(p is rnn.weight_hh_l0 for p in n.parents)]
    assert len(weight_users) == 1  # transposed once, then shared by every step


def test_rnn_errors_name_the_layer_and_shapes():
    rnn = nn.RNN(3, 4, batch_first=True)
    with pytest.raises(ValueError, match=r"RNN\(3, 4, batch_first=True\).*\(N, L, input_size\).*\(2, 5\)"):
        rnn(tg.randn(2, 5))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(1, 2, 4\)"):
        rnn(tg.randn(2, 5, 3), tg.randn(2, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"RNNCell\(3, 4\).*\(N, 3\)"):
        nn.RNNCell(3, 4)(tg.randn(2, 2))


def test_rnn_default_init_is_uniform_in_one_over_sqrt_hidden():
    rnn = nn.RNN(10, 64)
    for p in rnn.parameters():
        assert np.abs(p.data).max() <= 1 / 8
    assert [n for n, _ in rnn.named_parameters()] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
    ]


# ----------------------------------------------------------------------------- PyTorch agreement
@pytest.mark.torch
def test_layers_match_pytorch_with_the_same_weights():
    torch = pytest.importorskip("torch")
    x = rand(2, 3, 7, 7, dtype=np.float64)
    pairs = [
        (
            nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype=np.float64),
            torch.nn.Conv2d(3, 4, 3, stride=2, padding=1),
        ),
        (nn.MaxPool2d(3, stride=2, padding=1), torch.nn.MaxPool2d(3, stride=2, padding=1)),
        (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
        (nn.AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3))),
    ]
    for ours, theirs in pairs:
        theirs = theirs.double()
        theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
        np.testing.assert_allclose(
            ours(tg.tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-10
        )
    lin = nn.Linear(7, 5, dtype=np.float64)
    tlin = torch.nn.Linear(7, 5).double()
    tlin.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in lin.state_dict().items()})
    np.testing.assert_allclose(lin(tg.tensor(x)).data, tlin(torch.from_numpy(x)).detach().numpy(), rtol=1e-10)


@pytest.mark.torch
@pytest.mark.parametrize("batch_first", [False, True])
def test_rnn_matches_pytorch_forward_and_backward(batch_first):
    torch = pytest.importorskip("torch")
    ours = nn.RNN(3, 5, num_layers=2, batch_first=batch_first, dtype=np.float64)
    theirs = torch.nn.RNN(3, 5, num_layers=2, batch_first=batch_first).double()
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    x = rand(4, 6, 3, dtype=np.float64)
    h0 = rand(2, 4 if batch_first else 6, 5, dtype=np.float64)
    out, h_n = ours(tg.tensor(x), tg.tensor(h0))
    tout, th_n = theirs(torch.from_numpy(x), torch.from_numpy(h0))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(h_n.data, th_n.detach().numpy(), rtol=1e-10)
    ((out * out).sum() + h_n.sum()).backward()
    ((tout * tout).sum() + th_n.sum()).backward()
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(theirs, name).grad.numpy(), rtol=1e-9, err_msg=name)


# ----------------------------------------------------------------------------- losses
def test_loss_modules_call_the_functional_losses():
    logits, target = tg.tensor(rand(4, 3)), np.array([0, 2, 1, 1])
    np.testing.assert_array_equal(
        nn.CrossEntropyLoss()(logits, target).data, F.cross_entropy(logits, target).data
    )
    per_sample = nn.CrossEntropyLoss(reduction="none")(logits, target)
    assert per_sample.shape == (4,)
    x, y = tg.tensor(rand(5)), tg.tensor(rand(5))
    np.testing.assert_allclose(
        nn.MSELoss(reduction="sum")(x, y).data, ((x.data - y.data) ** 2).sum(), rtol=1e-6
    )
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be one of"):
        nn.CrossEntropyLoss(reduction="avg")


def test_cross_entropy_loss_module_passes_its_options_and_keeps_weight_as_a_buffer():
    rng = np.random.default_rng(5)
    logits = tg.tensor(rng.standard_normal((4, 3)))
    target = np.array([0, 2, -1, 1])
    weight = np.array([1.0, 2.0, 0.5])
    criterion = nn.CrossEntropyLoss(weight=weight, ignore_index=-1, label_smoothing=0.1, reduction="sum")
    expected = F.cross_entropy(logits, target, "sum", weight=weight, ignore_index=-1, label_smoothing=0.1)
    np.testing.assert_allclose(criterion(logits, target).data, expected.data)
    assert list(criterion.state_dict()) == ["weight"]
    np.testing.assert_array_equal(criterion.state_dict()["weight"], weight)
    assert "ignore_index=-1" in repr(criterion) and "label_smoothing=0.1" in repr(criterion)
    assert nn.CrossEntropyLoss().state_dict() == {}
