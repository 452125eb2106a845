"""Chapter 7's auto-checks accept right answers and name the common mistakes."""
import math

import pytest
import torch

from dlcourse.checks import CheckFailed
from dlcourse.checks import transformer as check
from dlcourse.models.transformer import sinusoidal_table


def stub(*args):
    raise NotImplementedError


def causal(q, k, v):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    t = q.shape[-2]
    scores = scores.masked_fill(~torch.ones(t, t, dtype=torch.bool).tril(), float("-inf"))
    return scores.softmax(-1) @ v


def no_mask(q, k, v):
    return (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-1) @ v


def unscaled(q, k, v):
    return causal(q * math.sqrt(q.shape[-1]), k, v)


def swapped(max_len, d):
    t = sinusoidal_table(max_len, d)
    out = torch.empty_like(t)
    out[:, 0::2], out[:, 1::2] = t[:, 1::2], t[:, 0::2]
    return out


def test_right_answers_pass_and_stubs_are_not_attempted():
    assert check.sinusoidal(sinusoidal_table).passed
    assert check.causal_attention(causal).passed
    assert check.padding_mask(lambda ids, pad: (ids != pad)[:, None, None, :]).passed
    assert not check.sinusoidal(stub).passed and not check.causal_attention(stub).passed
    assert not check.padding_mask(...).passed


@pytest.mark.parametrize("name, answer, says", [
    ("sinusoidal", swapped, "swapped"),
    ("sinusoidal", lambda n, d: sinusoidal_table(n, d).T, "transposed"),
    ("sinusoidal", lambda n, d: torch.zeros(n, d), "wrong values"),
    ("causal_attention", no_mask, "no mask"),
    ("causal_attention", unscaled, "not scaled"),
    ("causal_attention", lambda q, k, v: (causal(q, k, v), None), "tuple"),
    ("padding_mask", lambda ids, pad: ids != pad, "(B, T)"),
    ("padding_mask", lambda ids, pad: (ids == pad)[:, None, None, :], "inverted"),
    ("padding_mask", lambda ids, pad: (ids != pad)[:, None, None, :].float(), "boolean"),
    ("padding_mask", lambda ids, pad: (ids != 0)[:, None, None, :], "pad_id=7"),
])
def test_checks_name_the_mistake(name, answer, says):
    with pytest.raises(CheckFailed, match=None) as err:
        getattr(check, name)(answer)
    assert says in str(err.value), str(err.value)
