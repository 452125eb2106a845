"""Images placed at random positions on a larger blank canvas: the test bed of hard attention
(chapter 6), where a model must first find the object before it can classify it (after the
"translated MNIST" of Mnih et al., 2014)."""
from __future__ import annotations

import torch
from torch import Tensor

from .tensors import TensorData


def place(data: TensorData, size: int, seed: int = 0) -> tuple[TensorData, Tensor]:
    """Paste each image of ``data`` (N, C, h, w) at a uniformly random position on a zero canvas.

    Args:
        data: images with a zero background (e.g. Fashion-MNIST) and their labels.
        size: side of the square canvas, at least the image's side.
        seed: the positions are a function of the seed alone.

    Returns the canvases as ``TensorData`` (x (N, C, size, size), the same y and classes) and the
    positions (N, 2): the (row, column) of each image's top-left corner, each in ``0 … size − side``.
    """
    n, c, h, w = data.x.shape
    if size < max(h, w):
        raise ValueError(f"the canvas ({size} px) must be at least as large as the images ({h}×{w})")
    gen = torch.Generator().manual_seed(seed)
    rows = torch.randint(0, size - h + 1, (n,), generator=gen)
    cols = torch.randint(0, size - w + 1, (n,), generator=gen)
    canvas = torch.zeros(n, c, size, size, dtype=data.x.dtype)
    # one scatter per offset inside the image, not one Python step per image: h·w vectorised copies
    index = torch.arange(n)
    for i in range(h):
        for j in range(w):
            canvas[index, :, rows + i, cols + j] = data.x[:, :, i, j].cpu()
    return TensorData(canvas, data.y.cpu(), data.classes), torch.stack([rows, cols], dim=1)
