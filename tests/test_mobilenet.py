"""Lightweight networks and their blocks (models/mobilenet.py, models/blocks.py)."""
import dataclasses
import pytest
import torch

from dlcourse.models import MobileNet, MobileNetConfig, SeparableBlock, channel_shuffle, mobilenet_v1
from dlcourse.models import CNNConfig, SmallCNN
from dlcourse.models.blocks import Pointwise
from dlcourse.utils import summary


@pytest.mark.parametrize("alpha, paper_params, paper_mult_adds", [
    (1.0, 4.2e6, 569e6), (0.75, 2.6e6, 325e6), (0.5, 1.3e6, 149e6), (0.25, 0.5e6, 41e6),
])
def test_mobilenet_v1_matches_the_paper(alpha, paper_params, paper_mult_adds):
    s = summary(mobilenet_v1(alpha), (3, 224, 224))  # Table 6 of Howard et al. (2017)
    assert abs(s.total_params - paper_params) / paper_params < 0.06  # the paper rounds to 0.1 M
    assert abs(s.total_mult_adds - paper_mult_adds) / paper_mult_adds < 0.01


def test_pointwise_is_a_1x1_convolution():
    pw = Pointwise(6, 4)
    conv = torch.nn.Conv2d(6, 4, 1, bias=False)
    conv.weight.data.copy_(pw.linear.weight.data.view(4, 6, 1, 1))
    x = torch.randn(2, 6, 5, 5)
    assert torch.allclose(pw(x), conv(x), atol=1e-6)


def test_separable_block_costs_one_over_n_plus_one_over_k_squared():
    m, n, side = 32, 64, 14
    separable = summary(torch.nn.Sequential(SeparableBlock(m, n)), (m, side, side))
    full = summary(torch.nn.Conv2d(m, n, 3, padding=1, bias=False), (m, side, side))
    assert separable.total_mult_adds / full.total_mult_adds == pytest.approx(1 / n + 1 / 9)


def test_standard_twin_has_the_same_layout():
    cfg = MobileNetConfig(blocks=((16, 1), (32, 2)), stem_width=8, stem_stride=1, in_channels=1, image_size=28,
                          num_classes=10)
    import dataclasses
    for c in (cfg, dataclasses.replace(cfg, separable=False)):
        model = MobileNet(c)
        assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    with pytest.raises(ValueError, match="width_mult"):
        MobileNetConfig(width_mult=0)


def test_channel_shuffle_interleaves_groups():
    x = torch.arange(6.0).view(1, 6, 1, 1)  # groups of 3: [0 1] [2 3] [4 5]
    assert channel_shuffle(x, 3).flatten().tolist() == [0, 2, 4, 1, 3, 5]
    y = torch.randn(2, 12, 3, 3)
    assert torch.equal(channel_shuffle(channel_shuffle(y, 3), 4), y)  # shuffling by g then C/g undoes it
    with pytest.raises(ValueError, match="groups"):
        channel_shuffle(y, 5)


def test_separable_small_cnn_keeps_the_first_convolution_full():
    full, sep = SmallCNN(CNNConfig()), SmallCNN(CNNConfig(separable=True))
    assert isinstance(sep.features[0], torch.nn.Conv2d)
    assert sum(isinstance(m, SeparableBlock) for m in sep.modules()) == 2
    assert summary(sep, (1, 28, 28)).total_mult_adds < 0.5 * summary(full, (1, 28, 28)).total_mult_adds
    assert sep(torch.randn(2, 1, 28, 28)).shape == (2, 10)
