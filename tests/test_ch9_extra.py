"""Chapter 9's exercise checks: right answers pass, the typical mistakes get their own diagnosis."""
import torch
import torch.nn.functional as F

from dlcourse.checks import gan as check


def test_right_answers_pass():
    assert check.non_saturating_loss(lambda l: F.softplus(-l).mean()).passed
    assert check.reparameterize(lambda mu, logvar, eps: mu + (0.5 * logvar).exp() * eps).passed
    assert check.gaussian_kl(lambda mu, lv: 0.5 * (mu ** 2 + lv.exp() - 1 - lv).sum(-1)).passed


def test_typical_mistakes_are_named():
    saturating = check.non_saturating_loss(lambda l: torch.log1p(-torch.sigmoid(l)).mean(), strict=False)
    assert not saturating.passed and "saturating" in saturating.message
    summed = check.non_saturating_loss(lambda l: F.softplus(-l).sum(), strict=False)
    assert not summed.passed and "mean" in summed.message
    variance = check.reparameterize(lambda mu, logvar, eps: mu + logvar.exp() * eps, strict=False)
    assert not variance.passed and "variance" in variance.message
    detached = check.reparameterize(lambda mu, logvar, eps: (mu + (0.5 * logvar).exp() * eps).detach(), strict=False)
    assert not detached.passed and "gradient" in detached.message
    log_sigma = check.gaussian_kl(lambda mu, lv: 0.5 * (mu ** 2 + (2 * lv).exp() - 1 - 2 * lv).sum(-1), strict=False)
    assert not log_sigma.passed and "log σ²" in log_sigma.message
    per_dim = check.gaussian_kl(lambda mu, lv: 0.5 * (mu ** 2 + lv.exp() - 1 - lv), strict=False)
    assert not per_dim.passed and "latent" in per_dim.message
