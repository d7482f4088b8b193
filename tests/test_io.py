"""Checkpoints: exact round trips, no pickle ever executed, atomic replacement."""

from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.io as tgio
from tinygraph import nn
from tinygraph.io import CheckpointError


def test_round_trip_keeps_dtype_shape_values_and_order(tmp_path):
    state = {
        "f16": np.arange(6, dtype=np.float16).reshape(2, 3),
        "f32": np.random.default_rng(0).normal(size=(3, 1, 2)).astype(np.float32),
        "f64": np.array([np.pi, -0.0, np.inf, np.nan]),
        "i8": np.array([-128, 127], dtype=np.int8),
        "u8": np.arange(256, dtype=np.uint8),
        "i64": np.array(2**62, dtype=np.int64),  # 0-d
        "bool": np.array([True, False]),
        "c64": np.array([1 + 2j], dtype=np.complex64),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        "strided": np.arange(20, dtype=np.int32)[::3],
        "layer.0.weight": np.ones((2, 2), dtype=np.float32),
    }
    path = tmp_path / "ckpt.npz"
    tg.save(state, path)
    loaded = tg.load(path)
    assert list(loaded) == list(state)
    for key, value in state.items():
        assert loaded[key].dtype == value.dtype, key
        assert loaded[key].shape == value.shape, key
        np.testing.assert_array_equal(loaded[key], value, err_msg=key)


def test_nodes_parameters_and_numbers_are_saved_as_arrays(tmp_path):
    path = tmp_path / "x.npz"
    tg.save({"p": nn.Parameter(np.ones(3, dtype=np.float32)), "n": tg.tensor([1.5]), "step": 7}, path)
    loaded = tg.load(path)
    assert loaded["p"].dtype == np.float32 and loaded["n"].dtype == np.float32
    assert loaded["step"].shape == () and int(loaded["step"]) == 7


def test_the_path_is_used_as_given(tmp_path):
    path = tmp_path / "model.ckpt"
    tg.save({"a": np.ones(1)}, str(path))
    assert path.exists() and not (tmp_path / "model.ckpt.npz").exists()
    assert zipfile.is_zipfile(path)  # an ordinary npz archive, readable by numpy
    np.testing.assert_array_equal(np.load(path, allow_pickle=False)["a"], [1.0])


def test_a_model_checkpoint_reloads_into_a_fresh_model(tmp_path):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(18, 4))
    x = tg.randn(3, 1, 5, 5)
    tg.save(model.state_dict(), tmp_path / "m.npz")
    tg.manual_seed(1)
    fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(18, 4))
    fresh.load_state_dict(tg.load(tmp_path / "m.npz"))
    np.testing.assert_array_equal(fresh(x).data, model(x).data)


class _Exploit:
    """Unpickling this would create ``marker`` on disk."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_a_crafted_object_array_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    payload = np.empty(1, dtype=object)
    payload[0] = _Exploit(marker)
    np.savez(path, weight=np.ones(2), payload=payload)  # numpy writes object arrays as pickles
    with pytest.raises(CheckpointError, match=r"'payload'.*refuses to unpickle"):
        tg.load(path)
    assert not marker.exists()
    # sanity check that the file really carries the payload: unpickling it does run it
    np.load(path, allow_pickle=True)["payload"]
    assert marker.exists()


def test_a_raw_pickle_file_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"weight": _Exploit(marker)}))
    with pytest.raises(CheckpointError, match="refused on purpose: unpickling can run arbitrary code"):
        tg.load(path)
    assert not marker.exists()


@pytest.mark.torch
def test_a_pytorch_checkpoint_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"weight": torch.ones(2)}, path)
    with pytest.raises(CheckpointError, match=r"not a \.npy array"):
        tg.load(path)


def test_unreadable_files_get_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        tg.load(tmp_path / "missing.npz")
    npy = tmp_path / "single.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(CheckpointError, match=r"single \.npy array"):
        tg.load(npy)
    good = tmp_path / "good.npz"
    tg.save({"w": np.arange(1000.0)}, good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:600])
    with pytest.raises(CheckpointError, match=r"truncated\.npz"):
        tg.load(truncated)


def test_unsupported_values_and_keys_are_refused_before_writing(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(CheckpointError, match="entry 'names' has dtype <U1"):
        tg.save({"names": np.array(["a", "b"])}, path)
    with pytest.raises(CheckpointError, match="entry 'obj' has dtype object"):
        tg.save({"obj": np.array([{}], dtype=object)}, path)
    with pytest.raises(CheckpointError, match="keys must be non-empty strings"):
        tg.save({3: np.ones(1)}, path)
    with pytest.raises(TypeError, match="expected a mapping"):
        tg.save([np.ones(1)], path)
    assert not path.exists()


def test_a_failure_mid_write_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    tg.save({"w": np.zeros(3), "b": np.zeros(1)}, path)
    before = path.read_bytes()
    real_write = tgio._write_entry
    calls = []

    def crash_on_second_entry(archive, key, array):
        calls.append(key)
        if len(calls) == 2:
            raise OSError("disk full")
        real_write(archive, key, array)

    monkeypatch.setattr(tgio, "_write_entry", crash_on_second_entry)
    with pytest.raises(OSError, match="disk full"):
        tg.save({"w": np.ones(3), "b": np.ones(1)}, path)
    assert calls == ["w", "b"]  # the first entry was written when it failed
    assert path.read_bytes() == before
    np.testing.assert_array_equal(tg.load(path)["w"], np.zeros(3))
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind


def test_saved_files_get_normal_permissions(tmp_path):
    path = tmp_path / "x.npz"
    tg.save({"a": np.ones(1)}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
