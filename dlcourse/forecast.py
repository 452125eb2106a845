"""Autoregression, the classical baseline for forecasting a series one step ahead.

AR(p): x_t = c + φ_1 x_{t−1} + … + φ_p x_{t−p} + ε_t, fitted by ordinary least squares on the
lagged values: what statsmodels' ``AutoReg(x, lags=p, trend="c")`` computes (Box & Jenkins).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import torch
from torch import Tensor


def lagged(series: Tensor, p: int) -> tuple[Tensor, Tensor]:
    """Every window of ``p`` consecutive values, oldest first (N, p), and the value after each (N,)."""
    if series.dim() != 1:
        raise ValueError(f"expected a 1-D series, got shape {tuple(series.shape)}")
    if not 1 <= p < len(series):
        raise ValueError(f"the order p must be between 1 and {len(series) - 1}, got {p}")
    windows = series.unfold(0, p + 1, 1)  # (N, p + 1)
    return windows[:, :-1], windows[:, -1]


@dataclass(frozen=True)
class AutoRegression:
    """A fitted AR(p): ``intercept`` c and ``coef`` (p,) for the lags *oldest first*, so that
    ``predict`` reads the same windows (B, T) as a recurrent forecaster."""

    intercept: float
    coef: Tensor

    @property
    def order(self) -> int:
        return len(self.coef)

    @classmethod
    def fit(cls, series: Tensor, p: int) -> AutoRegression:
        """Least squares of each value on the ``p`` before it and a constant (in float64)."""
        x, y = lagged(series.double(), p)
        if len(x) <= p + 1:
            raise ValueError(f"{len(x)} equations cannot determine {p + 1} coefficients")
        design = torch.cat([torch.ones(len(x), 1, dtype=torch.float64), x], dim=1)  # (N, 1 + p)
        solution = torch.linalg.lstsq(design, y[:, None]).solution[:, 0]  # (1 + p,)
        return cls(float(solution[0]), solution[1:])

    def predict(self, windows: Tensor) -> Tensor:
        """One-step forecasts (B,) from windows (B, T), T ≥ p, oldest first: only the last p values count."""
        if windows.dim() != 2 or windows.shape[1] < self.order:
            raise ValueError(f"expected windows (B, T) with T ≥ {self.order}, got {tuple(windows.shape)}")
        recent = windows[:, -self.order:].double()  # (B, p)
        return (self.intercept + recent @ self.coef).to(windows.dtype)


def select_order(series: Tensor, split: int, orders: Iterable[int]) -> tuple[int, dict[int, float]]:
    """The order p whose AR(p), fitted on ``series[:split]``, forecasts ``series[split:]`` one step
    ahead with the lowest RMSE; returns it and the RMSE of every order tried.

    Pass only training data: the values after ``split`` are the validation part, and anything the
    final comparison is scored on must not be among them.
    """
    if not 0 < split < len(series):
        raise ValueError(f"split must fall inside the series (1 … {len(series) - 1}), got {split}")
    rmse = {}
    for p in orders:
        if p >= split:
            raise ValueError(f"order {p} needs more than the {split} values before the split")
        model = AutoRegression.fit(series[:split], p)
        windows, targets = lagged(series, p)
        windows, targets = windows[split - p:], targets[split - p:]  # the targets at indices split, split + 1, …
        rmse[p] = math.sqrt(float(((model.predict(windows) - targets) ** 2).mean()))
    if not rmse:
        raise ValueError("no order to try")
    return min(rmse, key=rmse.get), rmse
