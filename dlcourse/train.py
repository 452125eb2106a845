"""One explicit training loop for every model in the course (after minGPT's ``Trainer``).

A model only has to expose ``loss(batch) -> Tensor``; batches are ``(x, y)`` slices of tensors
already in memory, so there is no per-example Python work on the hot path.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .data.tensors import TensorData
from .utils import evaluating, get_device

Metric = Callable[[Tensor, Tensor], float]  # (model outputs, targets) -> number
OPTIMIZERS = {
    "sgd": lambda params, lr, wd: torch.optim.SGD(params, lr=lr, weight_decay=wd),
    "momentum": lambda params, lr, wd: torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=wd),
    "adam": lambda params, lr, wd: torch.optim.Adam(params, lr=lr, weight_decay=wd),
    "adamw": lambda params, lr, wd: torch.optim.AdamW(params, lr=lr, weight_decay=wd),
}
SCHEDULES = ("constant", "onecycle", "cosine")


@dataclass
class History:
    """What :func:`fit` returns: one record per epoch, and the loss of every step."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    stopped_early: bool = False

    def __getitem__(self, key: str) -> list[float]:
        """One column, e.g. ``history["val_loss"]``."""
        if not self.epochs or key not in self.epochs[0]:
            raise KeyError(f"no column {key!r}; columns are {self.keys()}")
        return [record[key] for record in self.epochs]

    def keys(self) -> list[str]:
        return list(self.epochs[0]) if self.epochs else []

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's record."""
        return self.epochs[-1]


class Callback:
    """Hook into :func:`fit`. Return ``True`` from ``on_epoch_end`` to stop training."""

    def on_epoch_end(self, model: nn.Module, history: History) -> bool | None:
        return None

    def on_train_end(self, model: nn.Module, history: History) -> None:
        return None


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; restore the best weights.

    Args:
        monitor: a column of the history, e.g. ``"val_loss"`` or ``"val_acc"``.
        patience: epochs without improvement before stopping.
        mode: ``"min"`` when lower is better, ``"max"`` when higher is better.
        restore_best: load the best epoch's weights back into the model at the end.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 3, mode: str = "min",
                 restore_best: bool = True) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.monitor, self.patience, self.mode, self.restore_best = monitor, patience, mode, restore_best
        self.best, self.best_epoch, self.best_state = math.inf if mode == "min" else -math.inf, -1, None

    def on_epoch_end(self, model: nn.Module, history: History) -> bool:
        value = history[self.monitor][-1]
        if (value < self.best) if self.mode == "min" else (value > self.best):
            self.best, self.best_epoch = value, len(history.epochs) - 1
            self.best_state = copy.deepcopy(model.state_dict())
        return len(history.epochs) - 1 - self.best_epoch >= self.patience

    def on_train_end(self, model: nn.Module, history: History) -> None:
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)


@torch.no_grad()
def evaluate(model: nn.Module, data: TensorData, batch_size: int = 1024,
             metrics: dict[str, Metric] | None = None) -> dict[str, float]:
    """Mean loss over ``data`` (weighted by batch size) and each metric on the model's outputs."""
    device = next(model.parameters()).device
    data = data.to(device)
    total, outputs = 0.0, []
    with evaluating(model):
        for batch in data.batches(batch_size):
            total += model.loss(batch).item() * len(batch[0])
            if metrics:
                outputs.append(model(batch[0]))
    result = {"loss": total / len(data)}
    if metrics:
        out = torch.cat(outputs)
        result.update({name: float(fn(out, data.y)) for name, fn in metrics.items()})
    return result


def _scheduler(name: str, optimizer: torch.optim.Optimizer, lr: float, total_steps: int):
    if name == "onecycle":  # warm up, then anneal: Smith & Topin (2019)
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return None


def fit(model: nn.Module, train_data: TensorData, *, epochs: int, batch_size: int = 128,
        lr: float = 1e-3, optimizer: str | Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer] = "adamw",
        weight_decay: float = 0.0, schedule: str = "constant", clip_grad_norm: float | None = None,
        val_data: TensorData | None = None, metrics: dict[str, Metric] | None = None,
        callbacks: Iterable[Callback] = (), device: torch.device | str | None = None,
        seed: int | None = None, progress: bool = True, desc: str = "training",
        augment: Callable[[Tensor, torch.Generator], Tensor] | None = None) -> History:
    """Train ``model`` on ``train_data`` and return the :class:`History`.

    Args:
        model: any module with ``loss(batch) -> Tensor``.
        train_data: the training set, as tensors.
        epochs: passes over the training set.
        batch_size: examples per step.
        lr: learning rate (the peak rate for ``"onecycle"``).
        optimizer: ``"sgd"``, ``"momentum"``, ``"adam"``, ``"adamw"``, or a function that builds
            an optimizer from the parameters.
        weight_decay: passed to a named optimizer.
        schedule: ``"constant"``, ``"onecycle"`` or ``"cosine"``, stepped every batch.
        clip_grad_norm: clip the global gradient norm to this value (None: no clipping).
        val_data: evaluated after every epoch (loss and ``metrics``, prefixed ``val_``).
        metrics: name → ``fn(outputs, targets)`` computed on the validation set.
        callbacks: e.g. :class:`EarlyStopping`.
        device: where to train; default :func:`dlcourse.utils.get_device`. On the CPU, denormal
            floats are flushed to zero from then on (`torch.set_flush_denormal`), for speed.
        seed: seeds the batch order, so the same model and seed give the same run. None (the
            default) draws it from PyTorch's global generator, so ``seed_everything(s)`` before
            building the model decides the initialisation and the batch order alike.
        progress: show a progress bar (a widget in notebooks, text in terminals).
        desc: the progress bar's label.
        augment: ``augment(x, generator)`` transforms the inputs of every training batch (data
            augmentation, e.g. :func:`dlcourse.data.transforms.random_shift`); its generator is
            seeded from ``seed``. Validation data is never augmented.
    """
    if not hasattr(model, "loss"):
        raise TypeError(f"{type(model).__name__} has no loss(batch) method, which fit() needs")
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or a function, got {optimizer!r}")
    device = torch.device(device) if device is not None else get_device()
    if device.type == "cpu":
        # Flush denormal floats (below ~1e-38) to zero: a saturated RNN's tiny gradients are
        # denormal, and CPUs compute on them several times slower (chapter 5's RNN: 5×).
        torch.set_flush_denormal(True)
    model.to(device)
    train_data = train_data.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = OPTIMIZERS[optimizer](params, lr, weight_decay) if isinstance(optimizer, str) else optimizer(params)
    steps_per_epoch = math.ceil(len(train_data) / batch_size)
    sched = _scheduler(schedule, opt, lr, epochs * steps_per_epoch)
    if seed is None:
        seed = int(torch.randint(0, 2**31 - 2, (1,)).item())
    gen = torch.Generator().manual_seed(seed)
    aug_gen = torch.Generator().manual_seed(seed + 1)  # its own stream: augmenting leaves the batch order as it was
    callbacks = list(callbacks)
    history = History()
    bar = tqdm(total=epochs * steps_per_epoch, desc=desc, disable=not progress, mininterval=0.5)
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        losses = []
        for batch in train_data.batches(batch_size, shuffle=True, generator=gen):
            if augment is not None:
                batch = (augment(batch[0], aug_gen), *batch[1:])
            opt.zero_grad(set_to_none=True)
            loss = model.loss(batch)
            loss.backward()
            if clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(params, clip_grad_norm)
            opt.step()
            lr_used = opt.param_groups[0]["lr"]
            if sched is not None:
                sched.step()
            losses.append(loss.detach())  # no .item() here: it would synchronise a GPU every step
            bar.update()
        step_losses = torch.stack(losses).cpu().tolist()
        if not all(map(math.isfinite, step_losses)):
            bar.close()
            raise FloatingPointError(f"loss became {step_losses[-1]} in epoch {epoch + 1}: "
                                     "lower the learning rate or clip gradients")
        history.step_loss += step_losses
        record = {"epoch": epoch + 1, "train_loss": sum(step_losses) / len(step_losses),
                  "lr": lr_used}  # the rate of the epoch's last step
        if val_data is not None:
            record.update({f"val_{k}": v for k, v in evaluate(model, val_data, metrics=metrics).items()})
        record["seconds"] = time.perf_counter() - start
        history.epochs.append(record)
        bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k.startswith(("train_", "val_"))})
        if any([cb.on_epoch_end(model, history) for cb in callbacks]):
            history.stopped_early = epoch + 1 < epochs
            break
    bar.close()
    for cb in callbacks:
        cb.on_train_end(model, history)
    return history
