"""Evaluation: accuracy, per-class precision/recall/F1, the confusion matrix, k-fold cross-validation,
and McNemar's test for comparing two classifiers on the same test set."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from .data.tensors import TensorData, shuffled_by_class


def _labels(outputs: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    """Predicted and true class ids, checked: logits (N, K) are turned into ids by argmax."""
    if outputs.dim() == 2:
        outputs = outputs.argmax(dim=1)
    if outputs.dim() != 1 or targets.dim() != 1:
        raise ValueError(f"expected predictions (N,) or logits (N, K) and targets (N,), "
                         f"got {tuple(outputs.shape)} and {tuple(targets.shape)}")
    if len(outputs) != len(targets):
        raise ValueError(f"{len(outputs)} predictions but {len(targets)} targets")
    if outputs.is_floating_point() or targets.is_floating_point():
        raise TypeError("class ids must be integers; pass logits (N, K) or integer predictions")
    return outputs.cpu(), targets.cpu()


def accuracy(outputs: Tensor, targets: Tensor) -> float:
    """Share of examples whose predicted class (argmax of logits, or the ids given) is right."""
    preds, targets = _labels(outputs, targets)
    if len(targets) == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return (preds == targets).float().mean().item()


def confusion_matrix(outputs: Tensor, targets: Tensor, num_classes: int) -> Tensor:
    """(K, K) counts: row = true class, column = predicted class (scikit-learn's convention)."""
    preds, targets = _labels(outputs, targets)
    if len(targets) and max(preds.max().item(), targets.max().item()) >= num_classes:
        raise ValueError(f"class id out of range for num_classes={num_classes}")
    flat = targets * num_classes + preds
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


@dataclass(frozen=True)
class ClassReport:
    """Per-class precision, recall, F1 and support (tensors of shape (K,)), and their macro means."""

    precision: Tensor
    recall: Tensor
    f1: Tensor
    support: Tensor

    @property
    def macro_f1(self) -> float:
        return self.f1.mean().item()


def precision_recall_f1(outputs: Tensor, targets: Tensor, num_classes: int) -> ClassReport:
    """Per-class precision = TP/(TP+FP), recall = TP/(TP+FN), F1 their harmonic mean.

    A class that is never predicted (or never present) gets 0 where the ratio is 0/0, as in
    scikit-learn with ``zero_division=0``.
    """
    cm = confusion_matrix(outputs, targets, num_classes).double()
    tp = cm.diag()
    predicted, actual = cm.sum(dim=0), cm.sum(dim=1)
    precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), torch.zeros_like(tp))
    recall = torch.where(actual > 0, tp / actual.clamp(min=1), torch.zeros_like(tp))
    denom = precision + recall
    f1 = torch.where(denom > 0, 2 * precision * recall / denom.clamp(min=1e-12), torch.zeros_like(tp))
    return ClassReport(precision, recall, f1, actual.long())


def kfold_indices(targets: Tensor, k: int, seed: int = 0, stratify: bool = True) -> list[tuple[Tensor, Tensor]]:
    """``k`` (train indices, validation indices) pairs; every example is validated exactly once.

    With ``stratify`` each class is dealt round-robin to the folds, so every fold keeps the
    class balance of the whole.
    """
    n = len(targets)
    if not 2 <= k <= n:
        raise ValueError(f"k must be between 2 and the number of examples ({n}), got {k}")
    gen = torch.Generator().manual_seed(seed)
    fold = torch.empty(n, dtype=torch.long)
    if stratify:
        offset = 0
        for members in shuffled_by_class(targets, gen):
            fold[members] = (torch.arange(len(members)) + offset) % k
            offset += len(members)
    else:
        fold[torch.randperm(n, generator=gen)] = torch.arange(n) % k
    return [(torch.nonzero(fold != i).flatten(), torch.nonzero(fold == i).flatten()) for i in range(k)]


def cross_validate(score: Callable[[TensorData, TensorData], float], data: TensorData, k: int = 5,
                   seed: int = 0, stratify: bool = True) -> Tensor:
    """Scores (k,) of ``score(train_part, val_part)`` over the k folds of ``data``.

    ``score`` trains a fresh model on the first argument and returns its score on the second.
    """
    return torch.tensor([float(score(data[tr], data[va]))
                         for tr, va in kfold_indices(data.y, k, seed, stratify)])


def mcnemar(correct_a: Tensor, correct_b: Tensor) -> tuple[int, int, float]:
    """McNemar's exact test of two classifiers scored on the *same* examples (McNemar, 1947).

    Only the discordant examples carry information: ``b`` = right by A and wrong by B, ``c`` = wrong
    by A and right by B. If the two are equally accurate, each discordant example is a fair coin,
    ``b ~ Binomial(b + c, 1/2)``; the two-sided p-value is ``min(1, 2 · P(X ≤ min(b, c)))``, computed
    exactly with integers (statsmodels' ``mcnemar(exact=True)``, scipy's ``binomtest(…, 0.5)``).

    Args:
        correct_a, correct_b: booleans (N,), whether each model got each example right.

    Returns:
        ``(b, c, p_value)``; ``p_value`` is 1 when the two never disagree.
    """
    if correct_a.shape != correct_b.shape or correct_a.dim() != 1:
        raise ValueError(f"expected two boolean vectors of the same length, got {tuple(correct_a.shape)} "
                         f"and {tuple(correct_b.shape)}")
    if correct_a.dtype != torch.bool or correct_b.dtype != torch.bool:
        raise TypeError("pass booleans: whether each prediction is right (e.g. preds == targets)")
    b = int((correct_a & ~correct_b).sum())
    c = int((~correct_a & correct_b).sum())
    n, k = b + c, min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1))  # exact integers: no underflow for large n
    return b, c, min(1.0, 2 * tail / 2 ** n)


def paired_verdict(name_a: str, correct_a: Tensor, name_b: str, correct_b: Tensor, alpha: float = 0.05,
                   unit: str = "test sentences") -> tuple[float, str]:
    """McNemar's exact test of model a against model b on the same examples, with its verdict in words.

    Returns ``(p_value, sentence)``; the sentence (Markdown) says on how many ``unit`` each model is right
    where the other is wrong, the p-value, and whether a beats b, does worse, or neither at level ``alpha``.
    """
    only_a, only_b, p = mcnemar(correct_a, correct_b)
    if p >= alpha:
        outcome = f"the difference is **not significant** at the {alpha:.0%} level"
    else:
        outcome = (f"the {name_a} **{'beats' if only_a > only_b else 'does worse than'}** the {name_b}, "
                   f"significantly at the {alpha:.0%} level")
    return p, (f"the {name_a} is right on {only_a} {unit} that the {name_b} gets wrong, and wrong on "
               f"{only_b} that it gets right (McNemar's p = {p:.2g}): {outcome}")
