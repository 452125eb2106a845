"""Auto-checks for chapter 4's exercises (recurrent neural networks)."""
from __future__ import annotations

import torch

from ..text import pad_batch
from .core import Mismatch, call, check, expect_tensor


@check("One step of a vanilla RNN")
def rnn_step(fn) -> str:
    """``fn(x, h, W_xh, W_hh, b)`` → ``tanh(x W_xhᵀ + h W_hhᵀ + b)`` for x (B, D), h (B, U)."""
    g = torch.Generator().manual_seed(0)
    x, h = torch.randn(4, 3, generator=g), torch.randn(4, 5, generator=g)
    W_xh, W_hh, b = torch.randn(5, 3, generator=g), torch.randn(5, 5, generator=g), torch.randn(5, generator=g)
    cell = torch.nn.RNNCell(3, 5)  # the reference: PyTorch's cell with the same weights (one bias, the other 0)
    with torch.no_grad():
        cell.weight_ih.copy_(W_xh), cell.weight_hh.copy_(W_hh), cell.bias_ih.copy_(b), cell.bias_hh.zero_()
        expected = cell(x, h)
    got = call(fn, x, h, W_xh, W_hh, b)
    pre = x @ W_xh.T + h @ W_hh.T + b
    if isinstance(got, torch.Tensor) and got.shape == pre.shape and torch.allclose(got, pre, atol=1e-5):
        raise Mismatch("you return the pre-activation: apply tanh to it")
    if isinstance(got, torch.Tensor) and got.shape == pre.shape and torch.allclose(got, torch.tanh(x @ W_xh.T + b),
                                                                                   atol=1e-5):
        raise Mismatch("the previous hidden state h is missing: add h W_hhᵀ, the recurrence itself")
    expect_tensor(got, expected, "the new hidden state, against nn.RNNCell")
    return "equals nn.RNNCell with the same weights"


@check("Padding a batch of sequences")
def pad(fn) -> str:
    """``fn(sequences, pad_id)`` → (ids (B, T) int64 right-padded to the longest, lengths (B,))."""
    cases = [([[5, 6, 7], [8], [9, 10]], 0), ([[3, 3], [4, 4, 4, 4]], 1)]
    for sequences, pad_id in cases:
        got = call(fn, sequences, pad_id)
        if not (isinstance(got, tuple) and len(got) == 2):
            raise Mismatch("return a pair: (padded ids, lengths)")
        ids, lengths = pad_batch(sequences, pad_id)
        left = torch.tensor([[pad_id] * (ids.shape[1] - len(s)) + list(s) for s in sequences])
        if isinstance(got[0], torch.Tensor) and got[0].shape == ids.shape and torch.equal(got[0].long(), left):
            raise Mismatch("the padding is on the left: pad on the right, after each sequence's tokens")
        expect_tensor(got[0], ids, f"the padded ids of {sequences}")
        if got[0].dtype != torch.long:
            raise Mismatch(f"ids must be int64 (torch.long) for nn.Embedding, got {got[0].dtype}")
        expect_tensor(got[1], lengths, f"the lengths of {sequences}")
    return "right: right-padded int64 ids and the true lengths, ready for packing"


@check("Clipping gradients by their global norm")
def clip_gradients(fn) -> str:
    """``fn(grads, max_norm)`` → the list of gradients scaled so that their *global* norm ≤ max_norm."""
    g = torch.Generator().manual_seed(0)
    for scale in [10.0, 0.01]:
        grads = [torch.randn(4, 3, generator=g) * scale, torch.randn(5, generator=g) * scale]
        params = [torch.nn.Parameter(torch.zeros_like(t)) for t in grads]
        for p, t in zip(params, grads):
            p.grad = t.clone()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        got = call(fn, [t.clone() for t in grads], 1.0)
        if not isinstance(got, (list, tuple)) or len(got) != len(grads):
            raise Mismatch("return a list with one (clipped) tensor per gradient")
        per_tensor = [t * min(1.0, 1.0 / float(t.norm())) for t in grads]
        if scale > 1 and all(isinstance(a, torch.Tensor) and a.shape == b.shape and torch.allclose(a, b, atol=1e-6)
                             for a, b in zip(got, per_tensor)):
            raise Mismatch("you clip each tensor by its own norm: use one global norm over all gradients, so "
                           "that the update keeps its direction")
        for i, (a, p) in enumerate(zip(got, params)):
            expect_tensor(a, p.grad, f"gradient {i} with a global norm of {scale:g}× a unit normal",
                          atol=1e-6)
    return "equals torch.nn.utils.clip_grad_norm_: small gradients untouched, large ones rescaled together"
