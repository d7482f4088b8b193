"""Safetensors checkpoints: tg.save/tg.load by suffix, the layout checked byte by byte, malformed
files refused clearly, and round trips both ways with the safetensors package when installed."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import _safetensors, nn
from tinygraph.io import CheckpointError

RNG = np.random.default_rng(0)

ARRAYS = {
    "w": RNG.standard_normal((3, 4)).astype(np.float32),
    "b": RNG.standard_normal(4),  # float64
    "half": RNG.standard_normal((2, 2)).astype(np.float16),
    "step": np.array(7, dtype=np.int64),  # 0-d
    "mask": np.array([True, False, True]),
    "bytes": np.arange(5, dtype=np.uint8),
    "i32": np.arange(-3, 3, dtype=np.int32).reshape(2, 3),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "big_endian": np.arange(4, dtype=">i2"),
}


def assert_same(loaded, expected):
    assert list(loaded) == list(expected)
    for key, value in expected.items():
        assert loaded[key].shape == value.shape, key
        assert loaded[key].dtype == value.dtype.newbyteorder("="), key
        np.testing.assert_array_equal(loaded[key], value)


def test_round_trip_keeps_order_dtypes_shapes_and_values(tmp_path):
    path = tmp_path / "model.safetensors"
    tg.save(ARRAYS, path)
    loaded = tg.load(path)
    assert_same(loaded, ARRAYS)
    assert all(a.flags.writeable and a.flags.owndata for a in loaded.values())


def test_the_file_follows_the_documented_layout(tmp_path):
    path = tmp_path / "m.safetensors"
    w = np.array([[1.0, 2.0]], dtype=np.float32)
    tg.save({"w": w, "n": np.array([3], dtype=np.int64)}, path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0  # the data starts 8-byte aligned
    header = json.loads(raw[8 : 8 + n])
    assert header == {
        "w": {"dtype": "F32", "shape": [1, 2], "data_offsets": [0, 8]},
        "n": {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]},
    }
    assert raw[8 + n :] == w.tobytes() + np.int64(3).tobytes()


def test_suffix_chooses_the_format_and_npz_is_unchanged(tmp_path):
    tg.save({"a": np.ones(2)}, tmp_path / "m.npz")
    tg.save({"a": np.ones(2)}, tmp_path / "m.SafeTensors")
    assert (tmp_path / "m.npz").read_bytes()[:2] == b"PK"
    assert (tmp_path / "m.SafeTensors").read_bytes()[8:9] == b"{"
    np.testing.assert_array_equal(tg.load(tmp_path / "m.SafeTensors")["a"], np.ones(2))


def test_module_state_dict_round_trip(tmp_path):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    tg.save(model.state_dict(), tmp_path / "m.safetensors")
    tg.manual_seed(1)
    other = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    other.load_state_dict(tg.load(tmp_path / "m.safetensors"))
    x = tg.randn(2, 1, 4, 4)
    np.testing.assert_array_equal(model(x).data, other(x).data)


def test_the_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    tg.save({"a": np.ones(3)}, path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="disk full"):
        tg.save({"a": np.zeros(3), "b": np.ones(5)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]  # no temporary file left behind


def test_unsupported_values_and_reserved_key_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match=r"'z' has dtype complex128, which safetensors cannot hold"):
        tg.save({"z": np.ones(2, dtype=complex)}, tmp_path / "m.safetensors")
    with pytest.raises(CheckpointError, match="reserved"):
        tg.save({"__metadata__": np.ones(2)}, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def write_raw(path, header, data=b"", length=None):
    text = json.dumps(header).encode() if isinstance(header, dict) else header
    path.write_bytes(struct.pack("<Q", len(text) if length is None else length) + text + data)
    return path


@pytest.mark.parametrize(
    ("header", "data", "length", "message"),
    [
        (b"", b"", None, "header is not UTF-8 JSON"),
        (b"{not json", b"", None, "header is not UTF-8 JSON"),
        (b"[1, 2]", b"", None, "a JSON list, not an object"),
        (
            {"a": {"dtype": "F32", "shape": [2]}},
            b"",
            None,
            "must be an object with dtype, shape and data_offsets",
        ),
        ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4, None, "8 bytes"),
        ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, None, "data section of 4"),
        (
            {"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}},
            b"",
            None,
            "not a list of non-negative",
        ),
        (
            {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}},
            b"\0" * 8,
            None,
            "cover 4 bytes of a 8",
        ),
        (
            {
                "a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
                "b": {"dtype": "U8", "shape": [2], "data_offsets": [1, 3]},
            },
            b"\0" * 3,
            None,
            "starts at byte 1 of the data, expected 2",
        ),
        ({"__metadata__": {"k": 3}}, b"", None, "must map strings to strings"),
        (b"{}", b"", 10**12, "header length 1000000000000 exceeds the file"),
    ],
)
def test_malformed_files_raise_a_clear_checkpoint_error(tmp_path, header, data, length, message):
    path = write_raw(tmp_path / "bad.safetensors", header, data, length)
    with pytest.raises(CheckpointError, match="not a valid safetensors file") as info:
        tg.load(path)
    assert message in str(info.value)


def test_a_file_shorter_than_its_length_prefix_and_bfloat16_are_refused(tmp_path):
    path = tmp_path / "short.safetensors"
    path.write_bytes(b"\x01\x02")
    with pytest.raises(CheckpointError, match="fewer than the 8"):
        tg.load(path)
    write_raw(path, {"a": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}, b"\0\0")
    with pytest.raises(CheckpointError, match=r"'BF16', which numpy has no type for.*tensor.float\(\)"):
        tg.load(path)


def test_metadata_is_written_and_read(tmp_path):
    path = tmp_path / "m.safetensors"
    _safetensors.write({"a": np.ones(1, np.float32)}, path, metadata={"format": "pt"})
    assert _safetensors.read_metadata(path) == {"format": "pt"}
    assert list(tg.load(path)) == ["a"]


# ----------------------------------------------------------------------------- the package
def test_files_written_here_load_in_the_safetensors_package_and_back(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    arrays = {k: v for k, v in ARRAYS.items() if k != "big_endian"}
    tg.save(arrays, tmp_path / "ours.safetensors")
    theirs = st.load_file(str(tmp_path / "ours.safetensors"))
    assert set(theirs) == set(arrays)
    for key, value in arrays.items():
        assert theirs[key].dtype == value.dtype and theirs[key].shape == value.shape, key
        np.testing.assert_array_equal(theirs[key], value)
    st.save_file(arrays, str(tmp_path / "theirs.safetensors"), metadata={"format": "np"})
    loaded = tg.load(tmp_path / "theirs.safetensors")
    assert set(loaded) == set(arrays)
    for key, value in arrays.items():
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape, key
        np.testing.assert_array_equal(loaded[key], value)
    assert _safetensors.read_metadata(tmp_path / "theirs.safetensors") == {"format": "np"}
