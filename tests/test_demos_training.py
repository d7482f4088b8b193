"""Smoke tests: the training demos run for a few steps with tiny settings and write what they promise."""

from __future__ import annotations

import gzip
import importlib.util
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import data

DEMOS = Path(__file__).resolve().parents[1] / "demos"
PNG = b"\x89PNG\r\n\x1a\n"


def load_demo(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_demo", DEMOS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cnn_demo():
    return load_demo("train_cnn")


@pytest.fixture(scope="module")
def rnn_demo():
    return load_demo("train_rnn")


def test_train_cnn_writes_checkpoint_plots_and_graphs(cnn_demo, tmp_path, capsys):
    result = cnn_demo.main(["--out", str(tmp_path), "--epochs", "2", "--max-steps", "6", "--width", "4"])
    names = sorted(p.name for p in result["files"])
    onnx_files = ["model.onnx", "model_onnx.svg"] if importlib.util.find_spec("onnx") else []
    assert names == sorted(
        ["model.npz", "training_curves.png", "filters.png", "step_collapsed.svg", "step_conv_expanded.svg"]
        + onnx_files
        + ["explore_step.html"]
    )
    assert 'id="tinygraph-graph"' in (tmp_path / "explore_step.html").read_text(encoding="utf-8")
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "training took" in printed
    for path in result["files"]:
        assert path.parent == tmp_path and str(path) in printed
    for png in ("training_curves.png", "filters.png"):
        assert (tmp_path / png).read_bytes().startswith(PNG)
    collapsed = (tmp_path / "step_collapsed.svg").read_text(encoding="utf-8")
    expanded = (tmp_path / "step_conv_expanded.svg").read_text(encoding="utf-8")
    ET.fromstring(collapsed)
    assert "conv1.weight" in collapsed and "cross_entropy" in collapsed
    assert 'class="cluster' in expanded and 'class="cluster' not in collapsed
    assert "sliding_window" in expanded and "sliding_window" not in collapsed
    # 6 steps were taken: one full epoch of 2 would be far more
    assert len(result["history"]["loss"]) == 1
    assert 0.0 <= result["test_accuracy"] <= 1.0


def test_train_cnn_checkpoint_reloads_with_identical_predictions(cnn_demo, tmp_path):
    result = cnn_demo.main(["--out", str(tmp_path), "--epochs", "1", "--max-steps", "3", "--width", "4"])
    trained = result["model"].eval()
    tg.manual_seed(123)  # a different initialisation
    fresh = cnn_demo.build_cnn(8, 4).eval()
    x = tg.tensor(data.load_digits().x_test[:50])
    assert not np.array_equal(fresh(x).data, trained(x).data)
    fresh.load_state_dict(tg.load(tmp_path / "model.npz"))
    np.testing.assert_array_equal(fresh(x).data, trained(x).data)


def test_train_cnn_learns(cnn_demo, tmp_path):
    """A short run (2 epochs) already beats chance by far; the full run reaches ~98%."""
    result = cnn_demo.main(["--out", str(tmp_path), "--epochs", "2", "--width", "8"])
    assert result["test_accuracy"] > 0.6
    assert result["history"]["loss"][1] < result["history"]["loss"][0]


def test_train_cnn_reads_mnist_idx_files(cnn_demo, tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name, shape in [
        ("train-images-idx3-ubyte", (16, 28, 28)),
        ("train-labels-idx1-ubyte", (16,)),
        ("t10k-images-idx3-ubyte", (8, 28, 28)),
        ("t10k-labels-idx1-ubyte", (8,)),
    ]:
        values = rng.integers(0, 256 if len(shape) == 3 else 10, shape).astype(np.uint8)
        header = bytes([0, 0, 8, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
        (folder / f"{name}.gz").write_bytes(gzip.compress(header + values.tobytes()))
    result = cnn_demo.main(
        ["--out", str(tmp_path / "out"), "--mnist", str(folder), "--epochs", "1", "--width", "2"]
    )
    assert result["model"].fc.in_features == 2 * 2 * 7 * 7  # 28 → 14 → 7 after two poolings


def test_train_cnn_rejects_bad_options(cnn_demo, capsys):
    with pytest.raises(SystemExit):
        cnn_demo.main(["--epochs", "0"])
    assert "--epochs must be at least 1" in capsys.readouterr().err


def test_train_rnn_writes_checkpoint_and_unrolled_graphs(rnn_demo, tmp_path, capsys):
    result = rnn_demo.main(["--out", str(tmp_path), "--steps", "5", "--length", "5", "--hidden", "4"])
    assert sorted(p.name for p in result["files"]) == [
        "model.npz",
        "rnn_unrolled.svg",
        "rnn_unrolled_expanded.svg",
    ]
    assert "test accuracy" in capsys.readouterr().out
    collapsed = (tmp_path / "rnn_unrolled.svg").read_text(encoding="utf-8")
    expanded = (tmp_path / "rnn_unrolled_expanded.svg").read_text(encoding="utf-8")
    ET.fromstring(collapsed)
    # one box per time step of the 4-step sequence, all fed by the one shared recurrent weight
    assert collapsed.count(">rnn_cell<") == 4
    assert "rnn.weight_hh_l0" in collapsed
    assert expanded.count('class="cluster') >= 4 and "tanh" in expanded
    fresh = rnn_demo.BitCounter(4, 6)
    fresh.load_state_dict(tg.load(tmp_path / "model.npz"))
    bits = tg.tensor(np.ones((3, 5, 1), dtype=np.float32))
    np.testing.assert_array_equal(fresh(bits).data, result["model"](bits).data)


def test_train_rnn_learns_to_count(rnn_demo, tmp_path):
    result = rnn_demo.main(["--out", str(tmp_path), "--steps", "300", "--length", "6", "--hidden", "16"])
    assert result["test_accuracy"] > 0.8  # guessing the most common count gives ~31%
