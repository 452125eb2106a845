"""Preprocessing and augmentation (dlcourse.data.transforms) and fit's augment hook, used by chapter 0."""
import pytest
import torch

from dlcourse import train
from dlcourse.data import TensorData
from dlcourse.data import transforms as T
from dlcourse.models import MLP, MLPConfig


def images(n=8, c=2, h=5, w=6, seed=0):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed))


def test_channel_stats_and_standardize():
    x = images() * torch.tensor([3.0, 0.5]).view(1, 2, 1, 1) + torch.tensor([1.0, -2.0]).view(1, 2, 1, 1)
    mean, std = T.channel_stats(x)
    assert mean.shape == std.shape == (1, 2, 1, 1)
    z = T.standardize(TensorData(x, torch.zeros(len(x), dtype=torch.long)), mean, std).x
    assert torch.allclose(z.mean(dim=(0, 2, 3)), torch.zeros(2), atol=1e-5)  # float32 round-off
    assert torch.allclose(z.std(dim=(0, 2, 3)), torch.ones(2), atol=1e-5)
    with pytest.raises(ValueError, match="constant"):
        T.channel_stats(torch.ones(4, 1, 3, 3))
    with pytest.raises(ValueError, match="N, C, H, W"):
        T.channel_stats(torch.ones(4, 9))


def test_random_hflip_flips_a_random_subset_exactly():
    x = images(n=64)
    out = T.random_hflip(x, torch.Generator().manual_seed(1))
    flipped = torch.tensor([torch.equal(o, xi.flip(-1)) for o, xi in zip(out, x)])
    kept = torch.tensor([torch.equal(o, xi) for o, xi in zip(out, x)])
    assert bool((flipped | kept).all())  # every image is either itself or its mirror, exactly
    assert 0 < int(flipped.sum()) < 64  # p = 0.5 over 64 images: all-or-none has probability 2^-63
    assert torch.equal(T.random_hflip(x, torch.Generator(), p=0.0), x)
    assert torch.equal(T.random_hflip(x, torch.Generator(), p=1.0), x.flip(-1))


def test_random_shift_matches_a_zero_filled_translation():
    x = images(n=32)
    out = T.random_shift(x, torch.Generator().manual_seed(2), max_shift=2)
    assert out.shape == x.shape
    assert torch.equal(T.random_shift(x, torch.Generator(), max_shift=0), x)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for o, p in zip(out, padded):  # each output is one 5x6 window of its zero-padded image
        windows = [p[:, i:i + 5, j:j + 6] for i in range(5) for j in range(5)]
        assert any(torch.equal(o, win) for win in windows)
    seen = {tuple((o != 0).nonzero()[0].tolist()) for o in out}
    assert len(seen) > 1, "the offsets differ between images"
    shifted = T.random_shift(torch.zeros(16, 1, 4, 4), torch.Generator().manual_seed(3), max_shift=1, fill=-1.0)
    assert set(shifted.unique().tolist()) == {-1.0, 0.0}, "the uncovered border takes the fill value"
    with pytest.raises(ValueError, match="max_shift"):
        T.random_shift(x, torch.Generator(), max_shift=-1)


def test_fit_augments_training_batches_only_and_reproducibly():
    x = images(n=40, c=1, h=4, w=4)
    data = TensorData(x, (x.mean(dim=(1, 2, 3)) > 0.5).long())
    seen = []

    def spy(xb, generator):
        seen.append(len(xb))
        return T.random_hflip(xb, generator)

    def run(augment):
        torch.manual_seed(0)
        return train.fit(MLP(MLPConfig(in_features=16, hidden=(8,), num_classes=2)), data, epochs=2, batch_size=16,
                         val_data=data, augment=augment, progress=False, device="cpu")

    first = run(spy)
    assert seen == [16, 16, 8] * 2, "called once per training batch, never on validation data"
    assert run(spy).step_loss == first.step_loss, "the same seed gives the same augmentations"
    assert run(None).step_loss != first.step_loss
