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


def test_projection_discriminator_uses_the_label_and_trains_it():
    import pytest
    from dlcourse.models.gan import GAN, GANConfig
    torch.manual_seed(0)
    gan = GAN(GANConfig(num_classes=3, conditioning="projection"))
    x = torch.randn(6, 2)
    a, b = gan.critic(x, torch.zeros(6, dtype=torch.long)), gan.critic(x, torch.ones(6, dtype=torch.long))
    assert a.shape == (6,) and not torch.allclose(a, b)  # the score depends on the asked class
    h = gan.discriminator[:-1](x)
    expected = gan.discriminator[-1](h).squeeze(-1) + h @ gan.class_embedding.weight[0]
    assert torch.allclose(a, expected, atol=1e-6)
    assert any(p is gan.class_embedding.weight for p in gan.parts()["discriminator"])
    with pytest.raises(ValueError, match="pack"):
        GANConfig(num_classes=3, conditioning="projection", pack=2)
    with pytest.raises(ValueError, match="conditioning"):
        GANConfig(conditioning="both")
