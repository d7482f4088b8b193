"""Normalisation layers — BatchNorm1d/2d, LayerNorm, GroupNorm — and Embedding, in PyTorch's shape.

BatchNorm keeps PyTorch's buffers ``running_mean``, ``running_var`` and ``num_batches_tracked``
(saved in the state dict under those names, so a torch state dict loads), updates them in training
mode and normalises with them after ``eval()``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from tinygraph import functional as F
from tinygraph._inputs import int_arg, positive_sizes, real_arg
from tinygraph.nn import init
from tinygraph.nn.module import Module, Parameter
from tinygraph.node import Node


def _shape(x: object) -> tuple[int, ...]:
    return np.shape(x.data if isinstance(x, Node) else x)


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d; subclasses say which input ranks they take."""

    ranks: tuple[int, ...] = ()
    layout = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        num_features = int_arg(name, "num_features", num_features)
        eps = real_arg(name, "eps", eps)
        momentum = None if momentum is None else real_arg(name, "momentum", momentum)
        if num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive integer, got {num_features}")
        if momentum is not None and not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum}")
        if not float(eps) >= 0.0:
            raise ValueError(f"{name}: eps must be non-negative, got {eps}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        c = self.num_features
        if self.affine:
            self.weight = init.ones_(Parameter(init.empty((c,), dtype)))
            self.bias = init.zeros_(Parameter(init.empty((c,), dtype)))
        else:
            self.weight = self.bias = None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(c, dtype))
            self.register_buffer("running_var", np.ones(c, dtype))
            self.register_buffer("num_batches_tracked", np.array(0, np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batch tracked."""
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def forward(self, x: Node) -> Node:
        shape = _shape(x)
        if len(shape) not in self.ranks or shape[1] != self.num_features:
            raise ValueError(
                f"{self.describe()}: expected an input of shape {self.layout.format(c=self.num_features)}, "
                f"got shape {shape}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked[...] += 1
            if self.momentum is None:  # a cumulative average of all the batches so far
                factor = 1.0 / float(self.num_batches_tracked)
        use_batch = self.training or self.running_mean is None
        update = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if update else None,
            self.running_var if update else None,
            self.weight,
            self.bias,
            training=use_batch,
            momentum=factor,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs per channel (Ioffe & Szegedy, 2015).

    ``y = (x - μ) / √(σ² + eps) · weight + bias``: in training μ, σ² are the batch's (biased
    variance) and the running averages are updated, ``r ← (1 - momentum)·r + momentum·s`` (the
    unbiased variance; ``momentum=None``: the cumulative average); in evaluation the running
    averages are used. Without ``track_running_stats`` the batch's statistics are always used.

    Attributes
    ----------
    weight, bias : Parameters (C,), ones and zeros (``affine=True``), or None
    running_mean, running_var : buffers (C,), zeros and ones; num_batches_tracked : int64 buffer
    """

    ranks = (2, 3)
    layout = "(N, {c}) or (N, {c}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images per channel; see :class:`BatchNorm1d`."""

    ranks = (4,)
    layout = "(N, {c}, H, W)"


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` axes (Ba et al., 2016).

    ``y = (x - μ) / √(σ² + eps) · weight + bias`` with μ, σ² over those axes of each sample;
    ``weight`` (ones) and ``bias`` (zeros) have shape ``normalized_shape`` (``elementwise_affine``).
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
        if not isinstance(shape, (tuple, list)):
            raise TypeError(
                f"LayerNorm: normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}"
            )
        self.normalized_shape = tuple(int_arg("LayerNorm", "normalized_shape", s) for s in shape)
        if not self.normalized_shape or min(self.normalized_shape) < 1:
            raise ValueError(f"LayerNorm: normalized_shape must be positive sizes, got {normalized_shape!r}")
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = init.ones_(Parameter(init.empty(self.normalized_shape, dtype)))
            self.bias = init.zeros_(Parameter(init.empty(self.normalized_shape, dtype))) if bias else None
        else:
            self.weight = self.bias = None

    def forward(self, x: Node) -> Node:
        shape = _shape(x)
        k = len(self.normalized_shape)
        if tuple(shape[len(shape) - k :]) != self.normalized_shape or len(shape) < k:
            raise ValueError(
                f"{self.describe()}: expected an input whose trailing axes are {self.normalized_shape}, "
                f"got shape {shape}"
            )
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Group normalisation (Wu & He, 2018): channels split into ``num_groups`` groups, each normalised.

    ``weight`` (ones) and ``bias`` (zeros) have shape (num_channels,) when ``affine``.
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        num_groups = int_arg("GroupNorm", "num_groups", num_groups)
        num_channels = int_arg("GroupNorm", "num_channels", num_channels)
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps = float(eps)
        self.affine = bool(affine)
        if self.affine:
            self.weight = init.ones_(Parameter(init.empty((self.num_channels,), dtype)))
            self.bias = init.zeros_(Parameter(init.empty((self.num_channels,), dtype)))
        else:
            self.weight = self.bias = None

    def forward(self, x: Node) -> Node:
        shape = _shape(x)
        if len(shape) < 2 or shape[1] != self.num_channels:
            raise ValueError(
                f"{self.describe()}: expected an input of shape (N, {self.num_channels}, ...), "
                f"got shape {shape}"
            )
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by integer index.

    ``weight`` (num_embeddings, embedding_dim) is drawn from N(0, 1), as PyTorch; with
    ``padding_idx`` that row starts at zero and receives no gradient.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        num_embeddings, embedding_dim = positive_sizes(
            "Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim
        )
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= int(padding_idx) < self.num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} is out of range for {num_embeddings} embeddings"
                )
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        self.weight = init.normal_(Parameter(init.empty((self.num_embeddings, self.embedding_dim), dtype)))
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0

    def forward(self, indices: object) -> Node:
        return F.embedding(indices, self.weight, padding_idx=self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
