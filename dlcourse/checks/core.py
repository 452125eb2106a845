"""The auto-check framework: run a student's answer against a reference and say what is wrong.

A check is written as a function that takes the student's answer and raises :class:`Mismatch`
with a specific message at the first problem it finds. :func:`check` turns it into what the
notebooks call:

* a correct answer returns a :class:`CheckResult` that shows a green "passed";
* an answer that is still the stub (it raises ``NotImplementedError``, or is ``...``) shows
  "not attempted yet" without stopping the notebook, so the student edition runs top to bottom;
* a wrong answer raises :class:`CheckFailed` (an ``AssertionError``) whose message says what is
  wrong and, where the mistake is a common one, how to fix it.
"""
from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import Tensor


class Mismatch(Exception):
    """Raised inside a check: the answer is wrong, and the message says how."""


class CheckFailed(AssertionError):
    """What a student sees when an answer is wrong."""


class NotAttempted(Exception):
    """The answer is still the exercise stub."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check that did not fail: ``passed`` is False only when not attempted yet."""

    title: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return f"{'✅ passed' if self.passed else '⏳ not attempted yet'} — {self.title}: {self.message}"

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.passed else "#9a6700"
        return (f'<div style="border-left:4px solid {color};padding:4px 10px;margin:4px 0">'
                f"{html.escape(str(self))}</div>")

    def __repr__(self) -> str:
        return str(self)


def call(fn: Callable, *args: Any) -> Any:
    """Call the student's function; stubs become :class:`NotAttempted`, crashes a clear :class:`Mismatch`."""
    try:
        return fn(*args)
    except NotImplementedError as err:
        raise NotAttempted(str(err)) from None
    except Exception as err:  # the student's code crashed: say on what input
        shapes = ", ".join(f"tensor{tuple(a.shape)}" if isinstance(a, Tensor) else repr(a) for a in args)
        raise Mismatch(f"your function raised {type(err).__name__}: {err} (called with {shapes})") from err


def expect_tensor(got: Any, expected: Tensor, what: str, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """``got`` must be a tensor with ``expected``'s shape and (close) values."""
    if not isinstance(got, Tensor):
        raise Mismatch(f"{what}: expected a tensor, got {type(got).__name__}")
    if got.shape != expected.shape:
        raise Mismatch(f"{what}: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}")
    if expected.is_floating_point() and not got.is_floating_point():
        raise Mismatch(f"{what}: expected floating-point values, got dtype {got.dtype}")
    got = got.detach().to(expected.dtype)
    if not torch.isfinite(got).all():
        raise Mismatch(f"{what}: the result contains NaN or infinity")
    if not torch.allclose(got, expected, atol=atol, rtol=rtol):
        diff = (got - expected).abs()
        where = tuple(int(i) for i in torch.unravel_index(diff.argmax(), diff.shape))
        raise Mismatch(f"{what}: wrong values; the largest error is at index {where}: "
                       f"expected {expected[where].item():.6g}, got {got[where].item():.6g}")


def expect_number(got: Any, expected: float, what: str, rel: float = 1e-6) -> None:
    """``got`` must be a real number equal to ``expected`` (within a relative tolerance)."""
    if isinstance(got, Tensor) and got.numel() == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise Mismatch(f"{what}: expected a number, got {type(got).__name__}")
    if abs(got - expected) > rel * max(1.0, abs(expected)):
        raise Mismatch(f"{what}: expected {expected:.6g}, got {got:.6g}")


def check(title: str) -> Callable[[Callable[[Any], str]], Callable[[Any], CheckResult]]:
    """Make an auto-check from a function that raises :class:`Mismatch` or returns a success message."""

    def wrap(body: Callable[[Any], str]) -> Callable[[Any], CheckResult]:
        @functools.wraps(body)
        def run(answer: Any) -> CheckResult:
            if answer is ... or answer is None:
                return CheckResult(title, False, "replace the `...` with your answer and run the cell again")
            try:
                message = body(answer)
            except NotAttempted:
                return CheckResult(title, False, "replace the `raise NotImplementedError` with your code "
                                                 "and run the cell again")
            except Mismatch as err:
                raise CheckFailed(f"{title}: {err}") from None
            return CheckResult(title, True, message)

        return run

    return wrap
