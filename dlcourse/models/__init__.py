"""The course's reusable models: pure PyTorch, each with a frozen config and a ``loss(batch)``."""
from .attention import AdditiveAttention, MultiHeadAttention, causal_mask, padding_mask, scaled_dot_product_attention
from .base import Classifier
from .bert import BERT, BERTClassifier, BERTConfig, PostNormBlock
from .blocks import SeparableBlock
from .cnn import CNNConfig, LeNet5, LeNetConfig, SmallCNN, conv_output_size, receptive_field
from .diffusion import DDIMScheduler, DDPM, DDPMScheduler, Denoiser, DenoiserConfig
from .gan import GAN, GANConfig
from .glimpse import GlimpseConfig, GlimpseNet
from .gpt import GPT, GPTConfig
from .mlp import MLP, MLPConfig
from .mobilenet import MobileNet, MobileNetConfig, channel_shuffle, mobilenet_v1
from .resnet import SMALL_RESNET, BasicBlock, Bottleneck, ResNet, ResNetConfig, resnet18, resnet34, resnet50
from .rnn import (BagOfWords, CharLM, CharLMConfig, ScratchRecurrent, SequenceClassifier, SequenceClassifierConfig,
                  SequenceRegressor, SequenceRegressorConfig, lengths_of)
from .sampling import sample_next
from .seq2seq import Seq2Seq, Seq2SeqConfig
from .transformer import Block, Seq2SeqTransformer, TransformerClassifier, TransformerConfig
from .unet import TinyUNet
from .vae import VAE, VAEConfig

__all__ = ["AdditiveAttention", "BERT", "BERTClassifier", "BERTConfig", "BagOfWords", "BasicBlock", "Bottleneck", "CNNConfig", "CharLM", "CharLMConfig",
           "Block", "Classifier", "DDIMScheduler", "DDPM", "DDPMScheduler", "Denoiser", "DenoiserConfig", "GAN", "GANConfig",
           "GPT", "GPTConfig", "GlimpseConfig", "GlimpseNet",
           "LeNet5", "LeNetConfig", "MLP", "MLPConfig", "MobileNet", "MobileNetConfig", "MultiHeadAttention", "PostNormBlock", "ResNet",
           "ResNetConfig", "SMALL_RESNET", "ScratchRecurrent", "SeparableBlock", "Seq2Seq", "Seq2SeqConfig", "Seq2SeqTransformer", "SequenceClassifier",
           "SequenceClassifierConfig", "SequenceRegressor", "SequenceRegressorConfig", "SmallCNN", "TinyUNet", "TransformerClassifier", "TransformerConfig", "VAE", "VAEConfig",
           "causal_mask", "channel_shuffle", "conv_output_size", "lengths_of", "mobilenet_v1", "padding_mask",
           "receptive_field", "resnet18", "resnet34", "resnet50", "sample_next", "scaled_dot_product_attention"]
