"""Small synthetic 2-D problems for pictures of decision boundaries (clearly not real data)."""
from __future__ import annotations

import math

import torch

from .tensors import TensorData


def spirals(n: int = 600, classes: int = 3, noise: float = 0.2, seed: int = 0) -> TensorData:
    """Interleaved spiral arms in the plane, one per class: not linearly separable.

    Args:
        n: total number of points (split evenly over the classes).
        classes: number of arms.
        noise: standard deviation of the angular jitter, in radians.
        seed: the points are a function of the seed alone.
    """
    if n < classes or classes < 2:
        raise ValueError(f"need classes >= 2 and n >= classes, got n={n}, classes={classes}")
    gen = torch.Generator().manual_seed(seed)
    per_class = n // classes
    radius = torch.linspace(0.05, 1.0, per_class)  # (P,)
    xs, ys = [], []
    for c in range(classes):
        angle = radius * 4.0 + c * 2 * math.pi / classes + noise * torch.randn(per_class, generator=gen)
        xs.append(torch.stack([radius * torch.sin(angle), radius * torch.cos(angle)], dim=1))  # (P, 2)
        ys.append(torch.full((per_class,), c, dtype=torch.long))
    return TensorData(torch.cat(xs), torch.cat(ys), tuple(f"arm {c}" for c in range(classes)))
