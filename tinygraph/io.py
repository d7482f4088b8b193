"""Checkpoints: ``save(state_dict, path)`` and ``load(path)`` (npz, no pickle, atomic writes).

A path ending in ``.safetensors`` is read and written as safetensors instead (PyTorch's and
Hugging Face's pickle-free format, :mod:`tinygraph._safetensors`), with the same guarantees.

A checkpoint is an ordinary numpy ``.npz`` archive holding one ``.npy`` entry per key. Only plain
numeric and boolean arrays are written or read: ``load`` opens files with
``numpy.load(..., allow_pickle=False)`` and refuses any entry that would need unpickling (an
object array is a pickle, and unpickling can run arbitrary code), so loading a checkpoint from an
untrusted source cannot execute anything.

``save`` writes to a temporary file in the same directory and renames it over ``path``
(``os.replace``, atomic on POSIX and Windows): a crash or error mid-write leaves the previous
checkpoint intact, never a truncated one. The temporary's name carries the writer's process id
(``.<name>.<pid>.<random>.tmp``); one left by a writer that was killed (SIGKILL, power loss) is
removed by the next ``save`` of the same path.

``load`` reads nothing it has not sized first: each entry's declared size (from its ``.npy``
header, and its uncompressed size in the zip directory) must fit in ``max_bytes`` in all
(:data:`MAX_CHECKPOINT_BYTES`, 1 GiB, unless raised), so a file declaring an 8 TB array or a zip
bomb is refused with :class:`CheckpointError` before any memory is spent on it.
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np

from tinygraph import _safetensors
from tinygraph._atomic import write_atomically
from tinygraph.errors import TinygraphError
from tinygraph.node import as_array

PathLike = str | os.PathLike


class CheckpointError(TinygraphError, ValueError):
    """A checkpoint cannot be written or read (unsupported value, not an npz, pickled content, too big)."""


#: The most a checkpoint may hold, in bytes, all entries together (1 GiB). ``load(path,
#: max_bytes=...)`` raises it for one call; assigning this attribute raises it for every call.
MAX_CHECKPOINT_BYTES = 1 << 30


def _as_array(key: str, value: Any) -> np.ndarray:
    arr = as_array(value)
    if arr.dtype.hasobject or arr.dtype.kind not in "biufc":
        raise CheckpointError(
            f"save: entry {key!r} has dtype {arr.dtype}; checkpoints hold only numeric and boolean "
            "arrays (nothing that would need pickling)"
        )
    return arr


def _write_entry(archive: zipfile.ZipFile, key: str, array: np.ndarray) -> None:
    """Write ``array`` as the member ``<key>.npy`` of an open zip archive (no pickling allowed)."""
    with archive.open(key + ".npy", "w", force_zip64=True) as member:
        np.lib.format.write_array(member, array, allow_pickle=False)


def save(state_dict: Mapping[str, Any], path: PathLike) -> None:
    """Write ``state_dict`` (name -> array, Node or number) to ``path`` as an npz archive, atomically.

    Dtypes and shapes are kept exactly (0-d arrays included). The file is first written to a
    temporary file next to ``path`` and then renamed over it, so an existing checkpoint at
    ``path`` is replaced only by a complete new one.

    Parameters
    ----------
    state_dict : mapping of str to array_like
        E.g. ``model.state_dict()`` or ``optimizer.state_dict()``.
    path : str or os.PathLike
        Written exactly as given (no ``.npz`` suffix is added).

    Raises
    ------
    CheckpointError
        For a non-string key or a value that is not a numeric or boolean array.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"save: expected a mapping of name to array (a state dict), got {type(state_dict).__name__}"
        )
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str) or not key:
            raise CheckpointError(f"save: keys must be non-empty strings, got {key!r}")
        arrays[key] = _as_array(key, value)
    path = os.fspath(path)
    if _safetensors.is_safetensors_path(path):
        try:
            _safetensors.write(arrays, path)
        except _safetensors.SafetensorsError as exc:
            raise CheckpointError(str(exc)) from exc
        return

    def write_zip(file: BinaryIO) -> None:
        with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for key, arr in arrays.items():
                _write_entry(archive, key, arr)

    write_atomically(path, write_zip, "save", "the checkpoint")


def _declared_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str) -> int:
    """The bytes the ``.npy`` member ``info`` declares (shape × itemsize, in Python ints), checked
    against what the member holds; read from its header only."""
    key = info.filename.removesuffix(".npy")
    try:
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(member)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(member)
            header = member.tell()
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"load: entry {key!r} of {path!r} is corrupt: {exc}") from exc
    if dtype.hasobject:
        raise CheckpointError(
            f"load: entry {key!r} of {path!r} is an object array stored as a pickle; tinygraph "
            "refuses to unpickle it (unpickling can run arbitrary code)"
        )
    declared = math.prod(int(d) for d in shape) * dtype.itemsize
    if declared > info.file_size - header:
        raise CheckpointError(
            f"load: entry {key!r} of {path!r} is corrupt: its header declares shape {tuple(shape)} of "
            f"{dtype} ({declared:,} bytes) but the entry holds {info.file_size - header:,}"
        )
    return declared


def _check_sizes(path: str, max_bytes: int) -> None:
    """Refuse, before reading any data, a checkpoint whose entries need more than ``max_bytes``."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for info in archive.infolist():
                total += info.file_size  # the uncompressed size: what inflating it would produce
                if info.filename.endswith(".npy") and total <= max_bytes:
                    _declared_bytes(archive, info, path)
                if total > max_bytes:
                    raise CheckpointError(
                        f"load: {path!r} holds more than max_bytes={max_bytes:,} bytes (entry "
                        f"{info.filename!r} brings it to {total:,} uncompressed); refused before "
                        "reading. If you trust the file, raise the cap: tg.load(path, max_bytes=...) "
                        "or tinygraph.io.MAX_CHECKPOINT_BYTES"
                    )
    except (OSError, EOFError, zipfile.BadZipFile, NotImplementedError) as exc:
        raise CheckpointError(f"load: {path!r} is not a readable npz checkpoint: {exc}") from exc


def load(path: PathLike, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Read a checkpoint written by :func:`save` (or any npz of plain arrays) into a dict.

    Entries come back in the order they were saved, with their exact dtypes and shapes.

    Parameters
    ----------
    path : str or os.PathLike
    max_bytes : int, optional
        The most the checkpoint may hold, all entries together (default
        :data:`MAX_CHECKPOINT_BYTES`, 1 GiB). Checked from the file's headers before any data is
        read, so a file declaring a huge array, or a zip bomb, costs no memory.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CheckpointError
        If the file is not an npz archive, an entry holds pickled data (object arrays are
        refused, never unpickled), or the entries need more than ``max_bytes``.
    """
    if max_bytes is None:
        max_bytes = MAX_CHECKPOINT_BYTES
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise TypeError(f"load: max_bytes must be a non-negative int, got {max_bytes!r}")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no checkpoint at {path!r}")
    if _safetensors.is_safetensors_path(path):
        try:
            return _safetensors.read(path)
        except _safetensors.SafetensorsError as exc:
            raise CheckpointError(str(exc)) from exc
    with open(path, "rb") as file:
        magic = file.read(6)
    if magic.startswith(b"\x93NUMPY"):
        raise CheckpointError(
            f"load: {path!r} is a single .npy array, not an npz checkpoint of named arrays "
            "(write one with tg.save)"
        )
    if not magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise CheckpointError(
            f"load: {path!r} is not an npz checkpoint (no zip signature at its start). If it is a pickle "
            "(such as a PyTorch .pt file) it is refused on purpose: unpickling can run arbitrary code"
        )
    _check_sizes(path, max_bytes)
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"load: {path!r} is not a readable npz checkpoint: {exc}") from exc
    result: dict[str, np.ndarray] = {}
    with archive:
        for key in archive.files:
            try:
                result[key] = archive[key]
            except ValueError as exc:
                if "allow_pickle" not in str(exc):
                    raise CheckpointError(f"load: entry {key!r} of {path!r} is corrupt: {exc}") from exc
                raise CheckpointError(
                    f"load: entry {key!r} of {path!r} is an object array stored as a pickle; tinygraph "
                    "refuses to unpickle it (unpickling can run arbitrary code)"
                ) from exc
            except (OSError, EOFError, zipfile.BadZipFile) as exc:
                raise CheckpointError(f"load: entry {key!r} of {path!r} is corrupt: {exc}") from exc
            if not isinstance(result[key], np.ndarray):
                raise CheckpointError(
                    f"load: entry {key!r} of {path!r} is not a .npy array, so the file is not a tinygraph "
                    "checkpoint (a PyTorch .pt file is a zip of pickles, refused on purpose)"
                )
    return result
