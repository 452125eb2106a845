"""Datasets held as tensors, and the standard train/validation split."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import torch
from torch import Tensor


@dataclass(frozen=True)
class TensorData:
    """Inputs ``x`` (N, ...) and targets ``y`` (N, ...) kept in tensors, plus class names.

    Keeping a whole dataset in one tensor makes a batch one indexing operation, which on a CPU
    is many times faster than a ``DataLoader`` collating single examples.
    """

    x: Tensor
    y: Tensor
    classes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.x, Tensor) or not isinstance(self.y, Tensor):
            raise TypeError(f"x and y must be tensors, got {type(self.x).__name__} and {type(self.y).__name__}")
        if len(self.x) != len(self.y):
            raise ValueError(f"x and y must have the same length, got {len(self.x)} and {len(self.y)}")

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index) -> "TensorData":
        """A subset: ``data[:1000]``, ``data[mask]`` or ``data[indices]``."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return TensorData(self.x[index], self.y[index], self.classes)

    def to(self, device: torch.device | str) -> "TensorData":
        """The same data on another device."""
        return TensorData(self.x.to(device), self.y.to(device), self.classes)

    @property
    def batch(self) -> tuple[Tensor, Tensor]:
        """All of it as one ``(x, y)`` batch, the form a model's ``loss`` takes."""
        return self.x, self.y

    def batches(self, batch_size: int, shuffle: bool = False,
                generator: torch.Generator | None = None) -> Iterator[tuple[Tensor, ...]]:
        """Yield ``(x, y)`` batches (a subclass may add fields through :meth:`rows`); the last one may be smaller."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        n = len(self)
        if shuffle:
            order = torch.randperm(n, generator=generator).to(self.x.device)
            for start in range(0, n, batch_size):
                yield self.rows(order[start:start + batch_size])
        else:
            for start in range(0, n, batch_size):
                yield self.rows(slice(start, start + batch_size))

    def rows(self, index: Tensor | slice) -> tuple[Tensor, ...]:
        """The tensors of one batch, ``(x, y)``, at ``index``."""
        return self.x[index], self.y[index]


def shuffled_by_class(y: Tensor, generator: torch.Generator) -> list[Tensor]:
    """For each class in ``y`` (N,), in sorted order, the indices of its members in a random order."""
    y = y.cpu()
    return [members[torch.randperm(len(members), generator=generator)]
            for members in (torch.nonzero(y == c).flatten() for c in torch.unique(y))]


def train_val_split(data: TensorData, val_fraction: float = 0.1, seed: int = 0,
                    stratify: bool = True) -> tuple[TensorData, TensorData]:
    """Split off a validation set, by default keeping each class's share the same in both parts.

    Args:
        data: the training data (the test set stays untouched until the end).
        val_fraction: share of examples that go to validation, in (0, 1).
        seed: the split is a function of the seed alone, so every chapter gets the same split.
        stratify: split each class separately (needs integer class labels ``y`` of shape (N,)).
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    gen = torch.Generator().manual_seed(seed)
    if stratify:
        if data.y.dim() != 1 or data.y.dtype not in (torch.int64, torch.int32, torch.uint8):
            raise ValueError("stratify=True needs integer class labels of shape (N,); pass stratify=False")
        val_parts = [members[: round(len(members) * val_fraction)] for members in shuffled_by_class(data.y, gen)]
        val_idx = torch.sort(torch.cat(val_parts)).values
    else:
        val_idx = torch.sort(torch.randperm(len(data), generator=gen)[: round(len(data) * val_fraction)]).values
    is_val = torch.zeros(len(data), dtype=torch.bool)
    is_val[val_idx] = True
    is_val = is_val.to(data.x.device)
    return data[~is_val], data[is_val]
