"""Quantization, pruning and distillation helpers, against analytic results and PyTorch built-ins."""
import copy

import pytest
import torch
import torch.nn.functional as F

from dlcourse import compress
from dlcourse.models import MLP, MLPConfig


def test_per_tensor_quantization_error_is_at_most_half_a_step():
    x = torch.randn(1000) * 3
    scale, zp = compress.quant_params(x)
    q = compress.quantize(x, scale, zp)
    assert q.dtype == torch.int8 and q.min() >= -128 and q.max() <= 127
    error = (compress.dequantize(q, scale, zp) - x).abs().max()
    assert error <= scale / 2 + 1e-6


def test_matches_pytorch_reference_quantizer():
    x = torch.randn(64) * 2 + 0.5
    scale, zp = compress.quant_params(x)
    reference = torch.fake_quantize_per_tensor_affine(x, scale.item(), int(zp), -128, 127)
    assert torch.allclose(compress.dequantize(compress.quantize(x, scale, zp), scale, zp), reference, atol=1e-6)


def test_zero_is_exact_and_per_channel_beats_per_tensor():
    w = torch.randn(8, 16) * torch.logspace(-2, 1, 8)[:, None]  # rows on very different scales
    w[0, 0] = 0.0
    per_tensor = compress.quant_params(w)
    per_channel = compress.quant_params(w, axis=0)
    assert per_channel[0].shape == (8,)
    def err(params, axis):
        return (compress.dequantize(compress.quantize(w, *params, axis=axis), *params, axis=axis) - w)
    assert err(per_channel, 0)[0, 0] == 0.0 and err(per_tensor, None)[0, 0] == 0.0
    # the rows with small weights are where one shared scale hurts: their error is the step size
    assert err(per_channel, 0)[:4].abs().mean() < 0.05 * err(per_tensor, None)[:4].abs().mean()
    with pytest.raises(TypeError):
        compress.quant_params(torch.arange(4))


def test_global_magnitude_pruning():
    model = MLP(MLPConfig(in_features=20, hidden=(30,), num_classes=5))
    weights = torch.cat([m.weight.detach().abs().flatten() for m, _ in compress.prunable(model)])
    threshold = weights.kthvalue(int(0.6 * len(weights))).values
    compress.make_permanent(compress.magnitude_prune(model, 0.6))
    assert compress.sparsity(model) == pytest.approx(0.6, abs=1e-3)
    survivors = torch.cat([m.weight.detach().abs().flatten() for m, _ in compress.prunable(model)])
    assert survivors[survivors > 0].min() >= threshold  # the smallest went, globally
    assert not any(hasattr(m, "weight_mask") for m, _ in compress.prunable(model))
    with pytest.raises(ValueError, match="sparsity"):
        compress.magnitude_prune(model, 1.0)


def test_distillation_loss_against_its_definition():
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(8, 5, generator=g), torch.randn(8, 5, generator=g)
    y = torch.randint(0, 5, (8,), generator=g)
    T, a = 3.0, 0.6
    p_t = F.softmax(t / T, dim=1)
    kl = (p_t * (p_t.log() - F.log_softmax(s / T, dim=1))).sum(dim=1).mean()
    expected = a * T * T * kl + (1 - a) * F.cross_entropy(s, y)
    assert torch.allclose(compress.distillation_loss(s, t, y, T, a), expected, atol=1e-6)
    assert torch.allclose(compress.distillation_loss(s, s, y, T, 1.0), torch.tensor(0.0), atol=1e-6)


def test_distiller_trains_only_the_student():
    teacher = MLP(MLPConfig(in_features=4, hidden=(8,), num_classes=3))
    frozen = copy.deepcopy(teacher.state_dict())
    student = MLP(MLPConfig(in_features=4, hidden=(4,), num_classes=3))
    d = compress.Distiller(student, teacher)
    d.train()
    assert not d.teacher.training and d.student.training
    d.loss((torch.randn(16, 4), torch.randint(0, 3, (16,)))).backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert all(p.grad is not None for p in student.parameters())
    assert all(torch.equal(v, frozen[k]) for k, v in teacher.state_dict().items())


def test_size_and_latency_are_measured():
    small, big = torch.nn.Linear(10, 10), torch.nn.Linear(100, 100)
    assert compress.model_size_bytes(big) > 90 * 100 * 4 > compress.model_size_bytes(small)
    assert 0 < compress.latency(small, torch.randn(4, 10), repeats=3) < 1


def test_cpu_latency_times_a_copy_and_leaves_the_model_alone():
    model = torch.nn.Sequential(torch.nn.Linear(10, 10), torch.nn.Dropout(0.5)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert compress.cpu_latency_ms(model, torch.randn(compress.GUIDE_BATCH, 10), repeats=3) > 0
    assert model.training  # the copy was switched to eval mode, not the model
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_int8_quantization_shrinks_linear_layers_and_keeps_outputs():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10)).train()
    quantized = compress.quantize_int8(model)
    assert model.training and not quantized.training  # a copy: the original is untouched
    assert compress.model_size_bytes(model) / compress.model_size_bytes(quantized) > 3.5
    x = torch.randn(64, 256)
    with torch.no_grad():
        reference, approx = model(x), quantized(x)
    assert (approx - reference).abs().max() < 0.05 * reference.abs().max()
    assert (approx.argmax(1) == reference.argmax(1)).float().mean() > 0.9


def test_int8_quantization_refuses_a_model_without_linear_layers():
    with pytest.raises(ValueError, match="no nn.Linear"):
        compress.quantize_int8(torch.nn.Conv2d(1, 4, 3))
