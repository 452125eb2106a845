"""Diffusion (models/diffusion.py): the schedulers against the closed forms of Ho et al. (2020) and
Song et al. (2021), against ``diffusers`` when it is installed, and the model's loss and sampling."""
import math

import pytest
import torch

from dlcourse import data, judge, train
from dlcourse.models.diffusion import DDIMScheduler, DDPM, DDPMScheduler, DenoiserConfig


def test_forward_process_matches_its_closed_form():
    s = DDPMScheduler()
    assert s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    assert torch.allclose(s.alphas_cumprod, torch.cumprod(1 - s.betas.double(), 0).float(), rtol=1e-5)
    g = torch.Generator().manual_seed(0)
    x0 = torch.full((200_000, 1), 1.5)
    for t in (0, 250, 999):
        xt = s.add_noise(x0, torch.randn(x0.shape, generator=g), torch.full((len(x0),), t))
        a = s.alphas_cumprod[t].item()
        # 200,000 draws: standard errors of the mean and variance ≤ 0.0023 and 0.0032; tolerance 0.01
        assert abs(xt.mean().item() - math.sqrt(a) * 1.5) < 0.01
        assert abs(xt.var().item() - (1 - a)) < 0.01


def test_ddpm_step_with_the_true_noise_is_the_posterior_mean():
    s = DDPMScheduler()
    g = torch.Generator().manual_seed(1)
    x0, eps = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    for t in (1, 500, 999):
        xt = s.add_noise(x0, eps, torch.full((4,), t))
        out = s.step(eps, t, xt, generator=torch.Generator().manual_seed(0))
        assert torch.allclose(out.pred_original_sample, x0, atol=1e-4)
        ab, ab_prev, beta = s.alphas_cumprod[t], s.alphas_cumprod[t - 1], s.betas[t]
        mean = (ab_prev.sqrt() * beta / (1 - ab)) * x0 + ((1 - beta).sqrt() * (1 - ab_prev) / (1 - ab)) * xt  # eq. 7
        var = (1 - ab_prev) / (1 - ab) * beta
        noise = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
        assert torch.allclose(out.prev_sample, mean + var.sqrt() * noise, atol=1e-4)
    last = s.step(eps, 0, s.add_noise(x0, eps, torch.zeros(4, dtype=torch.long)))
    assert torch.allclose(last.prev_sample, x0, atol=1e-4)  # the final step adds no noise


def test_ddim_with_the_true_noise_lands_exactly_on_the_forward_process():
    s = DDIMScheduler()
    s.set_timesteps(50)
    assert s.timesteps[0].item() == 980 and s.timesteps[-1].item() == 0 and len(s.timesteps) == 50
    g = torch.Generator().manual_seed(2)
    x0, eps = torch.randn(5, 2, generator=g), torch.randn(5, 2, generator=g)
    x = s.add_noise(x0, eps, torch.full((5,), 980))
    for t in s.timesteps.tolist():  # deterministic (eta = 0): each step is x_{t'} = √ᾱ_{t'} x_0 + √(1 − ᾱ_{t'}) ε
        x = s.step(eps, t, x).prev_sample
        prev = s.previous_timestep(t)
        if prev >= 0:
            assert torch.allclose(x, s.add_noise(x0, eps, torch.full((5,), prev)), atol=1e-4)
    assert torch.allclose(x, x0, atol=1e-4)
    with pytest.raises(ValueError, match="num_inference_steps"):
        s.set_timesteps(0)


def test_schedulers_agree_with_diffusers():
    diffusers = pytest.importorskip("diffusers")
    g = torch.Generator().manual_seed(3)
    sample, eps = torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g)
    ours, theirs = DDPMScheduler(), diffusers.DDPMScheduler(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02,
                                                            clip_sample=False)
    assert torch.allclose(ours.alphas_cumprod, theirs.alphas_cumprod)
    t = torch.tensor([0, 10, 999])
    assert torch.allclose(ours.add_noise(sample, eps, t), theirs.add_noise(sample, eps, t), atol=1e-6)
    for n in (1000, 50):
        ours.set_timesteps(n)
        theirs.set_timesteps(n)
        assert torch.equal(ours.timesteps, theirs.timesteps.long())
        for step in (ours.timesteps[0].item(), ours.timesteps[len(ours.timesteps) // 2].item()):
            a = ours.step(eps, step, sample, generator=torch.Generator().manual_seed(5)).prev_sample
            b = theirs.step(eps, step, sample, generator=torch.Generator().manual_seed(5)).prev_sample
            assert torch.allclose(a, b, atol=1e-5)
    ddim_ours = DDIMScheduler()
    ddim_theirs = diffusers.DDIMScheduler(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02, clip_sample=False)
    ddim_ours.set_timesteps(20)
    ddim_theirs.set_timesteps(20)
    assert torch.equal(ddim_ours.timesteps, ddim_theirs.timesteps.long())
    for step in ddim_ours.timesteps.tolist()[::5]:
        assert torch.allclose(ddim_ours.step(eps, step, sample).prev_sample,
                              ddim_theirs.step(eps, step, sample).prev_sample, atol=1e-5)


def test_ddpm_learns_the_ring_and_guidance_uses_the_label():
    torch.manual_seed(0)
    ring = data.gaussian_mixture("ring", 4096, std=0.05, seed=0)
    model = DDPM(DenoiserConfig(data_dim=2, hidden=64, num_layers=2, num_classes=8), DDPMScheduler(100, 1e-3, 0.2))
    history = train.fit(model, ring, epochs=40, batch_size=256, lr=3e-3, progress=False, device="cpu", seed=0)
    assert history["train_loss"][-1] < 0.7 * history["train_loss"][0]
    g = torch.Generator().manual_seed(0)
    asked = torch.arange(8).repeat(64)
    points = model.sample(len(asked), labels=asked, guidance=2.0, generator=g).cpu()
    nearest = torch.cdist(points, data.mixture_centres("ring")).argmin(1)
    # a small model trained for a few seconds: most guided samples land on the asked mode (seeds 0-2: all of them;
    # unguided, 8 of 8 modes covered)
    assert (nearest == asked).float().mean() > 0.6
    free = model.sample(512, generator=torch.Generator().manual_seed(1)).cpu()
    assert judge.mode_report(free, data.mixture_centres("ring"), std=0.05).modes_covered >= 6
    fast = model.sample(16, steps=10, scheduler=DDIMScheduler(100, 1e-3, 0.2), generator=g)
    assert fast.shape == (16, 2) and torch.isfinite(fast).all()
