"""Attention, the block that chapters 6–10 share: scaled dot-product attention (Vaswani et al., 2017),
additive attention (Bahdanau et al., 2015), multi-head attention and the masks they take.

Masks are boolean and mean "may attend": ``mask[..., i, j]`` is True when query ``i`` may look at
key ``j``, as in ``torch.nn.functional.scaled_dot_product_attention``. They broadcast against the
scores (B, h, T_q, T_k) or (B, T_q, T_k). A query row with no allowed key has no defined softmax
and gives NaN, as PyTorch's does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def causal_mask(t_q: int, t_k: int | None = None, device: torch.device | str | None = None) -> Tensor:
    """(T_q, T_k) True on and below the diagonal: query i sees keys 0…i, never the future.

    Aligned to the top-left corner, as PyTorch's ``is_causal`` is, when T_q ≠ T_k."""
    t_k = t_q if t_k is None else t_k
    return torch.ones(t_q, t_k, dtype=torch.bool, device=device).tril()  # (T_q, T_k)


def padding_mask(lengths: Tensor, t: int) -> Tensor:
    """(B, 1, 1, T) True for the real keys of each sequence, False for its padding.

    Broadcasts against multi-head scores (B, h, T_q, T); use ``[:, 0]`` for single-head (B, 1, T).
    """
    keep = torch.arange(t, device=lengths.device)[None, :] < lengths[:, None]  # (B, T)
    return keep[:, None, None, :]  # (B, 1, 1, T)


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None,
                                 is_causal: bool = False, scale: float | None = None,
                                 dropout: float = 0.0, generator: torch.Generator | None = None
                                 ) -> tuple[Tensor, Tensor]:
    """softmax(q kᵀ / √d_k) v, from scratch (Vaswani et al., 2017, eq. 1); returns (output, weights).

    Args:
        q: queries (..., T_q, d_k).
        k: keys (..., T_k, d_k).
        v: values (..., T_k, d_v).
        mask: boolean, True where a query may attend to a key; broadcasts to (..., T_q, T_k).
        is_causal: also hide every key after the query's position (T_q == T_k).
        scale: multiplies the scores; default 1/√d_k, which keeps their variance near 1 when q and
            k have unit-variance entries, so the softmax does not saturate.
        dropout: probability of zeroing an attention weight (training only; the caller decides).
        generator: random numbers for the dropout.

    Equals ``F.scaled_dot_product_attention`` (which returns only the output) to float rounding.
    """
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.transpose(-2, -1) * scale  # (..., T_q, T_k)
    if is_causal:
        scores = scores.masked_fill(~causal_mask(q.shape[-2], k.shape[-2], q.device), float("-inf"))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # (..., T_q, T_k), each row sums to 1
    if dropout > 0:
        keep = torch.rand(weights.shape, generator=generator, device=weights.device) >= dropout
        weights = weights * keep / (1 - dropout)
    return weights @ v, weights  # (..., T_q, d_v), (..., T_q, T_k)


class AdditiveAttention(nn.Module):
    """Bahdanau attention: score(q, k) = vᵀ tanh(W_q q + W_k k) (Bahdanau et al., 2015, eq. 6).

    Args:
        query_dim: features of a query (e.g. the decoder's hidden state).
        key_dim: features of a key (e.g. an encoder output); the values are the keys unless given.
        hidden: units of the one-layer scoring network.
    """

    def __init__(self, query_dim: int, key_dim: int, hidden: int) -> None:
        super().__init__()
        self.w_q = nn.Linear(query_dim, hidden, bias=False)
        self.w_k = nn.Linear(key_dim, hidden)
        self.v = nn.Linear(hidden, 1, bias=False)

    def forward(self, q: Tensor, k: Tensor, v: Tensor | None = None,
                mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Queries q (B, T_q, D_q), keys k (B, T_k, D_k), values v (B, T_k, D_v) (default k),
        mask (B, T_q or 1, T_k) → (output (B, T_q, D_v), weights (B, T_q, T_k))."""
        v = k if v is None else v
        hidden = torch.tanh(self.w_q(q)[:, :, None, :] + self.w_k(k)[:, None, :, :])  # (B, T_q, T_k, hidden)
        scores = self.v(hidden).squeeze(-1)  # (B, T_q, T_k)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1)  # (B, T_q, T_k)
        return weights @ v, weights  # (B, T_q, D_v), (B, T_q, T_k)


@dataclass
class KVCache:
    """The keys and values one attention layer has computed for the positions seen so far, so that
    generating the next token costs one new key and value instead of recomputing them all (the "KV
    cache" of every autoregressive Transformer). Filled by :class:`MultiHeadAttention` when passed in.
    """

    k: Tensor | None = None  # (B, h, S, C/h)
    v: Tensor | None = None  # (B, h, S, C/h)

    def __len__(self) -> int:
        """Positions cached."""
        return 0 if self.k is None else self.k.shape[-2]


class MultiHeadAttention(nn.Module):
    """h heads of scaled dot-product attention side by side (Vaswani et al., 2017, §3.2.2).

    Parameters are named and shaped as in ``nn.MultiheadAttention`` (``in_proj_weight`` (3C, C),
    ``in_proj_bias`` (3C,), ``out_proj.weight`` (C, C), ``out_proj.bias``), so
    ``mine.load_state_dict(builtin.state_dict())`` makes the two compute the same function.

    Args:
        embed_dim: C, the model width; each head works in C / h dimensions.
        num_heads: h.
        dropout: dropout on the attention weights while training.
        bias: learn biases in the projections.
        fused: compute attention with PyTorch's fused ``F.scaled_dot_product_attention`` (fast,
            memory-light) instead of :func:`scaled_dot_product_attention` (same result; the
            weights are then available). Asking for the weights always uses the latter.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 fused: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads, self.dropout, self.fused = embed_dim, num_heads, dropout, fused
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim)) if bias else None
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        nn.init.xavier_uniform_(self.in_proj_weight)  # nn.MultiheadAttention's initialisation
        if bias:
            nn.init.zeros_(self.out_proj.bias)

    def _heads(self, x: Tensor, part: int) -> Tensor:
        """Project x (B, T, C) with the query (0), key (1) or value (2) weights and split the heads."""
        B, T, C = x.shape
        w = self.in_proj_weight[part * C:(part + 1) * C]  # (C, C)
        b = None if self.in_proj_bias is None else self.in_proj_bias[part * C:(part + 1) * C]
        x = F.linear(x, w, b)  # (B, T, C)
        return x.view(B, T, self.num_heads, C // self.num_heads).transpose(1, 2)  # (B, h, T, C/h)

    def forward(self, x: Tensor, context: Tensor | None = None, mask: Tensor | None = None,
                is_causal: bool = False, return_weights: bool = False,
                cache: KVCache | None = None) -> Tensor | tuple[Tensor, Tensor]:
        """Self-attention over x (B, T, C), or cross-attention from x to ``context`` (B, S, C).

        Args:
            x: the queries' sequence (B, T, C).
            context: the keys' and values' sequence (B, S, C); default x (self-attention).
            mask: boolean "may attend", broadcasting to (B, h, T, S), e.g. :func:`padding_mask`.
            is_causal: position i attends only to positions ≤ i (self-attention).
            return_weights: also return the attention weights (B, h, T, S).
            cache: self-attention only: x holds the positions after the cached ones; their keys and
                values are appended to the cache and attention runs over all cached positions (with
                ``is_causal``, new position i sees the cache and new positions ≤ i).
        """
        B, T, C = x.shape
        context = x if context is None else context
        q = self._heads(x, 0)  # (B, h, T, C/h)
        k = self._heads(context, 1)  # (B, h, S, C/h)
        v = self._heads(context, 2)  # (B, h, S, C/h)
        if cache is not None:
            if context is not x:
                raise ValueError("a KV cache holds self-attention's keys; cross-attention's are fixed")
            past = len(cache)
            if past:
                k = torch.cat([cache.k, k], dim=2)  # (B, h, past + T, C/h)
                v = torch.cat([cache.v, v], dim=2)  # (B, h, past + T, C/h)
            cache.k, cache.v = k, v
            if is_causal and past:  # query i sits at position past + i: it sees keys 0 … past + i
                causal = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(past)  # (T, past + T)
                mask, is_causal = causal if mask is None else mask & causal, False
        p = self.dropout if self.training else 0.0
        if self.fused and not return_weights:
            if is_causal and mask is not None:  # PyTorch's kernel takes one or the other: combine them
                mask, is_causal = mask & causal_mask(T, k.shape[-2], x.device), False
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=is_causal)
            weights = None
        else:
            out, weights = scaled_dot_product_attention(q, k, v, mask, is_causal, dropout=p)  # (B, h, T, C/h)
        out = out.transpose(1, 2).reshape(B, T, C)  # (B, T, C): heads side by side again
        out = self.out_proj(out)  # (B, T, C)
        return (out, weights) if return_weights else out
