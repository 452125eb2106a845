"""BERT (chapter 8): parity with Hugging Face's BertForMaskedLM, bidirectionality, the MLM loss, bad inputs,
and the WordPiece tokenizer helper. The 80/10/10 masking statistics are tested in tests/test_text.py."""
import pytest
import torch

from dlcourse import text
from dlcourse.models.bert import BERT, BERTClassifier, BERTConfig

CONFIG = BERTConfig(vocab_size=50, block_size=16, n_layer=2, n_head=4, n_embd=32, d_ff=48, dropout=0.0)


def hf_to_ours(state: dict, n_layer: int) -> dict:
    """Hugging Face BertForMaskedLM's state dict → ours (q, k, v are one fused (3C, C) projection here)."""
    out = {"wte.weight": state["bert.embeddings.word_embeddings.weight"],
           "wpe.weight": state["bert.embeddings.position_embeddings.weight"],
           "wse.weight": state["bert.embeddings.token_type_embeddings.weight"],
           "ln_emb.weight": state["bert.embeddings.LayerNorm.weight"],
           "ln_emb.bias": state["bert.embeddings.LayerNorm.bias"],
           "mlm_dense.weight": state["cls.predictions.transform.dense.weight"],
           "mlm_dense.bias": state["cls.predictions.transform.dense.bias"],
           "mlm_ln.weight": state["cls.predictions.transform.LayerNorm.weight"],
           "mlm_ln.bias": state["cls.predictions.transform.LayerNorm.bias"],
           "mlm_bias": state["cls.predictions.bias"]}
    for i in range(n_layer):
        p = f"bert.encoder.layer.{i}."
        q = [state[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]
        b = [state[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]
        ours = {"attn.in_proj_weight": torch.cat(q), "attn.in_proj_bias": torch.cat(b),
                "attn.out_proj.weight": p + "attention.output.dense.weight",
                "attn.out_proj.bias": p + "attention.output.dense.bias",
                "ln1.weight": p + "attention.output.LayerNorm.weight", "ln1.bias": p + "attention.output.LayerNorm.bias",
                "mlp.linear1.weight": p + "intermediate.dense.weight", "mlp.linear1.bias": p + "intermediate.dense.bias",
                "mlp.linear2.weight": p + "output.dense.weight", "mlp.linear2.bias": p + "output.dense.bias",
                "ln2.weight": p + "output.LayerNorm.weight", "ln2.bias": p + "output.LayerNorm.bias"}
        for name, value in ours.items():
            out[f"blocks.{i}.{name}"] = state[value] if isinstance(value, str) else value
    return out


def test_matches_transformers_bert_for_masked_lm():
    transformers = pytest.importorskip("transformers")
    hf_config = transformers.BertConfig(vocab_size=CONFIG.vocab_size, hidden_size=CONFIG.n_embd,
                                        num_hidden_layers=CONFIG.n_layer, num_attention_heads=CONFIG.n_head,
                                        intermediate_size=CONFIG.d_ff, max_position_embeddings=CONFIG.block_size,
                                        hidden_act="gelu", pad_token_id=CONFIG.pad_id)
    torch.manual_seed(0)
    hf = transformers.BertForMaskedLM(hf_config).eval()
    ours = BERT(CONFIG).eval()
    missing, unexpected = ours.load_state_dict(hf_to_ours(hf.state_dict(), CONFIG.n_layer), strict=False)
    assert set(missing) == {"pool.weight", "pool.bias"} and not unexpected  # BertForMaskedLM has no pooler
    ids = torch.randint(4, CONFIG.vocab_size, (3, 12))
    ids[:, 0] = CONFIG.cls_id
    ids[1, 8:] = CONFIG.pad_id  # a padded row: compared only at its real positions
    keep = ids != CONFIG.pad_id
    segments = torch.zeros_like(ids)
    segments[:, 6:] = 1
    with torch.no_grad():
        theirs = hf(input_ids=ids, attention_mask=keep.long(), token_type_ids=segments).logits  # (B, T, V)
        mine = ours(ids, segments)
    # float32 rounding through 2 blocks and 3 LayerNorms: differences ~1e-6 on logits of size ~1
    assert torch.allclose(mine[keep], theirs[keep], atol=1e-5, rtol=1e-5)


def test_bidirectional_a_later_token_changes_earlier_outputs():
    torch.manual_seed(0)
    model = BERT(CONFIG).eval()
    ids = torch.randint(4, CONFIG.vocab_size, (4, 10))
    changed = ids.clone()
    changed[:, 9] = 4 + (ids[:, 9] - 4 + 1) % (CONFIG.vocab_size - 4)  # a different ordinary id at the end
    with torch.no_grad():
        moved = (model.encode(ids)[:, :9] - model.encode(changed)[:, :9]).abs().amax(dim=(1, 2))  # (B,)
    assert (moved > 1e-4).all()  # every row's earlier positions see the change (a causal model: exactly 0)


def test_padding_is_invisible_and_mlm_loss_reads_only_masked_positions():
    torch.manual_seed(0)
    model = BERT(CONFIG).eval()
    ids = torch.randint(4, CONFIG.vocab_size, (2, 8))
    padded = torch.cat([ids, torch.full((2, 5), CONFIG.pad_id)], dim=1)
    with torch.no_grad():
        assert torch.allclose(model.encode(ids), model.encode(padded)[:, :8], atol=1e-5)
    labels = torch.full_like(ids, text.IGNORE)
    labels[0, 3], labels[1, 5] = 7, 9
    logits = model(ids)
    by_hand = torch.nn.functional.cross_entropy(torch.stack([logits[0, 3], logits[1, 5]]), torch.tensor([7, 9]))
    assert torch.allclose(model.mlm_loss(ids, labels), by_hand, atol=1e-6)
    inputs, labels = model.mask(padded, torch.Generator().manual_seed(0))
    assert (labels[padded == CONFIG.pad_id] == text.IGNORE).all()


def test_classifier_freezing_and_pooling():
    bert = BERT(CONFIG)
    probe = BERTClassifier(bert, pool="mean", freeze=True)
    assert not any(p.requires_grad for p in bert.parameters())
    probe.train()
    assert not bert.training and probe.head.training
    ids = torch.randint(4, CONFIG.vocab_size, (5, 7))
    assert probe(ids).shape == (5, 2) and BERTClassifier(BERT(CONFIG))(ids).shape == (5, 2)
    with pytest.raises(ValueError, match="pool"):
        BERTClassifier(bert, pool="max")


def test_bad_inputs_fail_clearly():
    model = BERT(CONFIG)
    with pytest.raises(ValueError, match="int64"):
        model(torch.rand(2, 5))
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, CONFIG.block_size + 1, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[0, 50\)"):
        model(torch.full((1, 4), CONFIG.vocab_size))
    with pytest.raises(ValueError, match="segments"):
        model(torch.zeros(2, 4, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="distinct"):
        BERTConfig(vocab_size=10, pad_id=0, cls_id=0)
    with pytest.raises(ValueError, match="divisible"):
        BERTConfig(vocab_size=10, n_embd=30, n_head=4)
