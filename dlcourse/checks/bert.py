"""Auto-checks for chapter 8's BERT exercises."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..text import IGNORE
from .core import Mismatch, call, check, expect_tensor, hidden_generator, randint


def _case(gen: torch.Generator, B: int, T: int, V: int) -> tuple[torch.Tensor, torch.Tensor]:
    logits = torch.randn(B, T, V, generator=gen) * 2
    labels = torch.randint(0, V, (B, T), generator=gen)
    hidden = torch.rand(B, T, generator=gen) >= 0.3  # about 30% of positions are masked (have a label)
    hidden.view(-1)[0] = True
    hidden.view(-1)[-2:] = False  # at least one ignored and two scored positions (one: the sum is the mean)
    return logits, labels.masked_fill(hidden, IGNORE)


@check("The masked-language-model loss")
def mlm_loss(fn) -> str:
    """``fn(logits, labels)`` for logits (B, T, V) and labels (B, T) holding ``text.IGNORE`` (−100) at the
    positions that were not masked → the mean cross-entropy over the masked positions only (a scalar)."""
    gen, seed = hidden_generator()
    fixed = torch.Generator().manual_seed(0)
    cases = [(*_case(fixed, 2, 6, 7), "a batch of 2 sentences of 6 tokens, 7 ids"),
             (*_case(gen, randint(gen, 1, 5), randint(gen, 3, 12), randint(gen, 5, 30)), f"a hidden batch (seed {seed})")]
    for logits, labels, where in cases:
        logits = logits.clone().requires_grad_(True)
        got = call(fn, logits, labels.clone())
        scored = labels != IGNORE
        per = F.cross_entropy(logits[scored], labels[scored], reduction="none").detach()  # (M,)
        expected = per.mean()
        if isinstance(got, torch.Tensor) and got.dim() == 0:
            value = got.detach().float()
            if torch.isclose(value, per.sum(), rtol=1e-4):
                raise Mismatch("this is the sum over the masked positions: divide by how many there are (the mean)")
            if torch.isclose(value, per.sum() / labels.numel(), rtol=1e-4):
                raise Mismatch("you divided by every position, masked or not: the mean runs over the masked "
                               "positions only (the others have label −100 and are not predicted)")
            if torch.isclose(value, -expected, rtol=1e-4):
                raise Mismatch("the sign is flipped: the loss is the *negative* log-probability of the right token")
            if not got.requires_grad:
                raise Mismatch("the loss has no gradient: compute it from the logits with torch operations")
        elif isinstance(got, torch.Tensor) and got.shape == labels.shape:
            raise Mismatch("return one number, the mean over the masked positions, not one loss per position")
        expect_tensor(got, expected, f"the loss for {where}", atol=1e-5)
    return "right: the cross-entropy counted only where a token was masked, averaged over those positions"
