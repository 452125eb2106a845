"""Auto-checks for chapter 1's exercises (convolutional networks)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.cnn import conv_output_size, receptive_field
from .core import Mismatch, call, check, expect_number, expect_tensor, hidden_generator, randint

# (size, kernel, stride, padding, dilation) cases that catch the usual slips
_SHAPE_CASES = [(28, 3, 1, 1, 1), (28, 5, 1, 0, 1), (32, 3, 2, 1, 1), (27, 3, 2, 0, 1), (28, 3, 1, 2, 2), (7, 7, 1, 0, 1)]


def _hidden_shape_cases(gen: torch.Generator, n: int = 4) -> list[tuple[int, int, int, int, int]]:
    cases = []
    while len(cases) < n:
        kernel, stride, padding, dilation = randint(gen, 1, 7), randint(gen, 1, 3), randint(gen, 0, 3), randint(gen, 1, 3)
        size = randint(gen, dilation * (kernel - 1) + 1, 40)
        if padding <= kernel // 2:  # what nn.Conv2d accepts
            cases.append((size, kernel, stride, padding, dilation))
    return cases


@check("Output size of a convolution")
def output_size(fn) -> str:
    """``fn(size, kernel, stride, padding, dilation)`` must give the output length nn.Conv2d produces."""
    gen, seed = hidden_generator()
    cases = [(case, "") for case in _SHAPE_CASES] + [(case, f" (hidden, seed {seed})")
                                                     for case in _hidden_shape_cases(gen)]
    for (size, kernel, stride, padding, dilation), tag in cases:
        conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
        expected = conv(torch.zeros(1, 1, size, size)).shape[-1]
        got = call(fn, size, kernel, stride, padding, dilation)
        case = f"size={size}, kernel={kernel}, stride={stride}, padding={padding}, dilation={dilation}{tag}"
        if isinstance(got, float):
            raise Mismatch(f"{case}: you return a float ({got}); a length is an int: use floor division //")
        if got != expected and dilation > 1 and got == conv_output_size(size, kernel, stride, padding):
            raise Mismatch(f"{case}: a dilated kernel spans dilation·(kernel−1)+1 pixels, not kernel")
        if got == expected - 1:
            raise Mismatch(f"{case}: you leave out the kernel's first position (the + 1 in the formula)")
        if got != expected and padding > 0 and got == conv_output_size(size, kernel, stride, 0, dilation):
            raise Mismatch(f"{case}: the padding is missing: it adds 2·padding to the size")
        expect_number(got, expected, f"output size for {case}",
                      hint="floor((size + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1")
    return f"right on all {len(cases)} cases (4 of them hidden), including stride, padding and dilation"


@check("Parameters of a convolution layer")
def conv_params(answer) -> str:
    """``answer``: the parameters of ``nn.Conv2d(32, 64, kernel_size=3)`` (with its bias)."""
    expected = sum(p.numel() for p in nn.Conv2d(32, 64, 3).parameters())
    if answer == 64 * 32 * 9:
        raise Mismatch(f"{answer:,} leaves out the biases: one per output channel")
    if answer in (64 * 9 + 64, 64 * 9):
        raise Mismatch(f"{answer:,}: each of the 64 filters spans all 32 input channels, so it has 32·3·3 weights")
    expect_number(answer, expected, "the parameter count",
                  hint="count the weights of one filter (in_channels·k·k), times the filters, plus one bias each")
    return f"{expected:,}: 64 filters of 32×3×3 weights, plus 64 biases"


@check("A vertical-edge detector")
def vertical_edge_filter(kernel) -> str:
    """``kernel``: a 3×3 tensor that responds to vertical edges, not to flat regions or horizontal edges."""
    if not isinstance(kernel, Tensor) or kernel.shape != (3, 3):
        raise Mismatch(f"expected a 3×3 tensor, got {getattr(kernel, 'shape', type(kernel).__name__)}")
    k = kernel.float().view(1, 1, 3, 3)
    flat = torch.full((1, 1, 9, 9), 0.7)
    vertical = torch.zeros(1, 1, 9, 9)
    vertical[..., 4:] = 1.0  # dark left half, bright right half
    horizontal = vertical.transpose(2, 3)
    respond = {name: F.conv2d(img, k).abs().max().item() for name, img in
               [("flat", flat), ("vertical", vertical), ("horizontal", horizontal)]}
    if respond["flat"] > 1e-4:
        raise Mismatch(f"a flat grey image gives a response of {respond['flat']:.3g}: make the weights sum to "
                       "zero so that constant regions give 0")
    if respond["vertical"] < 0.5:
        raise Mismatch(f"a vertical edge from 0 to 1 only gives {respond['vertical']:.3g}: the kernel must "
                       "weigh left and right columns differently (aim for at least 0.5)")
    if respond["horizontal"] > 0.1 * respond["vertical"]:
        raise Mismatch(f"it answers horizontal edges too ({respond['horizontal']:.3g} against "
                       f"{respond['vertical']:.3g}): make each column's weights equal from top to bottom")
    gen, seed = hidden_generator()  # hidden: a flat image at another level, an edge elsewhere and of another contrast
    level, col, contrast = float(torch.rand((), generator=gen)) * 4 - 2, randint(gen, 2, 7), 0.5 + float(
        torch.rand((), generator=gen)) * 2
    scale = max(1.0, abs(level)) * max(1.0, k.abs().sum().item())
    if F.conv2d(torch.full((1, 1, 9, 9), level), k).abs().max().item() > 1e-4 * scale:
        raise Mismatch(f"a hidden flat image at level {level:.2f} (seed {seed}) gives a non-zero response: make "
                       "the weights sum to zero")
    edge = torch.zeros(1, 1, 9, 9)
    edge[..., col:] = contrast
    if F.conv2d(edge, k).abs().max().item() < 0.5 * contrast:
        raise Mismatch(f"a hidden vertical edge (column {col}, contrast {contrast:.2f}, seed {seed}) gives a weak "
                       "response: weigh the left and right columns differently")
    return f"edge response {respond['vertical']:.2f}, flat 0, horizontal {respond['horizontal']:.2f}"


@check("Receptive field of the small CNN")
def receptive_field_answer(answer) -> str:
    """``answer``: receptive field of one unit after conv3 → pool2 → conv3 → conv3 → pool2."""
    stack = [(3, 1), (2, 2), (3, 1), (3, 1), (2, 2)]
    expected = receptive_field(stack)
    if answer == 1 + sum(k - 1 for k, _ in stack):
        raise Mismatch(f"{answer} ignores the strides: after a stride-2 pool each step of the next kernel "
                       "moves two input pixels, so later layers widen the field twice as fast")
    expect_number(answer, expected, "the receptive field",
                  hint="each layer widens the field by (k − 1) times the product of the strides before it")
    return f"{expected}×{expected} input pixels"


@check("Max-pooling with unfold")
def max_pool2d(fn) -> str:
    """``fn(x, k)`` must equal ``F.max_pool2d(x, k)`` (window k, stride k) on (B, C, H, W) tensors."""
    g = torch.Generator().manual_seed(0)
    gen, seed = hidden_generator()
    k_hidden = randint(gen, 2, 4)
    hidden = ((randint(gen, 1, 3), randint(gen, 1, 4), randint(gen, k_hidden, 13), randint(gen, k_hidden, 13)), k_hidden)
    for i, (shape, k) in enumerate([((2, 3, 8, 8), 2), ((1, 2, 9, 9), 3), ((2, 1, 7, 7), 2), hidden]):
        x = torch.randn(*shape, generator=g if i < 3 else gen)
        got = call(fn, x, k)
        expected = F.max_pool2d(x, k)
        if isinstance(got, Tensor) and got.shape == expected.shape and torch.allclose(got, F.avg_pool2d(x, k)):
            raise Mismatch("you return the mean of each window: max-pooling keeps the largest value")
        tag = f" (hidden, seed {seed})" if i == 3 else ""
        expect_tensor(got, expected, f"max-pooling a {shape} input with k={k}{tag}")
    return "matches F.max_pool2d, odd sizes and a hidden case included"

