"""Convolution (shared weights) and the lecture's locally connected layer (unshared weights)."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from tinygraph import functional as F
from tinygraph import ops
from tinygraph._inputs import positive_sizes
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


class _ConvNd(Module):
    """Shared by Conv1d and Conv2d: parameters, PyTorch's default initialisation, checks, repr."""

    nd = 2
    layout = "(N, {c}, H, W) (batch, channels, height, width)"
    convolve = staticmethod(F.conv2d)  # the functional op a layer of this kind runs

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] | str = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        in_channels, out_channels = positive_sizes(name, in_channels=in_channels, out_channels=out_channels)
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: groups={groups} must divide in_channels ({in_channels}) and out_channels "
                f"({out_channels})"
            )
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        n = self.nd
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", name)
        self.stride = ntuple(stride, n, "stride", name)
        self.dilation = ntuple(dilation, n, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' needs stride 1, got stride {self.stride}")
            self.padding: tuple[int, ...] | str = padding
        else:
            self.padding = ntuple(padding, n, "padding", name, minimum=0)
        self.weight = Parameter(init.empty(self._weight_shape(), dtype))
        init.kaiming_uniform_(self.weight, a=np.sqrt(5.0))
        self.bias = Parameter(init.empty((self.out_channels,), dtype)) if bias else None
        if bias:
            bound = init.default_bound(init.fan_in_and_fan_out(self.weight.shape)[0])
            init.uniform_(self.bias, -bound, bound)

    def _weight_shape(self) -> tuple[int, ...]:
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    def forward(self, x: Node) -> Node:
        self._check_input(x)
        return self.convolve(
            x,
            self.weight,
            self.bias,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            groups=self.groups,
        )

    def _check_input(self, x: object) -> None:
        shape = np.shape(x.data if isinstance(x, Node) else x)
        if len(shape) != self.nd + 2 or shape[1] != self.in_channels:
            raise ValueError(
                f"{self.describe()}: expected an input of shape {self.layout.format(c=self.in_channels)}, "
                f"got shape {shape}"
            )

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        )
        if self.padding != (0,) * self.nd:
            text += (
                f", padding={self.padding!r}"
                if isinstance(self.padding, str)
                else f", padding={self.padding}"
            )
        if self.dilation != (1,) * self.nd:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation, as in deep learning) over an (N, C_in, H, W) input.

    ``y[n, o, i, j] = b[o] + Σ_{c, p, q} W[o, c, p, q] · x[n, c, i·s + p·d, j·s + q·d]`` after zero
    padding: the same filter ``W[o]`` is applied at every position (parameter sharing), so the
    layer has ``C_out·C_in·KH·KW (+ C_out)`` parameters whatever the image size.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, dilation : int or pair of ints (each entry >= 1)
    padding : int, pair of ints, "valid" or "same" (stride 1)
    groups : int
        Channel groups, each with its own filters (``groups = in_channels``: depthwise).
    bias : bool
    padding_mode : "zeros" (the only one supported)
    dtype : numpy dtype of the parameters (float32)

    Attributes
    ----------
    weight : Parameter (out_channels, in_channels / groups, KH, KW), from U(-1/√fan_in, 1/√fan_in),
        ``fan_in = in_channels / groups · KH·KW``
    bias : Parameter (out_channels,) from the same range, or None
    """


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation) over an (N, C_in, L) input, as ``torch.nn.Conv1d``.

    ``y[n, o, t] = b[o] + Σ_{c, k} W[o, c, k] · x[n, c, t·s + k·d]`` after zero padding; the
    parameters and options are those of :class:`Conv2d` with one spatial axis.
    """

    nd = 1
    layout = "(N, {c}, L) (batch, channels, length)"
    convolve = staticmethod(F.conv1d)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the adjoint of Conv2d: upsampling), as ``torch.nn.ConvTranspose2d``.

    Output size ``(H - 1)·stride - 2·padding + dilation·(K - 1) + output_padding + 1``.

    Attributes
    ----------
    weight : Parameter (in_channels, out_channels / groups, KH, KW), PyTorch's layout and default
        initialisation
    bias : Parameter (out_channels,) or None
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
        padding_mode: str = "zeros",
        dtype: DTypeLike = np.float32,
    ) -> None:
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be an int or a pair of ints, got {padding!r}")
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            dtype,
        )
        self.output_padding = ntuple(output_padding, 2, "output_padding", "ConvTranspose2d", minimum=0)

    def _weight_shape(self) -> tuple[int, ...]:
        return (self.in_channels, self.out_channels // self.groups, *self.kernel_size)

    def forward(self, x: Node) -> Node:
        self._check_input(x)
        return F.conv_transpose2d(
            x,
            self.weight,
            self.bias,
            stride=self.stride,
            padding=self.padding,
            output_padding=self.output_padding,
            groups=self.groups,
            dilation=self.dilation,
        )

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text + (f", output_padding={self.output_padding}" if self.output_padding != (0, 0) else "")


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
        in_channels, out_channels = positive_sizes(name, in_channels=in_channels, out_channels=out_channels)
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
