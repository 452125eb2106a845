"""No auto-check gives its answer away, hidden cases catch answers fitted to the visible ones, and a
wrong answer in a notebook is shown without stopping "Run all" (while under grading it raises)."""
import importlib
import pkgutil
import re

import nbformat
import pytest
import torch

import dlcourse.checks
from dlcourse.checks import core, foundations

# import every check module, including chapters' modules that __init__ does not list yet
MODULES = [importlib.import_module(f"dlcourse.checks.{m.name}") for m in pkgutil.iter_modules(dlcourse.checks.__path__)
           if m.name != "core"]
STRUCTURED_ANSWERS = {  # answers that are not passed through expect_number / expect_tensor
    "resnet.stage_shapes": [(64, 56, 56), (128, 28, 28), (256, 14, 14), (512, 7, 7)],
}


def _forms(value) -> set[str]:
    """How an expected value could be printed in a message (only forms specific enough to mean it)."""
    forms = set()
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if not value.is_floating_point():
            forms |= {str(value.tolist()), str(value)}
            values = [v for v in value.flatten().tolist() if abs(v) >= 100]
        else:
            values = [v for v in value.flatten().tolist() if abs(v) > 1e-3]
        for v in values:
            forms |= _forms(float(v) if value.is_floating_point() else int(v))
        return forms
    if isinstance(value, tuple):
        return {str(value), "×".join(map(str, value)), ", ".join(map(str, value))}
    if isinstance(value, int):
        forms |= {str(value), f"{value:,}", f"{value:_}".replace("_", " ")}
    forms |= {f"{value:.6g}", f"{value:.5g}", f"{value:.4g}"}
    return {f for f in forms if len(re.sub(r"\D", "", f)) >= 3}  # "1" or "0.5" would match anything


class Spy:
    """Records the expected values a check compares with, by wrapping core's expect_* helpers."""

    def __init__(self, monkeypatch):
        self.expected = []
        for module in MODULES:
            for name in ("expect_number", "expect_tensor"):
                if hasattr(module, name):
                    monkeypatch.setattr(module, name, self.wrap(getattr(core, name)))

    def wrap(self, helper):
        def spied(got, expected, *args, **kwargs):
            self.expected.append(expected)
            return helper(got, expected, *args, **kwargs)
        return spied


def _fill(t):
    return torch.full_like(t, 7.77) if t.is_floating_point() else torch.full_like(t, 777)


def _generic_wrong_answers():
    """Wrong answers of every kind a check may receive: numbers, functions, tuples, lists."""
    def tensors_like(*args):
        return tuple(_fill(a) for a in args if isinstance(a, torch.Tensor))

    def list_like(*args):
        return [_fill(t) for t in args[0]] if isinstance(args[0], list) else tensors_like(*args)

    return [
        0, -3, 10**9, 3.5, "text", [1, 2], (123457, 98765), torch.ones(3, 3),
        lambda *a: 0.0,
        lambda *a: torch.zeros(3),
        lambda *a: next(x for x in a if isinstance(x, torch.Tensor)),
        lambda *a: (tensors_like(*a)[0] if len(tensors_like(*a)) == 1 else tensors_like(*a)),
        lambda *a: tensors_like(*a)[:2],
        list_like,
        lambda *a: (_ for _ in ()).throw(ValueError("boom")),
        lambda *a: (3.0, 4.0),
    ]


def _number_variants(expected):
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        base = expected.item() if isinstance(expected, torch.Tensor) else expected
        return [base + 1, base - 1, base * 2, base + 1000] if isinstance(base, int) else [base + 0.25, base * 3]
    return []


@pytest.mark.parametrize("name", sorted(core.REGISTRY), ids=str)
def test_no_check_message_contains_the_expected_value(name, monkeypatch):
    monkeypatch.setenv(core.SEED_ENV, "1234")  # the same hidden cases for every call
    spy = Spy(monkeypatch)
    run = core.REGISTRY[name]
    answers = _generic_wrong_answers()
    run(0, strict=False)  # learn the expected value of a number answer
    answers += [v for e in list(spy.expected) for v in _number_variants(e)]
    if name in STRUCTURED_ANSWERS:
        right = STRUCTURED_ANSWERS[name]
        answers += [right[:3], [right[0]] + [(c * 2, h, w) for c, h, w in right[1:]],
                    [(c, h * 2, w * 2) for c, h, w in right], [right[-1]] * 4]
    messages = []
    for answer in answers:
        spy.expected.clear()
        result = run(answer, strict=False)
        assert not result.passed, (name, answer)
        forms = set().union(*map(_forms, spy.expected)) if spy.expected else set()
        forms |= set().union(*map(_forms, STRUCTURED_ANSWERS.get(name, [])))
        leaked = [f for f in forms if f in result.message]
        assert not leaked, f"{name}: the message for {answer!r} gives away {leaked}: {result.message}"
        assert not re.search(r"expected (shape )?[\d(\[]", result.message), result.message
        messages.append(result.message)
    assert all(messages), f"{name}: a wrong answer got no message"


def test_expect_helpers_name_the_mistake_without_the_answer():
    expected = torch.tensor([[0.25, 1.5], [-2.0, 3.75]])
    cases = [(-expected, "wrong sign"), (expected.T.contiguous(), "transpose"), (expected * 3, "same factor"),
             (expected + 0.5, "same constant"), (torch.zeros(2, 3), "dimension 1"), (torch.zeros(2), "fewer"),
             (torch.zeros(2, 2, dtype=torch.long), "floating-point")]
    for got, says in cases:
        with pytest.raises(core.Mismatch, match=says) as err:
            core.expect_tensor(got, expected, "x")
        assert "3.75" not in str(err.value) and "(2, 2)" not in str(err.value)
    with pytest.raises(core.Mismatch, match=r"factor of ten\); count again") as err:
        core.expect_number(5, 235146, "n", hint="count again")
    assert "235" not in str(err.value)
    core.expect_number(235146, 235146, "n")  # right: no error


def test_hidden_cases_catch_an_answer_fitted_to_the_visible_inputs(monkeypatch):
    def fitted_softmax(z):  # right on the check's visible inputs, wrong elsewhere
        if tuple(z.shape) in ((3,), (4, 5)):
            e = (z - z.max(dim=-1, keepdim=True).values).exp()
            return e / e.sum(dim=-1, keepdim=True)
        return z.exp() / z.exp().sum()

    for seed in range(5):
        monkeypatch.setenv(core.SEED_ENV, str(seed))
        result = foundations.softmax(fitted_softmax, strict=False)
        assert not result.passed and "hidden" in result.message and f"seed {seed}" in result.message


def test_hidden_cases_are_fresh_unless_a_seed_is_set(monkeypatch):
    monkeypatch.delenv(core.SEED_ENV, raising=False)
    assert len({core.hidden_seed() for _ in range(20)}) > 1
    monkeypatch.setenv(core.SEED_ENV, "42")
    assert {core.hidden_seed() for _ in range(3)} == {42}


def test_when_checks_raise(monkeypatch):
    wrong, stub = (lambda z: z), (lambda z: (_ for _ in ()).throw(NotImplementedError))
    for var in (core.STRICT_ENV, core.GRADING_ENV):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(core.CheckFailed):  # plain Python: raise, as before
        foundations.softmax(wrong)
    monkeypatch.setenv(core.STRICT_ENV, "0")  # shown, not raised: what a notebook does
    result = foundations.softmax(wrong)
    assert not result and result.status == "wrong" and str(result).startswith("❌")
    assert "#cf222e" in result._repr_html_()
    with pytest.raises(core.CheckFailed):
        foundations.softmax(wrong, strict=True)
    assert foundations.softmax(stub).status == "not attempted"
    monkeypatch.setenv(core.GRADING_ENV, "autograde")  # nbgrader: a stub scores zero too
    with pytest.raises(core.CheckFailed, match="not attempted"):
        foundations.softmax(stub)
    with pytest.raises(core.CheckFailed):
        foundations.softmax(wrong, strict=False) if False else foundations.softmax(wrong)
    assert foundations.softmax(lambda z: torch.softmax(z, -1)).passed


def test_a_wrong_answer_does_not_stop_run_all_in_a_notebook(monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv(core.STRICT_ENV, "")  # what a student's Jupyter has: no setting at all
    monkeypatch.delenv(core.GRADING_ENV, raising=False)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from dlcourse.checks import foundations as check\n"
                                  "result = check.softmax(lambda z: z)\nresult"),
        nbformat.v4.new_code_cell("print('still running', bool(result), result.status)"),
    ])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()  # raises if any cell fails
    shown = nb.cells[0].outputs[0]["data"]
    assert "❌" in shown["text/plain"] and "text/html" in shown
    assert "still running False wrong" in nb.cells[1].outputs[0]["text"]
