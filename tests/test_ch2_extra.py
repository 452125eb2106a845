"""Chapter 2 extras: the auto-check gives the right reason for the ReLU-before-addition mistake."""
import pytest

from dlcourse.checks import CheckFailed, resnet


def _relu_before_add(b, x):
    return b.relu(b.bn2(b.conv2(b.relu(b.bn1(b.conv1(x)))))) + b.shortcut(x)


def test_relu_before_addition_is_diagnosed_by_its_sign_not_a_broken_identity():
    # He et al. (2016, identity mappings): relu(F(x)) + x keeps a clean identity; its flaw is a residual >= 0
    with pytest.raises(CheckFailed) as err:
        resnet.residual_forward(_relu_before_add)
    message = str(err.value)
    assert "non-negative" in message and "clean identity" in message
    assert "no longer clean" not in message
