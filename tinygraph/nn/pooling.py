"""Pooling layers: max and average over windows, and adaptive average pooling to a fixed size."""

from __future__ import annotations

import numpy as np

from tinygraph import functional as F
from tinygraph.functional._args import check_flag, ntuple
from tinygraph.nn.module import Module
from tinygraph.node import Node


class _Pool2d(Module):
    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        layer = type(self).__name__
        self.kernel_size = ntuple(kernel_size, 2, "kernel_size", layer)
        self.stride = self.kernel_size if stride is None else ntuple(stride, 2, "stride", layer)
        self.padding = ntuple(padding, 2, "padding", layer, minimum=0)
        self.ceil_mode = check_flag(layer, "ceil_mode", ceil_mode)

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}, stride={self.stride}"
        text += f", padding={self.padding}" if self.padding != (0, 0) else ""
        return text + (", ceil_mode=True" if self.ceil_mode else "")


class MaxPool2d(_Pool2d):
    """The max of each ``kernel_size`` window (stride defaults to the kernel size).

    ``y[n, c, i, j] = max_{p, q} x[n, c, i·s + p·d, j·s + q·d]``; padding never wins the max. A
    small shift of the input changes only some of the outputs: the invariance the lecture shows
    with a 1-pixel shift. Ties send the gradient as ``F.max_pool2d`` documents.

    ``ceil_mode=True`` rounds the output size up (a last, partial window covers the bottom/right
    edge); ``return_indices=True`` makes the layer return ``(output, indices)``, the indices a plain
    int64 array of each maximum's flat position ``h·W + w`` in its input plane, as in PyTorch.
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation = ntuple(dilation, 2, "dilation", "MaxPool2d")
        self.return_indices = check_flag("MaxPool2d", "return_indices", return_indices)

    def forward(self, x: Node) -> Node | tuple[Node, np.ndarray]:
        return F.max_pool2d(
            x,
            self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        text = super().extra_repr()
        text += f", dilation={self.dilation}" if self.dilation != (1, 1) else ""
        return text + (", return_indices=True" if self.return_indices else "")


class AvgPool2d(_Pool2d):
    """The mean of each ``kernel_size`` window (stride defaults to the kernel size).

    ``y[n, c, i, j] = 1/(KH·KW) Σ_{p, q} x[n, c, i·s + p, j·s + q]``; zero padding counts in the
    mean unless ``count_include_pad=False`` (then each window is divided by its real elements).
    ``ceil_mode=True`` rounds the output size up, as ``F.avg_pool2d`` documents.
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x: Node) -> Node:
        return F.avg_pool2d(
            x,
            self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            ceil_mode=self.ceil_mode,
            count_include_pad=self.count_include_pad,
        )

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.count_include_pad else ", count_include_pad=False")


class AdaptiveAvgPool2d(Module):
    """Average over bins chosen so the output is ``output_size`` whatever the input size.

    Bin ``i`` of an axis of size ``H`` spans ``floor(i·H/out)`` to ``ceil((i+1)·H/out)`` (PyTorch's
    rule), so one network accepts images of any size.
    """

    def __init__(self, output_size: int | tuple[int, int]) -> None:
        super().__init__()
        self.output_size = ntuple(output_size, 2, "output_size", "AdaptiveAvgPool2d")

    def forward(self, x: Node) -> Node:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
