"""Convolutional blocks that several chapters share: the depthwise-separable block of MobileNet
(Howard et al., 2017), its full-convolution twin, and the 1×1 convolution written as a linear map.
Chapter 1's small CNN and chapter 3's MobileNet both build on them (attention's shared blocks live in
``attention.py``)."""
from __future__ import annotations

from torch import Tensor, nn


class Pointwise(nn.Module):
    """A 1×1 convolution written as what it is: one linear map applied to every pixel's channels.

    Same parameters and mult-adds as ``nn.Conv2d(c_in, c_out, 1, bias=False)``; being an
    ``nn.Linear``, it is what int8 quantization APIs for linear layers (torchao) act on.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_channels, out_channels, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        x = x.permute(0, 2, 3, 1)  # (B, H, W, C_in)
        x = self.linear(x)  # (B, H, W, C_out)
        return x.permute(0, 3, 1, 2)  # (B, C_out, H, W)


class SeparableBlock(nn.Module):
    """Depthwise 3×3 convolution (one filter per channel) → BN → ReLU → pointwise 1×1 → BN → ReLU.

    Costs ``1/C_out + 1/9`` of a full 3×3 convolution with the same input and output (eq. 5 of the paper).

    Args:
        in_channels: channels coming in.
        out_channels: channels going out.
        stride: stride of the depthwise convolution.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, stride=stride, padding=1, groups=in_channels,
                                   bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.pointwise = Pointwise(in_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.depthwise(x)))  # (B, C_in, H/s, W/s): each channel filtered alone
        return self.relu(self.bn2(self.pointwise(x)))  # (B, C_out, H/s, W/s): channels mixed


class FullBlock(nn.Sequential):
    """The standard counterpart of :class:`SeparableBlock`: a full 3×3 convolution → BN → ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__(nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())
