"""Each auto-check accepts a right answer, reports a stub as not attempted, and names the mistake."""
import pytest
import torch
import torch.nn.functional as F

from dlcourse.checks import CheckFailed, cnn, foundations as check, resnet
from dlcourse.models import conv_output_size


def stub(*args):
    raise NotImplementedError


def right_softmax(z):
    e = (z - z.max(dim=-1, keepdim=True).values).exp()
    return e / e.sum(dim=-1, keepdim=True)


@pytest.mark.parametrize("name, answer", [
    ("softmax", right_softmax),
    ("mlp_param_count", 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10),
    ("linear_backward", lambda x, W, b, g: (g @ W, g.T @ x, g.sum(0))),
    ("precision_recall", lambda cm, c: (cm[c, c] / cm[:, c].sum(), cm[c, c] / cm[c].sum())),
    ("label_smoothing_ce", lambda z, t, eps: F.cross_entropy(z, t, label_smoothing=eps)),
])
def test_right_answers_pass_and_stubs_are_not_attempted(name, answer):
    result = getattr(check, name)(answer)
    assert result.passed and "passed" in str(result)
    pending = getattr(check, name)(... if name == "mlp_param_count" else stub)
    assert not pending.passed and "not attempted" in str(pending)


@pytest.mark.parametrize("name, answer, says", [
    ("softmax", lambda z: z.exp() / z.exp().sum(-1, keepdim=True), "overflow"),
    ("softmax", lambda z: (z - z.max()).exp() / (z - z.max()).exp().sum(), "normalise each row"),
    ("softmax", lambda z: torch.softmax(z, 0), "LAST dimension"),
    ("softmax", lambda z: z.tolist(), "expected a tensor"),
    ("mlp_param_count", 784 * 256 + 256 * 128 + 128 * 10, "weights only"),
    ("mlp_param_count", 784 + 256 + 128 + 10, "counts units"),
    ("mlp_param_count", 12, "12 is not right.*factor of ten.*784"),
    ("linear_backward", lambda x, W, b, g: (g @ W, x.T @ g, g.sum(0)), "grad_W has shape"),
    ("linear_backward", lambda x, W, b, g: (g @ W, g.T @ x, g), "add up its gradients"),
    ("linear_backward", lambda x, W, b, g: (g @ W * 2, g.T @ x, g.sum(0)), "grad_x for .*wrong values.*same factor"),
    ("linear_backward", lambda x, W, b, g: (x @ W, g.T @ x, g.sum(0)), "raised RuntimeError"),
    ("precision_recall", lambda cm, c: (cm[c, c] / cm[c].sum(), cm[c, c] / cm[:, c].sum()), "swapped"),
    ("label_smoothing_ce", lambda z, t, e: F.cross_entropy(z, t, label_smoothing=e, reduction="none"), "average"),
    ("label_smoothing_ce", lambda z, t, e: F.cross_entropy(z, t), "eps=0.1"),
])
def test_wrong_answers_get_specific_feedback(name, answer, says):
    with pytest.raises(CheckFailed, match=says):
        getattr(check, name)(answer)


def test_label_smoothing_over_k_minus_1_is_diagnosed():
    def over_wrong_classes(z, t, eps):
        log_p = z.log_softmax(-1)
        K = z.shape[1]
        target = F.one_hot(t, K) * (1 - eps) + (1 - F.one_hot(t, K)) * eps / (K - 1)
        return -(target * log_p).sum(-1).mean()

    with pytest.raises(CheckFailed, match="K-1"):
        check.label_smoothing_ce(over_wrong_classes)


def _max_pool(x, k):
    B, C, H, W = x.shape
    return F.unfold(x, k, stride=k).view(B, C, k * k, -1).max(dim=2).values.view(B, C, H // k, W // k)


@pytest.mark.parametrize("name, answer, stub_answer", [
    ("output_size", conv_output_size, stub),
    ("conv_params", 64 * 32 * 9 + 64, ...),
    ("vertical_edge_filter", torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]), None),
    ("receptive_field_answer", 14, ...),
    ("max_pool2d", _max_pool, stub),
])
def test_cnn_checks_accept_right_answers(name, answer, stub_answer):
    assert getattr(cnn, name)(answer).passed
    assert not getattr(cnn, name)(stub_answer).passed


@pytest.mark.parametrize("name, answer, says", [
    ("output_size", lambda s, k, st, p, d: (s + 2 * p - k) // st + 1, "dilated kernel"),
    ("output_size", lambda s, k, st, p, d: (s + 2 * p - d * (k - 1) - 1) / st + 1, "float"),
    ("output_size", lambda s, k, st, p, d: (s + 2 * p - d * (k - 1) - 1) // st, "first position"),
    ("conv_params", 64 * 32 * 9, "biases"),
    ("conv_params", 64 * 9 + 64, "all 32 input channels"),
    ("vertical_edge_filter", torch.ones(3, 3), "sum to zero"),
    ("vertical_edge_filter", torch.zeros(3, 3), "only gives"),
    ("vertical_edge_filter", torch.tensor([[0.0, 0, 1], [-1, 0, 1], [-1, 0, 0]]), "horizontal edges too"),
    ("vertical_edge_filter", torch.zeros(5, 5), "3×3 tensor"),
    ("receptive_field_answer", 9, "ignores the strides"),
    ("receptive_field_answer", 15, "15 is not right"),
    ("max_pool2d", lambda x, k: F.avg_pool2d(x, k), "mean of each window"),
    ("max_pool2d", lambda x, k: x, "wrong size along dimensions 2, 3"),
])
def test_cnn_checks_name_the_mistake(name, answer, says):
    with pytest.raises(CheckFailed, match=says):
        getattr(cnn, name)(answer)


def _block_forward(b, x):
    return b.relu(b.bn2(b.conv2(b.relu(b.bn1(b.conv1(x))))) + b.shortcut(x))


def test_resnet_checks_accept_right_answers():
    assert resnet.stage_shapes([(64, 56, 56), (128, 28, 28), (256, 14, 14), (512, 7, 7)]).passed
    assert resnet.bottleneck_params(256 * 64 + 64 * 64 * 9 + 64 * 256 + 2 * (64 + 64 + 256)).passed
    assert resnet.residual_forward(_block_forward).passed
    assert not resnet.residual_forward(stub).passed and not resnet.stage_shapes(...).passed


@pytest.mark.parametrize("name, answer, says", [
    ("stage_shapes", [(64, 112, 112), (128, 56, 56), (256, 28, 28), (512, 14, 14)], "stem halves"),
    ("stage_shapes", [(64, 56, 56)], "four stages"),
    ("stage_shapes", [(64, 56, 56), (128, 28, 28), (256, 14, 14), (256, 7, 7)], "stage 4"),
    ("stage_shapes", 5, "list of four"),
    ("bottleneck_params", 256 * 64 + 64 * 64 * 9 + 64 * 256, "convolutions only"),
    ("bottleneck_params", 2 * 256 * 256 * 9 + 4 * 256, "basic block"),
    ("residual_forward", lambda b, x: b.relu(b.bn2(b.conv2(b.relu(b.bn1(b.conv1(x)))))) + b.shortcut(x), "before adding"),
    ("residual_forward", lambda b, x: b.relu(b.bn2(b.conv2(b.relu(b.bn1(b.conv1(x)))))), "shortcut is missing"),
    ("residual_forward", lambda b, x: b.relu(b.bn2(b.conv2(b.bn1(b.conv1(x)))) + b.shortcut(x)), "wrong values"),
])
def test_resnet_checks_name_the_mistake(name, answer, says):
    with pytest.raises(CheckFailed, match=says):
        getattr(resnet, name)(answer)


from dlcourse import compress  # noqa: E402
from dlcourse.checks import lightweight  # noqa: E402


def _fake_quantize(x):
    scale, zp = compress.quant_params(x)
    return compress.dequantize(compress.quantize(x, scale, zp), scale, zp)


def test_lightweight_checks_accept_right_answers():
    assert lightweight.separable_mult_adds(9 * 128 * 196 + 128 * 256 * 196).passed
    assert lightweight.fake_quantize(_fake_quantize).passed
    assert lightweight.distill_loss(compress.distillation_loss).passed
    assert not lightweight.fake_quantize(stub).passed and not lightweight.separable_mult_adds(...).passed


def _narrow_range(x):
    lo, hi = x.min(), x.max()
    scale = (hi - lo) / 255
    zero = -128 - torch.round(lo / scale)
    return scale * (torch.clamp(torch.round(x / scale) + zero, -128, 127) - zero)


def _no_t_squared(s, t, y, T, a):
    kl = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), log_target=True, reduction="batchmean")
    return a * kl + (1 - a) * F.cross_entropy(s, y)


@pytest.mark.parametrize("name, answer, says", [
    ("separable_mult_adds", 9 * 128 * 256 * 196, "standard 3×3"),
    ("separable_mult_adds", 128 * 256 * 196, "only one of the two parts"),
    ("fake_quantize", _narrow_range, "include 0"),
    ("fake_quantize", lambda x: compress.quantize(x, *compress.quant_params(x)), "not the int8 codes"),
    ("distill_loss", _no_t_squared, "T²"),
    ("distill_loss", lambda s, t, y, T, a: F.cross_entropy(s, y), "wrong values"),
])
def test_lightweight_checks_name_the_mistake(name, answer, says):
    with pytest.raises(CheckFailed, match=says):
        getattr(lightweight, name)(answer)


from dlcourse.checks import rnn as rnn_checks  # noqa: E402
from dlcourse.text import pad_batch  # noqa: E402


def _rnn_step(x, h, W_xh, W_hh, b):
    return torch.tanh(x @ W_xh.T + h @ W_hh.T + b)


def _clip(grads, max_norm):
    total = torch.sqrt(sum((g ** 2).sum() for g in grads))
    return [g * min(1.0, max_norm / float(total)) for g in grads]


def test_rnn_checks_accept_right_answers():
    assert rnn_checks.rnn_step(_rnn_step).passed
    assert rnn_checks.pad(pad_batch).passed
    assert rnn_checks.clip_gradients(_clip).passed
    assert not rnn_checks.rnn_step(stub).passed and not rnn_checks.pad(...).passed


@pytest.mark.parametrize("name, answer, says", [
    ("rnn_step", lambda x, h, W_xh, W_hh, b: x @ W_xh.T + h @ W_hh.T + b, "pre-activation"),
    ("rnn_step", lambda x, h, W_xh, W_hh, b: torch.tanh(x @ W_xh.T + b), "recurrence"),
    ("pad", lambda seqs, p: pad_batch([s[::-1] for s in seqs], p), "wrong values"),
    ("pad", lambda seqs, p: (torch.tensor([[p] * (max(map(len, seqs)) - len(s)) + s for s in seqs]),
                             torch.tensor([len(s) for s in seqs])), "left"),
    ("clip_gradients", lambda grads, m: [g * min(1.0, m / float(g.norm())) for g in grads], "global norm"),
])
def test_rnn_checks_name_the_mistake(name, answer, says):
    with pytest.raises(CheckFailed, match=says):
        getattr(rnn_checks, name)(answer)


from dlcourse.checks import lstm as lstm_checks  # noqa: E402


def _lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _source_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):  # the source article: o = σ(c), so h = σ(c) ⊙ tanh(c)
    c = _lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh)[1]
    return torch.sigmoid(c) * torch.tanh(c), c


def _sigmoid_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):  # h = σ(c): neither output gate nor tanh
    c = _lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh)[1]
    return torch.sigmoid(c), c


def _swapped_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    f, i, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _greedy_sampler(model, prompt, length):
    ids = prompt
    for _ in range(length):
        ids = torch.cat([ids, model(ids[None])[0, -1].argmax().view(1)])
    return ids[len(prompt):]


def test_lstm_checks_accept_right_answers():
    assert lstm_checks.lstm_params(4 * (64 * (32 + 64) + 2 * 64)).passed
    assert lstm_checks.lstm_cell(_lstm_cell).passed
    assert lstm_checks.greedy(_greedy_sampler).passed
    assert not lstm_checks.lstm_cell(stub).passed and not lstm_checks.lstm_params(...).passed


@pytest.mark.parametrize("name, answer, says", [
    ("lstm_params", 64 * (32 + 64) + 2 * 64, "four"),
    ("lstm_params", 4 * (64 * (32 + 64) + 64), "two"),
    ("lstm_cell", _source_cell, "source article"),
    ("lstm_cell", _sigmoid_cell, "leaves out both the output gate and the tanh"),
    ("lstm_cell", _swapped_cell, "swapped"),
    ("lstm_cell", lambda *a: (_lstm_cell(*a)[0], _lstm_cell(*a)[1] * 0 + torch.sigmoid(
        (a[0] @ a[3].T + a[5] + a[1] @ a[4].T + a[6]).chunk(4, -1)[0]) * torch.tanh(
        (a[0] @ a[3].T + a[5] + a[1] @ a[4].T + a[6]).chunk(4, -1)[2])), "forgets the old one"),
    ("greedy", lambda m, p, n: torch.cat([p, _greedy_sampler(m, p, n)]), "without the prompt"),
    ("greedy", lambda m, p, n: _greedy_sampler(lambda x: m(x)[:, :1].expand(-1, x.shape[1], -1), p, n), "first position"),
])
def test_lstm_checks_name_the_mistake(name, answer, says):
    with pytest.raises(CheckFailed, match=says):
        getattr(lstm_checks, name)(answer)
