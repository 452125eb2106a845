"""A small U-Net (Ronneberger et al., 2015) that predicts the noise in 28×28 images, conditioned on the
timestep and a class as in Ho et al. (2020): the embeddings are added inside every residual block. It is the
pixel-space denoiser chapter 10 times on a CPU and ``drafts/gpu/10_diffusion.py`` trains on a GPU."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .transformer import sinusoidal_features


class ResBlock(nn.Module):
    """Two 3×3 convolutions with GroupNorm and SiLU, the (time + class) embedding added in between."""

    def __init__(self, c_in: int, c_out: int, emb: int) -> None:
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8 if c_in % 8 == 0 else 1, c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(8 if c_out % 8 == 0 else 1, c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (B, C_out, H, W)
        h = h + self.emb(e)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class TinyUNet(nn.Module):
    """ε_θ(x_t, t, c) for (B, 1, 28, 28) images: 28 → 14 → 7 and back, with skip connections."""

    def __init__(self, width: int = 64, num_classes: int = 10) -> None:
        """Args:
            width: channels at full resolution (twice that at 14×14 and 7×7).
            num_classes: classes to condition on; id ``num_classes`` means "no class" (for guidance).
        """
        super().__init__()
        c, e = width, 4 * width
        self.num_classes, self.time_dim = num_classes, width
        self.time = nn.Sequential(nn.Linear(width, e), nn.SiLU(), nn.Linear(e, e))
        self.label = nn.Embedding(num_classes + 1, e)  # id num_classes: "no class"
        self.inp = nn.Conv2d(1, c, 3, padding=1)
        self.d1, self.d2, self.mid = ResBlock(c, c, e), ResBlock(c, 2 * c, e), ResBlock(2 * c, 2 * c, e)
        self.down1, self.down2 = nn.Conv2d(c, c, 3, stride=2, padding=1), nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1)
        self.up2, self.up1 = nn.ConvTranspose2d(2 * c, 2 * c, 4, 2, 1), nn.ConvTranspose2d(2 * c, 2 * c, 4, 2, 1)
        self.u2, self.u1 = ResBlock(4 * c, 2 * c, e), ResBlock(3 * c, c, e)
        self.out = nn.Sequential(nn.GroupNorm(8 if c % 8 == 0 else 1, c), nn.SiLU(), nn.Conv2d(c, 1, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        B = x.shape[0]
        if labels is None:
            labels = torch.full((B,), self.num_classes, device=x.device)
        e = self.time(sinusoidal_features(t, self.time_dim)) + self.label(labels)  # (B, E)
        h1 = self.d1(self.inp(x), e)  # (B, c, 28, 28)
        h2 = self.d2(self.down1(h1), e)  # (B, 2c, 14, 14)
        m = self.mid(self.down2(h2), e)  # (B, 2c, 7, 7)
        u2 = self.u2(torch.cat([self.up2(m), h2], dim=1), e)  # (B, 2c, 14, 14)
        u1 = self.u1(torch.cat([self.up1(u2), h1], dim=1), e)  # (B, c, 28, 28)
        return self.out(u1)  # (B, 1, 28, 28)
