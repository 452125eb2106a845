"""One smoke test over every model in ``dlcourse.models``: output shape, no NaN, and the loss falls
in a few steps on one fixed batch. Per-family tests (parity with PyTorch, paper tables) are in
test_mlp.py, test_cnn.py, test_resnet.py, test_mobilenet.py, test_rnn.py, test_attention.py, ….

Every model class the package exports must have an entry in ``SMOKE``, so a new model cannot be
left out."""
import inspect
import math

import pytest
import torch
from torch import nn

from dlcourse import data, models, train
from dlcourse.data import TensorData


def images(channels, size, classes=10, n=16):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, channels, size, size, generator=g), torch.randint(0, classes, (n,), generator=g)


def repeats(vocab, length=12, n=16):
    """Each sequence repeats one ordinary token (ids 4 and up; 0-3 are BERT's specials): a masked token is
    predictable from its neighbours, so a masked language model's loss can fall (random tokens would not)."""
    x = (4 + torch.arange(n) % (vocab - 4)).unsqueeze(1).repeat(1, length)
    return x, torch.zeros(n, dtype=torch.long)


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


def stripes(n=16):
    """Binary images of vertical stripes of random width: something a VAE can fit."""
    g = torch.Generator().manual_seed(0)
    period = torch.randint(2, 6, (n, 1, 1, 1), generator=g)
    return (torch.arange(28).view(1, 1, 1, 28) % period < period // 2).float().expand(n, 1, 28, 28), torch.zeros(n)


def reversal(n=16, length=6):
    d = data.sequence_task("reverse", n, length, symbols=5, seed=0)
    return d.x, d.y


def canvases(n=16):
    """56×56 canvases whose brightness is their class: any crop (or the thumbnail) shows it."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 10
    return y.view(n, 1, 1, 1) / 10 + 0.05 * torch.rand(n, 1, 56, 56, generator=g), y


def points(classes=1, n=16):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 2, generator=g) + 2, torch.arange(n) % classes


def series(n=16, length=10):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, length, generator=g)
    return x, x.sum(1)


# model class → (a small instance, one batch (x, y), the expected output shape of model(x)[, fit options])
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
    "VAE": lambda: (models.VAE(models.VAEConfig(latent_dim=4, hidden=(32,))), stripes(), (16, 1, 28, 28)),
    # a game, not a descent: a gentler Adam (DCGAN's β1 = 0.5), more steps (seeds 0-2: gap ratio 0.13-0.38)
    "GAN": lambda: (models.GAN(models.GANConfig(hidden=32)), points(), (16, 2),
                    dict(epochs=60, optimizer=lambda p: torch.optim.Adam(p, lr=1e-3, betas=(0.5, 0.999)))),
    "DDPM": lambda: (models.DDPM(models.DenoiserConfig(hidden=32, num_classes=4), models.DDPMScheduler(50)),
                     points(4), (16, 2)),
    "Seq2Seq": lambda: (models.Seq2Seq(models.Seq2SeqConfig(symbols=5, embed_dim=8, hidden=16)), reversal(), (16, 6, 5)),
    "Seq2SeqTransformer": lambda: (models.Seq2SeqTransformer(models.TransformerConfig(
        vocab_size=6, d_model=16, n_head=2, n_layer=1, bos_id=5)), reversal(), (16, 6, 6)),
    "TransformerClassifier": lambda: (models.TransformerClassifier(models.TransformerConfig(
        vocab_size=30, d_model=16, n_head=2, n_layer=1, pad_id=0)), tokens(30), (16, 2)),
    "GPT": lambda: (models.GPT(models.GPTConfig(20, block_size=16, n_layer=1, n_head=2, n_embd=16)), next_chars(20),
                    (8, 12, 20)),
    "GlimpseNet": lambda: (models.GlimpseNet(models.GlimpseConfig(width=4)), canvases(), (16, 10)),
    # its loss is a fresh random mask each step (about 29 scored positions): 100 steps, not 30
    # (last/first, seeds 0-3 here: 0.06-0.33 after 100 steps; 0.64-0.69 after 30, too close to 0.7)
    "BERT": lambda: (models.BERT(models.BERTConfig(30, block_size=16, n_layer=1, n_head=2, n_embd=16, dropout=0.0)),
                     repeats(30), (16, 12, 30), dict(epochs=100)),
    "BERTClassifier": lambda: (models.BERTClassifier(models.BERT(models.BERTConfig(
        30, block_size=16, n_layer=1, n_head=2, n_embd=16, dropout=0.0))), tokens(30), (16, 2)),
}


class Generative:
    """How models whose forward does not take the batch's x alone are called in the smoke test."""

    @staticmethod
    def inputs(name, model, x, y):
        if name == "GAN":
            return (torch.randn(len(x), model.config.latent_dim),)
        if name == "DDPM":
            return x, torch.full((len(x),), 10)
        if name == "Seq2Seq":
            return x, y
        if name == "Seq2SeqTransformer":
            return x, model.shift_right(y)
        return (x,)


def gap(gan, x):
    """Distance between the means of the GAN's samples and of the data."""
    return (gan.sample(256, generator=torch.Generator().manual_seed(0)).mean(0) - x.mean(0)).norm().item()


def exported_models():
    """Every complete model in ``dlcourse.models.__all__``: it has ``loss`` and a ``forward`` (not a base class)."""
    return sorted(name for name in models.__all__ if inspect.isclass(obj := getattr(models, name))
                  and issubclass(obj, nn.Module) and hasattr(obj, "loss") and obj.forward is not nn.Module.forward)


def test_every_exported_model_has_a_smoke_test():
    assert set(exported_models()) == set(SMOKE), "add the new model to SMOKE (or remove a stale entry)"


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_model_shape_no_nan_and_loss_falls(name):
    torch.manual_seed(0)
    model, (x, y), shape, *options = SMOKE[name]()
    assert type(model).__name__ == name
    out = model(*Generative.inputs(name, model, x, y))
    assert out.shape == shape and torch.isfinite(out).all()
    gap_before = gap(model, x) if name == "GAN" else None
    # 30 Adam steps on one fixed batch: any model that can learn at all fits it well below where it began
    # (last/first measured under seeds 0-2: at most 0.51, SmallCNN; most under 0.1)
    history = train.fit(model, TensorData(x, y), batch_size=len(x), progress=False, device="cpu", seed=0,
                        **{"epochs": 30, "lr": 1e-2, "optimizer": "adam", **(options[0] if options else {})})
    if history.part_loss:  # the GAN: its losses are a game, not a descent; its samples must move to the data
        assert all(math.isfinite(v) for losses in history.part_loss.values() for v in losses)
        assert gap(model, x) < 0.7 * gap_before, (gap_before, gap(model, x))
        return
    losses = history.step_loss
    assert all(map(math.isfinite, losses))
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3  # three steps each: DDPM's loss is itself random
    assert last < 0.7 * first, (first, last)
