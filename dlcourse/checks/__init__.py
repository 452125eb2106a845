"""Auto-checks for the exercises: call one on your answer and it says what, if anything, is wrong.

>>> from dlcourse.checks import foundations as check
>>> check.softmax(my_softmax)
"""
from . import attention, bert, cnn, diffusion, foundations, gan, gpt, lightweight, lstm, resnet, rnn, transformer
from .core import CheckFailed, CheckResult, check

__all__ = ["CheckFailed", "CheckResult", "attention", "bert", "check", "cnn", "diffusion", "foundations", "gan", "gpt",
           "lightweight", "lstm", "resnet", "rnn", "transformer"]
