"""Auto-checks for chapter 10's exercises (diffusion models)."""
from __future__ import annotations

import torch
from torch import Tensor

from .core import Mismatch, call, check, expect_tensor, hidden_generator, randint


def _betas(T: int) -> Tensor:
    return torch.linspace(1e-4, 0.02, T)  # (T,): Ho et al.'s linear schedule, over T steps


def _noised(x0: Tensor, noise: Tensor, t: Tensor, betas: Tensor) -> Tensor:
    """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε with ᾱ_t = Π_{s ≤ t} (1 − β_s), t counted from 0 as in the chapter."""
    abar = torch.cumprod(1 - betas, dim=0)[t][:, None]  # (B, 1)
    return abar.sqrt() * x0 + (1 - abar).sqrt() * noise


@check("The forward process in closed form")
def add_noise(fn) -> str:
    """``fn(x0, noise, t, betas)`` → x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, one timestep per row of x0 (B, D)."""
    cases = [(torch.Generator().manual_seed(0), 6, 2, 1000, "a batch of 6 points")]
    gen, seed = hidden_generator()
    cases.append((gen, randint(gen, 2, 9), randint(gen, 1, 7), randint(gen, 50, 1000),
                  f"a hidden batch (seed {seed})"))
    for g, B, D, T, where in cases:
        betas = _betas(T)
        x0, noise = torch.randn(B, D, generator=g), torch.randn(B, D, generator=g)
        t = torch.randint(0, T, (B,), generator=g)
        t[0], t[-1] = T - 1, 0  # the last step and the first, always
        expected = _noised(x0, noise, t, betas)
        got = call(fn, x0, noise, t, betas)
        if isinstance(got, Tensor) and got.shape == expected.shape and got.is_floating_point():
            got = got.detach().float()
            alphas = (1 - betas)[t][:, None]  # (B, 1)
            abar = torch.cumprod(1 - betas, 0)[t][:, None]
            abar_next = torch.cumprod(1 - betas, 0)[(t + 1).clamp(max=T - 1)][:, None]
            abar_prev = torch.cat([torch.ones(1), torch.cumprod(1 - betas, 0)])[t][:, None]  # ᾱ_{t−1}
            variants = {
                "you used α_t = 1 − β_t of one step; x_t after t steps needs the product ᾱ_t = Π (1 − β_s) "
                "(torch.cumprod)": alphas.sqrt() * x0 + (1 - alphas).sqrt() * noise,
                "the square roots are missing: the mean is √ᾱ_t x_0 and the standard deviation √(1 − ᾱ_t)":
                    abar * x0 + (1 - abar) * noise,
                "signal and noise are swapped: x_0 is scaled by √ᾱ_t, the noise by √(1 − ᾱ_t)":
                    (1 - abar).sqrt() * x0 + abar.sqrt() * noise,
                "the product is off by one step: with t counted from 0, ᾱ_t multiplies (1 − β_s) for s = 0 … t, "
                "so ᾱ_0 = 1 − β_0 (cumprod(...)[t])": abar_prev.sqrt() * x0 + (1 - abar_prev).sqrt() * noise,
                "the product is one step too long: ᾱ_t is cumprod(1 − β)[t], not [t + 1]":
                    abar_next.sqrt() * x0 + (1 - abar_next).sqrt() * noise,
            }
            for message, wrong in variants.items():
                if torch.allclose(got, wrong, atol=1e-5) and not torch.allclose(wrong, expected, atol=1e-5):
                    raise Mismatch(message)
            same_t = _noised(x0, noise, t[:1].expand(B), betas)
            if torch.allclose(got, same_t, atol=1e-5) and not torch.allclose(same_t, expected, atol=1e-5):
                raise Mismatch("every row got the first row's timestep: index ᾱ with the whole vector t and "
                               "reshape it to (B, 1) so each row gets its own")
        expect_tensor(got, expected, f"x_t for {where}")
    return "x_t in one jump, for any t: q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I)"


def _reverse(x: Tensor, eps: Tensor, t: int, betas: Tensor, z: Tensor, variance: str = "tilde") -> Tensor:
    """Ho et al.'s Algorithm 2, one step: (x_t − β_t/√(1 − ᾱ_t) ε̂)/√α_t + σ_t z, no noise at t = 0."""
    alphas = 1 - betas
    abar = torch.cumprod(alphas, 0)
    mean = (x - betas[t] / (1 - abar[t]).sqrt() * eps) / alphas[t].sqrt()
    if t == 0:
        return mean
    var = betas[t] * (1 - abar[t - 1]) / (1 - abar[t]) if variance == "tilde" else betas[t]
    return mean + var.sqrt() * z


@check("One step of ancestral sampling")
def reverse_step(fn) -> str:
    """``fn(x_t, eps, t, betas, z)`` → x_{t−1} = (x_t − β_t/√(1 − ᾱ_t) ε̂)/√α_t + σ_t z with σ_t² = β̃_t
    (eq. eq-posterior-var), and no noise at t = 0."""
    gen, seed = hidden_generator()
    T = randint(gen, 100, 1000)
    cases = [(torch.Generator().manual_seed(1), 5, 2, 1000, [999, 500, 1, 0], "a batch of 5 points"),
             (gen, randint(gen, 2, 8), randint(gen, 1, 6), T, [randint(gen, 1, T - 1), 0],
              f"a hidden batch (seed {seed})")]
    for g, B, D, T, steps, where in cases:
        betas = _betas(T)
        x, eps, z = (torch.randn(B, D, generator=g) for _ in range(3))
        for t in steps:
            expected = _reverse(x, eps, t, betas, z)
            got = call(fn, x, eps, t, betas, z)
            at = f"{where} at t = {t}"
            if isinstance(got, Tensor) and got.shape == expected.shape and got.is_floating_point():
                got = got.detach().float()
                alphas, abar = 1 - betas, torch.cumprod(1 - betas, 0)
                mean = _reverse(x, eps, t, betas, z * 0)
                if t == 0 and not torch.allclose(got, mean, atol=1e-5):
                    extra = got - mean  # (B, D): a multiple of z when noise was added at the last step
                    c = (extra * z).sum() / z.square().sum()
                    if torch.allclose(extra, c * z, atol=1e-5):
                        raise Mismatch(f"{at}: the last step adds no noise: at t = 0 return the mean alone")
                variants = {
                    "the noise is missing: for t > 0 add σ_t z": mean if t > 0 else None,
                    "σ_t² = β_t is the other choice of Ho et al.; this exercise asks for β̃_t = β_t (1 − ᾱ_{t−1}) / "
                    "(1 − ᾱ_t), the posterior's variance": _reverse(x, eps, t, betas, z, "beta") if t > 0 else None,
                    "the noise prediction is scaled by β_t / (1 − ᾱ_t); it is β_t / √(1 − ᾱ_t)":
                        (x - betas[t] / (1 - abar[t]) * eps) / alphas[t].sqrt() + (expected - mean),
                    "you divided by √ᾱ_t (all steps so far); one step divides by √α_t = √(1 − β_t)":
                        (x - betas[t] / (1 - abar[t]).sqrt() * eps) / abar[t].sqrt() + (expected - mean),
                    "the noise prediction is added; it is subtracted": (x + betas[t] / (1 - abar[t]).sqrt() * eps)
                    / alphas[t].sqrt() + (expected - mean),
                }
                for message, wrong in variants.items():
                    if wrong is not None and torch.allclose(got, wrong, atol=1e-5) and not torch.allclose(
                            wrong, expected, atol=1e-5):
                        raise Mismatch(f"{at}: {message}")
            expect_tensor(got, expected, f"x_(t-1) for {at}")
    return "Algorithm 2's step: the posterior mean from the predicted noise, plus σ_t z except at the end"


@check("Classifier-free guidance")
def guided_noise(fn) -> str:
    """``fn(eps_cond, eps_uncond, w)`` → (1 + w) ε(x, c) − w ε(x, ∅) (Ho & Salimans, 2022)."""
    gen, seed = hidden_generator()
    cases = [(torch.Generator().manual_seed(2), (4, 3), 2.0, "w = 2 on a (4, 3) batch"),
             (gen, (randint(gen, 2, 9), randint(gen, 1, 16)), 0.5 + 4 * torch.rand(1, generator=gen).item(),
              f"a hidden batch and w (seed {seed})")]
    for g, shape, w, where in cases:
        cond, uncond = torch.randn(*shape, generator=g), torch.randn(*shape, generator=g)
        expected = (1 + w) * cond - w * uncond
        got = call(fn, cond, uncond, w)
        if isinstance(got, Tensor) and got.shape == expected.shape and got.is_floating_point():
            got = got.detach().float()
            variants = {
                "you used w as diffusers' guidance_scale s, s ε(x, c) + (1 − s) ε(x, ∅); here w = s − 1, so the "
                "conditional prediction is weighted by 1 + w": w * cond + (1 - w) * uncond,
                "the two predictions are swapped: move away from the unconditional one, towards the conditional":
                    (1 + w) * uncond - w * cond,
                "that is the conditional prediction alone (no guidance)": cond,
                "the unconditional term is added; it is subtracted (extrapolate away from ε(x, ∅))":
                    (1 + w) * cond + w * uncond,
                "the conditional prediction needs the weight 1 + w, not w": w * cond - w * uncond,
            }
            for message, wrong in variants.items():
                if torch.allclose(got, wrong, atol=1e-5) and not torch.allclose(wrong, expected, atol=1e-5):
                    raise Mismatch(f"{where}: {message}")
        expect_tensor(got, expected, f"the guided noise for {where}")
    for w0 in (0.0,):
        cond = torch.randn(3, 2, generator=torch.Generator().manual_seed(3))
        got = call(fn, cond, torch.zeros(3, 2), w0)
        expect_tensor(got, cond, "with w = 0 (plain conditional sampling)")
    return "ε̃ = (1 + w) ε(x, c) − w ε(x, ∅): w = 0 is conditional sampling, larger w follows the class harder"
