"""The GAN (models/gan.py): who each loss moves, the saturating loss's vanishing gradient, the
gradient penalty, packing, and the two-part training through train.fit."""
import pytest
import torch

from dlcourse import train
from dlcourse.data import TensorData
from dlcourse.models.gan import GAN, GANConfig


def test_the_discriminator_step_does_not_move_the_generator():
    torch.manual_seed(0)
    gan = GAN()
    batch = (torch.randn(16, 2), torch.zeros(16, dtype=torch.long))
    gan.loss(batch, "discriminator").backward()
    assert all(p.grad is None for p in gan.generator.parameters())
    assert all(p.grad is not None for p in gan.discriminator.parameters())
    assert list(gan.parts()) == ["discriminator", "generator"]
    with pytest.raises(ValueError, match="part"):
        gan.loss(batch, "both")


def test_saturating_loss_vanishes_when_the_discriminator_wins():
    grads = {}
    for kind in ("saturating", "non-saturating"):
        torch.manual_seed(0)
        gan = GAN(GANConfig(loss=kind))
        with torch.no_grad():
            gan.discriminator[-1].bias.fill_(-10.0)  # D(G(z)) ≈ σ(−10): the fakes are caught
            gan.discriminator[-1].weight.mul_(1e-3)
        gan.loss((torch.randn(64, 2), torch.zeros(64, dtype=torch.long)), "generator").backward()
        grads[kind] = torch.cat([p.grad.flatten() for p in gan.generator.parameters()]).norm().item()
    # d/dl log(1 − σ(l)) = −σ(l) ≈ −4.5e-5 against d/dl −log σ(l) = σ(l) − 1 ≈ −1: about 1/σ(−10) ≈ 22,000 apart
    assert grads["non-saturating"] > 1e4 * grads["saturating"]


def test_gradient_penalty_is_zero_for_a_unit_slope_critic():
    gan = GAN(GANConfig(loss="wgan-gp", num_layers=0))  # the critic is one linear map
    with torch.no_grad():
        gan.discriminator[-1].weight.copy_(torch.tensor([[0.6, 0.8]]))  # ‖w‖ = 1
    real, fake = torch.randn(32, 2), torch.randn(32, 2)
    assert gan._gradient_penalty(real, fake, None).item() == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        gan.discriminator[-1].weight.mul_(3.0)  # ‖w‖ = 3: penalty (3 − 1)² = 4
    assert gan._gradient_penalty(real, fake, None).item() == pytest.approx(4.0, rel=1e-5)


def test_packing_and_conditioning_shapes():
    gan = GAN(GANConfig(pack=4, num_classes=3))
    x, y = torch.randn(8, 2), torch.arange(8) % 3
    assert gan.critic(x, y).shape == (2,)
    with pytest.raises(ValueError, match="packed"):
        gan.critic(torch.randn(6, 2), torch.zeros(6, dtype=torch.long))
    images = GAN(GANConfig(data_shape=(1, 28, 28), output="sigmoid", latent_dim=4, hidden=16))
    out = images.sample(5, generator=torch.Generator().manual_seed(0))
    assert out.shape == (5, 1, 28, 28) and 0 <= out.min() and out.max() <= 1


def test_a_gan_learns_a_gaussian_through_fit():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    target = torch.randn(4096, 2, generator=g) * 0.3 + torch.tensor([2.0, -1.0])
    gan = GAN(GANConfig(hidden=64))
    history = train.fit(gan, TensorData(target, torch.zeros(4096, dtype=torch.long)), epochs=30, batch_size=128,
                        optimizer=lambda p: torch.optim.Adam(p, lr=3e-4, betas=(0.5, 0.999)),  # DCGAN's Adam
                        progress=False, device="cpu", seed=0)
    assert set(history.part_loss) == {"discriminator", "generator"}
    samples = gan.sample(2000, generator=torch.Generator().manual_seed(0))
    # untrained, samples sit near the origin (2.2 away); seeds 0-2 measured: mean within 0.27, std 0.20-0.35
    assert (samples.mean(0) - torch.tensor([2.0, -1.0])).norm() < 0.6
    assert ((samples.std(0) > 0.1) & (samples.std(0) < 0.6)).all()
