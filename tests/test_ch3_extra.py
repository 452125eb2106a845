"""Distillation from precomputed teacher logits (compress.with_teacher_logits), used by chapter 3."""
import copy

import pytest
import torch

from dlcourse import compress, train
from dlcourse.data import TensorData
from dlcourse.models import MLP, MLPConfig


def _setup():
    torch.manual_seed(0)
    data = TensorData(torch.randn(50, 4), torch.randint(0, 3, (50,)))
    teacher = MLP(MLPConfig(in_features=4, hidden=(8,), num_classes=3))
    student = MLP(MLPConfig(in_features=4, hidden=(4,), num_classes=3))
    return data, teacher, student


def test_teacher_data_yields_the_same_batches_plus_the_teachers_logits():
    data, teacher, _ = _setup()
    cached = compress.with_teacher_logits(data, teacher, batch_size=16)
    plain = list(data.batches(8, shuffle=True, generator=torch.Generator().manual_seed(3)))
    triples = list(cached.batches(8, shuffle=True, generator=torch.Generator().manual_seed(3)))
    assert len(plain) == len(triples) == 7
    with torch.no_grad():
        for (x, y), (cx, cy, logits) in zip(plain, triples):
            assert torch.equal(x, cx) and torch.equal(y, cy)
            assert torch.allclose(logits, teacher(x), atol=1e-6)  # the same rows, in another batch
    assert len(cached[:10]) == 10 and torch.equal(cached[:10].logits, cached.logits[:10])
    with pytest.raises(ValueError):
        compress.TeacherData(data.x, data.y, (), cached.logits[:5])


def test_distiller_loss_from_cached_logits_equals_running_the_teacher():
    data, teacher, student = _setup()
    d = compress.Distiller(student, teacher, temperature=3.0, alpha=0.8)
    cached = compress.with_teacher_logits(data, teacher)
    live = d.loss(data.batch)
    from_cache = d.loss((data.x, data.y, cached.logits))
    assert torch.allclose(live, from_cache, atol=1e-6)


def test_fit_on_cached_logits_trains_the_same_student():
    data, teacher, student = _setup()
    other = copy.deepcopy(student)
    train.fit(compress.Distiller(student, teacher), data, epochs=3, batch_size=8, progress=False, seed=1,
              device="cpu")
    cached = compress.with_teacher_logits(data, teacher)
    train.fit(compress.Distiller(other, teacher), cached, epochs=3, batch_size=8, progress=False, seed=1,
              device="cpu")
    for a, b in zip(student.parameters(), other.parameters()):
        assert torch.allclose(a, b, atol=1e-5)  # same batches, same targets up to float rounding
    assert not all(torch.equal(a, b) for a, b in zip(student.parameters(), _setup()[2].parameters()))
