"""Chapter 10 on a GPU: what a *pixel-space* class-conditional DDPM needs (steps, time) and buys.

The package's small U-Net (``dlcourse.models.unet.TinyUNet``: time and class embeddings added in every block,
as in Ho et al., 2020) predicts the noise of 28×28 Fashion-MNIST images scaled to [−1, 1]; the noise schedule, ``add_noise``
and the DDIM ``step`` are the course's schedulers (``dlcourse.models.diffusion``), labels are dropped 10% of
the time for classifier-free guidance. It trains for TRAIN_S seconds (default 65), then samples 1,000 images
(100 per class) with DDIM in 50 steps, guided (w = 2) and unguided (w = 0) from the same noise, and the
course's judge (chapter 1's CNN, ``zoo.load_or_train("fashion-cnn")``) says how many it recognises.

Run on CUDA:  python drafts/gpu/10_diffusion.py        (writes $OUT/10_diffusion.json when $OUT is set)
Smoke test on a CPU with tiny sizes:  GPU_SMOKE=1 python drafts/gpu/10_diffusion.py
"""
from __future__ import annotations

import json
import math
import os
import time

import torch
import torch.nn.functional as F

import dlcourse
from dlcourse import data, judge, zoo
from dlcourse.models.diffusion import DDIMScheduler, DDPMScheduler
from dlcourse.models.unet import TinyUNet

SMOKE = os.environ.get("GPU_SMOKE") == "1"
TRAIN_S = float(os.environ.get("TRAIN_S", 3 if SMOKE else 65))
BATCH = 32 if SMOKE else 256
WIDTH = 8 if SMOKE else 64
N_SAMPLES = 100 if SMOKE else 1000
STEPS = 5 if SMOKE else 50
SEED = dlcourse.chapter_seed()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


@torch.no_grad()
def sample(net: TinyUNet, labels: torch.Tensor, w: float, steps: int, seed: int, device: torch.device) -> torch.Tensor:
    sched = DDIMScheduler(clip_sample=True)  # images live in [-1, 1]
    sched.set_timesteps(steps)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(len(labels), 1, 28, 28, generator=g).to(device)
    labels = labels.to(device)
    for t in sched.timesteps.tolist():
        tt = torch.full((len(labels),), t, device=device)
        eps = net(x, tt, labels)
        if w:
            eps = (1 + w) * eps - w * net(x, tt, None)  # classifier-free guidance (Ho & Salimans, 2022)
        x = sched.step(eps, t, x).prev_sample
    return ((x.clamp(-1, 1) + 1) / 2).cpu()  # back to [0, 1], what the judge reads


def main() -> None:
    dlcourse.seed_everything(SEED)
    device = torch.device("cpu") if SMOKE else dlcourse.get_device()
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    train_set, test_set = data.load("fashion-mnist", "train"), data.load("fashion-mnist", "test")
    x_all = (train_set.x * 2 - 1).to(device)  # (N, 1, 28, 28) in [-1, 1]
    y_all = train_set.y.to(device)
    start = time.perf_counter()
    judge_cnn = zoo.load_or_train("fashion-cnn", device=device, progress=False)
    judge_s = time.perf_counter() - start

    net = TinyUNet(WIDTH).to(device)
    params = sum(p.numel() for p in net.parameters())
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    sched = DDPMScheduler()
    g = torch.Generator(device=device).manual_seed(SEED)
    steps, losses = 0, []
    sync(device)
    start = time.perf_counter()
    while time.perf_counter() - start < TRAIN_S:
        idx = torch.randint(0, len(x_all), (BATCH,), device=device, generator=g)
        x0, y = x_all[idx], y_all[idx]
        t = torch.randint(0, sched.num_train_timesteps, (BATCH,), device=device, generator=g)
        noise = torch.randn(x0.shape, device=device, generator=g)
        y = torch.where(torch.rand(BATCH, device=device, generator=g) < 0.1, torch.full_like(y, 10), y)
        loss = F.mse_loss(net(sched.add_noise(x0, noise, t), t, y), noise)  # Ho et al.'s eq. (14)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1
        if steps % 100 == 0:
            losses.append(loss.item())
            sync(device)
    sync(device)
    train_s = time.perf_counter() - start

    asked = torch.arange(10).repeat_interleave(N_SAMPLES // 10)
    results = {"device": torch.cuda.get_device_name() if device.type == "cuda" else str(device),
               "params": params, "batch": BATCH, "train_s": round(train_s, 1), "train_steps": steps,
               "s_per_train_step": train_s / steps, "epochs": steps * BATCH / len(x_all),
               "final_loss": losses[-1] if losses else loss.item(), "judge_load_s": round(judge_s, 1),
               "sampling_steps": STEPS}
    real = test_set.x[:1000]
    for name, w in (("guided_w2", 2.0), ("unguided_w0", 0.0)):
        sync(device)
        t0 = time.perf_counter()
        images = sample(net, asked, w, STEPS, SEED + 1, device)
        sync(device)
        ms = 1000 * (time.perf_counter() - t0) / len(asked)
        v = judge.verdict(judge_cnn, images, asked, real=real)
        results[name] = {"agreement": v.agreement, "frechet": v.frechet, "confidence": v.confidence,
                         "ms_per_image": ms}
    print(f"pixel-space DDPM (TinyUNet, {params:,} parameters) on {results['device']}")
    print(f"trained {train_s:.1f} s: {steps:,} steps of {BATCH} ({results['epochs']:.1f} epochs), "
          f"{1000 * train_s / steps:.2f} ms per step, final loss {results['final_loss']:.4f}")
    print("| sampler | judge agreement | Fréchet (judge features) | ms per image |")
    print("|---|---:|---:|---:|")
    for name in ("guided_w2", "unguided_w0"):
        r = results[name]
        print(f"| DDIM {STEPS} steps, {name} | {r['agreement']:.3f} | {r['frechet']:.1f} | {r['ms_per_image']:.3f} |")
    out = os.environ.get("OUT")
    if out:
        with open(os.path.join(out, "10_diffusion.json"), "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
