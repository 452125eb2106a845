"""Lightweight networks: MobileNet v1 (Howard et al., 2017) and ShuffleNet's channel shuffle (Zhang et al., 2018)."""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from .base import Classifier, check_images
from .blocks import FullBlock, SeparableBlock

# MobileNet v1, Table 1 of the paper: (output channels, stride) of the 13 separable blocks
MOBILENET_V1_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                       (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


@dataclass(frozen=True)
class MobileNetConfig:
    """A MobileNet-shaped network: a full 3×3 stem, then blocks, global average pooling, a linear layer.

    Args:
        blocks: (output channels, stride) of each block, before the width multiplier.
        stem_width: output channels of the stem, before the width multiplier.
        stem_stride: stride of the stem (2 for 224×224 images).
        width_mult: the paper's α, which thins every layer.
        separable: depthwise-separable blocks (MobileNet); ``False`` gives the same network
            with full 3×3 convolutions, the "standard CNN" it is compared with.
        in_channels: image channels.
        image_size: side of the (square) input.
        num_classes: output logits.
    """

    blocks: tuple[tuple[int, int], ...] = MOBILENET_V1_BLOCKS
    stem_width: int = 32
    stem_stride: int = 2
    width_mult: float = 1.0
    separable: bool = True
    in_channels: int = 3
    image_size: int = 224
    num_classes: int = 1000

    def __post_init__(self) -> None:
        if not 0 < self.width_mult <= 4:
            raise ValueError(f"width_mult must be in (0, 4], got {self.width_mult}")


class MobileNet(Classifier):
    """MobileNet v1 (or its full-convolution twin); see :class:`MobileNetConfig`.

    Args:
        config: the architecture.
    """

    def __init__(self, config: MobileNetConfig = MobileNetConfig()) -> None:
        super().__init__()
        self.config = config

        def width(c: int) -> int:
            return max(1, int(c * config.width_mult))

        channels = width(config.stem_width)
        self.stem = FullBlock(config.in_channels, channels, config.stem_stride)
        block = SeparableBlock if config.separable else FullBlock
        layers = []
        for out, stride in config.blocks:
            layers.append(block(channels, width(out), stride))
            channels = width(out)
        self.blocks = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, config.num_classes)

    def forward(self, x: Tensor) -> Tensor:
        check_images(x, self.config.in_channels, self.config.image_size)
        x = self.stem(x)  # (B, C, H/s, W/s)
        x = self.blocks(x)  # (B, C_last, h, w)
        x = self.pool(x).flatten(1)  # (B, C_last)
        return self.fc(x)  # (B, K)


def mobilenet_v1(width_mult: float = 1.0, num_classes: int = 1000) -> MobileNet:
    """MobileNet v1 for 224×224 RGB images; the 1.0 model has 4.2 M parameters and 569 M mult-adds."""
    return MobileNet(MobileNetConfig(width_mult=width_mult, num_classes=num_classes))


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """ShuffleNet's channel shuffle: interleave the channels of ``groups`` groups.

    After a grouped convolution each output group has only seen its own input group; reshaping
    the channels to (groups, C/groups), transposing and flattening deals them out so that the
    next grouped convolution sees every group.
    """
    B, C, H, W = x.shape
    if C % groups:
        raise ValueError(f"{C} channels cannot be split into {groups} groups")
    x = x.view(B, groups, C // groups, H, W)  # (B, g, C/g, H, W)
    x = x.transpose(1, 2).contiguous()  # (B, C/g, g, H, W)
    return x.view(B, C, H, W)  # (B, C, H, W), channels interleaved
