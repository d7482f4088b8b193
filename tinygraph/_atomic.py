"""Atomic file writes: a temporary file next to the target, flushed, then renamed over it.

The one way tinygraph writes a file that must never be seen half-written (checkpoints in npz and
safetensors, ONNX models). A crash or an error mid-write leaves whatever was at the target before
intact. A writer killed outright (SIGKILL, a power cut) cannot remove its temporary file, so each
temporary carries its writer's process id (``.model.npz.<pid>.<random>.tmp``) and the next write of
the same target removes those whose writer is gone.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import BinaryIO


def new_file_mode() -> int:
    """The permissions ``open()`` would give a new file (mkstemp makes temporary files private)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(
    path: str | os.PathLike, write: Callable[[BinaryIO], None], caller: str = "save", what: str = "the file"
) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path``.

    ``os.replace`` is atomic on POSIX and Windows. Temporaries that dead writers left beside
    ``path`` are removed first. A folder that is missing or not writable raises an ``OSError``
    naming ``caller``, ``what`` it writes and ``path``, not the temporary file.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    _remove_stale_temporaries(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(path, os.getpid()), suffix=".tmp", dir=directory)
    except OSError as exc:
        why = "its folder does not exist" if not os.path.isdir(directory) else exc.strerror
        raise type(exc)(exc.errno, f"{caller}: cannot write {what} {path!r}: {why}", path) from exc
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, new_file_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _temporary_prefix(path: str, pid: int) -> str:
    return f".{os.path.basename(path)}.{pid}."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's live process (or we cannot tell): leave its file alone
    return True


def _remove_stale_temporaries(path: str) -> None:
    """Delete temporaries of ``path`` left by writers that died mid-write (their pid is gone)."""
    directory = os.path.dirname(os.path.abspath(path))
    head = f".{os.path.basename(path)}."
    try:
        names = os.listdir(directory)
    except OSError:
        return  # mkstemp reports the problem with the folder
    for name in names:
        if not (name.startswith(head) and name.endswith(".tmp")):
            continue
        pid = name[len(head) :].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass  # removed meanwhile, or not ours to remove
