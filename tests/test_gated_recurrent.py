"""LSTMCell/LSTM and GRUCell/GRU: a torch state dict loads as is, and outputs, final states and
every gradient match torch in float64; the cells are composites; bad input gets a clear error."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import grads_match

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn

RNG = np.random.default_rng(5)


def _load(ours, theirs):
    result = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys


def _flat(out):
    return list(out) if isinstance(out, tuple) else [out]


def _compare(ours, theirs, x, state=None):
    torch = pytest.importorskip("torch")
    _load(ours, theirs)
    xn, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if state is None:
        out, tout = ours(xn), theirs(xt)
        sn = st = []
    else:
        sn = [tg.tensor(s, requires_grad=True) for s in state]
        st = [torch.tensor(s, requires_grad=True) for s in state]
        wrap = tuple if len(state) == 2 else (lambda s: s[0])
        out, tout = ours(xn, wrap(sn)), theirs(xt, wrap(st))
    outs, touts = [], []
    for o, t in zip(_flat(out), _flat(tout)):
        outs += _flat(o)
        touts += _flat(t)
    grads_match(outs, touts, [xn, *sn], [xt, *st], torch, RNG)
    params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, params[name].grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


@pytest.mark.torch
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_torch(bias):
    torch = pytest.importorskip("torch")
    f64 = {"dtype": torch.float64}
    x, h, c = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 5)), RNG.normal(size=(3, 5))
    _compare(nn.LSTMCell(4, 5, bias, np.float64), torch.nn.LSTMCell(4, 5, bias, **f64), x, (h, c))
    _compare(nn.LSTMCell(4, 5, bias, np.float64), torch.nn.LSTMCell(4, 5, bias, **f64), x)
    _compare(nn.GRUCell(4, 5, bias, np.float64), torch.nn.GRUCell(4, 5, bias, **f64), x, (h,))
    _compare(nn.GRUCell(4, 5, bias, np.float64), torch.nn.GRUCell(4, 5, bias, **f64), x[0])  # unbatched


@pytest.mark.torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_lstm_and_gru_match_torch(batch_first, num_layers):
    torch = pytest.importorskip("torch")
    kw = {"num_layers": num_layers, "batch_first": batch_first}
    x = RNG.normal(size=(2, 6, 3) if batch_first else (6, 2, 3))
    h0, c0 = RNG.normal(size=(num_layers, 2, 4)), RNG.normal(size=(num_layers, 2, 4))
    lstm = lambda: (nn.LSTM(3, 4, dtype=np.float64, **kw), torch.nn.LSTM(3, 4, dtype=torch.float64, **kw))
    gru = lambda: (nn.GRU(3, 4, dtype=np.float64, **kw), torch.nn.GRU(3, 4, dtype=torch.float64, **kw))
    _compare(*lstm(), x)
    _compare(*lstm(), x, (h0, c0))
    _compare(*gru(), x)
    _compare(*gru(), x, (h0,))
    _compare(*gru(), x[0] if batch_first else x[:, 0])  # unbatched (L, input)


def test_parameter_names_shapes_and_cells_as_composites():
    lstm = nn.LSTM(3, 4, num_layers=2)
    assert [(k, v.shape) for k, v in lstm.state_dict().items()][:4] == [
        ("weight_ih_l0", (16, 3)),
        ("weight_hh_l0", (16, 4)),
        ("bias_ih_l0", (16,)),
        ("bias_hh_l0", (16,)),
    ]
    assert nn.GRU(3, 4).weight_ih_l0.shape == (12, 3)
    out, (h, c) = lstm(tg.randn(5, 2, 3))
    assert out.shape == (5, 2, 4) and h.shape == c.shape == (2, 2, 4)
    np.testing.assert_array_equal(out.data[-1], h.data[-1])
    scopes = {n.scope_path for n in tg.toposort(out)}
    assert any("lstm_cell" in s for s in scopes)
    assert F.lstm_cell.opdef.kind == "composite" and F.gru_cell.opdef.kind == "composite"


def test_recurrent_errors_are_clear():
    with pytest.raises(ValueError, match=r"LSTM\(3, 4\): expected an input of shape \(L, N, input_size\)"):
        nn.LSTM(3, 4)(tg.randn(5, 2, 7))
    with pytest.raises(ValueError, match=r"GRU\(3, 4\): expected h0 of shape \(1, 2, 4\), got \(2, 4\)"):
        nn.GRU(3, 4)(tg.randn(5, 2, 3), tg.randn(2, 4))
    with pytest.raises(ValueError, match=r"LSTMCell\(3, 4\): expected a state of shape \(2, 4\)"):
        nn.LSTMCell(3, 4)(tg.randn(2, 3), (tg.randn(2, 5), tg.randn(2, 4)))
    with pytest.raises(NotImplementedError, match="LSTM: bidirectional layers are not implemented"):
        nn.LSTM(3, 4, bidirectional=True)
