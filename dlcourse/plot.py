"""Pictures the chapters share: training curves, image grids, confusion matrices, decision boundaries.

Each function draws into ``ax`` when given one, otherwise into a new figure, and returns the figure.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from .data.tensors import TensorData
from .train import History
from .utils import evaluating


def _axes(ax, figsize) -> tuple[Figure, plt.Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def training_curves(histories: History | Mapping[str, History], keys: Sequence[str] = ("train_loss", "val_loss"),
                    ax=None, title: str | None = None, logy: bool = False) -> Figure:
    """Columns of one or several histories against the epoch; several runs share colours by run."""
    if isinstance(histories, History):
        histories = {"": histories}
    fig, ax = _axes(ax, (6, 3.5))
    styles = ["-", "--", ":", "-."]
    for i, (run, history) in enumerate(histories.items()):
        for j, key in enumerate(keys):
            color = f"C{i}" if len(histories) > 1 else f"C{j}"
            label = " ".join(part for part in (run, key if len(keys) > 1 else "") if part) or key
            ax.plot(history["epoch"], history[key], styles[j % len(styles)], color=color, label=label,
                    marker="o" if len(history.epochs) < 15 else None, markersize=3)
    ax.set_xlabel("epoch")
    ax.set_ylabel(keys[0] if len(keys) == 1 else "value")
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def image_grid(images: Tensor, labels: Sequence[int] | Tensor | None = None, classes: Sequence[str] = (),
               preds: Sequence[int] | Tensor | None = None, ncols: int = 8, title: str | None = None,
               scale: float = 1.2) -> Figure:
    """Images (N, C, H, W) or (N, H, W) in a grid, captioned with labels (and predictions, red if wrong)."""
    if images.dim() == 4:
        images = images.permute(0, 2, 3, 1)  # (N, H, W, C) for imshow
        if images.shape[-1] == 1:
            images = images[..., 0]
    elif images.dim() != 3:
        raise ValueError(f"expected images (N, C, H, W) or (N, H, W), got {tuple(images.shape)}")
    n = len(images)
    nrows = max(1, -(-n // ncols))
    ncols = min(ncols, n)
    fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols, scale * nrows * 1.15), squeeze=False,
                             layout="constrained")
    name = (lambda c: classes[int(c)]) if classes else (lambda c: str(int(c)))
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i].detach().cpu().numpy(), cmap="gray_r" if images.dim() == 3 else None)
        if labels is not None and preds is not None:
            right = int(labels[i]) == int(preds[i])
            ax.set_title(f"{name(preds[i])}\n(true: {name(labels[i])})" if not right else name(preds[i]),
                         fontsize=7, color="black" if right else "crimson")
        elif labels is not None:
            ax.set_title(name(labels[i]), fontsize=7)
    if title:
        fig.suptitle(title)
    return fig


def confusion_matrix(cm: Tensor, classes: Sequence[str] = (), normalize: bool = True, ax=None,
                     title: str | None = None) -> Figure:
    """Heat map of a confusion matrix (rows: true class, columns: predicted), as row shares by default."""
    cm = cm.detach().cpu().double()
    values = cm / cm.sum(dim=1, keepdim=True).clamp(min=1) if normalize else cm
    k = len(cm)
    fig, ax = _axes(ax, (0.55 * k + 2, 0.55 * k + 1.5))
    im = ax.imshow(values.numpy(), cmap="Blues")
    names = list(classes) or [str(i) for i in range(k)]
    ax.set_xticks(range(k), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(k):
        for j in range(k):
            v = values[i, j].item()
            text = f"{v:.2f}".lstrip("0") if normalize else f"{int(v)}"
            if v > 0:
                ax.text(j, i, text, ha="center", va="center", fontsize=6,
                        color="white" if v > 0.5 * values.max().item() else "black")
    fig.colorbar(im, ax=ax, shrink=0.8)
    if title:
        ax.set_title(title)
    return fig


@torch.no_grad()
def decision_boundary(model: nn.Module, data: TensorData, ax=None, resolution: int = 200,
                      title: str | None = None) -> Figure:
    """Colour the plane by the class a 2-D classifier predicts, with the data points on top."""
    if data.x.dim() != 2 or data.x.shape[1] != 2:
        raise ValueError(f"decision_boundary needs 2-D inputs (N, 2), got {tuple(data.x.shape)}")
    fig, ax = _axes(ax, (4, 4))
    x = data.x.cpu()
    lo, hi = x.min(dim=0).values - 0.15, x.max(dim=0).values + 0.15
    gx, gy = torch.meshgrid(torch.linspace(lo[0], hi[0], resolution), torch.linspace(lo[1], hi[1], resolution),
                            indexing="xy")
    grid = torch.stack([gx.flatten(), gy.flatten()], dim=1)  # (R*R, 2)
    device = next(model.parameters()).device
    with evaluating(model):
        pred = model(grid.to(device)).argmax(dim=1).cpu().reshape(resolution, resolution)  # (R, R)
    k = int(data.y.max()) + 1
    cmap = plt.get_cmap("tab10")
    ax.contourf(gx, gy, pred, levels=torch.arange(k + 1) - 0.5, colors=[cmap(i) for i in range(k)], alpha=0.25)
    ax.scatter(x[:, 0], x[:, 1], c=[cmap(int(c)) for c in data.y], s=6, edgecolors="none")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def smooth(values: Sequence[float], beta: float = 0.98) -> list[float]:
    """Exponential moving average, started at the first value (so the curve starts where the run did)."""
    out, avg = [], values[0]
    for v in values:
        avg = beta * avg + (1 - beta) * v
        out.append(avg)
    return out


def step_losses(histories: Mapping[str, History], beta: float = 0.98, ax=None, title: str | None = None,
                ylim: tuple[float, float] | None = None) -> Figure:
    """The training loss of every step of several runs, smoothed, on one plot."""
    fig, ax = _axes(ax, (6.5, 3.6))
    for name, history in histories.items():
        ax.plot(smooth(history.step_loss, beta), label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (smoothed)")
    if ylim:
        ax.set_ylim(*ylim)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig
