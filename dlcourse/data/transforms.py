"""Input preprocessing and data augmentation on image tensors (B, C, H, W), batched and seeded.

Preprocessing (``standardize``) is fitted on the training set and applied unchanged to every
split. Augmentations draw their randomness on the CPU from a ``torch.Generator`` (so a seed fixes
them on any device) and return a new tensor; :func:`dlcourse.train.fit` applies one to each
training batch through its ``augment`` argument, never to validation or test data.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .tensors import TensorData


def channel_stats(x: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and standard deviation of each channel of images ``x`` (N, C, H, W), shapes (1, C, 1, 1)."""
    if x.dim() != 4:
        raise ValueError(f"expected images (N, C, H, W), got shape {tuple(x.shape)}")
    mean = x.mean(dim=(0, 2, 3), keepdim=True)  # (1, C, 1, 1)
    std = x.std(dim=(0, 2, 3), keepdim=True)  # (1, C, 1, 1)
    if (std == 0).any():
        raise ValueError("a channel is constant: its standard deviation is 0, so it cannot be standardised")
    return mean, std


def standardize(data: TensorData, mean: Tensor, std: Tensor) -> TensorData:
    """``(x - mean) / std`` with statistics computed on the *training* set (LeCun et al., 1998)."""
    return TensorData((data.x - mean.to(data.x.device)) / std.to(data.x.device), data.y, data.classes)


def random_hflip(x: Tensor, generator: torch.Generator, p: float = 0.5) -> Tensor:
    """Mirror each image left-right with probability ``p``."""
    B = x.shape[0]
    flip = (torch.rand(B, generator=generator) < p).to(x.device)  # (B,)
    return torch.where(flip[:, None, None, None], x.flip(-1), x)  # (B, C, H, W)


def random_shift(x: Tensor, generator: torch.Generator, max_shift: int = 2, fill: float = 0.0) -> Tensor:
    """Translate each image by its own random whole-pixel offset in [-max_shift, max_shift] on
    both axes, filling the uncovered border with ``fill`` (the background: 0 for Fashion-MNIST's
    pixels in [0, 1], ``-mean / std`` once they are standardised)."""
    if max_shift < 0:
        raise ValueError(f"max_shift must be at least 0, got {max_shift}")
    B, C, H, W = x.shape
    s = max_shift
    offset = torch.randint(0, 2 * s + 1, (B, 2), generator=generator).to(x.device)  # (B, 2), s means no shift
    padded = torch.nn.functional.pad(x, (s, s, s, s), value=fill)  # (B, C, H + 2s, W + 2s)
    rows = offset[:, 0, None] + torch.arange(H, device=x.device)  # (B, H)
    cols = offset[:, 1, None] + torch.arange(W, device=x.device)  # (B, W)
    b = torch.arange(B, device=x.device)[:, None, None, None]  # (B, 1, 1, 1)
    c = torch.arange(C, device=x.device)[None, :, None, None]  # (1, C, 1, 1)
    return padded[b, c, rows[:, None, :, None], cols[:, None, None, :]]  # (B, C, H, W)
