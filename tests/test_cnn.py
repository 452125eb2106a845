"""Convolutional networks (models/cnn.py)."""
import pytest
import torch

from dlcourse import train
from dlcourse.data import TensorData
from dlcourse.models import CNNConfig, LeNet5, LeNetConfig, SmallCNN, conv_output_size, receptive_field


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
