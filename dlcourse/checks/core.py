"""The auto-check framework: run a student's answer against a reference and say what is wrong.

A check is written as a function that takes the student's answer and raises :class:`Mismatch`
with a specific message at the first problem it finds. :func:`check` turns it into what the
notebooks call:

* a correct answer returns a :class:`CheckResult` that shows a green "passed";
* an answer that is still the stub (it raises ``NotImplementedError``, or is ``...``) shows
  "not attempted yet" without stopping the notebook, so the student edition runs top to bottom;
* a wrong answer gets a message that says what is wrong and, where the mistake is a common one,
  why and how to fix it, but never the expected value. In a Jupyter notebook the message is
  shown and the check returns a false :class:`CheckResult`, so one wrong answer does not stop
  "Run all"; elsewhere (plain Python, pytest), with ``strict=True`` or with
  ``DLCOURSE_STRICT_CHECKS=1`` it raises :class:`CheckFailed` (an ``AssertionError``).
* while nbgrader grades (it sets ``NBGRADER_EXECUTION``), or with ``DLCOURSE_STRICT_CHECKS=grade``,
  a stub raises too, so that an exercise left undone scores zero.

Function answers are also tried on **hidden cases**: inputs a check draws afresh on every call
(other shapes, other values), so that an answer cannot be fitted to the visible examples. Set
``DLCOURSE_CHECK_SEED`` to replay the same hidden cases (a failure message names its seed).
"""
from __future__ import annotations

import functools
import html
import os
import secrets
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import Tensor

STRICT_ENV = "DLCOURSE_STRICT_CHECKS"  # "1": wrong answers raise; "grade": stubs raise too; "0": never raise
SEED_ENV = "DLCOURSE_CHECK_SEED"  # replay a check's hidden cases
GRADING_ENV = "NBGRADER_EXECUTION"  # nbgrader sets it while it autogrades or validates a notebook

#: Every check made with :func:`check`, by ``module.name`` (e.g. ``"foundations.softmax"``).
REGISTRY: dict[str, Callable[..., "CheckResult"]] = {}


class Mismatch(Exception):
    """Raised inside a check: the answer is wrong, and the message says how."""


class CheckFailed(AssertionError):
    """What a student sees when an answer is wrong (when checks raise: see :func:`raises_on_wrong`)."""


class NotAttempted(Exception):
    """The answer is still the exercise stub."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check: true only when passed. ``attempted`` is False for a stub."""

    title: str
    passed: bool
    message: str
    attempted: bool = True

    def __bool__(self) -> bool:
        return self.passed

    @property
    def status(self) -> str:
        return "passed" if self.passed else "wrong" if self.attempted else "not attempted"

    def __str__(self) -> str:
        mark = {"passed": "✅ passed", "wrong": "❌ not right yet", "not attempted": "⏳ not attempted yet"}
        return f"{mark[self.status]} — {self.title}: {self.message}"

    def _repr_html_(self) -> str:
        color = {"passed": "#1a7f37", "wrong": "#cf222e", "not attempted": "#9a6700"}[self.status]
        return (f'<div style="border-left:4px solid {color};padding:4px 10px;margin:4px 0">'
                f"{html.escape(str(self))}</div>")

    def __repr__(self) -> str:
        return str(self)


def _in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (a notebook), where a wrong answer should not stop "Run all"."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return type(get_ipython()).__name__ == "ZMQInteractiveShell"


def grading() -> bool:
    """True while nbgrader autogrades or validates, or with ``DLCOURSE_STRICT_CHECKS=grade``."""
    return bool(os.environ.get(GRADING_ENV)) or os.environ.get(STRICT_ENV, "").lower() == "grade"


def raises_on_wrong() -> bool:
    """Whether a wrong answer raises :class:`CheckFailed` by default (rather than returning a false result)."""
    setting = os.environ.get(STRICT_ENV, "").strip().lower()
    if grading() or setting in ("1", "true", "yes"):
        return True
    if setting in ("0", "false", "no"):
        return False
    return not _in_kernel()


def hidden_seed() -> int:
    """The seed of a check's hidden cases: ``$DLCOURSE_CHECK_SEED`` when set, else fresh on every call."""
    value = os.environ.get(SEED_ENV)
    return int(value) if value else secrets.randbelow(2**31)


def hidden_generator(seed: int | None = None) -> tuple[torch.Generator, int]:
    """A generator for hidden cases and its seed (to name in a failure message, so it can be replayed)."""
    seed = hidden_seed() if seed is None else seed
    return torch.Generator().manual_seed(seed), seed


def randint(gen: torch.Generator, low: int, high: int) -> int:
    """A random integer in ``[low, high]`` (both included) from ``gen``."""
    return int(torch.randint(low, high + 1, (1,), generator=gen))


def call(fn: Callable, *args: Any) -> Any:
    """Call the student's function; stubs become :class:`NotAttempted`, crashes a clear :class:`Mismatch`."""
    if not callable(fn):
        raise Mismatch(f"expected a function, got {type(fn).__name__}")
    try:
        return fn(*args)
    except NotImplementedError as err:
        raise NotAttempted(str(err)) from None
    except Exception as err:  # the student's code crashed: say on what input
        shapes = ", ".join(f"tensor{tuple(a.shape)}" if isinstance(a, Tensor) else _short(a) for a in args)
        raise Mismatch(f"your function raised {type(err).__name__}: {err} (called with {shapes})") from err


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{type(value).__name__} (…)"


def _dims(dims: list[int]) -> str:
    return ("dimension " if len(dims) == 1 else "dimensions ") + ", ".join(map(str, dims))


def expect_tensor(got: Any, expected: Tensor, what: str, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """``got`` must be a tensor with ``expected``'s shape and (close) values.

    The message says what differs (the number of dimensions, which dimensions have the wrong
    size, how many entries are wrong and where, and a pattern when one fits: a flipped sign, a
    constant factor or offset, a transpose), but never the expected shape or values.
    """
    if not isinstance(got, Tensor):
        raise Mismatch(f"{what}: expected a tensor, got {type(got).__name__}")
    if got.shape != expected.shape:
        if got.dim() != expected.dim():
            more = "more" if got.dim() > expected.dim() else "fewer"
            raise Mismatch(f"{what}: your result has {got.dim()} dimension(s), {more} than it should "
                           f"(yours is {tuple(got.shape)})")
        if got.dim() >= 2 and got.transpose(-1, -2).shape == expected.shape:
            raise Mismatch(f"{what}: your result looks transposed (its last two dimensions are swapped)")
        wrong = [i for i, (a, b) in enumerate(zip(got.shape, expected.shape)) if a != b]
        raise Mismatch(f"{what}: your result {tuple(got.shape)} has the wrong size along {_dims(wrong)}")
    if expected.is_floating_point() and not got.is_floating_point():
        raise Mismatch(f"{what}: expected floating-point values, got dtype {got.dtype}")
    got = got.detach().to(device=expected.device, dtype=expected.dtype)
    if not torch.isfinite(got).all():
        raise Mismatch(f"{what}: the result contains NaN or infinity")
    close = torch.isclose(got, expected, atol=atol, rtol=rtol)
    if bool(close.all()):
        return
    where = tuple(int(i) for i in torch.unravel_index((~close).flatten().nonzero()[0, 0], close.shape)) \
        if close.dim() else ()
    message = (f"{what}: wrong values at {int((~close).sum())} of {close.numel()} entries "
               f"(the first at index {where}, where you have {got[where].item():.4g})")
    raise Mismatch(message + _pattern(got, expected, atol, rtol))


def _pattern(got: Tensor, expected: Tensor, atol: float, rtol: float) -> str:
    """A hint when the wrong values follow a simple pattern, without saying what the right ones are."""
    if not expected.is_floating_point():
        got, expected = got.double(), expected.double()
    if torch.allclose(-got, expected, atol=atol, rtol=rtol):
        return "; every entry has the wrong sign"
    if got.dim() >= 2 and got.shape[-1] == got.shape[-2] and torch.allclose(
            got.transpose(-1, -2), expected, atol=atol, rtol=rtol):
        return "; your result is the transpose of the right one"
    nonzero = expected.abs() > atol
    if nonzero.sum() >= 2:
        ratio = got[nonzero] / expected[nonzero]
        if (ratio - ratio.mean()).abs().max() < 1e-4 * max(1.0, ratio.mean().abs().item()) and not torch.allclose(
                got, torch.zeros_like(got), atol=atol):
            return ("; every entry is off by the same factor: look for a missing or extra scale (a sum "
                    "instead of a mean, a forgotten constant)")
    offset = got - expected
    if expected.numel() >= 2 and (offset - offset.mean()).abs().max() < atol + rtol * expected.abs().max():
        return "; every entry is off by the same constant: look for a missing or extra term"
    return ""


def _plain(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:.6g}"


def expect_number(got: Any, expected: float, what: str, rel: float = 1e-6, hint: str = "") -> None:
    """``got`` must be a real number equal to ``expected`` (within a relative tolerance).

    A wrong number is reported with ``hint`` (how to get it right) and whether it is off by more
    than a factor of ten, never with the expected value.
    """
    if isinstance(got, Tensor) and got.numel() == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise Mismatch(f"{what}: expected a number, got {type(got).__name__}")
    exact = isinstance(expected, int) and isinstance(got, int)  # a count: no tolerance
    if (got != expected) if exact else abs(got - expected) > rel * max(1.0, abs(expected)):
        message = f"{what}: {_plain(got)} is not right"
        if got and expected and not 0.1 <= abs(got / expected) <= 10:
            message += " (it is off by more than a factor of ten)"
        raise Mismatch(message + (f"; {hint}" if hint else ""))


def check(title: str) -> Callable[[Callable[[Any], str]], Callable[..., CheckResult]]:
    """Make an auto-check from a function that raises :class:`Mismatch` or returns a success message.

    The check is called as ``name(answer)`` or ``name(answer, strict=True)``: ``strict`` (default:
    :func:`raises_on_wrong`) says whether a wrong answer raises :class:`CheckFailed` or returns a
    false :class:`CheckResult` whose message is shown in the notebook.
    """

    def wrap(body: Callable[[Any], str]) -> Callable[..., CheckResult]:
        @functools.wraps(body)
        def run(answer: Any, *, strict: bool | None = None) -> CheckResult:
            result = _outcome(body, title, answer)
            if not result.attempted and grading():
                raise CheckFailed(f"{title}: not attempted: {result.message}")
            if result.attempted and not result.passed and (raises_on_wrong() if strict is None else strict):
                raise CheckFailed(f"{title}: {result.message}")
            return result

        REGISTRY[f"{body.__module__.rsplit('.', 1)[-1]}.{body.__name__}"] = run
        return run

    return wrap


def _outcome(body: Callable[[Any], str], title: str, answer: Any) -> CheckResult:
    if answer is ... or answer is None:
        return CheckResult(title, False, "replace the `...` with your answer and run the cell again", False)
    try:
        return CheckResult(title, True, body(answer))
    except NotAttempted:
        return CheckResult(title, False, "replace the `raise NotImplementedError` with your code and run "
                                         "the cell again", False)
    except Mismatch as err:
        return CheckResult(title, False, str(err))
    except Exception as err:  # an answer of a shape the check did not foresee
        return CheckResult(title, False, f"the check could not use your answer ({type(err).__name__}); "
                                         "is it of the kind the exercise asks for?")
