"""The safetensors checkpoint format, read and written with numpy alone (no package needed).

The layout (https://github.com/huggingface/safetensors, "Format"):

- 8 bytes: ``N``, the header's length, an unsigned little-endian 64-bit integer;
- ``N`` bytes: a UTF-8 JSON object mapping each tensor's name to ``{"dtype": "F32", "shape": [2, 3],
  "data_offsets": [begin, end]}``, plus an optional ``"__metadata__"`` object of strings to
  strings; it may end in spaces (this writer pads it so the data starts 8-byte aligned);
- the data: every tensor's raw little-endian, C-order bytes, at ``[begin, end)`` counted from the
  end of the header. The tensors tile the data exactly: no gaps, no overlaps.

It holds nothing but arrays (no pickle), which is why PyTorch and Hugging Face tools moved to it.
``tinygraph.save``/``load`` use this module for paths ending in ``.safetensors``, with the same
guarantees as npz: an atomic write, dtypes and shapes kept exactly, and a malformed or oversized
header refused with a clear error (a :class:`~tinygraph.io.CheckpointError` from ``tg.load``)
before anything is allocated.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np

from tinygraph._atomic import write_atomically
from tinygraph.errors import TinygraphError


class SafetensorsError(TinygraphError, ValueError):
    """A value safetensors cannot hold, or a file that is not valid safetensors.

    ``tinygraph.save``/``load`` raise it as their :class:`~tinygraph.io.CheckpointError`.
    """


SUFFIX = ".safetensors"
MAX_HEADER_BYTES = 100_000_000  # the safetensors package's own limit
METADATA = "__metadata__"

# safetensors dtype name <-> numpy dtype (little-endian). BF16 and the F8 types have no numpy dtype.
DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype("?"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "F16": np.dtype("<f2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "F32": np.dtype("<f4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F64": np.dtype("<f8"),
}
_NAMES = {dtype: name for name, dtype in DTYPES.items()}


def is_safetensors_path(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a safetensors file (its suffix is ``.safetensors``, any case)."""
    return os.fspath(path).lower().endswith(SUFFIX)


def _dtype_name(key: str, array: np.ndarray) -> str:
    name = _NAMES.get(array.dtype.newbyteorder("<"))
    if name is None:
        raise SafetensorsError(
            f"save: entry {key!r} has dtype {array.dtype}, which safetensors cannot hold (it has "
            f"{', '.join(DTYPES)}); save it as .npz, or convert it first"
        )
    return name


def header_bytes(arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
    """The 8-byte length and the JSON header for ``arrays`` laid out in order, padded to 8 bytes."""
    header: dict[str, Any] = {}
    if metadata:
        header[METADATA] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    for key, array in arrays.items():
        if key == METADATA:
            raise SafetensorsError(f"save: {METADATA!r} is reserved by safetensors and cannot be a key")
        end = offset + array.nbytes
        header[key] = {
            "dtype": _dtype_name(key, array),
            "shape": list(array.shape),
            "data_offsets": [offset, end],
        }
        offset = end
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    return len(text).to_bytes(8, "little") + text


def write(
    arrays: Mapping[str, np.ndarray], path: str | os.PathLike, metadata: Mapping[str, str] | None = None
) -> None:
    """Write ``arrays`` (name -> numeric or boolean ndarray) to ``path`` as safetensors, atomically."""
    head = header_bytes(arrays, metadata)

    def write_to(file: BinaryIO) -> None:
        file.write(head)
        for array in arrays.values():
            data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
            file.write(data.reshape(-1).view(np.uint8))

    write_atomically(path, write_to, "save", "the checkpoint")


def _fail(path: str, reason: str) -> SafetensorsError:
    return SafetensorsError(f"load: {path!r} is not a valid safetensors file: {reason}")


def _entry(path: str, key: str, info: Any, data_size: int) -> tuple[np.dtype, tuple[int, ...], int, int]:
    """One header entry checked: its numpy dtype, shape and data offsets."""
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
        raise _fail(path, f"entry {key!r} must be an object with dtype, shape and data_offsets, got {info!r}")
    name, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if name not in DTYPES:
        raise SafetensorsError(
            f"load: entry {key!r} of {path!r} has dtype {name!r}, which numpy has no type for (tinygraph "
            f"reads {', '.join(DTYPES)}); convert it before saving, e.g. tensor.float() in PyTorch"
        )
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise _fail(path, f"entry {key!r} has shape {shape!r}, not a list of non-negative ints")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)):
        raise _fail(path, f"entry {key!r} has data_offsets {offsets!r}, not [begin, end]")
    begin, end = offsets
    dtype = DTYPES[name]
    expected = math.prod(shape) * dtype.itemsize
    if not 0 <= begin <= end <= data_size or end - begin != expected:
        raise _fail(
            path,
            f"entry {key!r} ({name} of shape {tuple(shape)}, {expected} bytes) has data_offsets "
            f"[{begin}, {end}] in a data section of {data_size} bytes",
        )
    return dtype, tuple(shape), begin, end


def read_header(file: BinaryIO, path: str, file_size: int) -> tuple[dict[str, Any], int]:
    """The checked header (entries in file order, ``__metadata__`` included) and where the data starts."""
    prefix = file.read(8)
    if len(prefix) < 8:
        raise _fail(path, f"it holds {file_size} bytes, fewer than the 8 of the header length")
    n = int.from_bytes(prefix, "little")
    if n > MAX_HEADER_BYTES or 8 + n > file_size:
        raise _fail(
            path,
            f"its header length {n} exceeds the file ({file_size} bytes) or the limit of {MAX_HEADER_BYTES} "
            "bytes (an npz checkpoint needs the .npz suffix)",
        )
    raw = file.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(path, f"its header is not UTF-8 JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise _fail(path, f"its header is a JSON {type(header).__name__}, not an object")
    metadata = header.get(METADATA, {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _fail(path, f"its {METADATA} must map strings to strings, got {metadata!r}")
    return header, 8 + n


def read(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a safetensors file into a dict of arrays, in the order of their data in the file.

    Each array has exactly the stored dtype and shape, and owns its memory (it is writable).

    Raises
    ------
    SafetensorsError
        For a header that is too long for the file, not JSON, or describes tensors whose sizes do not
        match their shapes or do not tile the data section exactly; or for a dtype numpy lacks (BF16).
    """
    path = os.fspath(path)
    file_size = os.path.getsize(path)
    with open(path, "rb") as file:
        header, start = read_header(file, path, file_size)
        data_size = file_size - start
        entries = {key: _entry(path, key, info, data_size) for key, info in header.items() if key != METADATA}
        position = 0
        for key, (_, _, begin, end) in sorted(entries.items(), key=lambda item: item[1][2:]):
            if begin != position:
                raise _fail(path, f"entry {key!r} starts at byte {begin} of the data, expected {position}")
            position = end
        if position != data_size:
            raise _fail(path, f"its tensors cover {position} bytes of a {data_size}-byte data section")
        result: dict[str, np.ndarray] = {}
        for key, (dtype, shape, begin, end) in sorted(entries.items(), key=lambda item: item[1][2]):
            array = np.empty(shape, dtype=dtype)
            file.seek(start + begin)
            if end > begin and file.readinto(memoryview(array.reshape(-1)).cast("B")) != end - begin:
                raise _fail(path, f"entry {key!r} is truncated")
            result[key] = array.astype(dtype.newbyteorder("="), copy=False)
    return result


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The ``__metadata__`` strings of a safetensors file (empty when it has none)."""
    path = os.fspath(path)
    with open(path, "rb") as file:
        header, _ = read_header(file, path, os.path.getsize(path))
    return dict(header.get(METADATA, {}))
