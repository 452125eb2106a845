"""Each auto-check accepts a right answer, reports a stub as not attempted, and names the mistake."""
import pytest
import torch
import torch.nn.functional as F

from dlcourse.checks import CheckFailed, foundations as check


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
    ("mlp_param_count", 12, "expected 235,146|expected 235146"),
    ("linear_backward", lambda x, W, b, g: (g @ W, x.T @ g, g.sum(0)), "grad_W has shape"),
    ("linear_backward", lambda x, W, b, g: (g @ W, g.T @ x, g), "add up its gradients"),
    ("linear_backward", lambda x, W, b, g: (g @ W * 2, g.T @ x, g.sum(0)), "grad_x: wrong values"),
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
