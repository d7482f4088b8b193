"""Convolution (shared weights) and the lecture's locally connected layer (unshared weights)."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from tinygraph import functional as F
from tinygraph import ops
from tinygraph.functional._args import ntuple
from tinygraph.nn import init
from tinygraph.nn.module import Module, Parameter
from tinygraph.node import Node, as_array


def check_image_input(layer: Module, x: object, channels: int) -> tuple[int, ...]:
    """Raise a ValueError naming ``layer`` unless ``x`` has shape (N, channels, H, W)."""
    shape = np.shape(as_array(x))
    if len(shape) != 4 or shape[1] != channels:
        raise ValueError(
            f"{layer.describe()}: expected an input of shape (N, {channels}, H, W) (batch, channels, height, "
            f"width), got shape {shape}"
        )
    return shape


class Conv2d(Module):
    """2-D convolution (cross-correlation, as in deep learning) over an (N, C_in, H, W) input.

    ``y[n, o, i, j] = b[o] + Σ_{c, p, q} W[o, c, p, q] · x[n, c, i·s + p·d, j·s + q·d]`` after zero
    padding: the same filter ``W[o]`` is applied at every position (parameter sharing), so the
    layer has ``C_out·C_in·KH·KW (+ C_out)`` parameters whatever the image size.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, dilation : int or pair of ints
    bias : bool
    dtype : numpy dtype of the parameters (float32)

    Attributes
    ----------
    weight : Parameter (out_channels, in_channels, KH, KW), from U(-1/√fan_in, 1/√fan_in),
        ``fan_in = in_channels·KH·KW``
    bias : Parameter (out_channels,) from the same range, or None
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        bias: bool = True,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        if in_channels < 1 or out_channels < 1:
            raise ValueError(
                f"Conv2d: in_channels and out_channels must be positive, got {in_channels} and {out_channels}"
            )
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = ntuple(kernel_size, 2, "kernel_size", "Conv2d")
        self.stride = ntuple(stride, 2, "stride", "Conv2d")
        self.padding = ntuple(padding, 2, "padding", "Conv2d", minimum=0)
        self.dilation = ntuple(dilation, 2, "dilation", "Conv2d")
        self.weight = Parameter(init.empty((self.out_channels, self.in_channels, *self.kernel_size), dtype))
        init.kaiming_uniform_(self.weight, a=np.sqrt(5.0))
        self.bias = Parameter(init.empty((self.out_channels,), dtype)) if bias else None
        if bias:
            bound = init.default_bound(init.fan_in_and_fan_out(self.weight.shape)[0])
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Node) -> Node:
        check_image_input(self, x, self.in_channels)
        return F.conv2d(
            x, self.weight, self.bias, stride=self.stride, padding=self.padding, dilation=self.dilation
        )

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        return text + ("" if self.bias is not None else ", bias=False")


class LocallyConnected2d(Module):
    """Like Conv2d, but with a different filter at every output position (unshared weights).

    ``y[n, o, i, j] = b[o, i, j] + Σ_{c, p, q} W[i, j, o, c, p, q] · x[n, c, i·s + p, j·s + q]``
    after zero padding. Connections stay sparse and local, as in a convolution, but nothing is
    shared: the lecture's 200×200 image with 40K hidden units and 10×10 filters needs 4M weights
    here (``OH·OW·C_out·C_in·KH·KW``), where a convolution needs 100 per filter. It suits
    registered inputs (faces aligned in the frame), and fixes the input size.

    Parameters
    ----------
    in_channels, out_channels : int
    input_size : int or pair
        Height and width of the inputs (the number of positions, hence of filters, depends on it).
    kernel_size, stride, padding : int or pair of ints
    bias : bool
        One bias per output unit (channel and position).
    dtype : numpy dtype of the parameters (float32)

    Attributes
    ----------
    weight : Parameter (OH, OW, out_channels, in_channels, KH, KW), from U(-1/√fan_in, 1/√fan_in)
    bias : Parameter (out_channels, OH, OW) or None
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        input_size: int | tuple[int, int],
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        name = "LocallyConnected2d"
        if in_channels < 1 or out_channels < 1:
            raise ValueError(
                f"{name}: in_channels and out_channels must be positive, got {in_channels} and {out_channels}"
            )
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.input_size = ntuple(input_size, 2, "input_size", name)
        self.kernel_size = ntuple(kernel_size, 2, "kernel_size", name)
        self.stride = ntuple(stride, 2, "stride", name)
        self.padding = ntuple(padding, 2, "padding", name, minimum=0)
        out = []
        for size, k, s, p in zip(self.input_size, self.kernel_size, self.stride, self.padding):
            if k < 1 or s < 1 or p < 0 or size + 2 * p < k:
                raise ValueError(
                    f"{name}: kernel {self.kernel_size} with stride {self.stride} and padding "
                    f"{self.padding} does not fit inputs of size {self.input_size}"
                )
            out.append((size + 2 * p - k) // s + 1)
        self.output_size = (out[0], out[1])
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = init.default_bound(fan_in)
        shape = (*self.output_size, self.out_channels, self.in_channels, *self.kernel_size)
        self.weight = init.uniform_(Parameter(init.empty(shape, dtype)), -bound, bound)
        self.bias = (
            init.uniform_(Parameter(init.empty((self.out_channels, *self.output_size), dtype)), -bound, bound)
            if bias
            else None
        )

    def forward(self, x: Node) -> Node:
        shape = check_image_input(self, x, self.in_channels)
        if shape[2:] != self.input_size:
            raise ValueError(
                f"{self.describe()}: built for inputs of size {self.input_size}, got shape {shape} "
                "(a locally connected layer has one filter per position, so its input size is fixed)"
            )
        n = shape[0]
        (ph, pw), (oh, ow) = self.padding, self.output_size
        if ph or pw:
            x = ops.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        # windows: (N, C, OH, OW, KH, KW) -> (OH, OW, N, C·KH·KW), one row of patches per position
        windows = ops.sliding_window(x, self.kernel_size, self.stride, (1, 1))
        patches = ops.reshape(ops.transpose(windows, (2, 3, 0, 1, 4, 5)), (oh, ow, n, -1))
        # weights: (OH, OW, C_out, C·KH·KW) -> (OH, OW, C·KH·KW, C_out); a batch of OH·OW matmuls
        w = ops.transpose(ops.reshape(self.weight, (oh, ow, self.out_channels, -1)), (0, 1, 3, 2))
        y = ops.transpose(ops.matmul(patches, w), (2, 3, 0, 1))  # (N, C_out, OH, OW)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, input_size={self.input_size}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
            + ("" if self.bias is not None else ", bias=False")
        )
