"""Auto-checks for chapter 4's exercises (recurrent neural networks)."""
from __future__ import annotations

import torch

from ..text import pad_batch
from .core import Mismatch, call, check, expect_tensor, hidden_generator, randint


def _rnn_case(B: int, D: int, U: int, gen: torch.Generator, fn, where: str) -> None:
    x, h = torch.randn(B, D, generator=gen), torch.randn(B, U, generator=gen)
    W_xh, W_hh, b = torch.randn(U, D, generator=gen), torch.randn(U, U, generator=gen), torch.randn(U, generator=gen)
    cell = torch.nn.RNNCell(D, U)  # the reference: PyTorch's cell with the same weights (one bias, the other 0)
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
    if isinstance(got, torch.Tensor) and got.shape == pre.shape and torch.allclose(
            got, torch.tanh(x @ W_xh.T + h @ W_hh.T), atol=1e-5):
        raise Mismatch("the bias b is missing")
    expect_tensor(got, expected, f"the new hidden state for {where}, against nn.RNNCell")


@check("One step of a vanilla RNN")
def rnn_step(fn) -> str:
    """``fn(x, h, W_xh, W_hh, b)`` → ``tanh(x W_xhᵀ + h W_hhᵀ + b)`` for x (B, D), h (B, U)."""
    _rnn_case(4, 3, 5, torch.Generator().manual_seed(0), fn, "B=4, D=3, U=5")
    gen, seed = hidden_generator()
    B, D, U = randint(gen, 1, 9), randint(gen, 1, 8), randint(gen, 2, 9)
    _rnn_case(B, D, U, gen, fn, f"a hidden case B={B}, D={D}, U={U} (seed {seed})")
    return "equals nn.RNNCell with the same weights, on a hidden size too"


@check("Padding a batch of sequences")
def pad(fn) -> str:
    """``fn(sequences, pad_id)`` → (ids (B, T) int64 right-padded to the longest, lengths (B,))."""
    gen, seed = hidden_generator()
    hidden = [torch.randint(1, 50, (randint(gen, 1, 7),), generator=gen).tolist() for _ in range(randint(gen, 2, 6))]
    cases = [([[5, 6, 7], [8], [9, 10]], 0), ([[3, 3], [4, 4, 4, 4]], 1), (hidden, randint(gen, 0, 60))]
    for sequences, pad_id in cases:
        got = call(fn, sequences, pad_id)
        if not (isinstance(got, tuple) and len(got) == 2):
            raise Mismatch("return a pair: (padded ids, lengths)")
        ids, lengths = pad_batch(sequences, pad_id)
        left = torch.tensor([[pad_id] * (ids.shape[1] - len(s)) + list(s) for s in sequences])
        # (when every sequence has the same length, left and right padding are the same thing: no diagnosis)
        if (isinstance(got[0], torch.Tensor) and got[0].shape == ids.shape and not torch.equal(left, ids)
                and torch.equal(got[0].long(), left)):
            raise Mismatch("the padding is on the left: pad on the right, after each sequence's tokens")
        if sequences is hidden:
            sequences = f"a hidden batch of {len(hidden)} sequences, pad id {pad_id} (seed {seed})"
        expect_tensor(got[0], ids, f"the padded ids of {sequences}")
        if got[0].dtype != torch.long:
            raise Mismatch(f"ids must be int64 (torch.long) for nn.Embedding, got {got[0].dtype}")
        expect_tensor(got[1], lengths, f"the lengths of {sequences}")
    return "right: right-padded int64 ids and the true lengths, ready for packing"


@check("Clipping gradients by their global norm")
def clip_gradients(fn) -> str:
    """``fn(grads, max_norm)`` → the list of gradients scaled so that their *global* norm ≤ max_norm."""
    g = torch.Generator().manual_seed(0)
    gen, seed = hidden_generator()
    hidden_shapes = [tuple(randint(gen, 1, 6) for _ in range(randint(gen, 1, 3))) for _ in range(randint(gen, 2, 5))]
    max_norm = round(0.5 + float(torch.rand((), generator=gen)) * 4, 3)
    cases = [([(4, 3), (5,)], scale, 1.0, g, "") for scale in [10.0, 0.01]]
    cases.append((hidden_shapes, 20.0, max_norm, gen, f", hidden: {len(hidden_shapes)} tensors, max_norm={max_norm} "
                                                       f"(seed {seed})"))
    for shapes, scale, max_norm, source, tag in cases:
        grads = [torch.randn(*shape, generator=source) * scale for shape in shapes]
        params = [torch.nn.Parameter(torch.zeros_like(t)) for t in grads]
        for p, t in zip(params, grads):
            p.grad = t.clone()
        torch.nn.utils.clip_grad_norm_(params, max_norm)
        got = call(fn, [t.clone() for t in grads], max_norm)
        if not isinstance(got, (list, tuple)) or len(got) != len(grads):
            raise Mismatch("return a list with one (clipped) tensor per gradient")
        per_tensor = [t * min(1.0, max_norm / float(t.norm())) for t in grads]
        same = all(torch.allclose(a, p.grad, atol=1e-6) for a, p in zip(per_tensor, params))  # then it is no mistake
        if scale > 1 and not same and all(isinstance(a, torch.Tensor) and a.shape == b.shape
                                          and torch.allclose(a, b, atol=1e-6) for a, b in zip(got, per_tensor)):
            raise Mismatch("you clip each tensor by its own norm: use one global norm over all gradients, so "
                           "that the update keeps its direction")
        for i, (a, p) in enumerate(zip(got, params)):
            expect_tensor(a, p.grad, f"gradient {i} with entries of {scale:g}× a unit normal{tag}", atol=1e-5)
    return ("equals torch.nn.utils.clip_grad_norm_: small gradients untouched, large ones rescaled together, "
            "on a hidden case too")
