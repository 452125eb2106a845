"""Residual networks (models/resnet.py)."""
import pytest
import torch

from dlcourse import train
from dlcourse.data import TensorData
from dlcourse.models import SMALL_RESNET, BasicBlock, Bottleneck, ResNet, ResNetConfig, resnet18, resnet34, resnet50
from dlcourse.utils import summary


@pytest.mark.parametrize("build, params, paper_flops", [
    (resnet18, 11_689_512, 1.8e9), (resnet34, 21_797_672, 3.6e9), (resnet50, 25_557_032, 3.8e9),
])
def test_imagenet_resnets_match_the_paper(build, params, paper_flops):
    model = build()
    assert sum(p.numel() for p in model.parameters()) == params  # the reference implementations' counts
    s = summary(model, (3, 224, 224))  # Table 1 of He et al. (2016) gives mult-adds as "FLOPs"
    assert abs(s.total_mult_adds - paper_flops) / paper_flops < 0.03
    assert s.layers[-1].output_shape == (1000,)
    assert build(num_classes=7).fc.out_features == 7


def test_blocks_shapes_and_shortcuts():
    x = torch.randn(2, 16, 8, 8)
    assert isinstance(BasicBlock(16, 16).shortcut, torch.nn.Identity)
    assert BasicBlock(16, 32, stride=2)(x).shape == (2, 32, 4, 4)
    assert Bottleneck(16, 8, stride=2)(x).shape == (2, 32, 4, 4)
    assert BasicBlock(16, 16, residual=False).shortcut is None
    assert Bottleneck.expansion == 4 and BasicBlock.expansion == 1


def test_residual_block_adds_its_input():
    block = BasicBlock(4, 4).eval()
    for conv in (block.conv1, block.conv2):
        torch.nn.init.zeros_(conv.weight)  # F(x) = BN(0) = bias = 0 at init
    x = torch.rand(1, 4, 5, 5)  # non-negative, so relu(0 + x) = x
    assert torch.allclose(block(x), x)


def test_small_and_plain_resnets_learn():
    for config in (SMALL_RESNET, ResNetConfig(layers=(2,), widths=(8,), stem="small", stem_width=8, in_channels=1,
                                              image_size=28, num_classes=10, residual=False)):
        model = ResNet(config)
        x, y = torch.randn(32, 1, 28, 28), torch.arange(32) % 10
        assert model(x).shape == (32, 10)
        before = model.loss((x, y)).item()
        train.fit(model, TensorData(x, y), epochs=40, batch_size=32, lr=1e-2, progress=False, device="cpu")
        assert model.loss((x, y)).item() < 0.7 * before


def test_resnet_config_is_checked():
    with pytest.raises(ValueError, match="block"):
        ResNetConfig(block="dense")
    with pytest.raises(ValueError, match="stem"):
        ResNetConfig(stem="tiny")
    with pytest.raises(ValueError, match="one positive block count"):
        ResNetConfig(layers=(2, 2), widths=(64,))
    with pytest.raises(ValueError, match="expected images"):
        resnet18()(torch.randn(1, 1, 224, 224))
