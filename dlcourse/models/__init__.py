"""The course's reusable models: pure PyTorch, each with a frozen config and a ``loss(batch)``."""
from .base import Classifier
from .cnn import CNNConfig, LeNet5, LeNetConfig, SmallCNN, conv_output_size, receptive_field
from .mlp import MLP, MLPConfig
from .blocks import SeparableBlock
from .mobilenet import MobileNet, MobileNetConfig, channel_shuffle, mobilenet_v1
from .resnet import SMALL_RESNET, BasicBlock, Bottleneck, ResNet, ResNetConfig, resnet18, resnet34, resnet50
from .rnn import (BagOfWords, CharLM, CharLMConfig, ScratchRecurrent, SequenceClassifier, SequenceClassifierConfig,
                  SequenceRegressor, SequenceRegressorConfig, lengths_of)

__all__ = ["BagOfWords", "BasicBlock", "Bottleneck", "CNNConfig", "CharLM", "CharLMConfig", "Classifier", "LeNet5",
           "LeNetConfig", "MLP", "MLPConfig", "MobileNet", "MobileNetConfig", "ResNet", "ResNetConfig", "SMALL_RESNET",
           "ScratchRecurrent", "SeparableBlock", "SequenceClassifier", "SequenceClassifierConfig", "SequenceRegressor",
           "SequenceRegressorConfig", "SmallCNN", "channel_shuffle", "conv_output_size", "lengths_of", "mobilenet_v1",
           "receptive_field", "resnet18", "resnet34", "resnet50"]
