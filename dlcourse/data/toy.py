"""Small synthetic problems (clearly not real data): 2-D points for pictures of decision boundaries,
the adding problem that tests memory over long sequences, sequence-to-sequence tasks whose
answer needs the whole input (reversing, sorting), and the 2-D Gaussian mixtures on which generative
models show mode collapse."""
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


def adding_problem(n: int, length: int, seed: int = 0) -> TensorData:
    """The adding problem: remember two marked numbers, add them.

    Introduced by Hochreiter & Schmidhuber (1997); this is the later variant of Arjovsky, Shah &
    Bengio (2016), not the 1997 task (values in [-1, 1], the first marker among the first ten steps,
    a rescaled target).

    Each sequence has ``length`` steps of two features: a random value in [0, 1) and a marker
    that is 1 at exactly two steps, one in each half of the sequence, 0 elsewhere. The target is
    the sum of the two marked values. Predicting its mean (1) scores a mean squared error of
    1/6 ≈ 0.167, the variance of a sum of two uniform numbers.

    Returns ``TensorData`` with x (n, length, 2) and y (n,).
    """
    if length < 2 or n < 1:
        raise ValueError(f"need length >= 2 and n >= 1, got length={length}, n={n}")
    gen = torch.Generator().manual_seed(seed)
    values = torch.rand(n, length, generator=gen)
    first = torch.randint(0, length // 2, (n,), generator=gen)
    second = torch.randint(length // 2, length, (n,), generator=gen)
    markers = torch.zeros(n, length)
    markers[torch.arange(n), first] = 1.0
    markers[torch.arange(n), second] = 1.0
    return TensorData(torch.stack([values, markers], dim=-1), (values * markers).sum(dim=1))


SEQUENCE_TASKS = ("reverse", "sort")


def sequence_task(kind: str, n: int, length: int, symbols: int = 10, seed: int = 0) -> TensorData:
    """A sequence-to-sequence task: read ``length`` random symbols, write them reversed or sorted.

    Every output token depends on input tokens far away (the first output is the *last* input when
    reversing, the smallest anywhere when sorting), so a model must carry or look back at the whole
    input: the test bed of attention (Bahdanau et al., 2015) and of the Transformer.

    Symbols are ids ``0 … symbols − 1``; id ``symbols`` is free for a decoder's start token
    (:data:`bos_id`), so models use a vocabulary of ``symbols + 1``.

    Returns ``TensorData`` with x (n, length) the inputs and y (n, length) the outputs (int64).
    """
    if kind not in SEQUENCE_TASKS:
        raise ValueError(f"kind must be one of {SEQUENCE_TASKS}, got {kind!r}")
    if length < 1 or n < 1 or symbols < 2:
        raise ValueError(f"need length >= 1, n >= 1 and symbols >= 2, got {length}, {n}, {symbols}")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(0, symbols, (n, length), generator=gen)
    y = x.flip(1) if kind == "reverse" else x.sort(dim=1).values
    return TensorData(x, y.contiguous())


def bos_id(symbols: int) -> int:
    """The start-of-sequence id of :func:`sequence_task` with ``symbols`` symbols (one past the last)."""
    return symbols


MIXTURES = ("ring", "grid")


def mixture_centres(kind: str) -> torch.Tensor:
    """The modes of a 2-D benchmark mixture (M, 2): ``"ring"``, 8 points on a circle of radius 2;
    ``"grid"``, the 25 points {−4, −2, 0, 2, 4}² (Metz et al., 2016; Srivastava et al., 2017)."""
    if kind == "ring":
        angle = torch.arange(8) * (2 * math.pi / 8)
        return 2.0 * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)  # (8, 2)
    if kind == "grid":
        ticks = torch.arange(-4.0, 5.0, 2.0)
        return torch.cartesian_prod(ticks, ticks)  # (25, 2)
    raise ValueError(f"kind must be one of {MIXTURES}, got {kind!r}")


def gaussian_mixture(kind: str, n: int, std: float = 0.02, seed: int = 0) -> TensorData:
    """``n`` points from an equal-weight mixture of isotropic Gaussians (standard deviation ``std``)
    at :func:`mixture_centres` ``(kind)``; ``y`` is each point's mode. Returns x (n, 2), y (n,)."""
    if n < 1 or std <= 0:
        raise ValueError(f"need n >= 1 and std > 0, got n={n}, std={std}")
    centres = mixture_centres(kind)
    gen = torch.Generator().manual_seed(seed)
    mode = torch.randint(0, len(centres), (n,), generator=gen)
    x = centres[mode] + std * torch.randn(n, 2, generator=gen)
    return TensorData(x, mode, tuple(f"mode {m}" for m in range(len(centres))))
