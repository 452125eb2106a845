"""Chapter 8 (GPT): the time budget callback, the attention maps, the FLOP count and the GPT checks."""
import math
import time

import pytest
import torch

from dlcourse import train
from dlcourse.budget import TimeBudget, restored, warmup_cosine
from dlcourse.data import TensorData
from dlcourse.models.gpt import GPT, GPTConfig, gpt_flops_per_token


def small(**kw):
    torch.manual_seed(0)
    return GPT(GPTConfig(**{"vocab_size": 23, "block_size": 16, "n_layer": 2, "n_head": 4, "n_embd": 32, **kw}))


def test_warmup_cosine_rises_then_decays_to_the_floor():
    assert warmup_cosine(0.0) > 0  # the first step moves the weights
    assert warmup_cosine(0.05) == pytest.approx(1.0)
    assert warmup_cosine(1.0) == pytest.approx(0.1)
    assert warmup_cosine(2.0) == pytest.approx(0.1)  # past the budget: stays at the floor
    values = [warmup_cosine(f / 100) for f in range(5, 101)]
    assert all(a >= b for a, b in zip(values, values[1:]))  # monotone after the warm-up
    assert warmup_cosine(0.525) == pytest.approx(0.1 + 0.9 * 0.5)  # halfway through the cosine


def test_time_budget_stops_training_sets_the_rate_and_keeps_snapshots():
    model = small()
    seq = torch.randint(0, 23, (20_000, 17), generator=torch.Generator().manual_seed(0))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    clock = TimeBudget(0.5, opt, 1e-3, snapshot_every=2)
    start = time.perf_counter()
    history = train.fit(model, TensorData(seq[:, :-1], seq[:, 1:]), epochs=1, batch_size=8,
                        optimizer=lambda params: opt, callbacks=[clock], progress=False, device="cpu", seed=0)
    assert time.perf_counter() - start < 0.5 + 5.0  # stopped long before the 2,500 steps of the epoch
    assert history.stopped_early and clock.steps == len(history.step_loss) < 2500
    assert clock.seconds >= 0.5 and [s for s, _ in clock.log] == list(range(1, clock.steps + 1))
    assert opt.param_groups[0]["lr"] < 1e-3  # the cosine has decayed it (to the floor, 1e-4, at the end)
    assert all(s % 2 == 0 for s, _, _ in clock.snapshots) and len(clock.snapshots) == clock.steps // 2
    step, _, state = clock.snapshot_at(3)
    assert step == 2  # nearest, ties to the earlier
    early = restored(model, state)
    assert early is not model and torch.equal(early.wte.weight, state["wte.weight"])
    with pytest.raises(ValueError, match="both"):
        TimeBudget(1.0, opt)
    with pytest.raises(ValueError, match="no snapshots"):
        TimeBudget(1.0).snapshot_at(1)


def test_attention_maps_are_causal_distributions_that_reproduce_the_blocks():
    model = small().eval()
    x = torch.randint(0, 23, (3, 12), generator=torch.Generator().manual_seed(1))
    maps = model.attention_maps(x)
    assert len(maps) == 2 and maps[0].shape == (3, 4, 12, 12)
    for m in maps:
        assert torch.allclose(m.sum(-1), torch.ones(3, 4, 12), atol=1e-5)  # float32 softmax rows
        assert torch.all(m.triu(1) == 0)  # exactly zero above the diagonal: the causal mask
    # the weights applied to the values give the attention's output (block 0)
    block = model.blocks[0]
    with torch.no_grad():
        h = block.ln1(model.wte(x) + model.wpe(torch.arange(12)))
        out = block.attn(h, is_causal=True)
        assert torch.allclose(block.attn(h, is_causal=True, return_weights=True)[0], out, atol=1e-5)


def test_flops_per_token_formula():
    cfg = GPTConfig(86, block_size=128, n_layer=2, n_head=4, n_embd=128)
    assert gpt_flops_per_token(cfg) == 2 * (2 * 12 * 128 ** 2 + 86 * 128) + 2 * 2 * 128 * 128
    assert gpt_flops_per_token(cfg, context=1) < gpt_flops_per_token(cfg)
    # the blocks' matrices dominate: within 25% of 2 × the parameter count for this size
    n = sum(p.numel() for p in GPT(cfg).parameters())
    assert math.isclose(gpt_flops_per_token(cfg), 2 * n, rel_tol=0.25)
