"""Turning a model's next-token logits into tokens: the sampling the generative models share
(chapter 5's character LSTM now, chapter 8's GPT later)."""
from __future__ import annotations

import torch
from torch import Tensor


def sample_next(logits: Tensor, temperature: float = 1.0, generator: torch.Generator | None = None,
                top_k: int | None = None) -> Tensor:
    """Draw one token id per row of ``logits`` (B, V) from ``softmax(logits / temperature)``.

    ``temperature → 0`` tends to the arg-max (greedy); exactly 0 is greedy. ``top_k`` keeps only the
    k most likely tokens of each row before sampling (Fan et al., 2018). With a ``generator`` the
    logits must be on the generator's device (the CPU for ``torch.Generator()``).
    """
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    if temperature == 0:
        return logits.argmax(dim=-1)  # (B,)
    logits = logits.float() / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]  # (B, 1): the k-th largest logit of each row
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)  # (B, V)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)  # (B,)
