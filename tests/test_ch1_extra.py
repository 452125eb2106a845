"""Chapter 1 additions: LeNet-5's activation and pooling options (d2l.ai's sigmoid LeNet)."""
import pytest
import torch
from torch import nn

from dlcourse.models import LeNet5, LeNetConfig


def test_sigmoid_lenet_is_d2ls_layout_with_the_classic_parameter_count():
    model = LeNet5(LeNetConfig(activation="sigmoid"))
    assert sum(p.numel() for p in model.parameters()) == 61_706  # same weights as the tanh LeNet-5
    kinds = [type(m).__name__ for m in [*model.features, *model.classifier]]
    assert kinds == ["Conv2d", "Sigmoid", "AvgPool2d", "Conv2d", "Sigmoid", "AvgPool2d",
                     "Flatten", "Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"]
    assert model.features[0].padding == (2, 2) and model.classifier[1].in_features == 16 * 5 * 5
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)


def test_default_lenet_is_unchanged_and_max_pooling_is_an_option():
    default = LeNet5()
    assert [type(m) for m in default.features] == [nn.Conv2d, nn.Tanh, nn.AvgPool2d, nn.Conv2d, nn.Tanh, nn.AvgPool2d]
    pooled = LeNet5(LeNetConfig(activation="relu", pooling="max"))
    assert [type(m) for m in pooled.features] == [nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Conv2d, nn.ReLU, nn.MaxPool2d]
    assert sum(p.numel() for p in pooled.parameters()) == 61_706  # activations and pooling have no parameters


@pytest.mark.parametrize("field, value", [("activation", "gelu"), ("pooling", "min")])
def test_unknown_activation_or_pooling_is_refused(field, value):
    with pytest.raises(ValueError, match=field):
        LeNetConfig(**{field: value})
