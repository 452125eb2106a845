"""The measurements that judge generated samples (dlcourse/judge.py) on inputs whose answer is known."""
import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

from dlcourse import data, judge


def test_mixtures_have_their_modes_and_spread():
    ring, grid = data.mixture_centres("ring"), data.mixture_centres("grid")
    assert ring.shape == (8, 2) and torch.allclose(ring.norm(dim=1), torch.full((8,), 2.0))
    assert grid.shape == (25, 2) and set(grid.flatten().tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    d = data.gaussian_mixture("ring", 40_000, std=0.02, seed=1)
    offset = d.x - ring[d.y]  # (N, 2): each point's offset from its mode, N(0, 0.02² I)
    # 80,000 coordinates: the sample std's standard error is 0.02/√160,000 = 5e-5; 5e-4 is ten of them
    assert abs(offset.std().item() - 0.02) < 5e-4
    counts = torch.bincount(d.y, minlength=8).double() / len(d)
    assert (counts - 1 / 8).abs().max() < 0.01  # binomial sd 0.0017 per mode
    with pytest.raises(ValueError, match="kind"):
        data.mixture_centres("spiral")


def test_mode_report_on_known_samples():
    centres = data.mixture_centres("ring")
    real = data.gaussian_mixture("ring", 2_000, std=0.02, seed=0).x
    report = judge.mode_report(real, centres, std=0.02)
    # within 3σ in 2-D: P(χ²₂ ≤ 9) = 1 − e^{−4.5} = 0.989; 2,000 samples: sd 0.0023
    assert report.modes_covered == 8 and abs(report.high_quality_share - (1 - np.exp(-4.5))) < 0.012
    collapsed = centres[3] + 0.01 * torch.randn(500, 2, generator=torch.Generator().manual_seed(0))
    one = judge.mode_report(collapsed, centres, std=0.02)
    assert one.modes_covered == 1 and one.per_mode[3] == one.per_mode.sum()
    far = torch.zeros(100, 2)  # the centre of the ring: 2 away from every mode, 100σ
    assert judge.mode_report(far, centres, 0.02).high_quality_share == 0.0
    assert judge.mode_report(far, centres, 0.02).modes_covered == 0


def test_frechet_distance_matches_the_closed_form_and_scipy():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4000, 3, generator=g, dtype=torch.float64)
    assert judge.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)  # identical sets
    # diagonal covariances: the distance is ‖μ_a − μ_b‖² + Σ (σ_a − σ_b)² exactly, for the fitted Gaussians
    b = a * torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64) + torch.tensor([1.0, 0.0, -2.0], dtype=torch.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    sd_a, sd_b = a.std(0), b.std(0)
    fitted = ((mu_a - mu_b) ** 2).sum() + ((sd_a - sd_b) ** 2).sum()  # a's covariance is nearly diagonal only
    x = torch.randn(500, 4, generator=g, dtype=torch.float64) @ torch.randn(4, 4, generator=g, dtype=torch.float64)
    y = torch.randn(700, 4, generator=g, dtype=torch.float64) @ torch.randn(4, 4, generator=g, dtype=torch.float64) + 0.3
    ca, cb = np.cov(x.numpy().T), np.cov(y.numpy().T)
    reference = (((x.mean(0) - y.mean(0)) ** 2).sum().item() + np.trace(ca) + np.trace(cb)
                 - 2 * np.trace(scipy.linalg.sqrtm(ca @ cb)).real)
    assert judge.frechet_distance(x, y) == pytest.approx(reference, rel=1e-6)
    # the true covariances of a and b are diagonal; the fitted ones almost: 1% agreement
    assert judge.frechet_distance(a, b) == pytest.approx(fitted.item(), rel=0.01)
    with pytest.raises(ValueError, match="features"):
        judge.frechet_distance(a, torch.zeros(10, 2))


def test_verdict_reads_the_judges_classes_and_features():
    class Judge(nn.Module):  # class = which quarter of the image is brightest; features = the quarter means
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(4, 4, bias=False)
            self.head.weight.data = 50 * torch.eye(4)

        def forward(self, x):
            quarters = torch.stack([x[:, 0, :2, :2].mean((1, 2)), x[:, 0, :2, 2:].mean((1, 2)),
                                    x[:, 0, 2:, :2].mean((1, 2)), x[:, 0, 2:, 2:].mean((1, 2))], dim=1)  # (B, 4)
            return self.head(quarters)

    images = torch.zeros(8, 1, 4, 4)
    for i in range(8):  # images 0-3 light their quarter i, images 4-7 all light quarter 0
        q = i if i < 4 else 0
        images[i, 0, 2 * (q // 2):2 * (q // 2) + 2, 2 * (q % 2):2 * (q % 2) + 2] = 1.0
    asked = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    v = judge.verdict(Judge(), images, asked=asked, real=images)
    assert v.agreement == pytest.approx(5 / 8)
    assert torch.allclose(v.class_share, torch.tensor([5, 1, 1, 1], dtype=torch.float64) / 8)
    # identical sets: exactly 0 in exact arithmetic, but the features sum to 1, so the covariance is singular and
    # the trace term takes square roots of eigenvalues that rounding leaves at ±1e-16: sqrt turns that into ~1e-8
    assert v.confidence > 0.99 and v.frechet == pytest.approx(0.0, abs=1e-6)
    probs, feats = judge.judge_outputs(Judge(), images)
    assert feats.shape == (8, 4) and torch.allclose(feats.sum(1), torch.ones(8))
