"""Everyday helpers: device choice, seeding, parameter counts, a timer, a model summary, checkpoints."""
from __future__ import annotations

import contextlib
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import nn

DEVICE_ENV = "DLCOURSE_DEVICE"
SEED_ENV = "DLCOURSE_SEED"


def get_device(prefer: str | None = None) -> torch.device:
    """Pick the fastest available device: CUDA, then Apple MPS, then the CPU.

    Args:
        prefer: force a device ("cpu", "cuda", "cuda:1", "mps"). When omitted, the environment
            variable ``DLCOURSE_DEVICE`` is used if set, else the first available one.
    """
    choice = prefer or os.environ.get(DEVICE_ENV)
    if choice:
        device = torch.device(choice)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {choice!r} was asked for, but CUDA is not available here")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError(f"device {choice!r} was asked for, but Apple MPS is not available here")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (all devices); return a torch Generator seeded the same.

    Same seed, same machine, same numbers: PyTorch's CPU kernels are deterministic for the
    operations this course uses. On GPUs some kernels are not, so numbers may differ slightly.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA and MPS
    return torch.Generator().manual_seed(seed)


def chapter_seed(default: int = 0) -> int:
    """The seed a chapter runs under: ``$DLCOURSE_SEED`` when set (the benchmark's ``--seeds``), else ``default``.

    Every headline must hold under any seed, so the benchmark reruns chapters under others;
    a reader who sets nothing gets the numbers printed in the book.
    """
    raw = os.environ.get(SEED_ENV, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"${SEED_ENV} must be an integer, got {raw!r}") from None


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode inside a ``with`` block and restore its previous mode after it,
    even when the block raises: ``with evaluating(model), torch.no_grad(): ...``.

    Eval mode makes dropout the identity and BatchNorm use its running statistics; it does not
    turn off gradients (add ``torch.no_grad()`` for that).
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (optionally only those with ``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


class Timer:
    """A context manager that measures wall time: ``with Timer() as t: ...; t.seconds``."""

    def __enter__(self) -> "Timer":
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


@dataclass(frozen=True)
class LayerInfo:
    """One row of :func:`summary`."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    mult_adds: int


@dataclass(frozen=True)
class Summary:
    """What :func:`summary` returns: one row per leaf layer plus the totals."""

    layers: tuple[LayerInfo, ...]
    total_params: int
    total_mult_adds: int

    def __str__(self) -> str:
        header = f"{'layer':<24}{'type':<14}{'output shape':<22}{'params':>12}{'mult-adds':>14}"
        rows = [header, "-" * len(header)]
        for r in self.layers:
            shape = "×".join(str(s) for s in r.output_shape)
            rows.append(f"{r.name:<24}{r.kind:<14}{shape:<22}{r.params:>12,}{r.mult_adds:>14,}")
        rows.append("-" * len(header))
        rows.append(f"{'total':<60}{self.total_params:>12,}{self.total_mult_adds:>14,}")
        return "\n".join(rows)

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython shows the table, not the repr
        printer.text(str(self))


def _mult_adds(module: nn.Module, output: torch.Tensor) -> int:
    """Multiply-accumulate operations of one leaf layer for one example."""
    if isinstance(module, nn.Linear):
        # every output element is a dot product of length in_features
        return output[0].numel() * module.in_features
    if isinstance(module, nn.modules.conv._ConvNd):
        kernel = int(np.prod(module.kernel_size))
        return output[0].numel() * kernel * module.in_channels // module.groups
    return 0  # activations, norms and pooling are counted as free, as papers do


def summary(model: nn.Module, input_size: tuple[int, ...], dtype: torch.dtype = torch.float32) -> Summary:
    """Parameters, output shapes and mult-adds of every leaf layer, for ONE example.

    Args:
        model: the network.
        input_size: the shape of one example without the batch dimension, e.g. ``(1, 28, 28)``.
        dtype: input dtype (use ``torch.long`` for token ids).

    Mult-adds follow the convention of the MobileNet and ResNet papers: one per weight use in
    linear and convolution layers, none for activations, normalisation or pooling.
    """
    if not all(isinstance(s, int) and s > 0 for s in input_size):
        raise ValueError(f"input_size must be positive ints without the batch dimension, got {input_size}")
    rows: list[LayerInfo] = []
    hooks = []

    def hook(name):
        def record(module, inputs, output):
            out = output[0] if isinstance(output, tuple) else output
            params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append(LayerInfo(name, type(module).__name__, tuple(out.shape[1:]), params, _mult_adds(module, out)))
        return record

    for name, module in model.named_modules():
        if not list(module.children()):
            hooks.append(module.register_forward_hook(hook(name)))
    device = next(model.parameters()).device
    x = torch.zeros((1, *input_size), dtype=dtype, device=device)
    try:
        with evaluating(model), torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return Summary(tuple(rows), count_parameters(model), sum(r.mult_adds for r in rows))


def glue(name: str, value, display: bool = False) -> None:
    """Record a measured value under ``name`` so the book's prose can quote it.

    Uses myst-nb's ``glue`` when it is installed (building the book, running the benchmark);
    elsewhere, e.g. on Colab, it does nothing: the notebook prints what it measured anyway.
    """
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=display)


def save_checkpoint(model: nn.Module, path: str | os.PathLike, **extra: float | int | str) -> Path:
    """Save a model's weights (and a few plain values, e.g. its accuracy) atomically to ``path``.

    Only tensors and plain values are stored, so :func:`load_checkpoint` can read the file with
    ``torch.load(..., weights_only=True)``, which cannot run code hidden in a malicious file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    torch.save({"state_dict": model.state_dict(), "extra": extra}, tmp)
    os.replace(tmp, path)  # a crash mid-save never leaves a half-written checkpoint behind
    return path


def load_checkpoint(model: nn.Module, path: str | os.PathLike) -> dict:
    """Load weights saved by :func:`save_checkpoint` into ``model``; return the extra values.

    Raises ``FileNotFoundError`` when there is no checkpoint, and ``ValueError`` when the file is
    not a checkpoint or does not fit the model (so the caller can retrain instead).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, tampered or foreign files fail in many ways
        raise ValueError(f"{path} is not a checkpoint ({type(err).__name__}: {err})") from err
    try:
        model.load_state_dict(saved["state_dict"])
    except (RuntimeError, KeyError, TypeError) as err:
        raise ValueError(f"{path} is not a checkpoint of this model ({type(err).__name__}: {err})") from err
    return dict(saved["extra"])
