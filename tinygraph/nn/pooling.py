"""Pooling layers: max and average over windows, and adaptive average pooling to a fixed size."""

from __future__ import annotations

from tinygraph import functional as F
from tinygraph.nn.conv import pair
from tinygraph.nn.module import Module
from tinygraph.node import Node


class _Pool2d(Module):
    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        super().__init__()
        layer = type(self).__name__
        self.kernel_size = pair(kernel_size, "kernel_size", layer)
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", layer)
        self.padding = pair(padding, "padding", layer)

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}, stride={self.stride}"
        return text + (f", padding={self.padding}" if self.padding != (0, 0) else "")


class MaxPool2d(_Pool2d):
    """The max of each ``kernel_size`` window (stride defaults to the kernel size).

    ``y[n, c, i, j] = max_{p, q} x[n, c, i·s + p·d, j·s + q·d]``; padding never wins the max. A
    small shift of the input changes only some of the outputs: the invariance the lecture shows
    with a 1-pixel shift. Ties send the gradient as ``F.max_pool2d`` documents.
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
    ) -> None:
        super().__init__(kernel_size, stride, padding)
        self.dilation = pair(dilation, "dilation", "MaxPool2d")

    def forward(self, x: Node) -> Node:
        return F.max_pool2d(
            x, self.kernel_size, stride=self.stride, padding=self.padding, dilation=self.dilation
        )

    def extra_repr(self) -> str:
        return super().extra_repr() + (f", dilation={self.dilation}" if self.dilation != (1, 1) else "")


class AvgPool2d(_Pool2d):
    """The mean of each ``kernel_size`` window (stride defaults to the kernel size).

    ``y[n, c, i, j] = 1/(KH·KW) Σ_{p, q} x[n, c, i·s + p, j·s + q]``; zero padding counts in the
    mean unless ``count_include_pad=False`` (then each window is divided by its real elements).
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x: Node) -> Node:
        return F.avg_pool2d(
            x,
            self.kernel_size,
            stride=self.stride,
            padding=self.padding,
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
        self.output_size = pair(output_size, "output_size", "AdaptiveAvgPool2d")

    def forward(self, x: Node) -> Node:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
