"""Chapter 10: the auto-checks accept right answers and name the common mistakes; the timestep features are
the Transformer's sinusoidal encoding; the scheduler's step is Ho et al.'s Algorithm 2."""
import pytest
import torch

from dlcourse.checks import CheckFailed
from dlcourse.checks import diffusion as check
from dlcourse.models.diffusion import DDPMScheduler, timestep_embedding
from dlcourse.models.transformer import sinusoidal_features, sinusoidal_table


def stub(*args):
    raise NotImplementedError


def add_noise(x0, noise, t, betas):
    abar = torch.cumprod(1 - betas, 0)[t][:, None]
    return abar.sqrt() * x0 + (1 - abar).sqrt() * noise


def add_noise_one_step(x0, noise, t, betas):
    a = (1 - betas)[t][:, None]
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def add_noise_no_sqrt(x0, noise, t, betas):
    abar = torch.cumprod(1 - betas, 0)[t][:, None]
    return abar * x0 + (1 - abar) * noise


def reverse_step(x, eps, t, betas, z, variance="tilde", noise_at_zero=False):
    alphas, abar = 1 - betas, torch.cumprod(1 - betas, 0)
    mean = (x - betas[t] / (1 - abar[t]).sqrt() * eps) / alphas[t].sqrt()
    if t == 0 and not noise_at_zero:
        return mean
    var = betas[t] * (1 - abar[t - 1]) / (1 - abar[t]) if variance == "tilde" else betas[t]
    return mean + var.sqrt() * z


def guided(c, u, w):
    return (1 + w) * c - w * u


def test_right_answers_pass_and_stubs_are_not_attempted():
    assert check.add_noise(add_noise).passed
    assert check.reverse_step(reverse_step).passed
    assert check.guided_noise(guided).passed
    for name in ("add_noise", "reverse_step", "guided_noise"):
        result = getattr(check, name)(stub, strict=False)
        assert not result.passed and not result.attempted


@pytest.mark.parametrize("answer, words", [
    (add_noise_one_step, "cumprod"),
    (add_noise_no_sqrt, "square roots"),
])
def test_add_noise_names_the_mistake(answer, words):
    with pytest.raises(CheckFailed, match=words):
        check.add_noise(answer, strict=True)


@pytest.mark.parametrize("answer, words", [
    (lambda *a: reverse_step(*a, variance="beta"), "β̃"),
    (lambda *a: reverse_step(*a, noise_at_zero=True), "no noise"),
])
def test_reverse_step_names_the_mistake(answer, words):
    with pytest.raises(CheckFailed, match=words):
        check.reverse_step(answer, strict=True)


@pytest.mark.parametrize("answer, words", [
    (lambda c, u, w: w * c + (1 - w) * u, "guidance_scale"),
    (lambda c, u, w: (1 + w) * u - w * c, "swapped"),
    (lambda c, u, w: c, "alone"),
])
def test_guidance_names_the_mistake(answer, words):
    with pytest.raises(CheckFailed, match=words):
        check.guided_noise(answer, strict=True)


def test_timestep_features_are_the_positional_encoding():
    t = torch.tensor([0, 3, 17, 999])
    assert torch.equal(timestep_embedding(t, 32), sinusoidal_features(t, 32))
    assert torch.allclose(sinusoidal_features(torch.arange(50), 16), sinusoidal_table(50, 16))
    half = sinusoidal_features(torch.tensor([2.5]), 8)  # real positions work too
    assert torch.allclose(half[0, 0], torch.sin(torch.tensor(2.5)))


def test_scheduler_step_is_algorithm_2():
    s = DDPMScheduler()
    g = torch.Generator().manual_seed(0)
    x, eps = torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g)
    for t in (999, 321, 1, 0):
        z = torch.randn(3, 4, generator=torch.Generator().manual_seed(7))
        got = s.step(eps, t, x, generator=torch.Generator().manual_seed(7)).prev_sample
        assert torch.allclose(got, reverse_step(x, eps, t, s.betas, z), atol=1e-5)  # float32 rounding


def test_tiny_unet_keeps_the_image_shape_and_uses_time_and_class():
    from dlcourse.models.unet import TinyUNet
    torch.manual_seed(0)
    net = TinyUNet(width=8)
    x = torch.randn(3, 1, 28, 28)
    t = torch.tensor([0, 10, 999])
    out = net(x, t, torch.tensor([0, 1, 2]))
    assert out.shape == x.shape and torch.isfinite(out).all()
    assert not torch.allclose(out, net(x, t, None))  # the "no class" token changes the prediction
    assert not torch.allclose(out, net(x, t.flip(0), torch.tensor([0, 1, 2])))  # so does the timestep
    out.square().mean().backward()
    assert all(p.grad is not None for p in net.parameters())
