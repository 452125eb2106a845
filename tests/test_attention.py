"""The attention block (models/attention.py) against PyTorch's built-ins."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.models.attention import (AdditiveAttention, MultiHeadAttention, causal_mask, padding_mask,
                                       scaled_dot_product_attention)

# float32 attention over ≤ 16 keys of width ≤ 32: outputs agree to ~1e-6; 1e-5 leaves room for kernel order
TOL = dict(atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("is_causal", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_sdpa_matches_pytorch(is_causal, masked):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 2, 7, 8, generator=g) for _ in range(3))
    mask = padding_mask(torch.tensor([7, 4, 2]), 7) if masked else None
    out, w = scaled_dot_product_attention(q, k, v, mask, is_causal=is_causal)
    ref_mask = mask
    if masked and is_causal:  # PyTorch takes one of the two; combine them for the reference
        ref_mask, is_causal_ref = mask & causal_mask(7), False
    else:
        is_causal_ref = is_causal
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=ref_mask, is_causal=is_causal_ref)
    assert torch.allclose(out, ref, **TOL)
    assert torch.allclose(w.sum(-1), torch.ones(3, 2, 7), **TOL)
    if masked:  # padded keys get exactly zero weight (exp(-inf) = 0)
        assert (w[1, :, :, 4:] == 0).all() and (w[2, :, :, 2:] == 0).all()
    if is_causal:
        assert (w.triu(1) == 0).all()


def test_causal_mask_matches_is_causal_for_rectangles():
    g = torch.Generator().manual_seed(1)
    q, k, v = torch.randn(1, 3, 4, generator=g), torch.randn(1, 5, 4, generator=g), torch.randn(1, 5, 4, generator=g)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(scaled_dot_product_attention(q, k, v, causal_mask(3, 5))[0], ref, **TOL)


def test_scale_default_is_inverse_sqrt_dk():
    q = torch.ones(1, 1, 16)
    k = torch.ones(1, 2, 16) * torch.tensor([[[1.0], [0.0]]])
    _, w = scaled_dot_product_attention(q, k, torch.zeros(1, 2, 3))
    # scores 16/4 = 4 and 0 → weights e^4/(e^4+1), 1/(e^4+1)
    assert torch.allclose(w[0, 0], torch.tensor([1.0, 0.0]).add(torch.tensor([-1.0, 1.0]) / (1 + torch.e ** 4)))


@pytest.mark.parametrize("fused", [True, False])
def test_multihead_matches_nn_multiheadattention(fused):
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(32, 4, batch_first=True).eval()
    mine = MultiHeadAttention(32, 4, fused=fused).eval()
    mine.load_state_dict(ref.state_dict())
    x = torch.randn(3, 9, 32)
    lengths = torch.tensor([9, 5, 1])
    key_pad = torch.arange(9)[None] >= lengths[:, None]  # nn.MultiheadAttention: True = ignore
    expected, w_ref = ref(x, x, x, key_padding_mask=key_pad, average_attn_weights=False)
    out, w = mine(x, mask=padding_mask(lengths, 9), return_weights=True)
    assert torch.allclose(mine(x, mask=padding_mask(lengths, 9)), expected, **TOL)
    assert torch.allclose(out, expected, **TOL) and torch.allclose(w, w_ref, **TOL)
    causal_ref = ref(x, x, x, attn_mask=~causal_mask(9), need_weights=False)[0]
    assert torch.allclose(mine(x, is_causal=True), causal_ref, **TOL)
    both = mine(x, mask=padding_mask(lengths, 9), is_causal=True)
    both_ref = ref(x, x, x, attn_mask=~causal_mask(9), key_padding_mask=key_pad, need_weights=False)[0]
    assert torch.allclose(both, both_ref, **TOL)


def test_cross_attention_matches_nn_multiheadattention():
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(16, 2, batch_first=True).eval()
    mine = MultiHeadAttention(16, 2).eval()
    mine.load_state_dict(ref.state_dict())
    x, memory = torch.randn(2, 4, 16), torch.randn(2, 6, 16)
    assert torch.allclose(mine(x, memory), ref(x, memory, memory, need_weights=False)[0], **TOL)


def test_multihead_refuses_indivisible_width():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)


def test_additive_attention_weights_and_mask():
    torch.manual_seed(0)
    att = AdditiveAttention(5, 7, 11)
    q, k = torch.randn(2, 3, 5), torch.randn(2, 4, 7)
    mask = padding_mask(torch.tensor([4, 2]), 4)[:, 0]  # (B, 1, T_k)
    out, w = att(q, k, mask=mask)
    assert out.shape == (2, 3, 7) and w.shape == (2, 3, 4)
    assert torch.allclose(w.sum(-1), torch.ones(2, 3), **TOL)
    assert (w[1, :, 2:] == 0).all()
    # the score is vᵀ tanh(W_q q + W_k k), computed here for one pair by hand
    scores = torch.stack([att.v.weight @ torch.tanh(att.w_q.weight @ q[0, 0] + att.w_k.weight @ k[0, j] + att.w_k.bias)
                          for j in range(4)]).flatten()
    assert torch.allclose(w[0, 0], torch.softmax(scores, 0), **TOL)


def test_kv_cache_gives_the_same_outputs_as_attending_over_the_whole_sequence():
    from dlcourse.models.attention import KVCache
    torch.manual_seed(0)
    mha = MultiHeadAttention(16, 4).eval()
    x = torch.randn(2, 7, 16)
    full = mha(x, is_causal=True)  # (B, T, C)
    for fused in (True, False):
        mha.fused = fused
        cache = KVCache()
        prompt = mha(x[:, :3], is_causal=True, cache=cache)  # three positions at once, then one at a time
        steps = [mha(x[:, t:t + 1], is_causal=True, cache=cache) for t in range(3, 7)]
        assert len(cache) == 7
        assert torch.allclose(torch.cat([prompt, *steps], dim=1), full, **TOL)
        cache2 = KVCache()
        mha(x[:, :4], is_causal=True, cache=cache2)
        assert torch.allclose(mha(x[:, 4:], is_causal=True, cache=cache2), full[:, 4:], **TOL)  # several new at once
    with pytest.raises(ValueError, match="cross-attention"):
        mha(x, torch.randn(2, 3, 16), cache=KVCache())
