"""The model zoo: train once, keep safely, reload; retrain when the checkpoint is missing or bad."""
import pytest
import torch

from dlcourse import zoo
from dlcourse.models import MLP, MLPConfig


@pytest.fixture
def tiny_recipe(monkeypatch, tmp_path):
    monkeypatch.setenv("DLCOURSE_DATA", str(tmp_path))
    recipe = zoo.Recipe(build=lambda: MLP(MLPConfig(hidden=(16,))), dataset="fashion-mnist",
                        fit_options=dict(epochs=1, batch_size=1024, lr=3e-3))
    monkeypatch.setitem(zoo.RECIPES, "small-resnet-fashion", recipe)
    calls = []
    real = zoo.train_model
    monkeypatch.setattr(zoo, "train_model", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_load_or_train_trains_once_then_loads(tiny_recipe):
    first = zoo.load_or_train("small-resnet-fashion", device="cpu", progress=False)
    assert tiny_recipe == [1] and zoo.checkpoint_path("small-resnet-fashion").exists()
    second = zoo.load_or_train("small-resnet-fashion", device="cpu", progress=False)
    assert tiny_recipe == [1]  # loaded, not retrained
    x = torch.rand(8, 1, 28, 28)
    assert torch.equal(first(x), second(x)) and not second.training


def test_bad_checkpoint_is_retrained(tiny_recipe):
    path = zoo.checkpoint_path("small-resnet-fashion")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"truncated")
    zoo.load_or_train("small-resnet-fashion", device="cpu", progress=False)
    assert tiny_recipe == [1]
    zoo.load_or_train("small-resnet-fashion", device="cpu", progress=False)
    assert tiny_recipe == [1]


def test_unknown_models_are_refused():
    with pytest.raises(ValueError, match="unknown zoo model"):
        zoo.load_or_train("gpt-5")
    with pytest.raises(ValueError, match="unknown zoo model"):
        zoo.save("gpt-5", torch.nn.Linear(1, 1))
