"""Chapter 8 on a GPU: the character GPT against chapter 5's character LSTM at equal wall-clock budgets.

Each model trains from scratch for each budget (the GPT with its time-based warm-up and cosine schedule,
the LSTM with chapter 5's constant rate), then is scored on the held-out plays with ``text.lm_nats`` at
``LM_CONTEXT``, exactly as in the notebook. Prints a table and, when ``$OUT`` is set, writes
``$OUT/08_gpt.json``. ``GPU_SMOKE=1`` runs a tiny version on the CPU (to test the script).

    python drafts/gpu/08_gpt.py
"""
from __future__ import annotations

import json
import os
import time

import torch

import dlcourse
from dlcourse import text, train
from dlcourse.budget import TimeBudget
from dlcourse.models.gpt import GPT, GPTConfig
from dlcourse.models.rnn import CharLM, CharLMConfig

SMOKE = os.environ.get("GPU_SMOKE") == "1"
device = torch.device("cpu") if SMOKE else torch.device("cuda")
BUDGETS = (1.0, 2.0) if SMOKE else (4.0, 8.0, 16.0)  # seconds of training per run
vocab, corpus = text.char_corpus("shakespeare")
V = len(vocab)
val_ids = corpus["val"][:20_001] if SMOKE else corpus["val"]
gpt_config = GPTConfig(V, block_size=text.LM_CONTEXT, n_layer=2, n_head=4, n_embd=128, dropout=0.0)
lstm_config = CharLMConfig(V, embed_dim=32, hidden=384, num_layers=1)
# name: (build, window, batch, peak lr, time-based schedule?, budgets)
RUNS = {
    "GPT 2x128, batch 64": (lambda: GPT(gpt_config), text.LM_CONTEXT, 64, 3e-3, True, BUDGETS),
    "LSTM 384, batch 64 (chapter 5)": (lambda: CharLM(lstm_config), 64, 64, 5e-3, False, BUDGETS),
    "GPT 2x128, batch 16 (the CPU recipe)": (lambda: GPT(gpt_config), text.LM_CONTEXT, 16, 3e-3, True, BUDGETS[-1:]),
}


def run(build, window, batch, lr, schedule, seconds, seed=0):
    dlcourse.seed_everything(seed)
    model = build().to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    clock = TimeBudget(seconds, optimizer, lr) if schedule else TimeBudget(seconds)
    train.fit(model, text.lm_windows(corpus["train"], window), epochs=1, batch_size=batch,
              optimizer=lambda params: optimizer, clip_grad_norm=1.0, callbacks=[clock], device=device,
              seed=seed, progress=False)
    nats = text.lm_nats(model, val_ids, text.LM_CONTEXT)
    return {"seconds": clock.seconds, "steps": clock.steps, "mchars": clock.steps * batch * window / 1e6, "nats": nats}


def main():
    start = time.perf_counter()
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    print(f"device: {name}, torch {torch.__version__}")
    if device.type == "cuda":  # warm up the kernels so the first budget is not spent compiling
        run(RUNS["GPT 2x128, batch 64"][0], text.LM_CONTEXT, 64, 3e-3, True, 1.0)
        run(RUNS["LSTM 384, batch 64 (chapter 5)"][0], 64, 64, 5e-3, False, 1.0)
    rows = []
    for label, (build, window, batch, lr, schedule, budgets) in RUNS.items():
        for seconds in budgets:
            result = {"model": label, "budget_s": seconds, **run(build, window, batch, lr, schedule, seconds)}
            rows.append(result)
            print(f"{label:38s} {seconds:5.0f} s: {result['steps']:6d} steps, {result['mchars']:7.2f} M chars, "
                  f"val {result['nats']:.3f} nats", flush=True)
    print("\n| budget (s) | GPT batch 64: nats | LSTM: nats | ahead |\n|---:|---:|---:|---|")
    crossing = None
    for seconds in BUDGETS:
        g = next(r for r in rows if r["model"].startswith("GPT 2x128, batch 64") and r["budget_s"] == seconds)
        lstm = next(r for r in rows if r["model"].startswith("LSTM") and r["budget_s"] == seconds)
        ahead = "GPT" if g["nats"] < lstm["nats"] else "LSTM"
        if ahead == "GPT" and crossing is None:
            crossing = seconds
        print(f"| {seconds:.0f} | {g['nats']:.3f} | {lstm['nats']:.3f} | {ahead} |")
    print(f"the GPT is ahead from a budget of {crossing} s" if crossing else "the LSTM is ahead at every budget")
    total = time.perf_counter() - start
    print(f"total {total:.0f} s")
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "08_gpt.json"), "w") as f:
            json.dump({"device": name, "rows": rows, "gpt_ahead_from_s": crossing, "total_s": total}, f, indent=1)


if __name__ == "__main__":
    main()
