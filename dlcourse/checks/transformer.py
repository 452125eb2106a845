"""Auto-checks for chapter 7's exercises (Transformers)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..models.transformer import sinusoidal_table
from .core import Mismatch, call, check, expect_tensor


@check("Sinusoidal positional encoding")
def sinusoidal(fn) -> str:
    """``fn(max_len, d_model)`` → (max_len, d_model): sin at even columns, cos at odd ones (Vaswani et al., §3.5)."""
    for max_len, d_model in [(20, 8), (7, 16)]:
        expected = sinusoidal_table(max_len, d_model)
        got = call(fn, max_len, d_model)
        if isinstance(got, torch.Tensor) and got.shape == (d_model, max_len):
            raise Mismatch(f"the result is transposed: rows are positions, shape ({max_len}, {d_model})")
        if isinstance(got, torch.Tensor) and got.shape == expected.shape and got.is_floating_point():
            swapped = torch.empty_like(expected)
            swapped[:, 0::2], swapped[:, 1::2] = expected[:, 1::2], expected[:, 0::2]
            if torch.allclose(got.float(), swapped, atol=1e-5):
                raise Mismatch("sine and cosine are swapped: PE[pos, 2i] is the sine, PE[pos, 2i + 1] the cosine")
            pos = torch.arange(max_len, dtype=torch.float32)[:, None]
            i = torch.arange(d_model // 2, dtype=torch.float32)
            wrong = torch.empty_like(expected)  # the common slip: exponent i/d instead of 2i/d
            wrong[:, 0::2] = torch.sin(pos / 10000 ** (i / d_model))
            wrong[:, 1::2] = torch.cos(pos / 10000 ** (i / d_model))
            if torch.allclose(got.float(), wrong, atol=1e-5):
                raise Mismatch("the exponent is i / d_model; it is 2i / d_model, where 2i is the even column index")
            if torch.allclose(got.float(), torch.cat([expected[:, 0::2], expected[:, 1::2]], dim=1), atol=1e-5):
                raise Mismatch("all sines come first, then all cosines: interleave them (even columns sine, odd cosine)")
        expect_tensor(got, expected, f"the encoding for max_len={max_len}, d_model={d_model}", atol=1e-5)
    return "equals the paper's table: wavelengths from 2π to 10000·2π, sine and cosine interleaved"


@check("Causal self-attention")
def causal_attention(fn) -> str:
    """``fn(q, k, v)`` → softmax(q kᵀ/√d + causal mask) v for q, k, v (B, T, d)."""
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 6, 8, generator=g) for _ in range(3))
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    got = call(fn, q, k, v)
    if isinstance(got, tuple):
        raise Mismatch("return only the output (B, T, d), not a tuple")
    if isinstance(got, torch.Tensor) and got.shape == expected.shape:
        got = got.float()
        if torch.allclose(got, F.scaled_dot_product_attention(q, k, v), atol=1e-5):
            raise Mismatch("no mask: position i must not see keys j > i (set those scores to -inf before the softmax)")
        strict = torch.ones(6, 6, dtype=torch.bool).tril(-1)
        strict[0, 0] = True  # the first row would be empty otherwise
        if torch.allclose(got, F.scaled_dot_product_attention(q, k, v, attn_mask=strict), atol=1e-5):
            raise Mismatch("the diagonal is masked too: a position may attend to itself (j ≤ i)")
        if torch.allclose(got, F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=1.0), atol=1e-5):
            raise Mismatch("the scores are not scaled: divide q kᵀ by √d, or the softmax saturates as d grows")
        future = F.scaled_dot_product_attention(q, k, v, attn_mask=torch.ones(6, 6, dtype=torch.bool).triu())
        if torch.allclose(got, future, atol=1e-5):
            raise Mismatch("the mask is flipped: each position sees the future instead of the past (use tril)")
    expect_tensor(got, expected, "the output, against F.scaled_dot_product_attention(..., is_causal=True)")
    changed = v.clone()
    changed[:, 4:] += 1.0
    got_changed = call(fn, q, k, changed)
    if not torch.allclose(got_changed[:, :4].float(), got[:, :4], atol=1e-5):
        raise Mismatch("changing the future values changed earlier outputs: the mask must hide every j > i")
    return "equals PyTorch's causal attention, and the past never sees the future"


@check("A padding mask")
def padding_mask(fn) -> str:
    """``fn(ids, pad_id)`` → boolean (B, 1, 1, T), True at real tokens ("may attend")."""
    ids = torch.tensor([[5, 3, 9, 0, 0], [7, 0, 0, 0, 0], [1, 2, 3, 4, 6]])
    for pad_id in (0, 7):
        expected = (ids != pad_id)[:, None, None, :]
        got = call(fn, ids, pad_id)
        if not isinstance(got, torch.Tensor):
            raise Mismatch(f"expected a tensor, got {type(got).__name__}")
        if got.shape == ids.shape:
            raise Mismatch("the shape is (B, T): add two axes, (B, 1, 1, T), so it broadcasts over heads and queries")
        if got.shape != expected.shape:
            raise Mismatch(f"your mask has shape {tuple(got.shape)}: it needs one axis for the batch, two of size "
                           "1 (heads and queries, to broadcast over) and one for the keys")
        if got.dtype != torch.bool:
            raise Mismatch(f"expected a boolean mask, got {got.dtype}: a float mask is *added* to the scores")
        if torch.equal(got, ~expected):
            raise Mismatch("the mask is inverted: True means 'may attend', so it is True at real tokens")
        if not torch.equal(got, expected):
            wrong = (got != expected)[:, 0, 0]  # (B, T)
            rows = wrong.any(1).nonzero().flatten().tolist()
            raise Mismatch(f"with pad_id={pad_id}, your mask is wrong in row(s) {rows} of the batch: compare each "
                           "id with pad_id itself (not with 0, and not only at the end of the row)")
    return "right: (B, 1, 1, T), True at real tokens, broadcasting to every head and query"

