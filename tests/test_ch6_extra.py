"""Chapter 6's package code: the canvas data, the glimpse models, and the auto-checks."""
import math

import pytest
import torch
import torch.nn.functional as F

from dlcourse import train
from dlcourse.checks import attention as check
from dlcourse.checks.core import CheckFailed
from dlcourse.data import TensorData
from dlcourse.data.canvas import place
from dlcourse.models.glimpse import METHODS, GlimpseConfig, GlimpseNet, all_crops, grid_offsets, take_crops


def _images(n=6, side=4):
    x = torch.rand(n, 1, side, side) + 0.1  # no zeros inside the image: its footprint is visible
    return TensorData(x, torch.arange(n) % 3, ("a", "b", "c"))


def test_place_puts_each_image_at_its_position_and_nothing_else():
    data = _images()
    canvas, pos = place(data, 9, seed=3)
    assert canvas.x.shape == (6, 1, 9, 9) and torch.equal(canvas.y, data.y) and canvas.classes == data.classes
    assert pos.min() >= 0 and pos.max() <= 9 - 4
    for i, (r, c) in enumerate(pos.tolist()):
        assert torch.equal(canvas.x[i, :, r:r + 4, c:c + 4], data.x[i])
        assert canvas.x[i].count_nonzero() == 16  # the rest of the canvas stays blank
    again, pos2 = place(data, 9, seed=3)
    assert torch.equal(again.x, canvas.x) and torch.equal(pos, pos2)
    with pytest.raises(ValueError, match="at least as large"):
        place(data, 3)


def test_crops_are_the_grid_cells_in_row_major_order():
    x = torch.arange(2 * 56 * 56, dtype=torch.float).view(2, 1, 56, 56)
    offsets = grid_offsets(56, 28, 3)
    assert offsets == [0, 14, 28]
    crops = all_crops(x, 28, 3)
    assert crops.shape == (2, 9, 1, 28, 28)
    for k in range(9):
        r, c = offsets[k // 3], offsets[k % 3]
        assert torch.equal(crops[:, k], x[:, :, r:r + 28, c:c + 28])
    cell = torch.tensor([4, 8])
    assert torch.equal(take_crops(x, cell, 28, 3)[1], x[1, :, 28:, 28:])
    with pytest.raises(ValueError, match="evenly"):
        grid_offsets(56, 28, 4)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_trains_and_classifies(method):
    torch.manual_seed(0)
    net = GlimpseNet(GlimpseConfig(method, canvas=16, crop=8, grid=3, pool=2, classes=3, width=4))
    x, y = torch.rand(32, 1, 16, 16), torch.randint(0, 3, (32,))
    assert net(x).shape == (32, 3)
    loss = net.loss((x, y))
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    if method in ("reinforce", "gumbel", "soft"):  # the choice itself learns
        assert net.policy[0].weight.grad.abs().sum() > 0
    if method != "thumbnail":
        assert net.choose(x).shape == (32,)


def test_gumbel_forward_reads_exactly_one_crop():
    torch.manual_seed(0)
    net = GlimpseNet(GlimpseConfig("gumbel", canvas=16, crop=8, grid=3, pool=2, classes=3, width=4))
    x = torch.rand(5, 1, 16, 16)
    choice = F.gumbel_softmax(net.scores(x), hard=True)
    crop = (choice[:, :, None, None, None] * all_crops(x, 8, 3)).sum(1)
    assert torch.equal(crop, take_crops(x, choice.argmax(-1), 8, 3))


def test_a_policy_learns_where_the_object_is():
    """A bright square in one of four corners; label = its corner; only the right crop sees it."""
    torch.manual_seed(0)
    n = 512
    corner = torch.randint(0, 4, (n,))
    x = torch.zeros(n, 1, 16, 16)
    for i, k in enumerate(corner.tolist()):
        r, c = 8 * (k // 2), 8 * (k % 2)
        x[i, :, r + 2:r + 6, c + 2:c + 6] = 1.0 + (i % 2)  # label: the square's brightness (1 or 2)
    data = TensorData(x, torch.arange(n) % 2)
    net = GlimpseNet(GlimpseConfig("reinforce", canvas=16, crop=8, grid=2, pool=4, classes=2, width=4, entropy=0.0))
    train.fit(net, data, epochs=15, batch_size=64, lr=1e-2, optimizer="adam", device="cpu", seed=0, progress=False)
    cells = net.choose(x)
    assert (cells == corner).float().mean() > 0.9  # random choice: 0.25


# --- the auto-checks -----------------------------------------------------------------------------------------

def _sdpa(q, k, v, mask):
    s = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~mask, float("-inf"))
    return torch.softmax(s, -1) @ v


def test_masked_attention_check_passes_and_names_mistakes():
    assert check.masked_attention(_sdpa)
    cases = {
        "√d_k": lambda q, k, v, m: torch.softmax((q @ k.transpose(-2, -1)).masked_fill(~m, float("-inf")), -1) @ v,
        "mask is ignored": lambda q, k, v, m: torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), -1) @ v,
        "not -inf": lambda q, k, v, m: torch.softmax((q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~m, 0.0), -1) @ v,
        "after the softmax": lambda q, k, v, m: (torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), -1) * m) @ v,
    }
    for needle, fn in cases.items():
        with pytest.raises(CheckFailed, match=needle):
            check.masked_attention(fn)
    with pytest.raises(CheckFailed, match="wrong size"):
        check.masked_attention(lambda q, k, v, m: v)

    def stub(q, k, v, m):
        raise NotImplementedError

    assert not check.masked_attention(stub)


def test_glimpse_pixels_check():
    assert check.glimpse_pixels((784, 7056))
    with pytest.raises(CheckFailed, match="overlap"):
        check.glimpse_pixels((784, 3136))
    with pytest.raises(CheckFailed, match="only the chosen crop"):
        check.glimpse_pixels((3136, 7056))
    with pytest.raises(CheckFailed, match="pair"):
        check.glimpse_pixels(784)


def test_reinforce_check():
    assert check.reinforce_loss(lambda lp, r: -((r.detach() - r.detach().mean()) * lp).mean())
    with pytest.raises(CheckFailed, match="sign"):
        check.reinforce_loss(lambda lp, r: ((r.detach() - r.detach().mean()) * lp).mean())
    with pytest.raises(CheckFailed, match="baseline"):
        check.reinforce_loss(lambda lp, r: -(r.detach() * lp).mean())
    with pytest.raises(CheckFailed, match="detach"):
        check.reinforce_loss(lambda lp, r: -((r - r.mean()) * lp).mean())
    with pytest.raises(CheckFailed, match="no gradient"):
        check.reinforce_loss(lambda lp, r: -(r.detach() - r.detach().mean()).mean())
