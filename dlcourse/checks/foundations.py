"""Auto-checks for chapter 0's exercises (the MLP, the training loop, evaluation)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..metrics import precision_recall_f1
from ..models import MLP, MLPConfig
from ..utils import count_parameters
from .core import Mismatch, call, check, expect_number, expect_tensor


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
    if isinstance(got, Tensor) and got.shape == batch.shape and torch.isfinite(got).all():
        if abs(got.sum().item() - 1) < 1e-4:
            raise Mismatch("on a (4, 5) batch the whole tensor sums to 1: normalise each row separately, "
                           "with sum(dim=-1, keepdim=True)")
        if torch.allclose(got.sum(dim=0), torch.ones(5), atol=1e-4):
            raise Mismatch("on a (4, 5) batch the columns sum to 1: softmax runs over the LAST dimension "
                           "(each row is one example's logits)")
    expect_tensor(got, torch.softmax(batch, dim=-1), "softmax of a (4, 5) batch")
    return "right on small, huge and batched logits"


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
    expect_number(answer, expected, "the parameter count")
    return f"{expected:,} parameters, as count_parameters(MLP(MLPConfig())) says"


@check("The backward pass of a linear layer")
def linear_backward(fn) -> str:
    """``fn(x, W, b, grad_y)`` returns ``(grad_x, grad_W, grad_b)`` for ``y = x @ W.T + b``."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    W = torch.randn(3, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, generator=gen, dtype=torch.float64, requires_grad=True)
    grad_y = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    (x @ W.T + b).backward(grad_y)  # the reference: autograd
    got = call(fn, x.detach(), W.detach(), b.detach(), grad_y)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise Mismatch("return three tensors: (grad_x, grad_W, grad_b)")
    grad_x, grad_W, grad_b = got
    if isinstance(grad_W, Tensor) and grad_W.shape == (4, 3):
        raise Mismatch("grad_W has shape (4, 3) but W is (3, 4): a gradient has its parameter's shape, "
                       "grad_W = grad_y.T @ x")
    if isinstance(grad_b, Tensor) and grad_b.shape == (6, 3):
        raise Mismatch("grad_b has one row per example: b is shared by the whole batch, so add up its "
                       "gradients over the batch, grad_b = grad_y.sum(dim=0)")
    expect_tensor(grad_x, x.grad, "grad_x", atol=1e-8)
    expect_tensor(grad_W, W.grad, "grad_W", atol=1e-8)
    expect_tensor(grad_b, b.grad, "grad_b", atol=1e-8)
    return "all three gradients agree with autograd"


@check("Precision and recall from a confusion matrix")
def precision_recall(fn) -> str:
    """``fn(cm, c)`` returns ``(precision, recall)`` of class ``c``; rows of ``cm`` are true classes."""
    cm = torch.tensor([[50, 2, 8], [10, 30, 0], [5, 5, 40]])
    preds = torch.repeat_interleave(torch.arange(3).repeat(3), cm.flatten())
    targets = torch.repeat_interleave(torch.arange(3).repeat_interleave(3), cm.flatten())
    report = precision_recall_f1(preds, targets, 3)
    for c in range(3):
        got = call(fn, cm.clone(), c)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Mismatch("return two numbers: (precision, recall)")
        p, r = (v.item() if isinstance(v, Tensor) else v for v in got)
        want_p, want_r = report.precision[c].item(), report.recall[c].item()
        if abs(p - want_r) < 1e-6 and abs(r - want_p) < 1e-6 and abs(want_p - want_r) > 1e-6:
            raise Mismatch(f"class {c}: precision and recall are swapped. Precision divides by everything "
                           "PREDICTED as c (a column sum); recall by everything that truly IS c (a row sum)")
        expect_number(p, want_p, f"precision of class {c}")
        expect_number(r, want_r, f"recall of class {c}")
    return "right for all three classes"


@check("Cross-entropy with label smoothing")
def label_smoothing_ce(fn) -> str:
    """``fn(logits, targets, eps)`` must equal ``F.cross_entropy(..., label_smoothing=eps)``."""
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(8, 5, generator=gen, dtype=torch.float64)
    targets = torch.randint(0, 5, (8,), generator=gen)
    for eps in (0.0, 0.1, 0.3):
        got = call(fn, logits, targets, eps)
        if isinstance(got, Tensor) and got.shape == (8,):
            raise Mismatch("you return one loss per example: average them over the batch")
        expected = F.cross_entropy(logits, targets, label_smoothing=eps)
        if eps > 0 and isinstance(got, Tensor) and got.numel() == 1:
            log_p = logits.log_softmax(dim=-1)
            others = (log_p.sum(dim=-1) - log_p.gather(1, targets[:, None]).squeeze(1)) / 4
            alternative = -((1 - eps) * log_p.gather(1, targets[:, None]).squeeze(1) + eps * others).mean()
            if torch.allclose(got.double(), alternative):
                raise Mismatch("you spread ε over the K-1 wrong classes; PyTorch (after Szegedy et al.) "
                               "spreads it over all K classes: target = (1-ε)·one_hot + ε/K")
        expect_tensor(got, expected, f"the loss with eps={eps}", atol=1e-8)
    return "matches F.cross_entropy(label_smoothing=ε) for ε = 0, 0.1, 0.3"
