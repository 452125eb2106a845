"""GPT (models/gpt.py): causality, the KV cache, the parameter formula, weight tying, and parity with
Hugging Face's GPT-2 (a test-only reference, skipped when ``transformers`` is absent)."""
import pytest
import torch

from dlcourse import train
from dlcourse.data import TensorData
from dlcourse.models.gpt import GPT, GPTConfig, gpt_parameter_count

TOL = dict(atol=1e-5, rtol=1e-5)  # float32, a few layers of width ≤ 64


def small(**kw):
    torch.manual_seed(0)
    return GPT(GPTConfig(**{"vocab_size": 23, "block_size": 16, "n_layer": 2, "n_head": 4, "n_embd": 32, **kw})).eval()


def test_changing_later_tokens_never_changes_earlier_logits():
    model = small()
    x = torch.randint(0, 23, (3, 16), generator=torch.Generator().manual_seed(1))
    base = model(x)
    for t in (0, 7, 14):
        y = x.clone()
        y[:, t + 1:] = (y[:, t + 1:] + 5) % 23  # change every token after position t
        assert torch.allclose(model(y)[:, :t + 1], base[:, :t + 1], **TOL)
        assert not torch.allclose(model(y)[:, t + 1:], base[:, t + 1:], **TOL)


def test_parameter_count_tying_and_initialisation():
    for cfg in (GPTConfig(65), GPTConfig(100, block_size=64, n_layer=3, n_head=2, n_embd=48)):
        model = GPT(cfg)
        assert sum(p.numel() for p in model.parameters()) == gpt_parameter_count(cfg)
        assert model.lm_head.weight is model.wte.weight
    model = GPT(GPTConfig(50, n_layer=8, n_embd=256))
    # std 0.02/√16 = 0.005 for the residual projections; 0.02 elsewhere (65,536 weights: ±1%)
    assert abs(model.blocks[0].attn.out_proj.weight.std().item() - 0.005) < 0.0002
    assert abs(model.blocks[0].mlp.linear1.weight.std().item() - 0.02) < 0.0005
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(10, n_head=3, n_embd=32)


def test_generation_with_the_kv_cache_equals_generation_without():
    model = small()
    prompt = torch.tensor([1, 2, 3, 4, 5])
    for temperature, top_k in ((0.0, None), (1.0, 5)):
        # 30 new tokens from a 5-token prompt: the context outgrows block_size 16, so the cache is rebuilt too
        fast = model.generate(prompt, 30, temperature, top_k, torch.Generator().manual_seed(0), use_cache=True)
        slow = model.generate(prompt, 30, temperature, top_k, torch.Generator().manual_seed(0), use_cache=False)
        assert torch.equal(fast, slow) and len(fast) == 30
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, 17, dtype=torch.long))


def test_learns_to_count():
    model = small()
    start = torch.randint(0, 23, (256, 1), generator=torch.Generator().manual_seed(0))
    seq = (start + torch.arange(17)) % 23  # each id is the one before plus one
    history = train.fit(model, TensorData(seq[:, :-1], seq[:, 1:]), epochs=10, batch_size=32, lr=3e-3,
                        progress=False, device="cpu", seed=0)
    assert history["train_loss"][-1] < 0.1 * history["train_loss"][0]
    assert model.generate(torch.tensor([3]), 5, temperature=0).tolist() == [4, 5, 6, 7, 8]


def test_matches_hugging_face_gpt2_with_copied_weights():
    transformers = pytest.importorskip("transformers")
    cfg = GPTConfig(vocab_size=50, block_size=16, n_layer=2, n_head=4, n_embd=32)
    ours = small(vocab_size=50)
    hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=50, n_positions=16, n_embd=32, n_layer=2, n_head=4, activation_function="gelu",
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5)).eval()
    sd = hf.state_dict()
    with torch.no_grad():
        ours.wte.weight.copy_(sd["transformer.wte.weight"])
        ours.wpe.weight.copy_(sd["transformer.wpe.weight"])
        ours.ln_f.weight.copy_(sd["transformer.ln_f.weight"])
        ours.ln_f.bias.copy_(sd["transformer.ln_f.bias"])
        for i, block in enumerate(ours.blocks):
            p = f"transformer.h.{i}."
            block.ln1.weight.copy_(sd[p + "ln_1.weight"])
            block.ln1.bias.copy_(sd[p + "ln_1.bias"])
            block.ln2.weight.copy_(sd[p + "ln_2.weight"])
            block.ln2.bias.copy_(sd[p + "ln_2.bias"])
            block.attn.in_proj_weight.copy_(sd[p + "attn.c_attn.weight"].T)  # GPT-2's Conv1D stores (in, out)
            block.attn.in_proj_bias.copy_(sd[p + "attn.c_attn.bias"])
            block.attn.out_proj.weight.copy_(sd[p + "attn.c_proj.weight"].T)
            block.attn.out_proj.bias.copy_(sd[p + "attn.c_proj.bias"])
            block.mlp.linear1.weight.copy_(sd[p + "mlp.c_fc.weight"].T)
            block.mlp.linear1.bias.copy_(sd[p + "mlp.c_fc.bias"])
            block.mlp.linear2.weight.copy_(sd[p + "mlp.c_proj.weight"].T)
            block.mlp.linear2.bias.copy_(sd[p + "mlp.c_proj.bias"])
    x = torch.randint(0, 50, (2, 16), generator=torch.Generator().manual_seed(0))
    assert cfg.n_embd == ours.config.n_embd
    assert torch.allclose(ours(x), hf(x).logits, atol=1e-4)
