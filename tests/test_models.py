"""One smoke test over every model in ``dlcourse.models``: output shape, no NaN, and the loss falls
in a few steps on one fixed batch. Per-family tests (parity with PyTorch, paper tables) are in
test_mlp.py, test_cnn.py, test_resnet.py, test_mobilenet.py, test_rnn.py, test_attention.py, ….

Every model class the package exports must have an entry in ``SMOKE``, so a new model cannot be
left out."""
import inspect

import pytest
import torch
from torch import nn

from dlcourse import models, train
from dlcourse.data import TensorData


def images(channels, size, classes=10, n=16):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, channels, size, size, generator=g), torch.randint(0, classes, (n,), generator=g)


def tokens(vocab, length=12, classes=2, n=16):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(1, vocab, (n, length), generator=g)
    x[::2, length // 2:] = 0  # every other sequence right-padded (id 0)
    return x, torch.randint(0, classes, (n,), generator=g)


def next_chars(vocab, length=12, n=8):
    g = torch.Generator().manual_seed(0)
    start = torch.randint(0, vocab, (n, 1), generator=g)
    ids = (start + torch.arange(length + 1)) % vocab  # (n, length + 1): each id is the one before plus 1
    return ids[:, :-1], ids[:, 1:]


def series(n=16, length=10):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, length, generator=g)
    return x, x.sum(1)


# model class → (a small instance, one batch (x, y), the expected output shape of model(x))
SMOKE = {
    "MLP": lambda: (models.MLP(models.MLPConfig(in_features=20, hidden=(16,), num_classes=3)),
                    (torch.randn(16, 20), torch.arange(16) % 3), (16, 3)),
    "LeNet5": lambda: (models.LeNet5(), images(1, 28), (16, 10)),
    "SmallCNN": lambda: (models.SmallCNN(models.CNNConfig(stages=((4,), (8,)), hidden=16)), images(1, 28), (16, 10)),
    "ResNet": lambda: (models.ResNet(models.ResNetConfig(layers=(1, 1), widths=(8, 16), in_channels=1, image_size=28,
                                                         num_classes=10, stem="small")), images(1, 28), (16, 10)),
    "MobileNet": lambda: (models.MobileNet(models.MobileNetConfig(blocks=((16, 1), (32, 2)), stem_width=8, stem_stride=1,
                                                                  in_channels=1, image_size=28, num_classes=10)),
                          images(1, 28), (16, 10)),
    "BagOfWords": lambda: (models.BagOfWords(30), tokens(30), (16, 2)),
    "SequenceClassifier": lambda: (models.SequenceClassifier(models.SequenceClassifierConfig(30, embed_dim=8, hidden=16)),
                                   tokens(30), (16, 2)),
    "SequenceRegressor": lambda: (models.SequenceRegressor(models.SequenceRegressorConfig(hidden=16)), series(), (16,)),
    "CharLM": lambda: (models.CharLM(models.CharLMConfig(20, embed_dim=8, hidden=16, num_layers=1)), next_chars(20),
                       (8, 12, 20)),
}


def exported_models():
    """Every complete model in ``dlcourse.models.__all__``: it has ``loss`` and a ``forward`` (not a base class)."""
    return sorted(name for name in models.__all__ if inspect.isclass(obj := getattr(models, name))
                  and issubclass(obj, nn.Module) and hasattr(obj, "loss") and obj.forward is not nn.Module.forward)


def test_every_exported_model_has_a_smoke_test():
    assert set(exported_models()) == set(SMOKE), "add the new model to SMOKE (or remove a stale entry)"


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_model_shape_no_nan_and_loss_falls(name):
    torch.manual_seed(0)
    model, (x, y), shape = SMOKE[name]()
    assert type(model).__name__ == name
    out = model(x)
    assert out.shape == shape and torch.isfinite(out).all()
    # 30 Adam steps on one fixed batch: any model that can learn at all fits it well below where it began
    # (last/first measured under seeds 0-2: at most 0.51, SmallCNN; most under 0.1)
    history = train.fit(model, TensorData(x, y), epochs=30, batch_size=len(x), lr=1e-2, optimizer="adam",
                        progress=False, device="cpu", seed=0)
    first, last = history.step_loss[0], history.step_loss[-1]
    assert all(map(torch.isfinite, map(torch.tensor, history.step_loss)))
    assert last < 0.7 * first, (first, last)
