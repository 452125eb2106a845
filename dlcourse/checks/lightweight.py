"""Auto-checks for chapter 3's exercises (lightweight networks)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .. import compress
from ..models.blocks import SeparableBlock
from ..utils import summary
from .core import Mismatch, call, check, expect_number, expect_tensor, hidden_generator, randint


@check("Mult-adds of a separable layer")
def separable_mult_adds(answer) -> str:
    """``answer``: mult-adds of a depthwise-separable 3×3 layer from 128 to 256 channels on 14×14."""
    block = nn.Sequential(SeparableBlock(128, 256))
    expected = summary(block, (128, 14, 14)).total_mult_adds
    standard = 9 * 128 * 256 * 14 * 14
    if answer == standard:
        raise Mismatch(f"{answer:,} is the standard 3×3 convolution; the separable one filters each channel "
                       "alone (9·M per pixel), then mixes channels with a 1×1 (M·N per pixel)")
    if answer in (9 * 128 * 14 * 14, 128 * 256 * 14 * 14):
        raise Mismatch(f"{answer:,} counts only one of the two parts: add the depthwise and pointwise costs")
    expect_number(answer, expected, "the mult-adds",
                  hint="per output pixel: 9·M for the depthwise 3×3 plus M·N for the pointwise 1×1, times 14·14 pixels")
    return f"{expected:,}, which is {expected / standard:.3f} of the standard layer (1/N + 1/k²)"


@check("Affine int8 fake quantization")
def fake_quantize(fn) -> str:
    """``fn(x)`` must quantize to int8 with one affine range including 0, and dequantize."""
    g = torch.Generator().manual_seed(0)
    cases = {"a centred tensor": torch.randn(200, generator=g),
             "an all-positive tensor": torch.rand(200, generator=g) + 1.0,
             "a tensor with a large outlier": torch.cat([torch.randn(99, generator=g) * 0.1, torch.tensor([10.0])])}
    gen, seed = hidden_generator()
    n, shift, spread = randint(gen, 20, 300), float(torch.randn((), generator=gen)) * 3, 0.1 + float(
        torch.rand((), generator=gen)) * 5
    cases[f"a hidden tensor of {n} values (seed {seed})"] = torch.randn(n, generator=gen) * spread + shift
    for what, x in cases.items():
        scale, zp = compress.quant_params(x)
        expected = compress.dequantize(compress.quantize(x, scale, zp), scale, zp)
        got = call(fn, x)
        if isinstance(got, torch.Tensor) and got.dtype == torch.int8:
            raise Mismatch("return the dequantized float tensor, scale · (q − zero point), not the int8 codes")
        if what == "an all-positive tensor" and isinstance(got, torch.Tensor) and got.shape == x.shape:
            lo = x.min()
            narrow = (x.max() - lo) / 255
            z = -128 - torch.round(lo / narrow)
            if torch.allclose(got, narrow * (torch.clamp(torch.round(x / narrow) + z, -128, 127) - z), atol=1e-6):
                raise Mismatch("on an all-positive tensor your range starts at its minimum: widen it to include "
                               "0, so that zero (padding, ReLU outputs) is represented exactly")
        expect_tensor(got, expected, f"fake-quantizing {what}", atol=1e-5)
    return "right, including the range widened to 0, an outlier that costs resolution, and a hidden tensor"


@check("The distillation loss")
def distill_loss(fn) -> str:
    """``fn(student_logits, teacher_logits, targets, T, alpha)`` must equal eq. (eq-distill)."""
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(16, 10, generator=g), torch.randn(16, 10, generator=g) * 3
    y = torch.randint(0, 10, (16,), generator=g)
    gen, seed = hidden_generator()
    B, K = randint(gen, 2, 20), randint(gen, 3, 12)
    hidden = (torch.randn(B, K, generator=gen), torch.randn(B, K, generator=gen) * 3,
              torch.randint(0, K, (B,), generator=gen), float(randint(gen, 2, 8)),
              round(0.2 + float(torch.rand((), generator=gen)) * 0.7, 3))
    cases = [(s, t, y, T, alpha, "") for T, alpha in [(4.0, 0.7), (1.0, 0.5), (10.0, 0.9)]]
    cases.append((*hidden, f", a hidden batch of {B}×{K} (seed {seed})"))
    for s, t, y, T, alpha, tag in cases:
        got = call(fn, s, t, y, T, alpha)
        expected = compress.distillation_loss(s, t, y, T, alpha)
        kl = F.kl_div(F.log_softmax(s / T, dim=-1), F.log_softmax(t / T, dim=-1), log_target=True,
                      reduction="batchmean")
        without_t2 = alpha * kl + (1 - alpha) * F.cross_entropy(s, y)
        if T != 1.0 and isinstance(got, torch.Tensor) and got.numel() == 1 and torch.allclose(got, without_t2):
            raise Mismatch(f"at T={T} your soft term is T² = {T * T:g} times too small: multiply the KL term "
                           "by T² so its gradients keep their scale")
        if isinstance(got, torch.Tensor) and got.shape == y.shape and len(y) > 1:
            raise Mismatch("you return one loss per example: average over the batch")
        if isinstance(got, torch.Tensor) and got.numel() == 1 and torch.allclose(
                got, alpha * T * T * kl + (1 - alpha) * F.cross_entropy(s / T, y), atol=1e-5) and T != 1.0:
            raise Mismatch(f"at T={T}{tag} your hard-label term uses the softened logits: the cross-entropy with "
                           "the true labels is taken at T = 1")
        expect_tensor(got, expected, f"the loss at T={T}, alpha={alpha}{tag}", atol=1e-5)
    return "matches Hinton et al.'s loss at three temperatures and on a hidden batch"
