"""The encoder–decoder GRU of chapter 6 (dlcourse.models.seq2seq)."""
import dataclasses

import pytest
import torch

from dlcourse import data, train
from dlcourse.models.seq2seq import Seq2Seq, Seq2SeqConfig, token_accuracy

CONFIGS = [Seq2SeqConfig(7, 8, 16, attention=a, bidirectional=b, score=s)
           for a in (True, False) for b in (True, False) for s in ("dot", "additive")]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_shapes_and_greedy_decoding_with_teacher_forcing_equals_the_loss_path(config):
    torch.manual_seed(0)
    model = Seq2Seq(config).eval()
    x, y = torch.randint(0, 7, (3, 9)), torch.randint(0, 7, (3, 5))
    logits = model(x, y)
    assert logits.shape == (3, 5, 7)
    preds, attn, step_logits = model.decode(x, 5, teacher=y)
    # the same arithmetic in another order (all steps at once vs one at a time): float32 rounding only
    torch.testing.assert_close(step_logits, logits, atol=1e-5, rtol=1e-4)
    assert torch.equal(preds, logits.argmax(-1))
    if config.attention:
        assert attn.shape == (3, 5, 9)
        torch.testing.assert_close(attn.sum(-1), torch.ones(3, 5))
    else:
        assert attn is None
    free, free_attn = model.generate(x)
    assert free.shape == (3, 9) and free.dtype == torch.long and free.min() >= 0 and free.max() < 7
    assert torch.equal(model(x).argmax(-1), free)  # forward without targets decodes greedily


def test_the_first_step_does_not_depend_on_the_targets():
    torch.manual_seed(0)
    model = Seq2Seq(Seq2SeqConfig(7, 8, 16)).eval()
    x, y = torch.randint(0, 7, (2, 6)), torch.randint(0, 7, (2, 4))
    y2 = y.clone()
    y2[:, 0] = (y[:, 0] + 1) % 7
    a, b = model(x, y), model(x, y2)
    assert torch.equal(a[:, 0], b[:, 0])  # step 0 sees only the start token: teacher forcing is shifted
    assert not torch.allclose(a[:, 1], b[:, 1])


def test_padding_mask_hides_keys():
    torch.manual_seed(0)
    model = Seq2Seq(Seq2SeqConfig(7, 8, 16)).eval()
    x = torch.randint(0, 7, (2, 6))
    mask = torch.tensor([[True] * 4 + [False] * 2, [True] * 6])[:, None, :]  # (B, 1, S)
    _, attn = model.generate(x, 3, src_mask=mask)
    assert torch.all(attn[0, :, 4:] == 0) and torch.all(attn[1, :, 4:] > 0)


def test_loss_falls_in_a_few_steps():
    torch.manual_seed(0)
    task = data.sequence_task("reverse", 256, 6, 5, seed=0)
    model = Seq2Seq(Seq2SeqConfig(5, 8, 32))
    before = model.loss(task.batch).item()
    train.fit(model, task, epochs=5, batch_size=64, lr=1e-2, optimizer="adam", device="cpu", seed=0, progress=False)
    assert model.loss(task.batch).item() < 0.8 * before


def test_config_is_frozen_and_checked():
    config = Seq2SeqConfig(5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.hidden = 3
    with pytest.raises(ValueError, match="score"):
        Seq2Seq(Seq2SeqConfig(5, score="cosine"))
    with pytest.raises(ValueError, match="odd"):
        Seq2Seq(Seq2SeqConfig(5, hidden=15))


def test_token_accuracy():
    y = torch.tensor([[1, 2], [3, 4]])
    assert token_accuracy(torch.tensor([[1, 2], [3, 0]]), y) == 0.75
    assert token_accuracy(torch.nn.functional.one_hot(y, 5).float(), y) == 1.0
