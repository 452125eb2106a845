"""Chapter 8, BERT part, on a GPU: MLM pre-training for longer (PRETRAIN_S seconds of a wider, deeper BERT than
the CPU chapter's), then the fine-tuning curve at 250 / 1,000 / all labels, pre-trained against the same model
from scratch (and a linear probe on frozen features), on the movie-review test sentences with McNemar's test.

    python drafts/gpu/08_bert.py            # on CUDA, ~100 s
    GPU_SMOKE=1 python drafts/gpu/08_bert.py  # tiny, on a CPU, to test the script

Prints a table; writes $OUT/08_bert.json when $OUT is set.
"""
import dataclasses
import json
import math
import os
import time

import torch
import torch.nn.functional as F

import dlcourse
from dlcourse import data, metrics, text, train
from dlcourse.data.movie_reviews import vader_sentences
from dlcourse.models.bert import BERT, BERTClassifier, BERTConfig

SMOKE = os.environ.get("GPU_SMOKE") == "1"
SEED = int(os.environ.get("DLCOURSE_SEED", 0))
device = torch.device("cuda" if torch.cuda.is_available() and not SMOKE else "cpu")
PRETRAIN_S = 5 if SMOKE else 50
VOCAB, LEN = (2000, 32) if SMOKE else (8000, 64)
WIDTH, LAYERS, HEADS, BATCH = (32, 1, 2, 64) if SMOKE else (256, 4, 4, 256)
SIZES = [250] if SMOKE else [250, 1000, None]
t0 = time.perf_counter()
dlcourse.seed_everything(SEED)
reviews = {s: data.load("movie-reviews", s) for s in ("train", "val", "test")}
mlm_texts = reviews["train"].texts + vader_sentences()
tok = text.train_wordpiece(mlm_texts, VOCAB)
ids_train = text.wordpiece_ids(tok, mlm_texts, LEN).to(device)
config = BERTConfig(vocab_size=tok.get_vocab_size(), block_size=LEN, n_layer=LAYERS, n_head=HEADS, n_embd=WIDTH,
                    dropout=0.1)
bert = BERT(config).to(device)
held_in, held_lab = bert.mask(text.wordpiece_ids(tok, reviews["val"].texts, LEN), torch.Generator().manual_seed(SEED + 1))
counts = torch.bincount(ids_train.flatten().cpu(), minlength=config.vocab_size)
counts[list(config.special_ids) + [tok.token_to_id("[UNK]")]] = 0
unigram = (held_lab[held_lab != text.IGNORE] == counts.argmax()).float().mean().item()

# pre-training: AdamW, linear warm-up over the first 5% of the time, then cosine decay to 0, by wall time
opt = torch.optim.AdamW(bert.parameters(), lr=1e-3, weight_decay=0.01, betas=(0.9, 0.98))
gen = torch.Generator().manual_seed(SEED)
steps, start = 0, time.perf_counter()
bert.train()
while (elapsed := time.perf_counter() - start) < PRETRAIN_S:
    frac = elapsed / PRETRAIN_S
    for g in opt.param_groups:
        g["lr"] = 1e-3 * (frac / 0.05 if frac < 0.05 else 0.5 * (1 + math.cos(math.pi * (frac - 0.05) / 0.95)))
    batch = ids_train[torch.randint(0, len(ids_train), (BATCH,), generator=gen).to(device)]
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        loss = bert.loss((batch,))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(bert.parameters(), 1.0)
    opt.step()
    steps += 1
mlm_acc = bert.mlm_accuracy(held_in, held_lab)
result = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu", "seed": SEED,
          "config": dataclasses.asdict(config), "pretrain_seconds": PRETRAIN_S, "pretrain_steps": steps,
          "tokens_seen": steps * BATCH * LEN, "mlm_acc": mlm_acc, "unigram_acc": unigram, "curve": []}
print(f"MLM: {steps} steps in {PRETRAIN_S} s on {result['device']}, masked-token accuracy {mlm_acc:.3f} "
      f"(unigram {unigram:.3f}, x{mlm_acc / unigram:.1f})", flush=True)

enc = {s: text.wordpiece_ids(tok, d.texts, LEN) for s, d in reviews.items()}
labels = {s: d.labels for s, d in reviews.items()}
order = torch.randperm(len(enc["train"]), generator=torch.Generator().manual_seed(SEED + 2))
state = {k: v.clone() for k, v in bert.state_dict().items()}


def fine_tune(n, pretrained, freeze=False):
    dlcourse.seed_everything(SEED + 3)
    encoder = BERT(config)
    if pretrained:
        encoder.load_state_dict(state)
    clf = BERTClassifier(encoder, pool="mean", freeze=freeze)
    pick = order[:n]
    epochs = 20 if freeze else max(3, min(20, 6000 // n))  # about the same number of steps at every size
    epochs = 1 if SMOKE else epochs
    train.fit(clf, data.TensorData(enc["train"][pick], labels["train"][pick]), epochs=epochs, batch_size=32,
              lr=3e-3 if freeze else 5e-4, schedule="onecycle", weight_decay=0.01, clip_grad_norm=1.0,
              device=device, seed=SEED + 4, progress=False)
    return (clf.predict(enc["test"].to(device)).cpu() == labels["test"])


print(f"{'labels':>7} {'pre-trained':>11} {'scratch':>8} {'probe pre':>9} {'probe rnd':>9}  McNemar (pre vs scratch)")
for n in SIZES:
    n = len(order) if n is None else n
    pre, scratch = fine_tune(n, True), fine_tune(n, False)
    probe_pre, probe_rnd = fine_tune(n, True, freeze=True), fine_tune(n, False, freeze=True)
    p, verdict = metrics.paired_verdict("pre-trained BERT", pre, "BERT from scratch", scratch)
    row = {"labels": n, "pretrained": pre.float().mean().item(), "scratch": scratch.float().mean().item(),
           "probe_pretrained": probe_pre.float().mean().item(), "probe_random": probe_rnd.float().mean().item(),
           "p_value": p, "verdict": verdict}
    result["curve"].append(row)
    print(f"{n:>7} {row['pretrained']:>11.3f} {row['scratch']:>8.3f} {row['probe_pretrained']:>9.3f} "
          f"{row['probe_random']:>9.3f}  p = {p:.2g}", flush=True)
result["total_seconds"] = time.perf_counter() - t0
print(f"total {result['total_seconds']:.0f} s")
if os.environ.get("OUT"):
    with open(os.path.join(os.environ["OUT"], "08_bert.json"), "w") as f:
        json.dump(result, f, indent=1)
