"""Memory layout of ``conv2d_gemm``'s windows: im2col over flattened, padded image planes.

``conv2d`` in primitives (``tinygraph/functional/conv.py``) gathers its windows into a matrix with
one column per output pixel, multiplies, and in the backward adds the windows' gradient back with
``fold``. Both copies move rows only as long as one output row (32 elements for a 32×32 image, 14
for LeNet's second layer), and numpy pays a fixed cost for every such row: the windows' copy and
the nine strided additions of the fold took more time than their data needs.

Here each padded image is stored as one flat row of ``Hp·Wp`` values (a few zeros of slack at the
end). For stride 1, the window offset ``(u, v)`` of every output pixel ``(i, j)`` is then the *same
flat shift* ``s = u·d_h·Wp + v·d_w`` from ``i·Wp + j``: an output image's whole window row for one
offset is one contiguous slice ``plane[s : s + OH·Wp]``. The columns matrix gets ``Wp`` columns per
output row instead of ``OW``, the last ``Wp - OW`` of them spanning the right border and the next
row's start ("wrap" columns: their products are computed and dropped). So

- im2col copies and fold adds whole image rows of ``OH·Wp`` values (1,088 for 32×32), not rows of
  ``OW``;
- the products are ``Wp / OW`` wider (6% for a 3×3 kernel on 32×32);
- the output is copied out without the wrap columns (the bias added on the way), and the output
  gradient is written into the same wide layout with zeros in the wrap columns, so the wrap
  columns add nothing to any gradient.

Layout (C input channels, N images, O filters, K = KH·KW offsets, L = OH·Wp)::

    planes  (C, N, Hp·Wp + slack)       zero-padded inputs, one flat row per channel and image
    columns (C·KH·KW, N·L)              columns[(c, u, v), (n, t)] = planes[c, n, t + s(u, v)]
    product (O, N·L)                    W (O, C·KH·KW) @ columns; y[n, o, i, j] = product[o, n, i·Wp + j]

Measured on conv2d forward+backward, x (16, 16, 32, 32), w (32, 16, 3, 3), padding 1 (float32,
OpenBLAS, 2 cores; each step alone, on arrays in cache): the windows' copy 0.77 → 0.33 ms, the fold
1.8 → 1.1 ms. Inside a training step, with the cache cold, a convolution this large is bound by
memory bandwidth and gains little; small ones gain most (a LeNet-style step: 5.03 → 4.63 ms).
``docs/performance.md`` has the whole-op figures; ``tests/test_conv_gemm.py`` compares every
layout with the primitives' definition in float64.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tinygraph import _scratch


class Geometry(NamedTuple):
    """The sizes of one stride-1 convolution in the flat layout."""

    n: int  # images
    c: int  # input channels
    h: int  # input height and width
    w: int
    kh: int  # kernel height and width
    kw: int
    dh: int  # dilation
    dw: int
    top: int  # zero rows above, zero columns on the left
    left: int
    hp: int  # padded height and width
    wp: int
    oh: int  # output height and width
    ow: int

    @property
    def row(self) -> int:
        """Columns per image in the wide layout, ``OH·Wp``."""
        return self.oh * self.wp

    @property
    def plane(self) -> int:
        """Length of one flat padded plane: ``Hp·Wp`` plus the slack the last window row runs into.

        The last offset's slice ends at ``s_max + OH·Wp = Hp·Wp + span_w - 1``.
        """
        return self.hp * self.wp + self.dw * (self.kw - 1)

    def shifts(self) -> list[tuple[int, int, int]]:
        """``(u, v, s)`` for every kernel offset: the flat shift ``s = u·d_h·Wp + v·d_w``."""
        return [(u, v, u * self.dh * self.wp + v * self.dw) for u in range(self.kh) for v in range(self.kw)]


def geometry(
    x_shape: tuple[int, ...],
    kernel: tuple[int, int],
    pads: tuple[tuple[int, int], tuple[int, int]],
    dilation: tuple[int, int],
) -> Geometry:
    """The :class:`Geometry` of a stride-1 conv2d of an (N, C, H, W) input (sizes already checked)."""
    n, c, h, w = x_shape
    (top, bottom), (left, right) = pads
    kh, kw = kernel
    dh, dw = dilation
    hp, wp = h + top + bottom, w + left + right
    return Geometry(n, c, h, w, kh, kw, dh, dw, top, left, hp, wp, hp - dh * (kh - 1), wp - dw * (kw - 1))


def _interior(planes: np.ndarray, geo: Geometry) -> np.ndarray:
    """The (N, C, H, W) view of the unpadded pixels inside ``planes`` (C, N, plane)."""
    square = planes[:, :, : geo.hp * geo.wp].reshape(geo.c, geo.n, geo.hp, geo.wp)
    return square[:, :, geo.top : geo.top + geo.h, geo.left : geo.left + geo.w].transpose(1, 0, 2, 3)


def columns(x: np.ndarray, geo: Geometry) -> np.ndarray:
    """The wide im2col matrix (C·KH·KW, N·OH·Wp) of ``x`` (N, C, H, W).

    ``columns[(c, u, v), (n, t)] = x_pad[n, c].flat[t + u·d_h·Wp + v·d_w]``: one copy of whole flat
    image rows per channel and offset.
    """
    planes = _scratch.zeros((geo.c, geo.n, geo.plane), x.dtype)
    _interior(planes, geo)[...] = x
    item = planes.itemsize
    windows = as_strided(
        planes,
        (geo.c, geo.kh, geo.kw, geo.n, geo.row),
        (planes.strides[0], geo.dh * geo.wp * item, geo.dw * item, planes.strides[1], item),
        writeable=False,
    )
    out = _scratch.empty((geo.c * geo.kh * geo.kw, geo.n * geo.row), x.dtype)
    out.reshape(windows.shape)[...] = windows
    return out


def output(product: np.ndarray, geo: Geometry, bias: np.ndarray | None) -> np.ndarray:
    """The output (N, O, OH, OW) of a wide product (O, N·OH·Wp): its wrap columns dropped, plus ``bias``.

    A new C-contiguous array, the bias added on the way (one pass either way). Returning a view
    of the product instead would make every elementwise op after the convolution read rows of
    ``OW`` values: ``relu`` of LeNet's first layer's output took 178 µs on the view, 109 µs on a
    contiguous array (plus 64 µs for this copy).
    """
    o = product.shape[0]
    view = product.reshape(o, geo.n, geo.oh, geo.wp)[:, :, :, : geo.ow].transpose(1, 0, 2, 3)
    if bias is None:
        return np.ascontiguousarray(view)
    out = np.empty((geo.n, o, geo.oh, geo.ow), np.result_type(product, bias))
    return np.add(view, bias.reshape(1, o, 1, 1), out=out)


def wide_gradient(g: np.ndarray, geo: Geometry) -> np.ndarray:
    """The output gradient ``g`` (N, O, OH, OW) in the product's wide layout (O, N·OH·Wp), zeros in
    the wrap columns (so that they add nothing to either product of the backward)."""
    o = g.shape[1]
    wide = _scratch.zeros((o, geo.n, geo.oh, geo.wp), g.dtype)  # (one memset: cheaper than the
    wide[:, :, :, : geo.ow] = g.transpose(1, 0, 2, 3)  # wrap columns' short rows written alone)
    return wide.reshape(o, geo.n * geo.row)


def fold(d_columns: np.ndarray, geo: Geometry) -> np.ndarray:
    """col2im of a wide columns' gradient (C·KH·KW, N·OH·Wp): the input gradient (N, C, H, W).

    Each offset's rows are added at their flat shift, whole image rows at a time; the padding's
    share is dropped at the end. Returns a view (channels outermost in memory).
    """
    planes = _scratch.zeros((geo.c, geo.n, geo.plane), d_columns.dtype)
    per_offset = d_columns.reshape(geo.c, geo.kh, geo.kw, geo.n, geo.row)
    for u, v, s in geo.shifts():
        planes[:, :, s : s + geo.row] += per_offset[:, u, v]
    return _interior(planes, geo)
