"""The course's reusable models: pure PyTorch, each with a frozen config and a ``loss(batch)``."""
from .base import Classifier
from .mlp import MLP, MLPConfig

__all__ = ["Classifier", "MLP", "MLPConfig"]
