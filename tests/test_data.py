"""Data: the bundled digits, IDX files (plain and gzip, good and broken), the batch iterator."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import data


# ----------------------------------------------------------------------------- digits
def test_digits_are_float32_images_in_unit_range_with_int64_labels():
    split = data.load_digits()
    x_train, y_train, x_test, y_test = split
    assert x_train.dtype == np.float32 and x_train.shape[1:] == (1, 8, 8)
    assert y_train.dtype == np.int64 and set(np.unique(y_train)) == set(range(10))
    assert len(x_train) + len(x_test) == 1797 and len(x_test) == 359
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert len(x_train) == len(y_train) and len(x_test) == len(y_test)


def test_digits_split_is_seeded_and_a_partition():
    a, b, c = data.load_digits(seed=0), data.load_digits(seed=0), data.load_digits(seed=1)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.y_test, c.y_test)
    idx = data.train_test_split(np.arange(100), np.arange(100) + 1000, test_fraction=0.25, seed=3)
    assert len(idx.x_test) == 25
    assert sorted(np.concatenate([idx.x_train, idx.x_test])) == list(range(100))
    np.testing.assert_array_equal(idx.y_train, idx.x_train + 1000)  # x and y stay aligned


def test_train_test_split_checks_its_arguments():
    with pytest.raises(ValueError, match="x has 3 samples but y has 2"):
        data.train_test_split(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\)"):
        data.train_test_split(np.zeros(3), np.zeros(3), test_fraction=1.0)


# ----------------------------------------------------------------------------- IDX
def idx_bytes(array: np.ndarray, code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize(
    ("dtype", "code"),
    [
        (np.uint8, 0x08),
        (np.int8, 0x09),
        (np.int16, 0x0B),
        (np.int32, 0x0C),
        (np.float32, 0x0D),
        (np.float64, 0x0E),
    ],
)
def test_read_idx_round_trips_every_type(tmp_path, dtype, code):
    array = (np.arange(24) - 5).astype(dtype).reshape(2, 3, 4)
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(array, code))
    got = data.read_idx(path)
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, array)


def test_read_idx_reads_gzip(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(labels, 0x08)))
    np.testing.assert_array_equal(data.read_idx(path), labels)


def test_read_idx_wrong_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match=r"'.*bad' is not an IDX file: its magic number is 01020801"):
        data.read_idx(path)
    path.write_bytes(b"\x00\x00\x07\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(path)


def test_read_idx_truncated_header_and_body(tmp_path):
    images = np.zeros((3, 4, 4), dtype=np.uint8)
    full = idx_bytes(images, 0x08)
    path = tmp_path / "images"
    path.write_bytes(full[:2])
    with pytest.raises(ValueError, match="truncated: 2 bytes"):
        data.read_idx(path)
    path.write_bytes(full[:9])
    with pytest.raises(ValueError, match=r"truncated: its header announces 3 dimensions \(16 bytes\)"):
        data.read_idx(path)
    path.write_bytes(full[:-5])
    with pytest.raises(
        ValueError, match=r"truncated: shape \(3, 4, 4\) of uint8 needs 48 bytes of data, found 43"
    ):
        data.read_idx(path)
    path.write_bytes(full + b"\x00")
    with pytest.raises(ValueError, match="longer than its header says"):
        data.read_idx(path)
    gz = tmp_path / "images.gz"
    gz.write_bytes(gzip.compress(full)[:-10])
    with pytest.raises(ValueError, match="cannot read"):
        data.read_idx(gz)


def write_mnist(directory, n_train=6, n_test=4, gz=False, size=28):
    rng = np.random.default_rng(0)
    files = {
        "train-images-idx3-ubyte": (rng.integers(0, 256, (n_train, size, size)).astype(np.uint8), 0x08),
        "train-labels-idx1-ubyte": (rng.integers(0, 10, n_train).astype(np.uint8), 0x08),
        "t10k-images-idx3-ubyte": (rng.integers(0, 256, (n_test, size, size)).astype(np.uint8), 0x08),
        "t10k-labels-idx1-ubyte": (rng.integers(0, 10, n_test).astype(np.uint8), 0x08),
    }
    for name, (array, code) in files.items():
        raw = idx_bytes(array, code)
        if gz:
            (directory / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (directory / name).write_bytes(raw)
    return {name: array for name, (array, _) in files.items()}


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_a_folder_of_idx_files(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    split = data.load_mnist(tmp_path)
    assert split.x_train.shape == (6, 1, 28, 28) and split.x_train.dtype == np.float32
    np.testing.assert_allclose(split.x_train[:, 0] * 255, arrays["train-images-idx3-ubyte"], atol=1e-4)
    assert split.y_test.dtype == np.int64
    np.testing.assert_array_equal(split.y_test, arrays["t10k-labels-idx1-ubyte"])


def test_load_mnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        data.load_mnist(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no train-images-idx3-ubyte"):
        data.load_mnist(tmp_path)
    write_mnist(tmp_path, n_train=6)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5, np.uint8), 0x08))
    with pytest.raises(
        ValueError, match=r"the train files do not match: images of shape \(6, 28, 28\).*\(5,\)"
    ):
        data.load_mnist(tmp_path)


# ----------------------------------------------------------------------------- batches
def test_batches_cover_every_sample_once_per_epoch():
    x = np.arange(10)
    y = x * 10
    batches = data.BatchIterator(x, y, batch_size=4, shuffle=True, seed=0)
    assert len(batches) == 3
    seen = []
    for xb, yb in batches:
        np.testing.assert_array_equal(yb, xb * 10)  # arrays stay aligned
        seen.append(xb)
    assert [len(b) for b in seen] == [4, 4, 2]
    assert sorted(np.concatenate(seen)) == list(range(10))
    assert not np.array_equal(np.concatenate(seen), x)  # shuffled


def test_shuffling_is_seeded_and_changes_every_epoch():
    def epochs(seed):
        it = data.BatchIterator(np.arange(20), batch_size=5, shuffle=True, seed=seed)
        return [np.concatenate(list(it)) for _ in range(2)]

    first, second = epochs(7), epochs(7)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[0], epochs(8)[0])


def test_shuffling_without_seed_follows_manual_seed():
    def order():
        tg.manual_seed(5)
        return np.concatenate(list(data.BatchIterator(np.arange(30), batch_size=30, shuffle=True)))

    np.testing.assert_array_equal(order(), order())


def test_batches_in_order_drop_last_and_a_single_array():
    it = data.BatchIterator(np.arange(7), batch_size=3, drop_last=True)
    assert len(it) == 2
    assert [b.tolist() for b in it] == [[0, 1, 2], [3, 4, 5]]


def test_batch_iterator_errors():
    with pytest.raises(ValueError, match=r"same length, got lengths \[3, 4\]"):
        data.BatchIterator(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        data.BatchIterator(np.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match="at least one array"):
        data.BatchIterator()
