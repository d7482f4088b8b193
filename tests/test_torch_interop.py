"""State dicts move between tinygraph and PyTorch through safetensors, both ways, with the same outputs.

tinygraph's layers that match PyTorch's use its parameter names and layouts, so
``torch_module.load_state_dict(safetensors.torch.load_file(path))`` takes a file ``tg.save`` wrote,
and ``tinygraph_module.load_state_dict(tg.load(path))`` one that ``safetensors.torch.save_file``
wrote. Checked in float64 (and once in float32, the default dtype).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import nn

torch = pytest.importorskip("torch")
st_torch = pytest.importorskip("safetensors.torch")

pytestmark = pytest.mark.torch
RNG = np.random.default_rng(0)


def cnn_pair(dtype):
    ours = nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(1, 4, 3, padding=1, dtype=dtype),
            relu1=nn.ReLU(),
            pool1=nn.MaxPool2d(2),
            conv2=nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=1, dtype=dtype),
            relu2=nn.ReLU(),
            flatten=nn.Flatten(),
            fc=nn.Linear(6 * 2 * 2, 5, dtype=dtype),
        )
    )
    theirs = torch.nn.Sequential(
        OrderedDict(
            conv1=torch.nn.Conv2d(1, 4, 3, padding=1),
            relu1=torch.nn.ReLU(),
            pool1=torch.nn.MaxPool2d(2),
            conv2=torch.nn.Conv2d(4, 6, 3, stride=2, padding=1),
            relu2=torch.nn.ReLU(),
            flatten=torch.nn.Flatten(),
            fc=torch.nn.Linear(6 * 2 * 2, 5),
        )
    )
    return ours, theirs, lambda n, dtype: RNG.standard_normal((n, 1, 8, 8)).astype(dtype)


def mlp_pair(dtype):
    ours = nn.Sequential(nn.Linear(5, 7, dtype=dtype), nn.Tanh(), nn.Linear(7, 3, bias=False, dtype=dtype))
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3, bias=False))
    return ours, theirs, lambda n, dtype: RNG.standard_normal((n, 5)).astype(dtype)


def rnn_pair(dtype):
    ours = nn.RNN(3, 4, num_layers=2, batch_first=True, dtype=dtype)
    theirs = torch.nn.RNN(3, 4, num_layers=2, batch_first=True)
    return ours, theirs, lambda n, dtype: RNG.standard_normal((n, 5, 3)).astype(dtype)


def rnn_cell_pair(dtype):
    ours = nn.RNNCell(3, 4, nonlinearity="relu", dtype=dtype)
    theirs = torch.nn.RNNCell(3, 4, nonlinearity="relu")
    return ours, theirs, lambda n, dtype: RNG.standard_normal((n, 3)).astype(dtype)


PAIRS = {"cnn": cnn_pair, "mlp": mlp_pair, "rnn": rnn_pair, "rnn_cell": rnn_cell_pair}

# Layers with a PyTorch twin that may not exist in this version (each is checked once it does):
# name -> (constructor arguments, input shape, or "ids" for integer inputs).
LATER_LAYERS = {
    "BatchNorm1d": ((4,), (3, 4)),
    "BatchNorm2d": ((3,), (2, 3, 4, 4)),
    "LayerNorm": ((5,), (3, 5)),
    "GroupNorm": ((2, 4), (2, 4, 3, 3)),
    "LSTM": ((3, 4), (2, 5, 3)),
    "GRU": ((3, 4), (2, 5, 3)),
    "LSTMCell": ((3, 4), (2, 3)),
    "GRUCell": ((3, 4), (2, 3)),
    "Embedding": ((10, 3), "ids"),
}


def later_pair(name):
    def make(dtype):
        if not hasattr(nn, name):
            pytest.skip(f"tinygraph.nn.{name} does not exist in this version")
        args, shape = LATER_LAYERS[name]
        options = {"batch_first": True} if name in ("LSTM", "GRU") else {}
        ours = getattr(nn, name)(*args, **options, dtype=dtype)
        theirs = getattr(torch.nn, name)(*args, **options)
        if shape == "ids":
            return ours, theirs, lambda n, dtype: RNG.integers(0, args[0], size=(n, 4))
        return ours, theirs, lambda n, dtype: RNG.standard_normal(shape).astype(dtype)

    return make


PAIRS.update({name.lower(): later_pair(name) for name in LATER_LAYERS})


def randomized(state):
    """Every floating entry of a state dict drawn at random (variances positive), so loading shows."""
    out = {}
    for key, value in state.items():
        value = np.asarray(value)
        if np.issubdtype(value.dtype, np.floating):
            value = RNG.standard_normal(value.shape).astype(value.dtype)
            value = np.abs(value) + 0.5 if "var" in key else value
        out[key] = value
    return out


def outputs_of(result):
    first = result[0] if isinstance(result, (tuple, list)) else result
    return first.data if isinstance(first, tg.Node) else first.detach().numpy()


def compare(ours, theirs, make_input, dtype, tol):
    theirs = theirs.to(torch.float64 if dtype == np.float64 else torch.float32).eval()
    ours.eval()
    x = make_input(3, dtype)
    with tg.no_grad(), torch.no_grad():
        np.testing.assert_allclose(
            outputs_of(ours(tg.tensor(x))), outputs_of(theirs(torch.from_numpy(x))), rtol=tol, atol=tol
        )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", list(PAIRS))
def test_tinygraph_checkpoint_loads_into_torch(kind, dtype, tmp_path):
    tg.manual_seed(0)
    ours, theirs, make_input = PAIRS[kind](dtype)
    ours.load_state_dict(randomized(ours.state_dict()))
    path = tmp_path / "ours.safetensors"
    tg.save(ours.state_dict(), path)
    loaded = st_torch.load_file(str(path))
    assert list(loaded) == list(ours.state_dict())
    theirs = theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    result = theirs.load_state_dict(loaded, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    compare(ours, theirs, make_input, dtype, 1e-12 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("kind", list(PAIRS))
def test_torch_checkpoint_loads_into_tinygraph(kind, tmp_path):
    torch.manual_seed(0)
    ours, theirs, make_input = PAIRS[kind](np.float64)
    theirs = theirs.double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in randomized(theirs.state_dict()).items()})
    path = tmp_path / "theirs.safetensors"
    st_torch.save_file(theirs.state_dict(), str(path))
    state = tg.load(path)
    assert set(state) == set(ours.state_dict())
    assert all(v.dtype == np.float64 for k, v in state.items() if k != "num_batches_tracked")
    ours.load_state_dict(state, strict=True)
    compare(ours, theirs, make_input, np.float64, 1e-12)


@pytest.mark.parametrize("kind", list(PAIRS))
def test_names_shapes_and_dtypes_match_torch(kind):
    ours, theirs, _ = PAIRS[kind](np.float32)
    assert {k: (v.shape, str(v.dtype)) for k, v in ours.state_dict().items()} == {
        k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in theirs.state_dict().items()
    }
