"""Auto-checks for chapter 9's exercises (GANs and the VAE)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .core import Mismatch, call, check, expect_tensor, hidden_generator, randint


def _cases(shape_of) -> list[tuple[torch.Generator, tuple[int, ...], str]]:
    """One visible case and one hidden case: (generator, shape, description)."""
    gen, seed = hidden_generator()
    return [(torch.Generator().manual_seed(0), shape_of(None), "a batch of 8"),
            (gen, shape_of(gen), f"a hidden batch (seed {seed})")]


@check("The non-saturating generator loss")
def non_saturating_loss(fn) -> str:
    """``fn(fake_logits)`` → mean over the batch of −log D(G(z)) = −log σ(logit), a scalar."""
    for g, (B,), where in _cases(lambda gen: (8,) if gen is None else (randint(gen, 2, 40),)):
        logits = 3 * torch.randn(B, generator=g)
        logits[0] = -12.0  # a fake the discriminator catches: the case the loss exists for
        expected = F.binary_cross_entropy_with_logits(logits, torch.ones(B))
        got = call(fn, logits.clone())
        if isinstance(got, Tensor) and got.numel() == 1 and got.is_floating_point():
            value = got.detach().float().reshape(())
            saturating = -F.binary_cross_entropy_with_logits(logits, torch.zeros(B))  # mean log(1 − σ(l))
            if torch.allclose(value, saturating, atol=1e-4):
                raise Mismatch("this is the saturating loss, log(1 − D(G(z))): its gradient vanishes when D wins; "
                               "minimise −log D(G(z)) instead")
            if torch.allclose(value, -expected, atol=1e-4):
                raise Mismatch("the sign is flipped: the generator minimises −log D(G(z)) (a positive number)")
            if torch.allclose(value, F.binary_cross_entropy(torch.sigmoid(torch.sigmoid(logits)), torch.ones(B)),
                              atol=1e-4):
                raise Mismatch("a double sigmoid: the inputs are logits, so apply σ once (or use a with-logits loss)")
            if torch.allclose(value, expected * B, atol=1e-3):
                raise Mismatch("the losses are summed: take the mean over the batch")
        if isinstance(got, Tensor) and got.shape == (B,):
            raise Mismatch(f"one loss per example came back: reduce it to one number (the mean) for {where}")
        if isinstance(got, Tensor) and got.is_floating_point() and not torch.isfinite(got).all():
            raise Mismatch("the loss is not finite when the discriminator is sure a sample is fake: compute it "
                           "from the logits (softplus(−l) or a with-logits loss), not as log(sigmoid(l))")
        expect_tensor(got, expected, f"the loss for {where}", atol=1e-4)
    return "right: −log σ(logit), finite even when the discriminator is sure the sample is fake"


@check("The reparameterisation trick")
def reparameterize(fn) -> str:
    """``fn(mu, logvar, eps)`` → z = μ + σ ⊙ ε with σ = exp(½ log σ²), differentiable in μ and log σ²."""
    for g, (B, Z), where in _cases(lambda gen: (8, 3) if gen is None else (randint(gen, 2, 20), randint(gen, 1, 9))):
        mu, logvar, eps = torch.randn(B, Z, generator=g), torch.randn(B, Z, generator=g), torch.randn(B, Z, generator=g)
        expected = mu + (0.5 * logvar).exp() * eps
        mu_, logvar_ = mu.clone().requires_grad_(True), logvar.clone().requires_grad_(True)
        got = call(fn, mu_, logvar_, eps.clone())
        if isinstance(got, Tensor) and got.shape == expected.shape and got.is_floating_point():
            value = got.detach().float()
            if torch.allclose(value, mu + logvar.exp() * eps, atol=1e-5):
                raise Mismatch("the noise is scaled by exp(log σ²) = σ², the variance: scale it by σ = exp(½ log σ²)")
            if torch.allclose(value, mu + logvar * eps, atol=1e-5):
                raise Mismatch("the noise is scaled by log σ² itself: it is a log-variance, so σ = exp(½ log σ²)")
            if torch.allclose(value, mu + (0.5 * logvar).exp(), atol=1e-5):
                raise Mismatch("the noise ε is missing: z = μ + σ ⊙ ε")
            if not got.requires_grad:
                raise Mismatch("the result carries no gradient: build z from mu and logvar with tensor operations "
                               "(no .detach(), no torch.no_grad(), no sampling with torch.normal)")
        expect_tensor(got, expected, f"z for {where}", atol=1e-5)
        got.sum().backward()
        if mu_.grad is None or logvar_.grad is None:
            raise Mismatch("no gradient reaches mu or logvar: the trick exists so that both receive one")
        expect_tensor(logvar_.grad, 0.5 * (0.5 * logvar).exp() * eps, f"d z / d log σ² for {where}", atol=1e-5)
    return "right: z = μ + σ ε, and the gradient flows to μ and log σ²"


@check("The Gaussian KL divergence in closed form")
def gaussian_kl(fn) -> str:
    """``fn(mu, logvar)`` → KL(N(μ, diag σ²) ‖ N(0, I)) per row (B,)."""
    for g, (B, Z), where in _cases(lambda gen: (8, 4) if gen is None else (randint(gen, 2, 20), randint(gen, 2, 9))):
        mu, logvar = torch.randn(B, Z, generator=g), torch.randn(B, Z, generator=g)
        expected = 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(-1)
        got = call(fn, mu, logvar)
        if isinstance(got, Tensor) and got.is_floating_point():
            value = got.detach().float()
            if value.shape == (B, Z) and torch.allclose(value.sum(-1), expected, atol=1e-4):
                raise Mismatch("one value per latent dimension came back: sum over the latent axis, (B,)")
            if value.numel() == 1 and torch.allclose(value.reshape(()), expected.mean(), atol=1e-4):
                raise Mismatch("the batch was averaged: return one KL per example, shape (B,)")
            if value.shape == (B,):
                if torch.allclose(value, 2 * expected, atol=1e-4):
                    raise Mismatch("the ½ in front of the sum is missing")
                if torch.allclose(value, 0.5 * (mu.square() + logvar.exp().square() - 1 - 2 * logvar).sum(-1),
                                  atol=1e-4):
                    raise Mismatch("logvar was read as log σ (the article's `fc_var` invites it): "
                                   "it is log σ², so σ² = exp(logvar)")
                if torch.allclose(value, 0.5 * (mu.square() + logvar.exp() - 1 + logvar).sum(-1), atol=1e-4):
                    raise Mismatch("the sign of the log σ² term: KL = ½ Σ (μ² + σ² − 1 − log σ²)")
        expect_tensor(got, expected, f"the KL for {where}", atol=1e-4)
    return "right: ½ Σ (μ² + σ² − 1 − log σ²), zero exactly when q is the prior"
