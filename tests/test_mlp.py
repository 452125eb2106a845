"""The multilayer perceptron (models/mlp.py)."""
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
