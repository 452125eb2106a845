"""One explicit training loop for every model in the course (after minGPT's ``Trainer``).

A model only has to expose ``loss(batch) -> Tensor``; batches are ``(x, y)`` slices of tensors
already in memory, so there is no per-example Python work on the hot path.

A model trained by several optimizers in turn (a GAN's discriminator, then its generator) says so
with ``parts() -> {name: parameters}`` and ``loss(batch, part)``: every step then updates each part
in that order, with its own optimizer, on its own loss (see :func:`fit`).
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

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
    """What :func:`fit` returns: one record per epoch, the loss of every step, and the records
    of evaluations made during an epoch (:class:`EvaluateEvery`).

    A model with several parts keeps each part's step losses in ``part_loss`` (``step_loss`` stays empty).
    """

    epochs: list[dict[str, float]] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    part_loss: dict[str, list[float]] = field(default_factory=dict)
    steps: list[dict[str, float]] = field(default_factory=list)
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
    """Hook into :func:`fit`. Return ``True`` from ``on_step_end`` or ``on_epoch_end`` to stop training."""

    def on_step_end(self, model: nn.Module, history: History, step: int) -> bool | None:
        """After every optimisation step; ``step`` counts from 1 over the whole run."""
        return None

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


class EvaluateEvery(Callback):
    """Evaluate on ``val_data`` every ``every`` steps (and after the last step), appending
    ``{"step": k, "val_loss": …, "val_<metric>": …}`` to ``history.steps``: the validation curve of a
    run too short for per-epoch records to show one (a single epoch over a large corpus).

    Args:
        every: steps between evaluations.
        val_data: the data to evaluate on (keep it small: it runs many times).
        metrics: name → ``fn(outputs, targets)``, as in :func:`evaluate`.
        batch_size: evaluation batch size.
    """

    def __init__(self, every: int, val_data: TensorData, metrics: dict[str, Metric] | None = None,
                 batch_size: int = 1024) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.every, self.val_data, self.metrics, self.batch_size = every, val_data, metrics, batch_size
        self.last_step = 0

    def _record(self, model: nn.Module, history: History, step: int) -> None:
        result = evaluate(model, self.val_data, batch_size=self.batch_size, metrics=self.metrics)
        history.steps.append({"step": step, **{f"val_{k}": v for k, v in result.items()}})
        self.last_step = step

    def on_step_end(self, model: nn.Module, history: History, step: int) -> None:
        if step % self.every == 0:
            self._record(model, history, step)

    def on_train_end(self, model: nn.Module, history: History) -> None:
        total = len(history.step_loss) or len(next(iter(history.part_loss.values()), []))
        if total and self.last_step != total:  # the final weights are always evaluated
            self._record(model, history, total)


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


OptimizerSpec = str | Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]


def _parts(model: nn.Module) -> dict[str, list[nn.Parameter]]:
    """``{"": trainable parameters}``, or a multi-part model's ``parts()`` (trainable ones only)."""
    if not hasattr(model, "parts"):
        return {"": [p for p in model.parameters() if p.requires_grad]}
    parts = {name: [p for p in params if p.requires_grad] for name, params in model.parts().items()}
    if not parts or "" in parts:
        raise ValueError(f"{type(model).__name__}.parts() must name at least one part, each with a non-empty name")
    seen: set[int] = set()
    for name, params in parts.items():
        if not params:
            raise ValueError(f"part {name!r} of {type(model).__name__} has no trainable parameters")
        if seen & {id(p) for p in params}:
            raise ValueError(f"part {name!r} shares parameters with an earlier part: each optimizer needs its own")
        seen |= {id(p) for p in params}
    return parts


def _per_part(value, part: str, what: str):
    """A setting given once for all parts, or as ``{part: value}``."""
    if isinstance(value, Mapping):
        if part not in value:
            raise ValueError(f"{what} has no entry for part {part!r} (given: {sorted(value)})")
        return value[part]
    return value


def fit(model: nn.Module, train_data: TensorData, *, epochs: int, batch_size: int = 128,
        lr: float | Mapping[str, float] = 1e-3, optimizer: OptimizerSpec | Mapping[str, OptimizerSpec] = "adamw",
        weight_decay: float = 0.0, schedule: str = "constant", clip_grad_norm: float | None = None,
        val_data: TensorData | None = None, metrics: dict[str, Metric] | None = None,
        callbacks: Iterable[Callback] = (), device: torch.device | str | None = None,
        seed: int | None = None, progress: bool = True, desc: str = "training",
        augment: Callable[[Tensor, torch.Generator], Tensor] | None = None, channels_last: bool = False) -> History:
    """Train ``model`` on ``train_data`` and return the :class:`History`.

    Args:
        model: any module with ``loss(batch) -> Tensor``. A model with several parts trained in
            turn (a GAN) defines ``parts() -> {name: parameters}`` and ``loss(batch, part)``: each
            step then updates every part in the order ``parts()`` gives, each by its own optimizer
            on its own loss, computed after the parts before it have stepped.
        train_data: the training set, as tensors.
        epochs: passes over the training set.
        batch_size: examples per step.
        lr: learning rate (the peak rate for ``"onecycle"``); ``{part: rate}`` for a multi-part model.
        optimizer: ``"sgd"``, ``"momentum"``, ``"adam"``, ``"adamw"``, or a function that builds
            an optimizer from the parameters; ``{part: optimizer}`` for a multi-part model.
        weight_decay: passed to a named optimizer.
        schedule: ``"constant"``, ``"onecycle"`` or ``"cosine"``, stepped every batch.
        clip_grad_norm: clip the global gradient norm (of each part) to this value (None: no clipping).
        val_data: evaluated after every epoch (loss and ``metrics``, prefixed ``val_``).
        metrics: name → ``fn(outputs, targets)`` computed on the validation set.
        callbacks: e.g. :class:`EarlyStopping`, :class:`EvaluateEvery`.
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
        channels_last: store the model's 4-D weights channels-last (``model.to(memory_format=
            torch.channels_last)``), so that its 2-D convolutions run in the (N, H, W, C) layout; the
            inputs may stay as they are. The same arithmetic in another memory order: on the 2-core
            CPU it trained chapter 2's ResNet 26% and chapter 1's CNN 11% faster per step. The model
            keeps that layout afterwards (its outputs and ``state_dict`` values are unchanged).
    """
    if not hasattr(model, "loss"):
        raise TypeError(f"{type(model).__name__} has no loss(batch) method, which fit() needs")
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    device = torch.device(device) if device is not None else get_device()
    if device.type == "cpu":
        # Flush denormal floats (below ~1e-38) to zero: a saturated RNN's tiny gradients are
        # denormal, and CPUs compute on them several times slower (chapter 5's RNN: 5×).
        torch.set_flush_denormal(True)
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    train_data = train_data.to(device)
    steps_per_epoch = math.ceil(len(train_data) / batch_size)
    groups = []  # (part, parameters, optimizer, scheduler), stepped in this order
    for part, params in _parts(model).items():
        opt_spec, part_lr = _per_part(optimizer, part, "optimizer"), _per_part(lr, part, "lr")
        if isinstance(opt_spec, str) and opt_spec not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or a function, got {opt_spec!r}")
        opt = OPTIMIZERS[opt_spec](params, part_lr, weight_decay) if isinstance(opt_spec, str) else opt_spec(params)
        groups.append((part, params, opt, _scheduler(schedule, opt, part_lr, epochs * steps_per_epoch)))
    if seed is None:
        seed = int(torch.randint(0, 2**31 - 2, (1,)).item())
    gen = torch.Generator().manual_seed(seed)
    aug_gen = torch.Generator().manual_seed(seed + 1)  # its own stream: augmenting leaves the batch order as it was
    callbacks = list(callbacks)
    history = History()
    bar = tqdm(total=epochs * steps_per_epoch, desc=desc, disable=not progress, mininterval=0.5)
    step, stop = 0, False
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        losses: dict[str, list[Tensor]] = {part: [] for part, *_ in groups}
        for batch in train_data.batches(batch_size, shuffle=True, generator=gen):
            if augment is not None:
                batch = (augment(batch[0], aug_gen), *batch[1:])
            for part, params, opt, sched in groups:
                opt.zero_grad(set_to_none=True)
                loss = model.loss(batch, part) if part else model.loss(batch)
                loss.backward()
                if clip_grad_norm is not None:
                    nn.utils.clip_grad_norm_(params, clip_grad_norm)
                opt.step()
                lr_used = opt.param_groups[0]["lr"]
                if sched is not None:
                    sched.step()
                losses[part].append(loss.detach())  # no .item() here: it would synchronise a GPU every step
            step += 1
            bar.update()
            if callbacks and any([cb.on_step_end(model, history, step) for cb in callbacks]):
                stop = True
                break
        record: dict[str, float] = {"epoch": epoch + 1}
        for part, part_losses in losses.items():
            step_losses = torch.stack(part_losses).cpu().tolist() if part_losses else []
            if not all(map(math.isfinite, step_losses)):
                bar.close()
                raise FloatingPointError(f"loss{f' of {part}' if part else ''} became {step_losses[-1]} in epoch "
                                         f"{epoch + 1}: lower the learning rate or clip gradients")
            if part:
                history.part_loss.setdefault(part, []).extend(step_losses)
            else:
                history.step_loss += step_losses
            record[f"train_loss_{part}" if part else "train_loss"] = sum(step_losses) / max(len(step_losses), 1)
        record["lr"] = lr_used  # the rate of the epoch's last step (of the last part)
        if val_data is not None:
            record.update({f"val_{k}": v for k, v in evaluate(model, val_data, metrics=metrics).items()})
        record["seconds"] = time.perf_counter() - start
        history.epochs.append(record)
        bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k.startswith(("train_", "val_"))})
        if stop or any([cb.on_epoch_end(model, history) for cb in callbacks]):
            history.stopped_early = stop or epoch + 1 < epochs
            break
    bar.close()
    for cb in callbacks:
        cb.on_train_end(model, history)
    return history
