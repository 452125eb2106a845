"""The variational autoencoder (Kingma & Welling, 2014): an encoder q(z | x) = N(μ(x), diag σ²(x)), a
decoder p(x | z) and the prior p(z) = N(0, I), trained by maximising the evidence lower bound (ELBO)
with the reparameterisation trick; plus the importance-weighted bound of Burda et al. (2016)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LIKELIHOODS = ("bernoulli", "gaussian")


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) in closed form, ½ Σ (μ² + σ² − 1 − log σ²), per row (B,)."""
    return 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(dim=-1)


def reparameterize(mu: Tensor, logvar: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """z = μ + σ ⊙ ε with ε ~ N(0, I): a sample whose gradient flows to μ and log σ²."""
    eps = torch.randn(mu.shape, generator=generator, device=generator.device if generator else mu.device)
    return mu + (0.5 * logvar).exp() * eps.to(mu.device, mu.dtype)


@dataclass(frozen=True)
class VAEConfig:
    """An MLP VAE.

    Args:
        data_shape: the shape of one example, e.g. (1, 28, 28) or (2,).
        latent_dim: size of z.
        hidden: widths of the encoder's hidden layers (the decoder mirrors them).
        likelihood: ``"bernoulli"`` (pixels in [0, 1]; the decoder outputs logits) or ``"gaussian"``
            (any real data: p(x | z) = N(mean, sigma² I); the decoder outputs the means).
        sigma: the Gaussian likelihood's fixed standard deviation.
    """

    data_shape: tuple[int, ...] = (1, 28, 28)
    latent_dim: int = 16
    hidden: tuple[int, ...] = (512, 256)
    likelihood: str = "bernoulli"
    sigma: float = 0.1

    def __post_init__(self) -> None:
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}")


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """x (B, *data_shape) → μ, log σ² (B, Z) → z → reconstruction; ``loss`` is −ELBO in nats per example.

    The encoder's second output is the log-variance log σ² (not "var"): exponentiating it keeps σ² > 0
    without constraints.

    Args:
        config: the sizes and the likelihood.
    """

    def __init__(self, config: VAEConfig = VAEConfig()) -> None:
        super().__init__()
        self.config = config
        self.data_dim = math.prod(config.data_shape)
        self.encoder = _mlp([self.data_dim, *config.hidden, 2 * config.latent_dim])
        self.decoder = _mlp([config.latent_dim, *reversed(config.hidden), self.data_dim])

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """μ and log σ² of q(z | x), each (B, Z)."""
        B = x.shape[0]
        mu, logvar = self.encoder(x.reshape(B, self.data_dim)).chunk(2, dim=-1)  # (B, Z), (B, Z)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        """The decoder's output for z (B, Z): logits (Bernoulli) or means (Gaussian), (B, *data_shape)."""
        return self.decoder(z).view(z.shape[0], *self.config.data_shape)

    def log_likelihood(self, x: Tensor, out: Tensor) -> Tensor:
        """log p(x | z) per example (B,), in nats, from the decoder's output ``out``."""
        x, out = x.reshape(x.shape[0], -1), out.reshape(out.shape[0], -1)  # (B, D)
        if self.config.likelihood == "bernoulli":
            return -F.binary_cross_entropy_with_logits(out, x, reduction="none").sum(-1)
        s = self.config.sigma
        return (-0.5 * ((x - out) / s).square() - math.log(s) - 0.5 * math.log(2 * math.pi)).sum(-1)

    def elbo(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The evidence lower bound per example (B,): E_q[log p(x | z)] − KL(q(z | x) ‖ p(z)), one sample of z."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, generator)  # (B, Z)
        return self.log_likelihood(x, self.decode(z)) - gaussian_kl(mu, logvar)

    def loss(self, batch: tuple[Tensor, Tensor]) -> Tensor:
        """−ELBO, mean over the batch: nats per example (labels are ignored)."""
        return -self.elbo(batch[0]).mean()

    def forward(self, x: Tensor) -> Tensor:
        """The reconstruction's mean: pixel probabilities (Bernoulli) or means (Gaussian), from z = μ."""
        out = self.decode(self.encode(x)[0])
        return torch.sigmoid(out) if self.config.likelihood == "bernoulli" else out

    @torch.no_grad()
    def iwae_bound(self, x: Tensor, k: int = 50, generator: torch.Generator | None = None) -> Tensor:
        """log (1/k) Σ_i p(x, z_i) / q(z_i | x), z_i ~ q(z | x), per example (B,): a lower bound on
        log p(x) that tightens as k grows and equals the ELBO's expectation at k = 1 (Burda et al., 2016)."""
        mu, logvar = self.encode(x)  # (B, Z)
        B, Z = mu.shape
        mu_k, logvar_k = mu.repeat_interleave(k, 0), logvar.repeat_interleave(k, 0)  # (B·k, Z)
        z = reparameterize(mu_k, logvar_k, generator)  # (B·k, Z)
        log_prior = -0.5 * (z.square() + math.log(2 * math.pi)).sum(-1)  # (B·k,)
        log_q = -0.5 * ((z - mu_k).square() / logvar_k.exp() + logvar_k + math.log(2 * math.pi)).sum(-1)
        log_lik = self.log_likelihood(x.repeat_interleave(k, 0), self.decode(z))  # (B·k,)
        log_w = (log_lik + log_prior - log_q).view(B, k)  # (B, k)
        return torch.logsumexp(log_w, dim=1) - math.log(k)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` new examples: z ~ N(0, I) decoded to the likelihood's mean, (n, *data_shape)."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.config.latent_dim, generator=generator).to(device)  # (n, Z)
        out = self.decode(z)
        return torch.sigmoid(out) if self.config.likelihood == "bernoulli" else out
