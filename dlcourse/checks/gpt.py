"""Auto-checks for chapter 8's exercises (GPT)."""
from __future__ import annotations

import torch

from ..models.gpt import GPTConfig, gpt_parameter_count
from .bert import mlm_loss  # noqa: F401 (chapter 8's BERT exercise, so that the chapter's `check` has it)
from .core import Mismatch, call, check, expect_number, expect_tensor, hidden_generator, randint


@check("Parameters of a GPT")
def gpt_params(answer) -> str:
    """``answer``: the parameters of ``GPT(GPTConfig(vocab_size=65, block_size=256, n_layer=6, n_head=6, n_embd=384))``."""
    cfg = GPTConfig(65, block_size=256, n_layer=6, n_head=6, n_embd=384)
    expected = gpt_parameter_count(cfg)
    V, T, L, C = cfg.vocab_size, cfg.block_size, cfg.n_layer, cfg.n_embd
    if answer == expected + V * C:
        raise Mismatch(f"{answer:,} counts the output layer's matrix as well as the token embedding: they are one "
                       "matrix (weight tying), counted once")
    if answer == expected - T * C:
        raise Mismatch(f"{answer:,} leaves out the learned position embedding (one vector per position of the block)")
    if answer == V * C + T * C + L * 12 * C * C:
        raise Mismatch(f"{answer:,} counts the weight matrices only: add the biases and the LayerNorms' "
                       "weights and biases (13C per block, 2C for the last LayerNorm)")
    if answer == expected - 2 * C:
        raise Mismatch(f"{answer:,} forgets the final LayerNorm before the output layer")
    expect_number(answer, expected, "the parameter count",
                  hint="per block: q, k, v and the output projection (4C² + 4C), the feed-forward layer 4C wide "
                       "(8C² + 5C), two LayerNorms (4C)")
    return f"{expected:,}: V·C + T·C + L·(12C² + 13C) + 2C, with the head tied to the embedding"


@check("Inputs and targets for next-token prediction")
def next_token_pairs(fn) -> str:
    """``fn(chunk)`` for ids (B, T + 1) → ``(x, y)``, both (B, T): y[:, t] is the token after x[:, t]."""
    gen, seed = hidden_generator()
    cases = [(torch.arange(24).view(3, 8), "the ids 0 … 23 in 3 rows"),
             (torch.randint(0, 50, (randint(gen, 1, 6), randint(gen, 3, 20)), generator=gen),
              f"a hidden batch (seed {seed})")]
    for chunk, where in cases:
        got = call(fn, chunk)
        if not (isinstance(got, tuple) and len(got) == 2):
            raise Mismatch("return the pair (x, y)")
        x, y = got
        if isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and x.shape == y.shape == chunk[:, 1:].shape \
                and torch.equal(x, chunk[:, :-1]) and torch.equal(y, chunk[:, 1:]):
            continue
        if isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor):
            if x.shape == chunk.shape and torch.equal(x, y):
                raise Mismatch("x and y are the same tokens: this is the source article's demo, which scores the "
                               "output against its own input; a model then learns to copy. Shift by one: y is x "
                               "moved one position left")
            if torch.equal(x, chunk[:, 1:]) and torch.equal(y, chunk[:, :-1]):
                raise Mismatch("x and y are swapped: the inputs are the first T tokens, the targets the last T")
            if x.shape == (chunk.shape[1] - 1, chunk.shape[0]) and torch.equal(x.T, chunk[:, :-1]):
                raise Mismatch("the result is transposed: keep the batch first, (B, T)")
        expect_tensor(x, chunk[:, :-1], f"x for {where}", atol=0)
        expect_tensor(y, chunk[:, 1:], f"y for {where}", atol=0)
    return "right: x = chunk[:, :-1], y = chunk[:, 1:], so position t is scored on the token after it"


def _top_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    kth = logits.topk(k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


@check("Top-k filtering")
def top_k_filter(fn) -> str:
    """``fn(logits, k)`` for logits (B, V) → the same logits with every entry outside each row's k largest set to -inf."""
    gen, seed = hidden_generator()
    B, V = randint(gen, 2, 6), randint(gen, 8, 40)
    cases = [(torch.tensor([[2.0, -1.0, 0.5, 3.0, 1.0], [0.0, 4.0, -2.0, 1.0, 2.5]]), 2, "a 2 × 5 example, k = 2"),
             (torch.randn(B, V, generator=gen), randint(gen, 1, V - 1), f"a hidden {B} × {V} case (seed {seed})")]
    for logits, k, where in cases:
        expected = _top_k(logits, k)
        got = call(fn, logits.clone(), k)
        if isinstance(got, torch.Tensor) and got.shape == logits.shape:
            if torch.equal(torch.isfinite(got), torch.isfinite(_top_k(-logits, k))) and k < V // 2:
                raise Mismatch("you kept the k *smallest* logits: keep the k largest (topk, or sort descending)")
            if torch.equal(got, torch.where(torch.isfinite(expected), logits, torch.zeros_like(logits))):
                raise Mismatch("the dropped logits are 0, not -inf: a logit of 0 still gets probability after the "
                               "softmax; set them to float('-inf')")
            flat = logits.flatten()
            threshold = flat.topk(k).values[-1]
            if not torch.equal(torch.isfinite(got), torch.isfinite(expected)) and torch.equal(
                    torch.isfinite(got), logits >= threshold):
                raise Mismatch("you took the k largest of the whole batch: take them in each row (dim=-1)")
            counts = torch.isfinite(got).sum(-1)
            if (counts == k + 1).all() or (counts == k - 1).all() and k > 1:
                raise Mismatch(f"each row keeps {int(counts[0])} logits, not k = {k}: check the index of the k-th "
                               "largest value (topk(k).values[..., -1])")
        if not isinstance(got, torch.Tensor) or got.shape != logits.shape:
            raise Mismatch(f"for {where}, return a tensor shaped like the logits, {tuple(logits.shape)}")
        if torch.isnan(got).any() or (got == float("inf")).any():
            raise Mismatch(f"for {where}, the result holds NaN or +inf: only the dropped logits become -inf")
        dropped = got == float("-inf")
        if not torch.equal(dropped, expected == float("-inf")):
            rows = (dropped != (expected == float("-inf"))).any(-1).nonzero().flatten().tolist()
            raise Mismatch(f"for {where}, rows {rows} drop the wrong logits: keep exactly the k largest of each row")
        expect_tensor(got.masked_fill(dropped, 0.0), expected.masked_fill(dropped, 0.0),
                      f"the kept logits for {where} (they must stay unchanged)")
    return "right: each row keeps its k largest logits and the rest get probability zero"
