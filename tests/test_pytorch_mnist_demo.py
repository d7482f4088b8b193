"""The check of the whole: PyTorch's MNIST example, with only imports, data source and device lines
changed, runs on tinygraph (a few batches of the digits upsampled to 28×28)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg

DEMO = Path(__file__).resolve().parents[1] / "demos" / "pytorch_mnist.py"
# The example's test loop needs PyTorch-style Node methods and dim= (issue #14, the "ops" part).
NEEDS = ("argmax", "eq", "view_as")
needs_ops = pytest.mark.skipif(
    not all(hasattr(tg.Node, m) for m in NEEDS),
    reason="needs Node.argmax/eq/view_as (the ops engineer's part)",
)


def load_demo():
    spec = importlib.util.spec_from_file_location("pytorch_mnist_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_ops
def test_pytorch_mnist_example_runs_a_few_batches(capsys):
    demo = load_demo()
    accuracy = demo.main(["--dry-run", "--epochs", "1", "--batch-size", "16", "--test-batch-size", "200"])
    out = capsys.readouterr().out
    assert re.search(r"Train Epoch: 1 \[0/1438 \(0%\)\]\tLoss: \d\.\d{6}", out)
    match = re.search(r"Test set: Average loss: (\d+\.\d{4}), Accuracy: (\d+)/359 \(\d+%\)", out)
    assert match and np.isfinite(float(match.group(1)))
    assert accuracy == int(match.group(2)) / 359


def test_the_net_is_pytorchs_with_the_same_parameter_names_and_shapes():
    demo = load_demo()
    shapes = {k: v.shape for k, v in demo.Net().state_dict().items()}
    assert shapes == {
        "conv1.weight": (32, 1, 3, 3),
        "conv1.bias": (32,),
        "conv2.weight": (64, 32, 3, 3),
        "conv2.bias": (64,),
        "fc1.weight": (128, 9216),
        "fc1.bias": (128,),
        "fc2.weight": (10, 128),
        "fc2.bias": (10,),
    }
    x_train, _, x_test, _ = demo.digits_as_mnist()
    assert x_train.shape[1:] == (1, 28, 28) and x_train.dtype == np.float32
    assert len(x_train) + len(x_test) == 1797 and 0.0 <= x_train.min() and x_train.max() <= 1.0
