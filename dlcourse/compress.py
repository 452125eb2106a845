"""Making models smaller and cheaper: affine int8 quantization, magnitude pruning, distillation, and
the measurements that judge them (size on disk, latency)."""
from __future__ import annotations

import copy
import io
import logging
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import prune

from .data.tensors import TensorData
from .utils import evaluating

QMIN, QMAX = -128, 127  # int8


def quant_params(x: Tensor, axis: int | None = None) -> tuple[Tensor, Tensor]:
    """Scale and zero point mapping the range of ``x`` onto int8 (per tensor, or per slice along ``axis``).

    The range always includes 0, so that zero (padding, ReLU outputs, pruned weights) is exact.
    """
    if not x.is_floating_point():
        raise TypeError(f"quantize floating-point tensors, got {x.dtype}")
    if axis is None:
        lo, hi = x.min(), x.max()
    else:
        dims = [d for d in range(x.dim()) if d != axis % x.dim()]
        lo, hi = x.amin(dim=dims), x.amax(dim=dims)
    lo, hi = lo.clamp(max=0.0), hi.clamp(min=0.0)
    scale = ((hi - lo) / (QMAX - QMIN)).clamp(min=torch.finfo(torch.float32).eps)
    zero_point = (QMIN - torch.round(lo / scale)).clamp(QMIN, QMAX).to(torch.int32)
    return scale, zero_point


def _along(t: Tensor, x: Tensor, axis: int | None) -> Tensor:
    """Reshape per-slice parameters so they broadcast against ``x`` along ``axis``."""
    if axis is None or t.dim() == 0:
        return t
    shape = [1] * x.dim()
    shape[axis % x.dim()] = -1
    return t.view(shape)


def quantize(x: Tensor, scale: Tensor, zero_point: Tensor, axis: int | None = None) -> Tensor:
    """``q = clamp(round(x / scale) + zero_point, −128, 127)`` as int8."""
    q = torch.round(x / _along(scale, x, axis)) + _along(zero_point, x, axis)
    return q.clamp(QMIN, QMAX).to(torch.int8)


def dequantize(q: Tensor, scale: Tensor, zero_point: Tensor, axis: int | None = None) -> Tensor:
    """``x ≈ (q − zero_point) · scale``."""
    return (q.to(torch.float32) - _along(zero_point, q, axis)) * _along(scale, q, axis)


def quantize_int8(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose ``nn.Linear`` layers hold int8 weights (post-training, no calibration).

    Uses torchao's ``Int8DynamicActivationInt8WeightConfig``: weights int8 with one scale per output
    channel, activations quantized on the fly. torchao is PyTorch's maintained quantization library
    (``torch.ao.quantization`` is deprecated); on the CPU it quantizes linear layers only, so
    convolutions stay in float32. The copy is moved to the CPU and put in eval mode.
    """
    for noisy in ["torchao", "torch.utils._pytree"]:  # import-time warnings about GPU-only kernels
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_
    except ImportError as error:
        raise ImportError("int8 quantization needs torchao: pip install torchao") from error
    if not any(isinstance(m, nn.Linear) for m in model.modules()):
        raise ValueError("the model has no nn.Linear layer: nothing for int8 weight quantization to act on")
    quantized = copy.deepcopy(model).cpu().eval()
    quantize_(quantized, Int8DynamicActivationInt8WeightConfig())
    return quantized


def model_size_bytes(model: nn.Module) -> int:
    """Bytes of the model's ``state_dict`` as ``torch.save`` writes it (what a checkpoint costs)."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


@torch.no_grad()
def latency(model: nn.Module, x: Tensor, repeats: int = 20, warmup: int = 3) -> float:
    """Median seconds of one forward pass on ``x`` (in eval mode, after a warm-up; the mode is restored)."""
    times = []
    with evaluating(model):
        for _ in range(warmup):
            model(x)
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


GUIDE_BATCH = 256  # test examples per forward pass in the latency the chapters glue for the model-selection guide


def cpu_latency_ms(model: nn.Module, x: Tensor, repeats: int = 5) -> float:
    """Median milliseconds of one forward pass over ``x`` by a CPU copy of ``model`` (``x`` moved to the CPU).

    The latency column of the model-selection guide: every chapter passes the first :data:`GUIDE_BATCH`
    test examples, so models trained on any device are timed on the same CPU with the same batch.
    """
    return 1e3 * latency(copy.deepcopy(model).cpu(), x.cpu(), repeats=repeats)


def prunable(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """The weights magnitude pruning acts on: those of every convolution and linear layer."""
    return [(m, "weight") for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def magnitude_prune(model: nn.Module, sparsity: float) -> nn.Module:
    """Zero the ``sparsity`` share of weights with the smallest magnitude, over all layers at once.

    Uses ``torch.nn.utils.prune.global_unstructured`` (L1 criterion); the zeros stay zero during
    fine-tuning through the masks it installs. Call :func:`make_permanent` afterwards.
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
    prune.global_unstructured(prunable(model), pruning_method=prune.L1Unstructured, amount=sparsity)
    return model


def make_permanent(model: nn.Module) -> nn.Module:
    """Fold pruning masks into the weights (the zeros remain, the masks go)."""
    for module, name in prunable(model):
        if prune.is_pruned(module):
            prune.remove(module, name)
    return model


def sparsity(model: nn.Module) -> float:
    """Share of exactly-zero weights among the prunable weights."""
    weights = [getattr(m, n) for m, n in prunable(model)]
    return sum((w == 0).sum().item() for w in weights) / sum(w.numel() for w in weights)


def distillation_loss(student_logits: Tensor, teacher_logits: Tensor, targets: Tensor,
                      temperature: float = 4.0, alpha: float = 0.7) -> Tensor:
    """Hinton et al. (2015): ``α·T²·KL(teacher_T ‖ student_T) + (1 − α)·CE(student, targets)``.

    The T² keeps the soft term's gradients on the same scale as the hard term's when T changes.
    """
    soft_teacher = F.log_softmax(teacher_logits / temperature, dim=-1)  # (B, K)
    soft_student = F.log_softmax(student_logits / temperature, dim=-1)  # (B, K)
    kl = F.kl_div(soft_student, soft_teacher, log_target=True, reduction="batchmean")
    return alpha * temperature**2 * kl + (1 - alpha) * F.cross_entropy(student_logits, targets)


class Distiller(nn.Module):
    """Wraps a student and a frozen teacher so that ``dlcourse.train.fit`` trains the student by distillation.

    Args:
        student: the model being trained; ``forward`` is the student's.
        teacher: a trained model, kept frozen in eval mode.
        temperature: softening temperature T.
        alpha: weight of the soft (teacher) term.
    """

    def __init__(self, student: nn.Module, teacher: nn.Module, temperature: float = 4.0, alpha: float = 0.7) -> None:
        super().__init__()
        self.student, self.teacher = student, teacher.eval()
        self.temperature, self.alpha = temperature, alpha
        for p in self.teacher.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> "Distiller":
        super().train(mode)
        self.teacher.eval()  # the teacher's BatchNorm statistics must not move
        return self

    def forward(self, x: Tensor) -> Tensor:
        return self.student(x)

    def loss(self, batch: tuple[Tensor, ...]) -> Tensor:
        """``batch`` is ``(x, y)``, or ``(x, y, teacher_logits)`` from :func:`with_teacher_logits`, whose
        logits were computed once beforehand instead of by running the teacher at every step."""
        x, y, *cached = batch
        if cached:
            teacher_logits = cached[0]  # (B, K), precomputed
        else:
            with torch.no_grad():
                teacher_logits = self.teacher(x)  # (B, K)
        return distillation_loss(self.student(x), teacher_logits, y, self.temperature, self.alpha)


@dataclass(frozen=True)
class TeacherData(TensorData):
    """Training data with a frozen teacher's logits attached; batches are ``(x, y, teacher_logits)``.

    Same batches, in the same order for the same generator, as the plain ``TensorData``: only the
    logits are added. Build it with :func:`with_teacher_logits`.
    """

    logits: Tensor | None = None  # (N, K)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.logits is None or len(self.logits) != len(self.x):
            raise ValueError("logits must be a tensor with one row per example")

    def __getitem__(self, index) -> "TeacherData":
        if isinstance(index, int):
            index = slice(index, index + 1)
        return TeacherData(self.x[index], self.y[index], self.classes, self.logits[index])

    def to(self, device: torch.device | str) -> "TeacherData":
        return TeacherData(self.x.to(device), self.y.to(device), self.classes, self.logits.to(device))

    def rows(self, index: Tensor | slice) -> tuple[Tensor, Tensor, Tensor]:
        """One batch, ``(x, y, teacher_logits)``: the same rows ``TensorData.batches`` picks, plus the logits."""
        return self.x[index], self.y[index], self.logits[index]


@torch.no_grad()
def with_teacher_logits(data: TensorData, teacher: nn.Module, batch_size: int = 1024) -> TeacherData:
    """``data`` with ``teacher``'s logits on every example, computed once (in eval mode, on the teacher's device).

    A frozen teacher in eval mode gives the same logits for an image at every epoch, so computing them
    once and training a :class:`Distiller` on the result skips one teacher forward pass per step.
    """
    device = next(teacher.parameters()).device
    with evaluating(teacher):
        logits = torch.cat([teacher(x.to(device)).cpu() for x, _ in data.batches(batch_size)])
    return TeacherData(data.x, data.y, data.classes, logits)
