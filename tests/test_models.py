import dataclasses

import pytest
import torch

from dlcourse import train
from dlcourse.data import TensorData
from dlcourse.models import MLP, MLPConfig


def test_mlp_shapes_no_nan_and_learns():
    model = MLP(MLPConfig(in_features=12, hidden=(16,), num_classes=3))
    x = torch.randn(64, 3, 4)
    y = (x.flatten(1).sum(dim=1) > 0).long() + (x[:, 0, 0] > 1).long()
    logits = model(x)
    assert logits.shape == (64, 3) and torch.isfinite(logits).all()
    before = model.loss((x, y)).item()
    train.fit(model, TensorData(x, y), epochs=30, batch_size=64, lr=1e-2, progress=False, device="cpu")
    assert model.loss((x, y)).item() < 0.5 * before
    assert model.predict(x).shape == (64,)


def test_mlp_config_variations():
    base = MLPConfig()
    assert len(MLP(dataclasses.replace(base, hidden=())).net) == 2  # logistic regression
    dropout = MLP(dataclasses.replace(base, dropout=0.3))
    assert any(isinstance(m, torch.nn.Dropout) for m in dropout.modules())
    with pytest.raises(ValueError, match="activation"):
        MLPConfig(activation="swishy")
    with pytest.raises(ValueError, match="dropout"):
        MLPConfig(dropout=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.hidden = (1,)


def test_mlp_rejects_bad_inputs():
    model = MLP(MLPConfig(in_features=784))
    with pytest.raises(ValueError, match="784 values"):
        model(torch.randn(2, 1, 32, 32))
    with pytest.raises(TypeError, match="floating point"):
        model(torch.zeros(2, 784, dtype=torch.uint8))
    with pytest.raises(TypeError, match="int64"):
        model.loss((torch.randn(2, 784), torch.tensor([0.0, 1.0])))


# ---------------------------------------------------------------- convolutional networks

from dlcourse.models import CNNConfig, LeNet5, LeNetConfig, SmallCNN, conv_output_size, receptive_field  # noqa: E402


@pytest.mark.parametrize("size, kernel, stride, padding, dilation", [
    (28, 3, 1, 1, 1), (28, 5, 1, 2, 1), (28, 5, 1, 0, 1), (32, 3, 2, 1, 1), (27, 3, 2, 0, 1),
    (28, 3, 1, 2, 2), (224, 7, 2, 3, 1), (7, 7, 1, 0, 1), (9, 3, 3, 0, 2),
])
def test_conv_output_size_matches_pytorch(size, kernel, stride, padding, dilation):
    conv = torch.nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
    assert conv_output_size(size, kernel, stride, padding, dilation) == conv(torch.zeros(1, 1, size, size)).shape[-1]


def test_conv_output_size_refuses_kernels_that_do_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        conv_output_size(2, 5)
    with pytest.raises(ValueError, match="positive"):
        conv_output_size(28, 3, stride=0)


def test_receptive_field_matches_gradient_support():
    # the receptive field is where the gradient of one central output reaches in the input
    layers = [torch.nn.Conv2d(1, 1, 3), torch.nn.MaxPool2d(2), torch.nn.Conv2d(1, 1, 3, dilation=2),
              torch.nn.Conv2d(1, 1, 3)]
    net = torch.nn.Sequential(*layers)
    for p in net.parameters():
        torch.nn.init.constant_(p, 1.0)
    x = torch.rand(1, 1, 40, 40, requires_grad=True)
    y = net(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1)).flatten()
    assert rows.max() - rows.min() + 1 == receptive_field([(3, 1), (2, 2), (3, 1, 2), (3, 1)]) == 16


def test_lenet5_has_the_classic_parameter_count():
    assert sum(p.numel() for p in LeNet5().parameters()) == 61_706  # LeCun et al. (1998), full C3
    assert LeNet5(LeNetConfig(image_size=32))(torch.randn(2, 1, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("model", [LeNet5(), SmallCNN(), SmallCNN(CNNConfig(in_channels=3, image_size=32,
                                                                             stages=((8,), (16,), (16,))))])
def test_cnns_shapes_no_nan_and_learn(model):
    c, s = model.config.in_channels, model.config.image_size
    x = torch.randn(32, c, s, s)
    y = torch.arange(32) % 10
    assert model(x).shape == (32, 10) and torch.isfinite(model(x)).all()
    before = model.loss((x, y)).item()
    train.fit(model, TensorData(x, y), epochs=15, batch_size=32, lr=3e-3, progress=False, device="cpu")
    model.train()
    assert model.loss((x, y)).item() < 0.7 * before


def test_cnns_refuse_wrong_images():
    with pytest.raises(ValueError, match=r"expected images \(B, 1, 28, 28\)"):
        SmallCNN()(torch.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match="expected images"):
        LeNet5()(torch.randn(2, 28, 28))
    with pytest.raises(TypeError, match="floating point"):
        SmallCNN()(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))


# ---------------------------------------------------------------- residual networks

from dlcourse.models import SMALL_RESNET, BasicBlock, Bottleneck, ResNet, ResNetConfig, resnet18, resnet34, resnet50  # noqa: E402
from dlcourse.utils import summary  # noqa: E402


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


# ---------------------------------------------------------------- lightweight networks

from dlcourse.models import MobileNet, MobileNetConfig, SeparableBlock, channel_shuffle, mobilenet_v1  # noqa: E402
from dlcourse.models.blocks import Pointwise  # noqa: E402


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
