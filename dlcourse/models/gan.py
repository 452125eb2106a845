"""Generative adversarial networks (Goodfellow et al., 2014): a generator G(z) and a discriminator
D(x) trained in turn, each by its own optimizer, through the course's one training loop
(``parts()`` and ``loss(batch, part)``, see :func:`dlcourse.train.fit`).

Losses: ``"saturating"`` (the minimax game as written, G minimises log(1 − D(G(z)))),
``"non-saturating"`` (G maximises log D(G(z)) instead: the same fixed point, stronger gradients when D
wins; §3 of the paper) and ``"wgan-gp"`` (a critic with a gradient penalty, Gulrajani et al., 2017).
``pack`` > 1 lets the discriminator judge several samples at once (PacGAN, Lin et al., 2018), which
penalises a generator whose samples look alike.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

GAN_LOSSES = ("saturating", "non-saturating", "wgan-gp")
CONDITIONINGS = ("concat", "projection")
OUTPUTS = {"linear": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


@dataclass(frozen=True)
class GANConfig:
    """An MLP GAN.

    Args:
        data_shape: the shape of one example, e.g. (2,) for points or (1, 28, 28) for images.
        latent_dim: size of the noise z.
        hidden: width of the hidden layers of both networks.
        num_layers: hidden layers of each network.
        num_classes: > 0 makes both networks class-conditional (a one-hot label is appended to z and to x).
        output: the generator's last activation: ``"linear"``, ``"sigmoid"`` (pixels in [0, 1]) or ``"tanh"``.
        loss: one of ``GAN_LOSSES``.
        gp_weight: λ of the gradient penalty (``"wgan-gp"`` only).
        pack: samples the discriminator sees at once (1: the usual GAN).
        conditioning: how a class-conditional discriminator sees the label: ``"concat"`` (a one-hot
            appended to x) or ``"projection"`` (its score gains the inner product of a learned class
            embedding with its last hidden layer, Miyato & Koyama, 2018; ``pack`` 1 only).
    """

    data_shape: tuple[int, ...] = (2,)
    latent_dim: int = 8
    hidden: int = 128
    num_layers: int = 2
    num_classes: int = 0
    output: str = "linear"
    loss: str = "non-saturating"
    gp_weight: float = 10.0
    pack: int = 1
    conditioning: str = "concat"

    def __post_init__(self) -> None:
        if self.conditioning not in CONDITIONINGS:
            raise ValueError(f"conditioning must be one of {CONDITIONINGS}, got {self.conditioning!r}")
        if self.conditioning == "projection" and self.pack != 1:
            raise ValueError("the projection discriminator judges one sample at a time: use pack=1")
        if self.loss not in GAN_LOSSES:
            raise ValueError(f"loss must be one of {GAN_LOSSES}, got {self.loss!r}")
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {sorted(OUTPUTS)}, got {self.output!r}")
        if self.pack < 1:
            raise ValueError(f"pack must be at least 1, got {self.pack}")


def _mlp(n_in: int, hidden: int, num_layers: int, n_out: int, activation: nn.Module) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(num_layers):
        layers += [nn.Linear(n_in if i == 0 else hidden, hidden), activation]
    return nn.Sequential(*layers, nn.Linear(hidden if num_layers else n_in, n_out))


class GAN(nn.Module):
    """A generator and a discriminator (or critic) with the losses of :data:`GAN_LOSSES`; see :class:`GANConfig`.

    ``parts()`` names the discriminator first, so every training step updates it on the current generator,
    then the generator against the updated discriminator. Batches are ``(x, labels)``.
    """

    def __init__(self, config: GANConfig = GANConfig()) -> None:
        super().__init__()
        self.config = config
        self.data_dim = math.prod(config.data_shape)
        c = config.num_classes
        self.generator = nn.Sequential(_mlp(config.latent_dim + c, config.hidden, config.num_layers, self.data_dim,
                                            nn.ReLU()), OUTPUTS[config.output]())
        self.projection = c > 0 and config.conditioning == "projection"
        d_in = self.data_dim if self.projection else self.data_dim + c
        self.discriminator = _mlp(d_in * config.pack, config.hidden, config.num_layers, 1, nn.LeakyReLU(0.2))
        if self.projection:
            self.class_embedding = nn.Embedding(c, config.hidden if config.num_layers else self.data_dim)

    def parts(self) -> dict[str, list[nn.Parameter]]:
        critic = list(self.discriminator.parameters())
        if self.projection:
            critic += list(self.class_embedding.parameters())
        return {"discriminator": critic, "generator": list(self.generator.parameters())}

    def _with_labels(self, flat: Tensor, labels: Tensor | None) -> Tensor:
        if not self.config.num_classes:
            return flat
        return torch.cat([flat, F.one_hot(labels, self.config.num_classes).to(flat.dtype)], dim=-1)

    def generate(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z) for noise z (B, latent_dim) (and labels (B,) when conditional) → samples (B, *data_shape)."""
        return self.generator(self._with_labels(z, labels)).view(z.shape[0], *self.config.data_shape)

    def critic(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """D's logit (or the critic's score) per group of ``pack`` samples: x (B, …) → (B / pack,)."""
        B = x.shape[0]
        if B % self.config.pack:
            raise ValueError(f"batch of {B} cannot be packed in groups of {self.config.pack}")
        if self.projection:
            h = self.discriminator[:-1](x.reshape(B, self.data_dim))  # (B, H): the last hidden layer
            return self.discriminator[-1](h).squeeze(-1) + (self.class_embedding(labels) * h).sum(-1)  # (B,)
        flat = self._with_labels(x.reshape(B, self.data_dim), labels)  # (B, D + K)
        return self.discriminator(flat.reshape(B // self.config.pack, -1)).squeeze(-1)  # (B/pack,)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.generate(z, labels)

    def _noise(self, n: int, like: Tensor) -> Tensor:
        return torch.randn(n, self.config.latent_dim, device=like.device, dtype=like.dtype)

    def loss(self, batch: tuple[Tensor, Tensor], part: str = "generator") -> Tensor:
        """The loss of one part on a batch of real examples: ``"discriminator"`` or ``"generator"``."""
        x, labels = batch
        labels = labels if self.config.num_classes else None
        fake = self.generate(self._noise(x.shape[0], x), labels)  # (B, …)
        kind = self.config.loss
        if part == "discriminator":
            fake = fake.detach()  # the discriminator's step must not move the generator
            real_score, fake_score = self.critic(x, labels), self.critic(fake, labels)
            if kind == "wgan-gp":
                return fake_score.mean() - real_score.mean() + self.config.gp_weight * self._gradient_penalty(x, fake, labels)
            return (F.binary_cross_entropy_with_logits(real_score, torch.ones_like(real_score))
                    + F.binary_cross_entropy_with_logits(fake_score, torch.zeros_like(fake_score)))
        if part != "generator":
            raise ValueError(f"part must be 'discriminator' or 'generator', got {part!r}")
        fake_score = self.critic(fake, labels)
        if kind == "wgan-gp":
            return -fake_score.mean()
        if kind == "saturating":  # minimise log(1 − D(G(z))) = −BCE(logit, 0)
            return -F.binary_cross_entropy_with_logits(fake_score, torch.zeros_like(fake_score))
        return F.binary_cross_entropy_with_logits(fake_score, torch.ones_like(fake_score))  # −log D(G(z))

    def _gradient_penalty(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> Tensor:
        """(‖∇_x̂ D(x̂)‖ − 1)² at random points x̂ between real and fake examples (Gulrajani et al., 2017)."""
        B = real.shape[0]
        mix = torch.rand(B, *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
        between = (mix * real + (1 - mix) * fake).requires_grad_(True)
        grad, = torch.autograd.grad(self.critic(between, labels).sum(), between, create_graph=True)
        return (grad.reshape(B, -1).norm(dim=1) - 1).square().mean()

    @torch.no_grad()
    def sample(self, n: int, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """``n`` samples (n, *data_shape) from noise drawn with ``generator`` (on the CPU)."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.config.latent_dim, generator=generator).to(device)
        return self.generate(z, None if labels is None else labels.to(device))
