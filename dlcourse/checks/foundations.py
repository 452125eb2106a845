"""Auto-checks for chapter 0's exercises (the MLP, the training loop, evaluation)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..metrics import precision_recall_f1
from ..models import MLP, MLPConfig
from ..utils import count_parameters
from .core import Mismatch, call, check, expect_number, expect_tensor, hidden_generator, randint


def _softmax_diagnosis(got, batch: Tensor, where: str) -> None:
    if isinstance(got, Tensor) and got.shape == batch.shape and torch.isfinite(got).all():
        if abs(got.sum().item() - 1) < 1e-4:
            raise Mismatch(f"on {where} the whole tensor sums to 1: normalise each row separately, "
                           "with sum(dim=-1, keepdim=True)")
        if torch.allclose(got.sum(dim=0), torch.ones(batch.shape[1]), atol=1e-4):
            raise Mismatch(f"on {where} the columns sum to 1: softmax runs over the LAST dimension "
                           "(each row is one example's logits)")


@check("A numerically stable softmax")
def softmax(fn) -> str:
    """``fn(z)`` must return the softmax of ``z`` over its last dimension, for any logits."""
    small = torch.tensor([1.0, 2.0, 3.0])
    expect_tensor(call(fn, small), torch.softmax(small, dim=-1), "softmax([1, 2, 3])")
    big = torch.tensor([1000.0, 1001.0, 1002.0])
    got = call(fn, big)
    if isinstance(got, Tensor) and not torch.isfinite(got).all():
        raise Mismatch("softmax([1000, 1001, 1002]) gives NaN: exp(1000) overflows float32. Subtract each "
                       "row's maximum before exp; softmax(z) = softmax(z - max z) since the factor cancels.")
    expect_tensor(got, torch.softmax(big, dim=-1), "softmax([1000, 1001, 1002])")
    batch = torch.randn(4, 5, generator=torch.Generator().manual_seed(0)) * 3
    got = call(fn, batch)
    _softmax_diagnosis(got, batch, "a (4, 5) batch")
    expect_tensor(got, torch.softmax(batch, dim=-1), "softmax of a (4, 5) batch")
    gen, seed = hidden_generator()  # hidden: another batch size and width, rows shifted by up to ±500
    B, K = randint(gen, 2, 9), randint(gen, 2, 12)
    hidden = torch.randn(B, K, generator=gen) * 4 + (torch.rand(B, 1, generator=gen) - 0.5) * 1000
    where = f"a hidden ({B}, {K}) batch with large logits (seed {seed})"
    got = call(fn, hidden)
    _softmax_diagnosis(got, hidden, where)
    expect_tensor(got, torch.softmax(hidden, dim=-1), f"softmax of {where}")
    return "right on small, huge and batched logits, and on a hidden batch"


@check("Parameters of the 784-256-128-10 MLP")
def mlp_param_count(answer) -> str:
    """``answer`` must be the number of weights and biases of ``MLP(MLPConfig())``."""
    config = MLPConfig(in_features=784, hidden=(256, 128), num_classes=10)
    expected = count_parameters(MLP(config))
    sizes = (config.in_features, *config.hidden, config.num_classes)
    weights_only = sum(a * b for a, b in zip(sizes, sizes[1:]))
    if answer == weights_only:
        raise Mismatch(f"{answer:,} counts the weights only: each layer also has one bias per output unit")
    if answer == sum(sizes):
        raise Mismatch(f"{answer:,} counts units, not parameters: a layer from m to n units has m·n weights "
                       "and n biases")
    expect_number(answer, expected, "the parameter count",
                  hint="add up m·n weights and n biases for each of the three layers (784→256, 256→128, 128→10)")
    return f"{expected:,} parameters, as count_parameters(MLP(MLPConfig())) says"


def _linear_case(B: int, n_in: int, n_out: int, gen: torch.Generator, what: str, fn) -> None:
    x = torch.randn(B, n_in, generator=gen, dtype=torch.float64, requires_grad=True)
    W = torch.randn(n_out, n_in, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(n_out, generator=gen, dtype=torch.float64, requires_grad=True)
    grad_y = torch.randn(B, n_out, generator=gen, dtype=torch.float64)
    (x @ W.T + b).backward(grad_y)  # the reference: autograd
    got = call(fn, x.detach(), W.detach(), b.detach(), grad_y)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise Mismatch("return three tensors: (grad_x, grad_W, grad_b)")
    grad_x, grad_W, grad_b = got
    if isinstance(grad_W, Tensor) and grad_W.shape == W.shape[::-1] and n_in != n_out:
        raise Mismatch(f"{what}: grad_W has shape {tuple(grad_W.shape)} but W is {tuple(W.shape)}: a gradient "
                       "has its parameter's shape, grad_W = grad_y.T @ x")
    if isinstance(grad_b, Tensor) and grad_b.shape == grad_y.shape:
        raise Mismatch(f"{what}: grad_b has one row per example: b is shared by the whole batch, so add up its "
                       "gradients over the batch, grad_b = grad_y.sum(dim=0)")
    if isinstance(grad_b, Tensor) and grad_b.shape == b.shape and torch.allclose(
            grad_b.double(), grad_y.mean(dim=0)) and B > 1:
        raise Mismatch(f"{what}: grad_b is the mean of grad_y over the batch: each example adds its own "
                       "gradient to b, so sum them")
    expect_tensor(grad_x, x.grad, f"grad_x for {what}", atol=1e-8)
    expect_tensor(grad_W, W.grad, f"grad_W for {what}", atol=1e-8)
    expect_tensor(grad_b, b.grad, f"grad_b for {what}", atol=1e-8)


@check("The backward pass of a linear layer")
def linear_backward(fn) -> str:
    """``fn(x, W, b, grad_y)`` returns ``(grad_x, grad_W, grad_b)`` for ``y = x @ W.T + b``."""
    _linear_case(6, 4, 3, torch.Generator().manual_seed(0), "a batch of 6, 4 → 3", fn)
    gen, seed = hidden_generator()
    B, n_in, n_out = randint(gen, 2, 9), randint(gen, 2, 8), randint(gen, 2, 8)
    _linear_case(B, n_in, n_out, gen, f"a hidden batch of {B}, {n_in} → {n_out} (seed {seed})", fn)
    return "all three gradients agree with autograd, on a hidden layer size too"


def _confusion_case(cm: Tensor, fn, where: str) -> None:
    K = cm.shape[0]
    preds = torch.repeat_interleave(torch.arange(K).repeat(K), cm.flatten())
    targets = torch.repeat_interleave(torch.arange(K).repeat_interleave(K), cm.flatten())
    report = precision_recall_f1(preds, targets, K)
    for c in range(K):
        got = call(fn, cm.clone(), c)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Mismatch("return two numbers: (precision, recall)")
        p, r = (v.item() if isinstance(v, Tensor) else v for v in got)
        want_p, want_r = report.precision[c].item(), report.recall[c].item()
        if abs(p - want_r) < 1e-6 and abs(r - want_p) < 1e-6 and abs(want_p - want_r) > 1e-6:
            raise Mismatch(f"{where}, class {c}: precision and recall are swapped. Precision divides by everything "
                           "PREDICTED as c (a column sum); recall by everything that truly IS c (a row sum)")
        accuracy = (cm.diag().sum() / cm.sum()).item()
        if abs(p - accuracy) < 1e-6 and abs(want_p - accuracy) > 1e-6:
            raise Mismatch(f"{where}, class {c}: your precision is the overall accuracy: divide class c's hits "
                           "by the column of class c only")
        expect_number(p, want_p, f"{where}: precision of class {c}",
                      hint="precision = cm[c, c] / (everything predicted as c, the column sum)")
        expect_number(r, want_r, f"{where}: recall of class {c}",
                      hint="recall = cm[c, c] / (everything that truly is c, the row sum)")


@check("Precision and recall from a confusion matrix")
def precision_recall(fn) -> str:
    """``fn(cm, c)`` returns ``(precision, recall)`` of class ``c``; rows of ``cm`` are true classes."""
    _confusion_case(torch.tensor([[50, 2, 8], [10, 30, 0], [5, 5, 40]]), fn, "the 3-class matrix")
    gen, seed = hidden_generator()
    K = randint(gen, 3, 6)
    cm = torch.randint(0, 20, (K, K), generator=gen) + torch.diag(torch.randint(20, 60, (K,), generator=gen))
    _confusion_case(cm, fn, f"a hidden {K}-class matrix (seed {seed})")
    return "right for every class, on a hidden confusion matrix too"


def _smoothing_case(logits: Tensor, targets: Tensor, eps: float, fn, where: str) -> None:
    B, K = logits.shape
    got = call(fn, logits, targets, eps)
    if isinstance(got, Tensor) and got.shape == (B,):
        raise Mismatch("you return one loss per example: average them over the batch")
    expected = F.cross_entropy(logits, targets, label_smoothing=eps)
    if eps > 0 and isinstance(got, Tensor) and got.numel() == 1:
        log_p = logits.log_softmax(dim=-1)
        others = (log_p.sum(dim=-1) - log_p.gather(1, targets[:, None]).squeeze(1)) / (K - 1)
        alternative = -((1 - eps) * log_p.gather(1, targets[:, None]).squeeze(1) + eps * others).mean()
        if torch.allclose(got.double(), alternative):
            raise Mismatch("you spread ε over the K-1 wrong classes; PyTorch (after Szegedy et al.) "
                           "spreads it over all K classes: target = (1-ε)·one_hot + ε/K")
        if torch.allclose(got.double(), F.cross_entropy(logits, targets)):
            raise Mismatch(f"with eps={eps} you return the plain cross-entropy: the smoothing is missing")
    expect_tensor(got, expected, f"the loss with eps={eps} on {where}", atol=1e-8)


@check("Cross-entropy with label smoothing")
def label_smoothing_ce(fn) -> str:
    """``fn(logits, targets, eps)`` must equal ``F.cross_entropy(..., label_smoothing=eps)``."""
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(8, 5, generator=gen, dtype=torch.float64)
    targets = torch.randint(0, 5, (8,), generator=gen)
    for eps in (0.0, 0.1, 0.3):
        _smoothing_case(logits, targets, eps, fn, "8 examples of 5 classes")
    gen, seed = hidden_generator()
    B, K = randint(gen, 2, 12), randint(gen, 3, 10)
    eps = round(float(torch.rand((), generator=gen)) * 0.4 + 0.05, 3)
    logits = torch.randn(B, K, generator=gen, dtype=torch.float64) * 2
    _smoothing_case(logits, torch.randint(0, K, (B,), generator=gen), eps, fn,
                    f"a hidden batch of {B} examples of {K} classes (seed {seed})")
    return "matches F.cross_entropy(label_smoothing=ε) for ε = 0, 0.1, 0.3 and a hidden case"
