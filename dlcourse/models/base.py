"""What every classifier in the course shares: the cross-entropy ``loss`` and ``predict``."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..utils import evaluating


class Classifier(nn.Module):
    """A module whose ``forward`` returns class logits (B, K); adds ``loss`` and ``predict``.

    Every model in the course exposes ``loss(batch) -> Tensor`` so that one training loop,
    :func:`dlcourse.train.fit`, trains them all.
    """

    def loss(self, batch: tuple[Tensor, Tensor]) -> Tensor:
        """Mean cross-entropy of the logits against integer labels."""
        x, y = batch
        if y.dtype != torch.long:
            raise TypeError(f"class labels must be int64 (torch.long), got {y.dtype}")
        logits = self(x)  # (B, K)
        return F.cross_entropy(logits, y)

    @torch.no_grad()
    def predict(self, x: Tensor, batch_size: int = 4096) -> Tensor:
        """Predicted class ids (N,), computed in eval mode and in batches."""
        with evaluating(self):
            return torch.cat([self(x[i:i + batch_size]).argmax(dim=1) for i in range(0, len(x), batch_size)])


def check_images(x: Tensor, channels: int, size: int) -> None:
    """Refuse inputs a convolutional classifier would silently mis-shape."""
    if x.dim() != 4 or x.shape[1] != channels or x.shape[2:] != (size, size):
        raise ValueError(f"expected images (B, {channels}, {size}, {size}), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"images must be floating point, got {x.dtype}")
