"""Auto-checks for chapter 2's exercises (residual networks)."""
from __future__ import annotations

import torch
from torch import nn

from ..models.resnet import BasicBlock, Bottleneck, resnet18
from .core import Mismatch, call, check, expect_number, expect_tensor


@check("Stage shapes of ResNet-18")
def stage_shapes(answer) -> str:
    """``answer``: the (C, H, W) after each of ResNet-18's four stages, for a 3×224×224 input."""
    model = resnet18().eval()
    shapes, x = [], torch.zeros(1, 3, 224, 224)
    with torch.no_grad():
        x = model.stem(x)
        for stage in model.stages:
            x = stage(x)
            shapes.append(tuple(x.shape[1:]))
    try:
        got = [tuple(int(v) for v in s) for s in answer]
    except TypeError:
        raise Mismatch("give a list of four (channels, height, width) tuples") from None
    if len(got) != 4:
        raise Mismatch(f"ResNet-18 has four stages; you gave {len(got)} shapes")
    if got[0][1:] == (112, 112):
        raise Mismatch("stage 1 is at 56×56: the stem halves the image twice (7×7 stride-2 conv, then "
                       "a stride-2 max-pool)")
    for i, (g, e) in enumerate(zip(got, shapes), 1):
        if g != e:
            raise Mismatch(f"stage {i}: expected {e}, got {g}")
    return " → ".join("×".join(map(str, s)) for s in shapes)


@check("Parameters of a bottleneck block")
def bottleneck_params(answer) -> str:
    """``answer``: parameters of ``Bottleneck(in_channels=256, width=64)`` (BatchNorm included)."""
    block = Bottleneck(256, 64)
    expected = sum(p.numel() for p in block.parameters())
    convs = sum(m.weight.numel() for m in block.modules() if isinstance(m, nn.Conv2d))
    if answer == convs:
        raise Mismatch(f"{answer:,} counts the convolutions only: each BatchNorm has a scale and a shift "
                       "per channel")
    basic = sum(p.numel() for p in BasicBlock(256, 256).parameters())
    if answer == basic:
        raise Mismatch(f"{answer:,} is a basic block of two 3×3 convolutions at 256 channels; the bottleneck "
                       "reduces to 64 channels with a 1×1 first")
    expect_number(answer, expected, "the parameter count")
    return f"{expected:,}, against {basic:,} for a basic block at 256 channels: {basic / expected:.0f}× fewer"


@check("The forward pass of a residual block")
def residual_forward(fn) -> str:
    """``fn(block, x)`` must compute a :class:`BasicBlock`'s output from its layers."""
    g = torch.Generator().manual_seed(0)
    for in_ch, width, stride in [(8, 8, 1), (8, 16, 2)]:
        torch.manual_seed(0)
        block = BasicBlock(in_ch, width, stride).eval()
        for bn in (block.bn1, block.bn2):  # non-trivial statistics, so mistakes show
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
        x = torch.randn(2, in_ch, 8, 8, generator=g)
        with torch.no_grad():
            expected = block(x)
            got = call(fn, block, x)
            f_x = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))
            if isinstance(got, torch.Tensor) and got.shape == expected.shape:
                if torch.allclose(got, block.relu(f_x) + block.shortcut(x), atol=1e-5):
                    raise Mismatch("you apply the ReLU before adding the shortcut: relu(F(x)) + x keeps a clean "
                                   "identity path, but its residual relu(F(x)) can only be non-negative, so "
                                   "every block could only increase its input. The paper adds first, then "
                                   "applies the ReLU: relu(F(x) + x)")
                if torch.allclose(got, block.relu(f_x), atol=1e-5):
                    raise Mismatch("the shortcut is missing: add block.shortcut(x) before the last ReLU")
        expect_tensor(got, expected, f"the output for in={in_ch}, width={width}, stride={stride}")
    return "matches BasicBlock, with identity and projection shortcuts"
