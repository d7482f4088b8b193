"""Data sets and batching: the bundled 8x8 digits, MNIST IDX files, a seeded batch iterator.

- :func:`load_digits`: the 1,797 handwritten 8×8 digits that ship with scikit-learn (no network),
  as float32 images (N, 1, 8, 8) in [0, 1] and int64 labels, split into train and test with a seed.
- :func:`read_idx` / :func:`load_mnist`: MNIST-format files a user already has (optionally gzipped).
- :class:`BatchIterator`: mini-batches of aligned arrays, shuffled each epoch with a seed.
- :class:`Dataset`, :class:`TensorDataset` and :class:`DataLoader`: PyTorch's interface, yielding Nodes.
"""

from __future__ import annotations

import gzip
import math
import os
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from tinygraph.creation import get_rng
from tinygraph.node import Node, as_array

PathLike = str | os.PathLike


class DataSplit(NamedTuple):
    """Train and test arrays: ``x_train, y_train, x_test, y_test = split``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def train_test_split(
    x: np.ndarray, y: np.ndarray, test_fraction: float = 0.2, seed: int | None = 0
) -> DataSplit:
    """Split aligned arrays at random into train and test parts.

    Parameters
    ----------
    x, y : arrays with the same first dimension
    test_fraction : float in (0, 1)
        Share of the samples put in the test part (rounded to the nearest count, at least 1).
    seed : int or None
        Seed of the permutation (None: tinygraph's generator, see ``tg.manual_seed``).
    """
    if len(x) != len(y):
        raise ValueError(f"train_test_split: x has {len(x)} samples but y has {len(y)}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"train_test_split: test_fraction must be in (0, 1), got {test_fraction}")
    rng = get_rng() if seed is None else np.random.default_rng(seed)
    order = rng.permutation(len(x))
    n_test = min(max(1, round(len(x) * test_fraction)), len(x) - 1)
    test, train = order[:n_test], order[n_test:]
    return DataSplit(x[train], y[train], x[test], y[test])


def load_digits(test_fraction: float = 0.2, seed: int | None = 0) -> DataSplit:
    """The 8×8 handwritten digits bundled with scikit-learn, ready for a CNN.

    Images are float32 of shape (N, 1, 8, 8) scaled from 0..16 to [0, 1]; labels are int64 in
    0..9. 1,797 images in all, split at random with ``seed`` (see :func:`train_test_split`).
    Needs scikit-learn (no download: the data ships with it).
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as exc:  # pragma: no cover - scikit-learn is a declared dependency of the demos
        raise ImportError("load_digits: needs scikit-learn (pip install scikit-learn)") from exc
    bunch = sklearn_digits()
    images = (bunch.images.astype(np.float32) / np.float32(16.0)).reshape(-1, 1, 8, 8)
    labels = bunch.target.astype(np.int64)
    return train_test_split(images, labels, test_fraction, seed)


# IDX type codes (the third byte of the magic number) and their big-endian dtypes.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _open_maybe_gzip(path: str):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), plain or gzip-compressed, into a numpy array.

    The format: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions ``d``, then ``d`` big-endian uint32
    sizes, then the values in C order, big-endian.

    Raises
    ------
    ValueError
        Naming the file, for a wrong magic number, a truncated header or body, or trailing bytes.
    """
    path = os.fspath(path)
    try:
        with _open_maybe_gzip(path) as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"read_idx: cannot read {path!r}: {exc}") from exc
    if len(raw) < 4:
        raise ValueError(
            f"read_idx: {path!r} is truncated: {len(raw)} bytes, shorter than the 4-byte magic number"
        )
    zero, code, ndim = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00" or code not in _IDX_DTYPES:
        raise ValueError(
            f"read_idx: {path!r} is not an IDX file: its magic number is {raw[:4].hex()} (expected "
            f"0000, a type code in {[f'{c:02x}' for c in _IDX_DTYPES]} and the number of dimensions)"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"read_idx: {path!r} is truncated: its header announces {ndim} dimensions ({header} bytes) "
            f"but the file has {len(raw)} bytes"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = math.prod(shape) * dtype.itemsize  # Python ints: 2³¹ × 2³¹ × 2³¹ must not wrap to 0
    body = len(raw) - header
    if body != expected:
        what = "truncated" if body < expected else "longer than its header says"
        raise ValueError(
            f"read_idx: {path!r} is {what}: shape {shape} of {dtype.newbyteorder('=')} needs {expected} "
            f"bytes of data, found {body}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _find(directory: str, stem: str) -> str:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        candidate = os.path.join(directory, name)
        if os.path.exists(candidate):
            return candidate
    raise FileNotFoundError(f"load_mnist: no {stem} (or {stem}.gz) in {directory!r}")


def load_mnist(directory: PathLike) -> DataSplit:
    """MNIST (or Fashion-MNIST) from the four IDX files in ``directory``, which the user provides.

    Looks for ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
    and ``t10k-labels-idx1-ubyte``, each optionally ending in ``.gz``. Nothing is downloaded.

    Returns
    -------
    DataSplit
        Images float32 (N, 1, 28, 28) scaled to [0, 1], labels int64.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"load_mnist: {directory!r} is not a directory")
    arrays = {key: read_idx(_find(directory, stem)) for key, stem in _MNIST_FILES.items()}
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(
                f"load_mnist: the {part} files do not match: images of shape {x.shape} (expected "
                f"(N, H, W)) and labels of shape {y.shape} (expected (N,))"
            )

    def images(x: np.ndarray) -> np.ndarray:
        scale = np.float32(255.0) if x.dtype == np.uint8 else np.float32(1.0)
        return (x.astype(np.float32) / scale)[:, None]

    return DataSplit(
        images(arrays["x_train"]),
        arrays["y_train"].astype(np.int64),
        images(arrays["x_test"]),
        arrays["y_test"].astype(np.int64),
    )


class BatchIterator:
    """Mini-batches of one or more aligned arrays, optionally shuffled anew each epoch.

    ``for xb, yb in BatchIterator(x, y, batch_size=64, shuffle=True, seed=0): ...`` yields tuples
    of numpy arrays (a single array is yielded as is). Iterating again starts a new epoch with a
    new order drawn from the same seeded generator, so a run is repeatable end to end.

    Parameters
    ----------
    *arrays : arrays with the same first dimension
    batch_size : int
    shuffle : bool
        Visit samples in a random order (default False).
    seed : int or None
        Seed of the shuffling generator; None uses tinygraph's (``tg.manual_seed``).
    drop_last : bool
        Skip the last batch when it is smaller than ``batch_size``.
    """

    def __init__(
        self,
        *arrays: np.ndarray,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | None = None,
        drop_last: bool = False,
    ) -> None:
        if not arrays:
            raise ValueError("BatchIterator: needs at least one array")
        self.arrays = tuple(as_array(a) for a in arrays)
        lengths = [len(a) if np.ndim(a) else 0 for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"BatchIterator: the arrays must have the same length, got lengths {lengths}")
        if int(batch_size) < 1:
            raise ValueError(f"BatchIterator: batch_size must be a positive integer, got {batch_size}")
        self.n = lengths[0]
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def __len__(self) -> int:
        """Number of batches per epoch."""
        full, rest = divmod(self.n, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[np.ndarray | tuple[np.ndarray, ...]]:
        if self.shuffle:
            order = (self._rng or get_rng()).permutation(self.n)
        stop = self.n - self.n % self.batch_size if self.drop_last else self.n
        for start in range(0, stop, self.batch_size):
            if self.shuffle:
                index = order[start : start + self.batch_size]
                batch = tuple(a[index] for a in self.arrays)
            else:
                batch = tuple(a[start : start + self.batch_size] for a in self.arrays)
            yield batch[0] if len(batch) == 1 else batch


# ----------------------------------------------------------------------------- PyTorch-style data sets
class Dataset:
    """A map-style data set, as ``torch.utils.data.Dataset``: subclasses define ``__getitem__`` and
    ``__len__`` (``dataset[i]`` is one sample, usually a tuple such as ``(image, label)``)."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not define __len__")


class TensorDataset(Dataset):
    """Samples taken along the first axis of aligned arrays or Nodes: ``dataset[i] = (x[i], y[i])``."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one array")
        self.tensors = tuple(t.data if isinstance(t, Node) else np.asarray(t) for t in tensors)
        lengths = [len(t) if t.ndim else None for t in self.tensors]
        if None in lengths or len(set(lengths)) != 1:
            shapes = [t.shape for t in self.tensors]
            raise ValueError(
                f"TensorDataset: the arrays must share their first dimension, got shapes {shapes}"
            )

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])


def default_collate(samples: list[Any]) -> Any:
    """Stack a list of samples into a batch of Nodes: arrays and numbers are stacked along a new first
    axis; tuples and lists of them (``(image, label)``) are collated field by field."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return type(first)(default_collate([s[i] for s in samples]) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    values = [s.data if isinstance(s, Node) else s for s in samples]
    return Node(np.stack([np.asarray(v) for v in values]))


class DataLoader:
    """Mini-batches of a :class:`Dataset` as Nodes, as ``torch.utils.data.DataLoader``::

        loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=0)
        for images, labels in loader: ...      # Nodes of shape (64, ...) and (64,)

    Parameters
    ----------
    dataset : a Dataset (anything with ``__getitem__`` and ``__len__``)
    batch_size : int
        Samples per batch (default 1, as PyTorch).
    shuffle : bool
        A new random order each epoch (each ``iter``), from a generator seeded with ``seed``
        (None: tinygraph's generator, ``tg.manual_seed``), so a run is repeatable.
    drop_last : bool
        Skip the last batch when it is smaller than ``batch_size``.
    collate_fn : callable, optional
        Turns a list of samples into a batch (default: :func:`default_collate`, stacking into Nodes).
    seed : int or None
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Any = None,
        seed: int | None = None,
    ) -> None:
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(
                f"DataLoader: the dataset must define __getitem__ and __len__, got {type(dataset).__name__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def __len__(self) -> int:
        """Number of batches per epoch."""
        full, rest = divmod(len(self.dataset), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = (self._rng or get_rng()).permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is None
        for start in range(0, stop, self.batch_size):
            index = order[start : start + self.batch_size]
            if fast:  # one fancy index per array instead of one lookup per sample
                yield tuple(Node(t[index]) for t in self.dataset.tensors)
                continue
            samples = [self.dataset[int(i)] for i in index]
            yield (self.collate_fn or default_collate)(samples)
