"""The multilayer perceptron (Rumelhart, Hinton & Williams, 1986): the network everything else extends."""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from .base import Classifier

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


@dataclass(frozen=True)
class MLPConfig:
    """Shape of an MLP; vary it with ``dataclasses.replace(config, hidden=(512,))``.

    Args:
        in_features: size of one flattened input (784 for a 28×28 image).
        hidden: widths of the hidden layers, in order; ``()`` gives logistic regression.
        num_classes: number of output logits.
        dropout: probability of zeroing a hidden unit during training (Srivastava et al., 2014).
        activation: one of ``relu``, ``gelu``, ``tanh``, ``sigmoid``.
    """

    in_features: int = 784
    hidden: tuple[int, ...] = (256, 128)
    num_classes: int = 10
    dropout: float = 0.0
    activation: str = "relu"

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if min((self.in_features, self.num_classes, *self.hidden)) < 1:
            raise ValueError(f"layer sizes must be positive, got {self}")


class MLP(Classifier):
    """Flatten, then [Linear → activation → dropout] per hidden layer, then a Linear to the logits.

    Args:
        config: the layer sizes and regularisation.
    """

    def __init__(self, config: MLPConfig = MLPConfig()) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = [nn.Flatten()]
        width = config.in_features
        for h in config.hidden:
            layers += [nn.Linear(width, h), ACTIVATIONS[config.activation]()]
            if config.dropout:
                layers.append(nn.Dropout(config.dropout))
            width = h
        layers.append(nn.Linear(width, config.num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if not x.is_floating_point():
            raise TypeError(f"inputs must be floating point, got {x.dtype}")
        if x.dim() < 2 or x[0].numel() != self.config.in_features:
            raise ValueError(f"each input must have {self.config.in_features} values, "
                             f"got shape {tuple(x.shape)} ({x[0].numel()} per example)")
        return self.net(x)  # (B, num_classes)
