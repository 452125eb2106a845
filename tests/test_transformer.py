"""The Transformer (models/transformer.py): parity with PyTorch, causality, padding, permutation, shapes, learning."""
import dataclasses

import pytest
import torch
from torch import nn

from dlcourse import data
from dlcourse.models.transformer import (Block, DecoderBlock, LearnedPositionalEncoding, PositionalEncoding,
                                         Seq2SeqTransformer, TransformerClassifier, TransformerConfig,
                                         load_encoder_layer, sinusoidal_table)

# float32, width ≤ 32, ≤ 12 tokens: the two computations differ by rounding only (~1e-6); 1e-5 leaves room
TOL = dict(atol=1e-5, rtol=1e-5)
CFG = TransformerConfig(vocab_size=13, d_model=32, n_head=4, n_layer=2, d_ff=48, max_len=32)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("masked", [False, True])
def test_block_equals_pytorch_encoder_layer(activation, masked):
    torch.manual_seed(0)
    cfg = dataclasses.replace(CFG, activation=activation)
    layer = nn.TransformerEncoderLayer(32, 4, dim_feedforward=48, dropout=0.0, activation=activation,
                                       norm_first=True, batch_first=True).eval()
    block = load_encoder_layer(Block(cfg), layer).eval()
    x = torch.randn(3, 9, 32)
    lengths = torch.tensor([9, 5, 2])
    keep = torch.arange(9)[None] < lengths[:, None]  # (B, T)
    with torch.no_grad():
        ours = block(x, mask=keep[:, None, None, :] if masked else None)
        ref = layer(x, src_key_padding_mask=~keep if masked else None)  # PyTorch's mask means "ignore"
    if masked:  # PyTorch's fast path may leave padded positions' outputs as zeros: compare real ones
        assert torch.allclose(ours[keep], ref[keep], **TOL)
    else:
        assert torch.allclose(ours, ref, **TOL)


def test_block_is_causal():
    torch.manual_seed(1)
    block = Block(CFG).eval()
    x = torch.randn(2, 10, 32)
    y = x.clone()
    y[:, 6:] = torch.randn(2, 4, 32)  # change the future from position 6 on
    with torch.no_grad():
        a, b = block(x, is_causal=True), block(y, is_causal=True)
        c = block(y)  # without the causal mask the past does see the change
    assert torch.allclose(a[:, :6], b[:, :6], **TOL)
    assert not torch.allclose(a[:, :6], c[:, :6], **TOL)


def test_block_is_permutation_equivariant_without_positions():
    torch.manual_seed(2)
    block = Block(CFG).eval()
    x = torch.randn(2, 8, 32)
    perm = torch.randperm(8)
    with torch.no_grad():
        assert torch.allclose(block(x)[:, perm], block(x[:, perm]), **TOL)
        pe = PositionalEncoding(32)
        assert not torch.allclose(block(pe(x))[:, perm], block(pe(x[:, perm])), **TOL)


def test_sinusoidal_table_matches_the_paper():
    table = sinusoidal_table(50, 16)
    pos, i = 7, 3
    assert torch.isclose(table[pos, 2 * i], torch.sin(torch.tensor(pos / 10000 ** (2 * i / 16))), atol=1e-6)
    assert torch.isclose(table[pos, 2 * i + 1], torch.cos(torch.tensor(pos / 10000 ** (2 * i / 16))), atol=1e-6)
    assert sinusoidal_table(5, 7).shape == (5, 7)  # odd widths work


@pytest.mark.parametrize("pe", [PositionalEncoding(8, max_len=4), LearnedPositionalEncoding(8, max_len=4)])
def test_positional_encodings_refuse_long_sequences(pe):
    assert pe(torch.zeros(2, 4, 8)).shape == (2, 4, 8)
    with pytest.raises(ValueError, match="max_len"):
        pe(torch.zeros(2, 5, 8))


def test_config_is_checked():
    with pytest.raises(ValueError, match="divisible"):
        TransformerConfig(10, d_model=30, n_head=4)
    with pytest.raises(ValueError, match="positional"):
        TransformerConfig(10, positional="rotary")
    with pytest.raises(ValueError, match="bos_id"):
        Seq2SeqTransformer(CFG)


@pytest.mark.parametrize("positional", ["sinusoidal", "learned", "none"])
def test_classifier_shapes_and_padding(positional):
    torch.manual_seed(3)
    model = TransformerClassifier(dataclasses.replace(CFG, pad_id=0, positional=positional)).eval()
    x = torch.randint(1, 13, (4, 7))
    x[1, 4:] = 0
    x[2, 2:] = 0
    with torch.no_grad():
        out = model(x)
        assert out.shape == (4, 2) and torch.isfinite(out).all()
        longer = torch.cat([x, torch.zeros(4, 5, dtype=torch.long)], dim=1)  # nor how much padding there is
        assert torch.allclose(model(longer), out, **TOL)
    with pytest.raises(ValueError):
        model(torch.randn(4, 7))


def test_classifier_ignores_what_is_in_the_padding():
    torch.manual_seed(4)
    cfg = dataclasses.replace(CFG, pad_id=0)
    model = TransformerClassifier(cfg).eval()
    x = torch.randint(1, 13, (2, 6))
    x[0, 3:] = 0
    with torch.no_grad():
        base = model(x)
        h = model.embed(x)
        keep = (x != 0)[:, None, None, :]
        out_a = model.blocks[0](model.pos(h), mask=keep)
        h2 = h.clone()
        h2[0, 3:] = torch.randn(3, 32)  # different vectors at the padded positions
        out_b = model.blocks[0](model.pos(h2), mask=keep)
    assert torch.allclose(out_a[0, :3], out_b[0, :3], **TOL) and torch.allclose(out_a[1], out_b[1], **TOL)
    assert base.shape == (2, 2)


def test_decoder_block_is_causal_and_reads_the_memory():
    torch.manual_seed(5)
    block = DecoderBlock(CFG).eval()
    x, memory = torch.randn(2, 6, 32), torch.randn(2, 9, 32)
    y = x.clone()
    y[:, 4:] += 1.0
    with torch.no_grad():
        a, w = block(x, memory, return_weights=True)
        b = block(y, memory)
        c = block(x, memory + 1.0)
    assert a.shape == (2, 6, 32) and w.shape == (2, 4, 6, 9)
    assert torch.allclose(w.sum(-1), torch.ones(2, 4, 6), **TOL)
    assert torch.allclose(a[:, :4], b[:, :4], **TOL)
    assert not torch.allclose(a, c, **TOL)


def test_seq2seq_is_causal_shapes_and_generates():
    torch.manual_seed(6)
    cfg = dataclasses.replace(CFG, vocab_size=11, bos_id=10)
    model = Seq2SeqTransformer(cfg).eval()
    src, tgt = torch.randint(0, 10, (3, 8)), torch.randint(0, 10, (3, 5))
    with torch.no_grad():
        logits = model(src, tgt)
        changed = tgt.clone()
        changed[:, 3:] = (changed[:, 3:] + 1) % 10
        assert logits.shape == (3, 5, 11)
        assert torch.allclose(model(src, changed)[:, :3], logits[:, :3], **TOL)
    out = model.generate(src)
    assert out.shape == (3, 8) and out.dtype == torch.long
    assert not model.training  # generate restores the mode it found
    with torch.no_grad():  # greedy: each token is the argmax given the ones before
        first = model(src, model.shift_right(out)).argmax(-1)
    assert torch.equal(first, out)


def test_seq2seq_padding_in_the_source_is_ignored():
    torch.manual_seed(7)
    cfg = dataclasses.replace(CFG, vocab_size=12, bos_id=11, pad_id=0)
    model = Seq2SeqTransformer(cfg).eval()
    src = torch.randint(1, 11, (2, 7))
    src[0, 4:] = 0
    tgt = torch.randint(1, 11, (2, 5))
    longer = torch.cat([src, torch.zeros(2, 3, dtype=torch.long)], dim=1)
    with torch.no_grad():
        assert torch.allclose(model(src, tgt), model(longer, tgt), **TOL)


@pytest.mark.parametrize("kind", ["classifier", "seq2seq"])
def test_loss_falls_in_a_few_steps(kind):
    torch.manual_seed(8)
    if kind == "classifier":
        model = TransformerClassifier(dataclasses.replace(CFG, pad_id=0))
        x = torch.randint(1, 13, (32, 6))
        batch = (x, (x[:, 0] > 6).long())  # the label is in the first token
    else:
        model = Seq2SeqTransformer(dataclasses.replace(CFG, vocab_size=6, bos_id=5))
        batch = (data.sequence_task("reverse", 32, 6, 5, seed=0).batch)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = model.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < 0.7 * losses[0], losses  # 30 full-batch Adam steps on 32 examples: far more than 30% down
