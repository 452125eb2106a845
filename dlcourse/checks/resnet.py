"""Auto-checks for chapter 2's exercises (residual networks)."""
from __future__ import annotations

import functools

import torch
from torch import nn

from ..models.resnet import BasicBlock, Bottleneck, resnet18
from .core import Mismatch, call, check, expect_number, expect_tensor, hidden_generator, randint


@functools.lru_cache(maxsize=1)
def _stage_shapes() -> tuple[list[tuple[int, ...]], int]:
    """ResNet-18's (C, H, W) after each stage for a 3×224×224 input, and the stem's output size."""
    model = resnet18().eval()
    shapes = []
    with torch.no_grad():
        x = model.stem(torch.zeros(1, 3, 224, 224))
        stem = x.shape[-1]
        for stage in model.stages:
            x = stage(x)
            shapes.append(tuple(x.shape[1:]))
    return shapes, stem


@check("Stage shapes of ResNet-18")
def stage_shapes(answer) -> str:
    """``answer``: the (C, H, W) after each of ResNet-18's four stages, for a 3×224×224 input."""
    shapes, stem = _stage_shapes()
    try:
        got = [tuple(int(v) for v in s) for s in answer]
    except TypeError:
        raise Mismatch("give a list of four (channels, height, width) tuples") from None
    if len(got) != 4:
        raise Mismatch(f"ResNet-18 has four stages; you gave {len(got)} shapes")
    if any(len(g) != 3 for g in got):
        raise Mismatch("each shape is three numbers: (channels, height, width)")
    if got[0][1:] == (2 * stem, 2 * stem):
        raise Mismatch("stage 1's height and width are too large: the stem halves the image twice (a 7×7 "
                       "stride-2 conv, then a stride-2 max-pool), and stage 1 keeps that size")
    for i, (g, e) in enumerate(zip(got, shapes), 1):
        if g[0] != e[0]:
            raise Mismatch(f"stage {i}: the number of channels is wrong; stage 1 keeps the stem's 64 channels "
                           "and each later stage doubles them")
        if g[1:] != e[1:]:
            raise Mismatch(f"stage {i}: the height and width are wrong; stage 1 keeps the stem's resolution "
                           "and each later stage halves it with a stride-2 first block")
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
    expect_number(answer, expected, "the parameter count",
                  hint="add the 1×1 (256→64), 3×3 (64→64) and 1×1 (64→256) convolutions (no biases), and a scale "
                       "and a shift for every BatchNorm channel")
    return f"{expected:,}, against {basic:,} for a basic block at 256 channels: {basic / expected:.0f}× fewer"


@check("The forward pass of a residual block")
def residual_forward(fn) -> str:
    """``fn(block, x)`` must compute a :class:`BasicBlock`'s output from its layers."""
    g = torch.Generator().manual_seed(0)
    gen, seed = hidden_generator()
    hidden = (randint(gen, 2, 12), randint(gen, 2, 12), randint(gen, 1, 2), randint(gen, 4, 11))
    for i, (in_ch, width, stride, size) in enumerate([(8, 8, 1, 8), (8, 16, 2, 8), hidden]):
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(0 if i < 2 else seed)
            block = BasicBlock(in_ch, width, stride).eval()
            for bn in (block.bn1, block.bn2):  # non-trivial statistics, so mistakes show
                bn.running_mean.uniform_(-0.5, 0.5)
                bn.running_var.uniform_(0.5, 2.0)
                bn.weight.uniform_(0.5, 1.5)
        x = torch.randn(2, in_ch, size, size, generator=g if i < 2 else gen)
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
        tag = f", a hidden case (seed {seed})" if i == 2 else ""
        expect_tensor(got, expected, f"the output for in={in_ch}, width={width}, stride={stride}, {size}×{size}{tag}")
    return "matches BasicBlock, with identity and projection shortcuts, on a hidden block too"
