"""Residual networks (He et al., 2016): basic and bottleneck blocks, ImageNet builders, a small ResNet."""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from .base import Classifier, check_images


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with an identity (or projection) shortcut: ``relu(F(x) + x)``.

    Args:
        in_channels: channels coming in.
        width: channels of both convolutions (the block outputs ``width`` channels).
        stride: stride of the first convolution (2 halves the feature map).
        residual: add the shortcut; ``False`` gives the "plain" block of the same depth.
    """

    expansion = 1

    def __init__(self, in_channels: int, width: int, stride: int = 1, residual: bool = True) -> None:
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(in_channels, width, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.shortcut = _shortcut(in_channels, width, stride) if residual else None

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))  # (B, width, H/s, W/s)
        out = self.bn2(self.conv2(out))  # (B, width, H/s, W/s)
        if self.residual:
            out = out + self.shortcut(x)  # eq. (1) of the paper: y = F(x) + x
        return self.relu(out)


class Bottleneck(nn.Module):
    """1×1 reduce → 3×3 → 1×1 expand (×4), with a shortcut; the block of ResNet-50 and deeper.

    The stride sits on the first 1×1 convolution, as in the original paper (torchvision's "v1.5"
    moves it to the 3×3, which costs more mult-adds).

    Args:
        in_channels: channels coming in.
        width: channels of the 3×3 convolution; the block outputs ``4 · width``.
        stride: stride of the first convolution.
        residual: add the shortcut.
    """

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1, residual: bool = True) -> None:
        super().__init__()
        out_channels = width * self.expansion
        self.residual = residual
        self.conv1 = nn.Conv2d(in_channels, width, 1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.shortcut = _shortcut(in_channels, out_channels, stride) if residual else None

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))  # (B, width, H/s, W/s)
        out = self.relu(self.bn2(self.conv2(out)))  # (B, width, H/s, W/s)
        out = self.bn3(self.conv3(out))  # (B, 4·width, H/s, W/s)
        if self.residual:
            out = out + self.shortcut(x)
        return self.relu(out)


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    """Identity when shapes match, else a 1×1 projection with BatchNorm (option B of the paper)."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                         nn.BatchNorm2d(out_channels))


BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


@dataclass(frozen=True)
class ResNetConfig:
    """A ResNet: a stem, then stages of blocks (each stage after the first halves the map), then
    global average pooling and one linear layer.

    Args:
        block: ``"basic"`` or ``"bottleneck"``.
        layers: blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
        widths: block width per stage.
        stem: ``"imagenet"`` (7×7 stride-2 convolution and 3×3 stride-2 max-pool, for 224×224
            inputs) or ``"small"`` (one 3×3 convolution, for small images).
        stem_width: output channels of the stem.
        stem_pool: with the small stem, follow it by a 2×2 max-pool.
        residual: ``False`` removes every shortcut: the "plain" network of the same depth.
        in_channels: image channels.
        image_size: side of the (square) input, checked in ``forward``.
        num_classes: output logits.
    """

    block: str = "basic"
    layers: tuple[int, ...] = (2, 2, 2, 2)
    widths: tuple[int, ...] = (64, 128, 256, 512)
    stem: str = "imagenet"
    stem_width: int = 64
    stem_pool: bool = True
    residual: bool = True
    in_channels: int = 3
    image_size: int = 224
    num_classes: int = 1000

    def __post_init__(self) -> None:
        if self.block not in BLOCKS:
            raise ValueError(f"block must be one of {sorted(BLOCKS)}, got {self.block!r}")
        if self.stem not in ("imagenet", "small"):
            raise ValueError(f"stem must be 'imagenet' or 'small', got {self.stem!r}")
        if len(self.layers) != len(self.widths) or min(self.layers) < 1:
            raise ValueError(f"need one positive block count per stage width, got {self.layers} and {self.widths}")


class ResNet(Classifier):
    """The residual network of He et al. (2016), or its plain twin when ``config.residual`` is False.

    Args:
        config: the architecture.
    """

    def __init__(self, config: ResNetConfig = ResNetConfig()) -> None:
        super().__init__()
        self.config = config
        if config.stem == "imagenet":
            stem = [nn.Conv2d(config.in_channels, config.stem_width, 7, stride=2, padding=3, bias=False),
                    nn.BatchNorm2d(config.stem_width), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1)]
        else:
            stem = [nn.Conv2d(config.in_channels, config.stem_width, 3, padding=1, bias=False),
                    nn.BatchNorm2d(config.stem_width), nn.ReLU()]
            stem += [nn.MaxPool2d(2)] if config.stem_pool else []
        self.stem = nn.Sequential(*stem)
        block = BLOCKS[config.block]
        stages, channels = [], config.stem_width
        for i, (n, width) in enumerate(zip(config.layers, config.widths)):
            blocks = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(block(channels, width, stride, config.residual))
                channels = width * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, config.num_classes)

    def forward(self, x: Tensor) -> Tensor:
        check_images(x, self.config.in_channels, self.config.image_size)
        x = self.stem(x)  # (B, C, H', W')
        x = self.stages(x)  # (B, C_last, H'', W'')
        x = self.pool(x).flatten(1)  # (B, C_last)
        return self.fc(x)  # (B, K)


def resnet18(num_classes: int = 1000) -> ResNet:
    """ResNet-18 for 224×224 RGB images: 11,689,512 parameters with 1000 classes."""
    return ResNet(ResNetConfig(block="basic", layers=(2, 2, 2, 2), num_classes=num_classes))


def resnet34(num_classes: int = 1000) -> ResNet:
    """ResNet-34 for 224×224 RGB images: 21,797,672 parameters with 1000 classes."""
    return ResNet(ResNetConfig(block="basic", layers=(3, 4, 6, 3), num_classes=num_classes))


def resnet50(num_classes: int = 1000) -> ResNet:
    """ResNet-50 for 224×224 RGB images: 25,557,032 parameters with 1000 classes."""
    return ResNet(ResNetConfig(block="bottleneck", layers=(3, 4, 6, 3), num_classes=num_classes))


# The small ResNet of chapter 2, for 28×28 grey images: a 3×3 stem and max-pool to 14×14, then
# one basic block per stage at 14×14, 7×7 and 4×4.
SMALL_RESNET = ResNetConfig(block="basic", layers=(1, 1, 1), widths=(16, 32, 64), stem="small", stem_width=16,
                            stem_pool=True, in_channels=1, image_size=28, num_classes=10)
