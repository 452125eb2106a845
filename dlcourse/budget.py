"""Training for a fixed *time* rather than a fixed number of steps: the fair way to race two models that
run at different speeds (chapter 8: a GPT against chapter 5's LSTM at equal wall-clock time).

:class:`TimeBudget` is a :class:`~dlcourse.train.Callback` for :func:`~dlcourse.train.fit`: it stops training
once ``seconds`` have passed, can drive the learning rate by the *share of the time* spent (a linear warm-up,
then a cosine decay: a step-based schedule needs the number of steps, which a time budget does not know in
advance), and keeps copies of the weights along the way, so that a run can also be read at an earlier point
(e.g. after as many training characters as a slower model saw).
"""
from __future__ import annotations

import copy
import math
import time

import torch
from torch import nn

from .train import Callback, History


def warmup_cosine(fraction: float, warmup: float = 0.05, floor: float = 0.1) -> float:
    """The learning-rate multiplier after ``fraction`` ∈ [0, 1] of training: rises linearly from 0 to 1 over
    the first ``warmup`` of it, then follows half a cosine down to ``floor`` (nanoGPT's schedule)."""
    fraction = min(max(fraction, 0.0), 1.0)
    if fraction < warmup:
        return (fraction + 1e-3) / (warmup + 1e-3)  # never exactly 0: the first step must move the weights
    progress = (fraction - warmup) / (1.0 - warmup)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


class TimeBudget(Callback):
    """Stop :func:`~dlcourse.train.fit` once ``seconds`` of training have passed.

    The clock starts when the callback is made (build it in the ``fit`` call) or at :meth:`restart`.
    On an accelerator, each step waits for the device before reading the clock, so the time is real.

    Args:
        seconds: the training budget.
        optimizer: when given with ``lr``, its learning rate is set before every step to
            ``lr · warmup_cosine(elapsed / seconds)``; pass the same optimizer to ``fit`` as
            ``optimizer=lambda params: opt``.
        lr: the peak learning rate of that schedule.
        warmup: the share of the time spent warming up.
        floor: the final learning rate, as a share of ``lr``.
        snapshot_every: keep a copy of the weights (on the CPU) every this many steps, in ``snapshots``
            as ``(step, seconds, state_dict)``; None keeps none.

    After training, ``steps`` and ``seconds`` say how far it got, and ``log`` holds ``(step, seconds)``
    for every step.
    """

    def __init__(self, seconds: float, optimizer: torch.optim.Optimizer | None = None, lr: float | None = None,
                 warmup: float = 0.05, floor: float = 0.1, snapshot_every: int | None = None) -> None:
        if seconds <= 0:
            raise ValueError(f"seconds must be positive, got {seconds}")
        if (optimizer is None) != (lr is None):
            raise ValueError("give both optimizer and lr (for the schedule), or neither")
        self.budget, self.optimizer, self.lr = seconds, optimizer, lr
        self.warmup, self.floor, self.snapshot_every = warmup, floor, snapshot_every
        self.log: list[tuple[int, float]] = []
        self.snapshots: list[tuple[int, float, dict[str, torch.Tensor]]] = []
        self.restart()

    def restart(self) -> None:
        """Start the clock now (and set the schedule's first learning rate)."""
        self.start = time.perf_counter()
        self.log.clear()
        self.snapshots.clear()
        self._set_lr(0.0)

    def _set_lr(self, fraction: float) -> None:
        if self.optimizer is not None:
            for group in self.optimizer.param_groups:
                group["lr"] = self.lr * warmup_cosine(fraction, self.warmup, self.floor)

    @property
    def steps(self) -> int:
        return self.log[-1][0] if self.log else 0

    @property
    def seconds(self) -> float:
        return self.log[-1][1] if self.log else 0.0

    def on_step_end(self, model: nn.Module, history: History, step: int) -> bool:
        device = next(model.parameters()).device
        if device.type != "cpu":
            getattr(torch, device.type).synchronize()  # queued work counts too
        elapsed = time.perf_counter() - self.start
        self.log.append((step, elapsed))
        if self.snapshot_every and step % self.snapshot_every == 0:
            state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            self.snapshots.append((step, elapsed, state))
        self._set_lr(elapsed / self.budget)
        return elapsed >= self.budget

    def snapshot_at(self, step: int) -> tuple[int, float, dict[str, torch.Tensor]]:
        """The kept snapshot whose step is nearest ``step`` (ties: the earlier one)."""
        if not self.snapshots:
            raise ValueError("no snapshots were kept: pass snapshot_every")
        return min(self.snapshots, key=lambda s: (abs(s[0] - step), s[0]))


def restored(model: nn.Module, state: dict[str, torch.Tensor]) -> nn.Module:
    """A copy of ``model`` carrying the weights ``state`` (the original is untouched)."""
    twin = copy.deepcopy(model)
    twin.load_state_dict(state)
    return twin
