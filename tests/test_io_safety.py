"""Checkpoints and data files under attack: size caps, killed writers, unwritable folders, huge headers."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import data
from tinygraph.io import CheckpointError

ROOT = Path(__file__).resolve().parents[1]


def _npy_header(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """A version 1.0 .npy header declaring ``shape`` (the data after it is up to the caller)."""
    text = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}"
    text += " " * ((64 - (10 + len(text) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode()


def test_an_entry_declaring_8_tb_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("w.npy", _npy_header((2**20, 2**20, 2**21)) + b"\0" * 64)  # 8 TiB of float32
    with pytest.raises(CheckpointError, match=r"'w' .*declares shape \(1048576, 1048576, 2097152\)"):
        tg.load(path)


def test_a_zip_bomb_is_refused_by_the_size_cap(tmp_path):
    path = tmp_path / "bomb.npz"
    n = (1 << 30) // 4 + 1024  # just over 1 GiB of float32 zeros, a few MB compressed
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("w.npy", "w", force_zip64=True) as member:
            member.write(_npy_header((n,)))
            block = b"\0" * (1 << 24)
            left = n * 4
            while left:
                member.write(block[: min(left, len(block))])
                left -= min(left, len(block))
    assert path.stat().st_size < 8 << 20
    with pytest.raises(CheckpointError, match=r"more than max_bytes=1,073,741,824 bytes.*raise the cap"):
        tg.load(path)


def test_the_size_cap_can_be_raised_or_lowered(tmp_path, monkeypatch):
    path = tmp_path / "small.npz"
    tg.save({"w": np.ones(1000, np.float32)}, path)
    with pytest.raises(CheckpointError, match="max_bytes=100"):
        tg.load(path, max_bytes=100)
    monkeypatch.setattr(tg.io, "MAX_CHECKPOINT_BYTES", 100)
    with pytest.raises(CheckpointError):
        tg.load(path)
    np.testing.assert_array_equal(tg.load(path, max_bytes=10_000)["w"], np.ones(1000))
    with pytest.raises(TypeError, match="max_bytes"):
        tg.load(path, max_bytes="big")


def test_a_header_declaring_more_than_the_entry_holds_is_corrupt(tmp_path):
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("w.npy", _npy_header((1000,)) + b"\0" * 40)
    with pytest.raises(CheckpointError, match=r"corrupt.*4,000 bytes.*holds 40"):
        tg.load(path)


def test_a_save_killed_mid_write_keeps_the_old_checkpoint_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "model.npz"
    tg.save({"w": np.arange(4.0)}, path)
    script = textwrap.dedent(
        f"""
        import sys, time
        import numpy as np
        import tinygraph as tg
        from tinygraph import io

        write = io._write_entry
        def slow(archive, key, array):
            write(archive, key, array)
            print("writing", flush=True)
            time.sleep(60)
        io._write_entry = slow
        tg.save({{"w": np.zeros(1 << 20), "b": np.zeros(3)}}, {str(path)!r})
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
    left = [p.name for p in tmp_path.iterdir() if p.name != "model.npz"]
    assert len(left) == 1 and left[0].startswith(f".model.npz.{child.pid}.")  # what SIGKILL leaves
    np.testing.assert_array_equal(tg.load(path)["w"], np.arange(4.0))  # the old checkpoint, intact
    tg.save({"w": np.ones(2)}, path)  # the next save of the same path cleans up after the dead writer
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    np.testing.assert_array_equal(tg.load(path)["w"], np.ones(2))


def test_temporaries_of_live_writers_and_other_targets_are_left_alone(tmp_path):
    path = tmp_path / "model.npz"
    live = tmp_path / f".model.npz.{os.getppid()}.abc.tmp"  # the parent process is alive
    other = tmp_path / ".other.npz.999999999.abc.tmp"
    live.write_bytes(b"x")
    other.write_bytes(b"x")
    tg.save({"w": np.ones(2)}, path)
    assert live.exists() and other.exists()


def test_saving_into_a_missing_folder_names_the_target(tmp_path):
    target = tmp_path / "no" / "such" / "model.npz"
    with pytest.raises(FileNotFoundError, match=r"cannot write the checkpoint .*model\.npz.*does not exist"):
        tg.save({"w": np.ones(2)}, target)


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root may write anywhere")
def test_saving_into_a_read_only_folder_names_the_target(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match=r"save: cannot write the checkpoint .*ro/model\.npz"):
            tg.save({"w": np.ones(2)}, folder / "model.npz")
    finally:
        folder.chmod(0o700)


def test_read_idx_size_check_does_not_overflow(tmp_path):
    path = tmp_path / "huge.idx"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">III", 2**31, 2**31, 2**31) + b"\0" * 16)
    with pytest.raises(ValueError, match=r"truncated: shape \(2147483648, 2147483648, 2147483648\)"):
        data.read_idx(path)
