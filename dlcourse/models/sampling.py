"""Turning a model's next-token logits into tokens: the sampling the generative models share
(chapter 5's character LSTM now, chapter 8's GPT later)."""
from __future__ import annotations

import torch
from torch import Tensor


def sample_next(logits: Tensor, temperature: float = 1.0, generator: torch.Generator | None = None) -> Tensor:
    """Draw one token id per row of ``logits`` (B, V) from ``softmax(logits / temperature)``.

    ``temperature → 0`` tends to the arg-max (greedy); exactly 0 is greedy. With a ``generator``
    the logits must be on the generator's device (the CPU for ``torch.Generator()``).
    """
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0, got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)  # (B,)
    probs = torch.softmax(logits.float() / temperature, dim=-1)  # (B, V)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)  # (B,)
