"""Sampling the next token from logits (models/sampling.py)."""
import pytest
import torch

from dlcourse.models.sampling import sample_next


def test_sampling_temperatures():
    logits = torch.tensor([[0.0, 2.0, 1.0]])
    # 4,000 draws: each frequency's standard error is ≤ 0.008, so 0.03 is ≥ 3.7 of them
    assert sample_next(logits, 0).tolist() == [1]
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([sample_next(logits, 1.0, g) for _ in range(4000)]).flatten()
    freq = torch.bincount(draws, minlength=3).float() / 4000
    assert torch.allclose(freq, torch.softmax(logits[0], 0), atol=0.03)
    cold = torch.stack([sample_next(logits, 0.1, g) for _ in range(200)]).flatten()
    assert (cold == 1).float().mean() > 0.99
    with pytest.raises(ValueError):
        sample_next(logits, -1.0)


def test_top_k_only_draws_the_k_most_likely():
    logits = torch.tensor([[0.0, 3.0, 2.0, 1.0, -1.0]])
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([sample_next(logits, 1.0, g, top_k=2) for _ in range(2000)]).flatten()
    assert set(draws.tolist()) == {1, 2}
    freq = (draws == 1).float().mean().item()
    # renormalised over the two kept tokens: e³/(e³ + e²) = 0.731; 2,000 draws, standard error 0.01
    assert abs(freq - 1 / (1 + torch.e ** -1)) < 0.04
    assert sample_next(logits, 1.0, g, top_k=1).item() == 1
    with pytest.raises(ValueError, match="top_k"):
        sample_next(logits, 1.0, top_k=0)
