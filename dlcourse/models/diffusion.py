"""Denoising diffusion (Ho et al., 2020) split as in ``diffusers``: schedulers that know the noise
schedule (``DDPMScheduler``, ``DDIMScheduler``: ``add_noise``, ``set_timesteps``, ``timesteps``, ``step``)
and a network that only predicts the noise (``Denoiser``), joined by ``DDPM``, the model the training
loop trains (``loss``) and samples from (``sample``), with classifier-free guidance (Ho & Salimans, 2022).

Names and formulas follow ``diffusers`` (linear betas, "leading" timestep spacing, the "fixed_small"
variance), so that code written here reads the same there. Unlike ``diffusers``, samples are not
clipped to [−1, 1] by default: the course diffuses 2-D points and latent codes, which are not images.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .transformer import sinusoidal_features


@dataclass
class SchedulerOutput:
    """What ``step`` returns, as in ``diffusers``: the less noisy sample and the predicted clean one."""

    prev_sample: Tensor
    pred_original_sample: Tensor


def _per_sample(values: Tensor, timesteps: Tensor, like: Tensor) -> Tensor:
    """values[timesteps] shaped (B, 1, …, 1) to broadcast against ``like`` (B, …)."""
    out = values.to(like.device)[timesteps.to(like.device)]  # (B,)
    return out.view(-1, *([1] * (like.dim() - 1))).to(like.dtype)


class DDPMScheduler:
    """The forward process q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) and ancestral sampling (Ho et al., 2020).

    Args:
        num_train_timesteps: T, the steps of the forward process.
        beta_start: β_1, the first step's noise variance.
        beta_end: β_T, the last step's (linear in between, as in the paper).
        clip_sample: clip the predicted x_0 to [−1, 1] in ``step`` (``diffusers``' default, for images).
    """

    def __init__(self, num_train_timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02,
                 clip_sample: bool = False) -> None:
        if not 0 < beta_start <= beta_end < 1:
            raise ValueError(f"need 0 < beta_start <= beta_end < 1, got {beta_start}, {beta_end}")
        self.num_train_timesteps, self.clip_sample = num_train_timesteps, clip_sample
        self.betas = torch.linspace(beta_start, beta_end, num_train_timesteps, dtype=torch.float32)  # (T,)
        self.alphas = 1.0 - self.betas  # (T,)
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)  # (T,): ᾱ_t, the signal kept after t steps
        self.set_timesteps(num_train_timesteps)

    def set_timesteps(self, num_inference_steps: int) -> None:
        """Sample with ``num_inference_steps`` evenly spaced steps (``diffusers``' "leading" spacing)."""
        if not 1 <= num_inference_steps <= self.num_train_timesteps:
            raise ValueError(f"num_inference_steps must be in [1, {self.num_train_timesteps}], got {num_inference_steps}")
        self.num_inference_steps = num_inference_steps
        step_ratio = self.num_train_timesteps // num_inference_steps
        self.timesteps = (torch.arange(num_inference_steps) * step_ratio).flip(0)  # descending, ends at 0

    def previous_timestep(self, timestep: int) -> int:
        return timestep - self.num_train_timesteps // self.num_inference_steps

    def add_noise(self, original_samples: Tensor, noise: Tensor, timesteps: Tensor) -> Tensor:
        """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε: jump straight to step t (eq. 4 of the paper)."""
        signal = _per_sample(self.alphas_cumprod.sqrt(), timesteps, original_samples)  # (B, 1, …)
        spread = _per_sample((1 - self.alphas_cumprod).sqrt(), timesteps, original_samples)  # (B, 1, …)
        return signal * original_samples + spread * noise

    def _alphas(self, timestep: int) -> tuple[float, float]:
        prev = self.previous_timestep(timestep)
        alpha_prod_t = self.alphas_cumprod[timestep].item()
        alpha_prod_prev = self.alphas_cumprod[prev].item() if prev >= 0 else 1.0  # diffusers' set_alpha_to_one
        return alpha_prod_t, alpha_prod_prev

    def _pred_original(self, model_output: Tensor, timestep: int, sample: Tensor) -> Tensor:
        alpha_prod_t = self.alphas_cumprod[timestep].item()
        x0 = (sample - math.sqrt(1 - alpha_prod_t) * model_output) / math.sqrt(alpha_prod_t)  # eq. 15
        return x0.clamp(-1, 1) if self.clip_sample else x0

    def step(self, model_output: Tensor, timestep: int, sample: Tensor,
             generator: torch.Generator | None = None) -> SchedulerOutput:
        """One reverse step x_t → x_{t'} (t' the previous timestep) from the predicted noise: the mean of
        the posterior q(x_{t'} | x_t, x̂_0) (eq. 7) plus noise of variance β̃ (the "fixed_small" choice)."""
        timestep = int(timestep)
        alpha_prod_t, alpha_prod_prev = self._alphas(timestep)
        current_alpha = alpha_prod_t / alpha_prod_prev
        current_beta = 1 - current_alpha
        x0 = self._pred_original(model_output, timestep, sample)
        coef_x0 = math.sqrt(alpha_prod_prev) * current_beta / (1 - alpha_prod_t)
        coef_xt = math.sqrt(current_alpha) * (1 - alpha_prod_prev) / (1 - alpha_prod_t)
        mean = coef_x0 * x0 + coef_xt * sample
        if timestep == 0:
            return SchedulerOutput(mean, x0)
        variance = max((1 - alpha_prod_prev) / (1 - alpha_prod_t) * current_beta, 1e-20)
        noise = torch.randn(sample.shape, generator=generator, device=generator.device if generator else sample.device)
        return SchedulerOutput(mean + math.sqrt(variance) * noise.to(sample.device, sample.dtype), x0)


class DDIMScheduler(DDPMScheduler):
    """Denoising diffusion implicit models (Song et al., 2021): the same trained network, sampled in
    far fewer steps; ``eta = 0`` makes the reverse process deterministic (eq. 12 of that paper)."""

    def step(self, model_output: Tensor, timestep: int, sample: Tensor, eta: float = 0.0,
             generator: torch.Generator | None = None) -> SchedulerOutput:
        timestep = int(timestep)
        alpha_prod_t, alpha_prod_prev = self._alphas(timestep)
        x0 = self._pred_original(model_output, timestep, sample)
        eps = (sample - math.sqrt(alpha_prod_t) * x0) / math.sqrt(1 - alpha_prod_t)  # the noise x̂_0 implies
        variance = (1 - alpha_prod_prev) / (1 - alpha_prod_t) * (1 - alpha_prod_t / alpha_prod_prev)
        std = eta * math.sqrt(variance)
        prev = math.sqrt(alpha_prod_prev) * x0 + math.sqrt(max(1 - alpha_prod_prev - std ** 2, 0.0)) * eps
        if std > 0:
            noise = torch.randn(sample.shape, generator=generator, device=generator.device if generator else sample.device)
            prev = prev + std * noise.to(sample.device, sample.dtype)
        return SchedulerOutput(prev, x0)


def timestep_embedding(timesteps: Tensor, dim: int, max_period: float = 10_000.0) -> Tensor:
    """Sinusoidal features of integer timesteps (B,) → (B, dim): the Transformer's positional encoding
    (:func:`~dlcourse.models.transformer.sinusoidal_features`) with the timestep as the position."""
    return sinusoidal_features(timesteps, dim, base=max_period)  # (B, dim)


@dataclass(frozen=True)
class DenoiserConfig:
    """An MLP that predicts the noise in a vector x_t given t (and a class, for guidance).

    Args:
        data_dim: D, features of a sample (2 for points, the latent size for latent diffusion).
        hidden: width of the hidden layers.
        num_layers: hidden layers.
        num_classes: classes to condition on (0: unconditional); id ``num_classes`` means "no class".
        time_dim: width of the sinusoidal timestep features.
    """

    data_dim: int = 2
    hidden: int = 128
    num_layers: int = 3
    num_classes: int = 0
    time_dim: int = 32


class Denoiser(nn.Module):
    """ε_θ(x_t, t, c): x (B, D), t (B,), labels (B,) or None → predicted noise (B, D)."""

    def __init__(self, config: DenoiserConfig) -> None:
        super().__init__()
        self.config = config
        self.time = nn.Sequential(nn.Linear(config.time_dim, config.hidden), nn.SiLU())
        self.label = nn.Embedding(config.num_classes + 1, config.hidden) if config.num_classes else None
        self.input = nn.Linear(config.data_dim, config.hidden)
        self.layers = nn.ModuleList(nn.Linear(config.hidden, config.hidden) for _ in range(config.num_layers))
        self.output = nn.Linear(config.hidden, config.data_dim)

    def forward(self, x: Tensor, t: Tensor, labels: Tensor | None = None) -> Tensor:
        B, D = x.shape
        cond = self.time(timestep_embedding(t, self.config.time_dim))  # (B, hidden)
        if self.label is not None:
            null = torch.full((B,), self.config.num_classes, device=x.device)
            cond = cond + self.label(null if labels is None else labels)  # (B, hidden)
        h = self.input(x)  # (B, hidden)
        for layer in self.layers:
            h = h + layer(F.silu(h + cond))  # (B, hidden): residual, conditioned at every layer
        return self.output(F.silu(h))  # (B, D)


class DDPM(nn.Module):
    """A denoiser trained with the ε-prediction loss (Ho et al., 2020, Algorithm 1) and sampled by a
    scheduler; with ``num_classes`` > 0, labels are dropped with probability ``label_dropout`` while
    training, so the same network also predicts unconditionally (classifier-free guidance).

    Args:
        config: the denoiser.
        scheduler: the noise schedule (default: 1,000 linear steps from 1e-4 to 0.02).
        label_dropout: probability of training a step without its label.
    """

    def __init__(self, config: DenoiserConfig, scheduler: DDPMScheduler | None = None,
                 label_dropout: float = 0.1) -> None:
        super().__init__()
        self.net = Denoiser(config)
        self.scheduler = scheduler or DDPMScheduler()
        self.label_dropout = label_dropout

    def loss(self, batch: tuple[Tensor, Tensor]) -> Tensor:
        """‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖², t uniform over the training steps."""
        x0, labels = batch
        B = x0.shape[0]
        t = torch.randint(0, self.scheduler.num_train_timesteps, (B,), device=x0.device)
        noise = torch.randn_like(x0)
        xt = self.scheduler.add_noise(x0, noise, t)
        if self.net.label is None:
            labels = None
        else:  # drop some labels: "no class" is id num_classes
            drop = torch.rand(B, device=x0.device) < self.label_dropout
            labels = torch.where(drop, torch.full_like(labels, self.net.config.num_classes), labels)
        return F.mse_loss(self.net(xt, t, labels), noise)

    def forward(self, x: Tensor, t: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(x, t, labels)

    @torch.no_grad()
    def sample(self, n: int, labels: Tensor | None = None, guidance: float = 0.0, steps: int | None = None,
               scheduler: DDPMScheduler | None = None, generator: torch.Generator | None = None,
               return_path: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        """``n`` samples from pure noise, denoised step by step.

        Args:
            n: samples to draw.
            labels: the class of each sample (n,), or None (unconditional).
            guidance: w of classifier-free guidance, ε̃ = (1 + w) ε(x, c) − w ε(x, ∅) (Ho & Salimans,
                2022); 0 is plain conditional sampling (``diffusers``' guidance_scale is 1 + w).
            steps: sampling steps (default: every training step).
            scheduler: e.g. a :class:`DDIMScheduler` with the same betas (default: the model's DDPM one).
            generator: random numbers for the initial noise and every step (on the CPU).
            return_path: also return x_t after every step (for pictures of the reverse process).
        """
        sched = scheduler or self.scheduler
        sched.set_timesteps(steps or sched.num_train_timesteps)
        device = next(self.parameters()).device
        x = torch.randn(n, self.net.config.data_dim, generator=generator).to(device)  # (n, D)
        if labels is not None:
            labels = labels.to(device)
        path = [x.cpu()]
        for t in sched.timesteps.tolist():
            tt = torch.full((n,), t, device=device)
            eps = self.net(x, tt, labels)  # (n, D)
            if labels is not None and guidance:
                eps = (1 + guidance) * eps - guidance * self.net(x, tt, None)
            x = sched.step(eps, t, x, generator=generator).prev_sample
            if return_path:
                path.append(x.cpu())
        return (x, path) if return_path else x
