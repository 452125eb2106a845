"""Judging generated samples, the measurements chapters 9 (GAN, VAE) and 10 (diffusion) share.

- On the 2-D mixtures of :func:`dlcourse.data.gaussian_mixture`: how many modes a sampler covers and
  what share of its samples are of high quality (Metz et al., 2016; Srivastava et al., 2017).
- On images: what a trained classifier (the *judge*) says of the samples, and the Fréchet distance
  between real and generated images in the judge's feature space. That is the recipe of FID (Heusel et
  al., 2017) with the course's own small CNN in place of Inception-v3, so its values are not FIDs and do
  not compare with published ones; they compare the course's models with each other.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .utils import evaluating


@dataclass(frozen=True)
class ModeReport:
    """Mode coverage of 2-D samples.

    Attributes:
        modes_covered: modes with at least one high-quality sample nearest to them.
        num_modes: modes of the mixture.
        high_quality_share: share of samples within ``threshold`` standard deviations of their nearest mode.
        per_mode: high-quality samples nearest to each mode (M,).
    """

    modes_covered: int
    num_modes: int
    high_quality_share: float
    per_mode: Tensor


def mode_report(samples: Tensor, centres: Tensor, std: float, threshold: float = 3.0) -> ModeReport:
    """Coverage and quality of ``samples`` (N, 2) from a mixture with modes ``centres`` (M, 2) and
    component standard deviation ``std``: a sample is of high quality when it lies within
    ``threshold · std`` of its nearest mode, and a mode is covered when at least one high-quality
    sample is nearest to it (the definitions of Srivastava et al., 2017)."""
    if samples.dim() != 2 or samples.shape[1] != centres.shape[1]:
        raise ValueError(f"samples must be (N, {centres.shape[1]}), got {tuple(samples.shape)}")
    if len(samples) == 0:
        raise ValueError("no samples to judge")
    distance = torch.cdist(samples.detach().double().cpu(), centres.double().cpu())  # (N, M)
    nearest_distance, nearest = distance.min(dim=1)  # (N,), (N,)
    good = nearest_distance <= threshold * std  # (N,)
    per_mode = torch.bincount(nearest[good], minlength=len(centres))  # (M,)
    return ModeReport(int((per_mode > 0).sum()), len(centres), good.double().mean().item(), per_mode)


def frechet_distance(a: Tensor, b: Tensor) -> float:
    """Fréchet distance between Gaussians fitted to the feature sets ``a`` (N, F) and ``b`` (N', F):

    ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½)   (Dowson & Landau, 1982).

    tr (Σ_a Σ_b)^½ is computed as the sum of the square roots of the eigenvalues of Σ_a^½ Σ_b Σ_a^½,
    a symmetric matrix with the same eigenvalues, in float64.
    """
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"need features (N, F) and (N', F), got {tuple(a.shape)} and {tuple(b.shape)}")
    if min(len(a), len(b)) < 2:
        raise ValueError("need at least two samples in each set to estimate a covariance")
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    mu_a, mu_b = a.mean(0), b.mean(0)  # (F,)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)  # (F, F)
    values, vectors = torch.linalg.eigh(cov_a)
    root_a = vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T  # Σ_a^½ (F, F)
    middle = root_a @ cov_b @ root_a  # (F, F), symmetric positive semi-definite
    trace_root = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    return float((mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * trace_root)


def last_linear(model: nn.Module) -> nn.Linear:
    """The model's last ``nn.Linear`` (its classifier head), whose input is the judge's feature vector."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to take features from")
    return linears[-1]


@torch.no_grad()
def judge_outputs(judge: nn.Module, images: Tensor, batch_size: int = 1024) -> tuple[Tensor, Tensor]:
    """The judge's class probabilities (N, K) and its features (N, F): the input of its last linear
    layer, caught with a forward hook; computed in eval mode, in batches, on the judge's device."""
    head = last_linear(judge)
    caught: list[Tensor] = []
    hook = head.register_forward_hook(lambda module, inputs, output: caught.append(inputs[0].cpu()))
    device = next(judge.parameters()).device
    probs = []
    try:
        with evaluating(judge):
            for i in range(0, len(images), batch_size):
                probs.append(torch.softmax(judge(images[i:i + batch_size].to(device)), dim=-1).cpu())
    finally:
        hook.remove()
    return torch.cat(probs), torch.cat(caught)


@dataclass(frozen=True)
class Verdict:
    """What the judge says of a set of generated images.

    Attributes:
        agreement: share classified as the class they were asked for (None when unconditional).
        class_share: share of the samples in each class (K,): coverage of the classes.
        confidence: the judge's mean top-class probability.
        frechet: Fréchet distance to the real images in the judge's feature space (None without them).
    """

    agreement: float | None
    class_share: Tensor
    confidence: float
    frechet: float | None


def verdict(judge: nn.Module, samples: Tensor, asked: Tensor | None = None, real: Tensor | None = None) -> Verdict:
    """Judge generated ``samples`` (N, C, H, W): agreement with the ``asked`` classes (N,) when the
    samples are class-conditional, class shares, confidence, and the Fréchet distance to ``real`` images."""
    probs, features = judge_outputs(judge, samples)
    pred = probs.argmax(dim=1)  # (N,)
    agreement = None if asked is None else (pred == asked.cpu()).double().mean().item()
    share = torch.bincount(pred, minlength=probs.shape[1]).double() / len(pred)  # (K,)
    frechet = None if real is None else frechet_distance(judge_outputs(judge, real)[1], features)
    return Verdict(agreement, share, probs.max(dim=1).values.mean().item(), frechet)
