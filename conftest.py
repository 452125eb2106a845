"""pytest for the whole checkout (the tests and the chapter notebooks that nbval runs).

In a notebook a wrong answer to an exercise is shown, not raised, so that "Run all" carries on
(dlcourse.checks.core). Under pytest the chapters must fail loudly instead when a solution stops
passing its check: the kernels nbval starts inherit this setting.
"""
import os

os.environ.setdefault("DLCOURSE_STRICT_CHECKS", "1")
