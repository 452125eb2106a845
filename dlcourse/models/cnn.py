"""Convolutional networks (LeCun et al., 1998): shape arithmetic, LeNet-5 and a modern small CNN."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from torch import Tensor, nn

from .base import Classifier, check_images
from .blocks import SeparableBlock


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution or pooling along one dimension.

    ``floor((size + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1``, as ``nn.Conv2d``
    documents; raises ``ValueError`` when the kernel does not fit.
    """
    if min(size, kernel, stride, dilation) < 1 or padding < 0:
        raise ValueError(f"need positive size, kernel, stride, dilation and padding >= 0, got "
                         f"size={size}, kernel={kernel}, stride={stride}, padding={padding}, dilation={dilation}")
    span = dilation * (kernel - 1) + 1  # how many input positions one output looks at
    if size + 2 * padding < span:
        raise ValueError(f"a kernel spanning {span} positions does not fit an input of {size} padded by {padding}")
    return (size + 2 * padding - span) // stride + 1


def receptive_field(layers: Sequence[tuple[int, int] | tuple[int, int, int]]) -> int:
    """Receptive field of one output unit after a stack of ``(kernel, stride[, dilation])`` layers.

    Each layer widens the field by ``dilation·(kernel − 1)`` times the product of the strides
    before it ("jump"), the recursion of Araujo et al. (2019).
    """
    field, jump = 1, 1
    for layer in layers:
        kernel, stride, dilation = (*layer, 1)[:3]
        field += dilation * (kernel - 1) * jump
        jump *= stride
    return field


ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}
POOLINGS = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}


@dataclass(frozen=True)
class LeNetConfig:
    """LeNet-5 as LeCun et al. (1998) built it: 5×5 convolutions, average pooling, tanh.

    Args:
        in_channels: image channels.
        image_size: side of the square input (28 for Fashion-MNIST; the paper used 32).
        num_classes: output logits.
        activation: ``"tanh"`` (default), ``"sigmoid"`` (d2l.ai's LeNet) or ``"relu"``.
        pooling: ``"avg"`` (default, as in the paper) or ``"max"``.
    """

    in_channels: int = 1
    image_size: int = 28
    num_classes: int = 10
    activation: str = "tanh"
    pooling: str = "avg"

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {sorted(POOLINGS)}, got {self.pooling!r}")


class LeNet5(Classifier):
    """C1 conv 6@5×5 → S2 avg-pool → C3 conv 16@5×5 → S4 avg-pool → F5 120 → F6 84 → 10.

    Args:
        config: input and output sizes, activation and pooling.
    """

    def __init__(self, config: LeNetConfig = LeNetConfig()) -> None:
        super().__init__()
        self.config = config
        pad = 2 if config.image_size == 28 else 0  # LeNet expects 32×32: pad 28×28 inputs by 2
        side = conv_output_size(config.image_size, 5, padding=pad) // 2
        side = conv_output_size(side, 5) // 2
        act, pool = ACTIVATIONS[config.activation], POOLINGS[config.pooling]
        self.features = nn.Sequential(
            nn.Conv2d(config.in_channels, 6, 5, padding=pad), act(), pool(2),
            nn.Conv2d(6, 16, 5), act(), pool(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * side * side, 120), act(), nn.Linear(120, 84), act(),
            nn.Linear(84, config.num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        check_images(x, self.config.in_channels, self.config.image_size)
        x = self.features(x)  # (B, 16, side, side)
        return self.classifier(x)  # (B, K)


@dataclass(frozen=True)
class CNNConfig:
    """A modern small CNN: stages of [3×3 conv → BatchNorm → ReLU], each stage ending in 2×2 max-pool.

    Args:
        in_channels: image channels.
        image_size: side of the square input.
        stages: output channels of each convolution, grouped by stage.
        hidden: width of the fully connected layer before the logits.
        dropout: dropout before each fully connected layer.
        num_classes: output logits.
        separable: replace every convolution after the first by a depthwise-separable block
            (MobileNet's building block, chapter 3); the first stays a full convolution.
    """

    in_channels: int = 1
    image_size: int = 28
    stages: tuple[tuple[int, ...], ...] = ((16,), (32, 32))
    hidden: int = 128
    dropout: float = 0.3
    num_classes: int = 10
    separable: bool = False


class SmallCNN(Classifier):
    """Conv-BN-ReLU stages with max-pooling, then a small classifier (Ioffe & Szegedy, 2015, for BN).

    The flattened size is computed from the configuration, so the network fits any image size
    (the hard-coded ``64*6*6`` of the source article only fits 32×32 inputs).

    Args:
        config: the stages and sizes.
    """

    def __init__(self, config: CNNConfig = CNNConfig()) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        channels, side = config.in_channels, config.image_size
        for stage in config.stages:
            for out in stage:
                if config.separable and layers:
                    layers.append(SeparableBlock(channels, out))
                else:  # no conv bias: BatchNorm's shift makes it redundant
                    layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
                channels = out
            layers.append(nn.MaxPool2d(2))
            side = conv_output_size(side, 2, stride=2)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(config.dropout), nn.Linear(channels * side * side, config.hidden), nn.ReLU(),
            nn.Dropout(config.dropout), nn.Linear(config.hidden, config.num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        check_images(x, self.config.in_channels, self.config.image_size)
        x = self.features(x)  # (B, C, side, side)
        return self.classifier(x)  # (B, K)
