"""Auto-checks for chapter 6's exercises (attention)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .core import Mismatch, call, check, expect_number, expect_tensor


@check("Masked scaled dot-product attention")
def masked_attention(fn) -> str:
    """``fn(q, k, v, mask)`` → the output of softmax(q kᵀ / √d_k) v, with keys where ``mask`` is False hidden."""
    g = torch.Generator().manual_seed(0)
    B, Tq, Tk, d, dv = 2, 3, 5, 8, 4
    q, k, v = torch.randn(B, Tq, d, generator=g), torch.randn(B, Tk, d, generator=g), torch.randn(B, Tk, dv, generator=g)
    mask = torch.ones(B, Tq, Tk, dtype=torch.bool)
    mask[0, :, 3:] = False  # the first sequence has two padded keys
    mask[1, 0, 1:] = False  # one query may see only the first key
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    got = call(fn, q, k, v, mask)
    if isinstance(got, tuple):
        got = got[0]
    if isinstance(got, torch.Tensor) and got.shape == expected.shape:
        scores = q @ k.transpose(-2, -1)
        variants = {
            "the scores are not divided by √d_k: scale them by 1/√d_k (eq. eq-sdpa) so the softmax does not saturate":
                torch.softmax(scores.masked_fill(~mask, float("-inf")), -1) @ v,
            "the scores are divided by d_k; divide by √d_k":
                torch.softmax((scores / d).masked_fill(~mask, float("-inf")), -1) @ v,
            "the mask is ignored: hidden keys must get weight 0 (set their scores to -inf before the softmax)":
                torch.softmax(scores / math.sqrt(d), -1) @ v,
            "hidden keys got a score of 0, not -inf, so they keep a share of the weight: use "
            "masked_fill(~mask, float('-inf')) on the scores":
                torch.softmax((scores / math.sqrt(d)).masked_fill(~mask, 0.0), -1) @ v,
            "the weights were multiplied by the mask after the softmax, so rows no longer sum to 1: "
            "mask the scores before the softmax":
                (torch.softmax(scores / math.sqrt(d), -1) * mask) @ v,
            "the softmax runs over the queries (dim -2); each query's weights over the keys (dim -1) must sum to 1":
                torch.softmax((scores / math.sqrt(d)).masked_fill(~mask, float("-inf")), -2).nan_to_num() @ v,
        }
        for message, wrong in variants.items():
            if torch.allclose(got.detach().float(), wrong, atol=1e-5) and not torch.allclose(wrong, expected, atol=1e-5):
                raise Mismatch(message)
    expect_tensor(got, expected, "the attention output, against F.scaled_dot_product_attention")
    return "equals torch.nn.functional.scaled_dot_product_attention, mask included"


@check("Pixels the classifier reads")
def glimpse_pixels(answer) -> str:
    """``answer``: (hard, soft), the pixels the crop classifier reads per 56×56 canvas with a 3×3 grid of
    28×28 crops: one crop (hard attention) or every crop (soft attention)."""
    if not (isinstance(answer, tuple) and len(answer) == 2):
        raise Mismatch("give a pair: (pixels for hard attention, pixels for soft attention)")
    hard, soft = answer
    if soft == 56 * 56:
        raise Mismatch(f"{soft:,} is the canvas; the crops overlap, so soft attention reads many pixels more than "
                       "once: count 9 crops of 28 × 28")
    if hard == 56 * 56:
        raise Mismatch("hard attention's classifier reads only the chosen crop, not the whole canvas")
    expect_number(hard, 28 * 28, "hard attention: one 28 × 28 crop")
    expect_number(soft, 9 * 28 * 28, "soft attention: all nine 28 × 28 crops")
    return (f"hard {28 * 28:,}, soft {9 * 28 * 28:,}: soft attention pays 9× the classifier's work "
            "(the policy's 14 × 14 thumbnail comes on top of both)")


@check("The REINFORCE surrogate loss")
def reinforce_loss(fn) -> str:
    """``fn(log_prob, reward)`` → the scalar whose gradient is −mean((R − b) ∇ log π), with b the batch's mean
    reward and no gradient through the reward."""
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 4, generator=g, requires_grad=True)
    cell = torch.tensor([0, 1, 2, 3, 1, 2])
    log_prob = torch.log_softmax(logits, -1)[torch.arange(6), cell]
    reward = torch.randn(6, generator=g, requires_grad=True) + 2.0  # positive on average: the baseline matters
    got = call(fn, log_prob, reward)
    if not isinstance(got, torch.Tensor) or got.dim() != 0:
        raise Mismatch("return one number (a 0-dimensional tensor): the mean over the batch")
    if not got.requires_grad:
        raise Mismatch("the loss has no gradient: multiply by log_prob, which carries the policy's gradient")
    grad, = torch.autograd.grad(got, logits, retain_graph=True)
    r = reward.detach()

    def grad_of(surrogate):
        return torch.autograd.grad(surrogate, logits, retain_graph=True)[0]

    expected = grad_of(-((r - r.mean()) * log_prob).mean())
    if torch.allclose(grad, -expected, atol=1e-6):
        raise Mismatch("the sign is flipped: gradient descent on your loss lowers the reward; minimise "
                       "−(R − b)·log π")
    if torch.allclose(grad, grad_of(-(r * log_prob).mean()), atol=1e-6):
        raise Mismatch("no baseline: subtract the batch's mean reward from the reward (R − b); the gradient "
                       "stays unbiased and its variance falls")
    if reward.requires_grad and torch.autograd.grad(got, reward, retain_graph=True, allow_unused=True)[0] is not None \
            and torch.autograd.grad(got, reward, retain_graph=True, allow_unused=True)[0].abs().sum() > 0:
        raise Mismatch("the gradient flows into the reward: the reward is a number the policy is scored by, "
                       "use reward.detach()")
    expect_tensor(grad, expected, "the gradient of your loss with respect to the policy's logits")
    return "its gradient is the score-function estimate with the batch-mean baseline (Williams, 1992)"
