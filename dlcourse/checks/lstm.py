"""Auto-checks for chapter 5's exercises (long short-term memory)."""
from __future__ import annotations

import torch
from torch import nn

from .core import Mismatch, call, check, expect_number, expect_tensor, hidden_generator, randint


@check("Parameters of an LSTM layer")
def lstm_params(answer) -> str:
    """``answer``: the number of parameters of ``nn.LSTM(input_size=32, hidden_size=64)``."""
    expected = sum(p.numel() for p in nn.LSTM(32, 64).parameters())
    D, U = 32, 64
    if answer == U * (D + U) + U or answer == U * (D + U) + 2 * U:
        raise Mismatch(f"{answer:,} is one block: an LSTM has four (input, forget and output gates, and the "
                       "candidate), each with its own weights and biases")
    if answer == 4 * (U * (D + U) + U):
        raise Mismatch(f"{answer:,} has one bias per gate unit; PyTorch keeps two (b_ih and b_hh), "
                       "so count 4·2·U biases")
    expect_number(answer, expected, "the parameter count",
                  hint="each of the four blocks has an input matrix (U·D), a recurrent matrix (U·U) and two bias vectors")
    return f"{expected:,} = 4·(U·(D + U) + 2·U): four blocks, each with two weight matrices and two biases"


@check("One step of an LSTM cell")
def lstm_cell(fn) -> str:
    """``fn(x, h, c, W_ih, W_hh, b_ih, b_hh)`` → ``(h_new, c_new)`` with PyTorch's gate order i, f, g, o."""
    _lstm_case(4, 3, 5, torch.Generator().manual_seed(0), fn, "B=4, D=3, U=5")
    gen, seed = hidden_generator()
    B, D, U = randint(gen, 1, 8), randint(gen, 1, 8), randint(gen, 2, 9)
    _lstm_case(B, D, U, gen, fn, f"a hidden case B={B}, D={D}, U={U} (seed {seed})")
    return "equals nn.LSTMCell with the same weights, on a hidden size too"


def _lstm_case(B: int, D: int, U: int, g: torch.Generator, fn, where: str) -> None:
    x, h, c = torch.randn(B, D, generator=g), torch.randn(B, U, generator=g), torch.randn(B, U, generator=g)
    W_ih, W_hh = torch.randn(4 * U, D, generator=g), torch.randn(4 * U, U, generator=g)
    b_ih, b_hh = torch.randn(4 * U, generator=g), torch.randn(4 * U, generator=g)
    cell = nn.LSTMCell(D, U)  # the reference: PyTorch's cell with the same weights
    with torch.no_grad():
        for p, v in zip([cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh], [W_ih, W_hh, b_ih, b_hh]):
            p.copy_(v)
        h_ref, c_ref = cell(x, (h, c))
    got = call(fn, x, h, c, W_ih, W_hh, b_ih, b_hh)
    if not (isinstance(got, tuple) and len(got) == 2):
        raise Mismatch("return the pair (h_new, c_new)")
    i, f, gg, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)
    if isinstance(got[0], torch.Tensor) and got[0].shape == h_ref.shape:
        if torch.allclose(got[0], torch.sigmoid(c_ref) * torch.tanh(c_ref), atol=1e-5):
            raise Mismatch("o = σ(c), so h = σ(c) ⊙ tanh(c), is the source article's mistake: the output gate "
                           "has its own weights and reads x and h, o = σ(W_io x + b_io + W_ho h + b_ho), "
                           "not the new cell; then h = o ⊙ tanh(c)")
        if torch.allclose(got[0], torch.sigmoid(c_ref), atol=1e-5):
            raise Mismatch("h = σ(c) leaves out both the output gate and the tanh: h = o ⊙ tanh(c), with "
                           "o = σ(W_io x + b_io + W_ho h + b_ho)")
        if torch.allclose(got[0], torch.sigmoid(o) * c_ref, atol=1e-5):
            raise Mismatch("squash the cell before the output gate: h = o ⊙ tanh(c)")
    if isinstance(got[1], torch.Tensor) and got[1].shape == c_ref.shape:
        if torch.allclose(got[1], torch.sigmoid(i) * torch.tanh(gg), atol=1e-5):
            raise Mismatch("the new cell forgets the old one entirely: add f ⊙ c, the forget gate's share of "
                           "the old memory")
        if torch.allclose(got[1], torch.sigmoid(i) * c + torch.sigmoid(f) * torch.tanh(gg), atol=1e-5):
            raise Mismatch("input and forget gates are swapped: PyTorch's order is i, f, g, o")
    expect_tensor(got[1], c_ref, f"the new cell state c for {where}, against nn.LSTMCell")
    expect_tensor(got[0], h_ref, f"the new hidden state h for {where}, against nn.LSTMCell")


class _Counter(nn.Module):
    """A toy language model over V ids: the next id is (sum of all ids so far + 1) mod V, with certainty
    only on the last position's logits; the first position's logits point elsewhere."""

    def __init__(self, vocab_size: int = 7) -> None:
        super().__init__()
        self.vocab_size = vocab_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nxt = (x.cumsum(dim=1) + 1) % self.vocab_size  # (B, T)
        logits = torch.nn.functional.one_hot(nxt, self.vocab_size).float() * 5.0
        logits[..., 0] += 4.0  # a strong, but never winning, pull towards id 0
        return logits


def _greedy(model, prompt, length):
    ids = prompt.clone()
    for _ in range(length):
        nxt = model(ids.view(1, -1))[0, -1].argmax()
        ids = torch.cat([ids, nxt.view(1)])
    return ids[len(prompt):]


@check("A greedy sampler")
def greedy(fn) -> str:
    """``fn(model, prompt, length)`` → the ``length`` ids after ``prompt`` (1-D), each the arg-max
    of ``model``'s logits for the next position given everything so far."""
    gen, seed = hidden_generator()
    V, n = randint(gen, 5, 30), randint(gen, 3, 10)
    hidden = (_Counter(V), torch.randint(0, V, (randint(gen, 1, 6),), generator=gen), n)
    for model, prompt, length in [(_Counter(), torch.tensor([3]), 6), (_Counter(), torch.tensor([1, 2, 5]), 6), hidden]:
        expected = _greedy(model, prompt, length)
        got = call(fn, model, prompt, length)
        if isinstance(got, torch.Tensor) and got.numel() == len(prompt) + length and torch.equal(
                got.flatten()[len(prompt):], expected):
            raise Mismatch("return only the new ids, without the prompt")
        if isinstance(got, torch.Tensor) and got.numel() == length:
            first_pos = _greedy(lambda x: model(x)[:, :1].expand(-1, x.shape[1], -1), prompt, length)
            if torch.equal(got.flatten(), first_pos) and not torch.equal(first_pos, expected):  # else no mistake
                raise Mismatch("you read the logits of the first position: the prediction for the next id "
                               "sits at the last position, logits[0, -1]")
        where = (f"a hidden prompt of {len(prompt)} ids, {length} steps (seed {seed})" if model is hidden[0]
                 else f"the continuation of {prompt.tolist()}")
        expect_tensor(got.flatten() if isinstance(got, torch.Tensor) else got, expected, where)
    return "right: each step appends the arg-max of the last position's logits, on a hidden prompt too"
