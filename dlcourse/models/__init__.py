"""The course's reusable models: pure PyTorch, each with a frozen config and a ``loss(batch)``."""
from .base import Classifier
from .cnn import CNNConfig, LeNet5, LeNetConfig, SmallCNN, conv_output_size, receptive_field
from .mlp import MLP, MLPConfig

__all__ = ["CNNConfig", "Classifier", "LeNet5", "LeNetConfig", "MLP", "MLPConfig", "SmallCNN", "conv_output_size",
           "receptive_field"]
