"""Conv1d, grouped/depthwise convolution, padding="same"/"valid", ConvTranspose2d, empty batches and
bad sizes: against torch in float64 (same weights -> same outputs and gradients), and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import load_from_torch, module_matches

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn
from tinygraph.errors import OpError

RNG = np.random.default_rng(9)


CASES = [
    ("Conv1d", (2, 4, 9), (4, 6, 3), {}),
    ("Conv1d", (2, 4, 9), (4, 6, 4), {"padding": "same", "dilation": 2, "groups": 2}),
    ("Conv1d", (1, 3, 7), (3, 3, 2), {"stride": 2, "padding": 1, "groups": 3, "bias": False}),
    ("Conv2d", (2, 4, 6, 5), (4, 8, 3), {"groups": 2, "padding": 1}),
    ("Conv2d", (2, 3, 6, 5), (3, 6, (2, 3)), {"groups": 3, "padding": "same"}),  # depthwise, even kernel
    ("Conv2d", (1, 2, 5, 5), (2, 4, 3), {"padding": "valid", "stride": 2}),
    ("ConvTranspose2d", (2, 3, 4, 5), (3, 2, 3), {}),
    (
        "ConvTranspose2d",
        (2, 4, 3, 3),
        (4, 6, 3),
        {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
    ),
    ("ConvTranspose2d", (1, 2, 4, 3), (2, 2, (2, 3)), {"stride": (1, 2), "dilation": 2, "padding": (1, 0)}),
    ("ConvTranspose2d", (1, 2, 5, 4), (2, 3, 3), {"stride": 2, "padding": 3, "output_padding": 1}),  # crops
]


@pytest.mark.torch
@pytest.mark.parametrize(
    ("kind", "x_shape", "args", "kwargs"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_conv_layers_match_torch(kind, x_shape, args, kwargs):
    torch = pytest.importorskip("torch")
    ours = getattr(nn, kind)(*args, dtype=np.float64, **kwargs)
    theirs = getattr(torch.nn, kind)(*args, dtype=torch.float64, **kwargs)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    load_from_torch(ours, theirs)
    module_matches(ours, theirs, RNG.normal(size=x_shape), RNG, rtol=1e-10, grad_rtol=1e-9)


def test_conv_same_padding_keeps_the_size_and_depthwise_has_one_filter_per_channel():
    conv = nn.Conv2d(3, 3, 4, padding="same", groups=3)
    assert conv.weight.shape == (3, 1, 4, 4)
    assert conv(tg.randn(2, 3, 7, 6)).shape == (2, 3, 7, 6)
    assert repr(conv).startswith("Conv2d(3, 3, kernel_size=(4, 4), stride=(1, 1), padding='same', groups=3)")
    assert nn.ConvTranspose2d(2, 3, 3, stride=2)(tg.randn(1, 2, 4, 4)).shape == (1, 3, 9, 9)


def test_conv_on_an_empty_batch_gives_an_empty_result():
    x = tg.zeros((0, 3, 8, 8))
    x.requires_grad_()
    w = tg.randn(4, 3, 3, 3)
    w.requires_grad_()
    y = F.conv2d(x, w, padding=1)
    assert y.shape == (0, 4, 8, 8)
    y.sum().backward()
    assert x.grad.shape == (0, 3, 8, 8) and not w.grad.any()
    assert nn.Conv2d(3, 5, 3)(tg.zeros((0, 3, 8, 8))).shape == (0, 5, 6, 6)
    assert nn.Conv1d(3, 5, 3)(tg.zeros((0, 3, 8))).shape == (0, 5, 6)


def test_conv_bad_sizes_get_clear_errors():
    with pytest.raises(ValueError, match=r"Conv2d: kernel_size entries must be integers >= 1, got \(0, 0\)"):
        nn.Conv2d(3, 4, kernel_size=0)
    with pytest.raises(ValueError, match=r"Conv1d: stride entries must be integers >= 1, got \(0,\)"):
        nn.Conv1d(3, 4, 3, stride=0)
    with pytest.raises(ValueError, match=r"Conv2d: groups=2 must divide in_channels \(3\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Conv2d: padding='same' needs stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"Conv1d\(3, 4, .*expected an input of shape \(N, 3, L\)"):
        nn.Conv1d(3, 4, 3)(tg.randn(2, 3, 5, 5))
    with pytest.raises(OpError, match="conv2d: padding must be an int, a tuple of ints, 'valid' or 'same'"):
        F.conv2d(tg.randn(1, 2, 5, 5), tg.randn(3, 2, 3, 3), padding="full")
    with pytest.raises(OpError, match=r"conv2d: input of shape \(1, 4, 5, 5\) has 4 channels but weight"):
        F.conv2d(tg.randn(1, 4, 5, 5), tg.randn(4, 1, 3, 3), groups=2)
    with pytest.raises(OpError, match=r"conv2d: the kernel must have at least one element per axis"):
        F.conv2d(tg.randn(1, 2, 5, 5), tg.zeros((3, 2, 0, 3)))
    with pytest.raises(
        OpError, match=r"conv_transpose2d: output_padding \(2, 2\) must be smaller than the stride"
    ):
        F.conv_transpose2d(tg.randn(1, 2, 3, 3), tg.randn(2, 3, 3, 3), stride=2, output_padding=2)
