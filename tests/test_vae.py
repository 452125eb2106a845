"""The VAE (models/vae.py) against closed forms: the Gaussian KL, the reparameterisation gradient, the
likelihoods, and the importance-weighted bound."""
import math

import pytest
import torch
from torch import distributions as D

from dlcourse import data, train
from dlcourse.models.vae import VAE, VAEConfig, gaussian_kl, reparameterize


def test_gaussian_kl_matches_torch_distributions_and_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    q = D.Normal(mu, (0.5 * logvar).exp())
    exact = D.kl_divergence(q, D.Normal(torch.zeros(3), torch.ones(3))).sum(-1)
    assert torch.allclose(gaussian_kl(mu, logvar), exact, atol=1e-6)
    z = q.sample((200_000,))  # (S, 5, 3)
    mc = (q.log_prob(z) - D.Normal(0.0, 1.0).log_prob(z)).sum(-1).mean(0)
    assert torch.allclose(mc, exact, atol=0.05)  # Monte-Carlo standard error ≤ 0.01 here


def test_reparameterised_gradient_matches_the_analytic_gradient():
    # E[z²] for z ~ N(μ, σ²) is μ² + σ²: d/dμ = 2μ, d/d(log σ²) = σ²
    mu = torch.tensor([0.7, -1.2], requires_grad=True)
    logvar = torch.tensor([0.3, -0.5], requires_grad=True)
    n = 400_000
    z = reparameterize(mu.expand(n, 2), logvar.expand(n, 2), torch.Generator().manual_seed(1))
    z.square().mean(0).sum().backward()
    assert torch.allclose(mu.grad, 2 * mu.detach(), atol=0.02)  # MC standard errors ≤ 0.005
    assert torch.allclose(logvar.grad, logvar.detach().exp(), atol=0.02)


def test_likelihoods_are_the_distributions_log_probabilities():
    torch.manual_seed(0)
    x = torch.rand(4, 1, 28, 28).round()
    logits = torch.randn(4, 1, 28, 28)
    vae = VAE(VAEConfig(latent_dim=2, hidden=(8,)))
    assert torch.allclose(vae.log_likelihood(x, logits), D.Bernoulli(logits=logits).log_prob(x).sum((1, 2, 3)), atol=1e-4)
    g = VAE(VAEConfig(data_shape=(2,), latent_dim=2, hidden=(8,), likelihood="gaussian", sigma=0.3))
    pts, means = torch.randn(6, 2), torch.randn(6, 2)
    assert torch.allclose(g.log_likelihood(pts, means), D.Normal(means, 0.3).log_prob(pts).sum(-1), atol=1e-5)
    with pytest.raises(ValueError, match="likelihood"):
        VAEConfig(likelihood="poisson")


def test_training_raises_the_elbo_and_the_iwae_bound_is_tighter():
    torch.manual_seed(0)
    ring = data.gaussian_mixture("ring", 2048, std=0.05, seed=0)
    vae = VAE(VAEConfig(data_shape=(2,), latent_dim=2, hidden=(64, 64), likelihood="gaussian", sigma=0.1))
    history = train.fit(vae, ring, epochs=15, batch_size=128, lr=3e-3, progress=False, device="cpu", seed=0)
    assert history["train_loss"][-1] < history["train_loss"][0] - 1.0  # nats per point
    x = ring.x[:256]
    g = torch.Generator().manual_seed(0)
    elbo = torch.stack([vae.elbo(x, g) for _ in range(20)]).mean().item()  # E[ELBO], averaged over z draws
    iwae1 = torch.stack([vae.iwae_bound(x, 1, g) for _ in range(20)]).mean().item()
    iwae50 = vae.iwae_bound(x, 50, g).mean().item()
    assert abs(iwae1 - elbo) < 0.15  # k = 1 is the ELBO (both averaged over 20 × 256 draws)
    assert iwae50 > elbo + 0.05  # and k = 50 is tighter (seeds 0-2: 0.14-0.24 nats; |k=1 − ELBO| ≤ 0.011)
    assert vae.sample(7, torch.Generator().manual_seed(0)).shape == (7, 2)
    assert not math.isnan(iwae50)
