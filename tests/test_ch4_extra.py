"""Chapter 4's additions: McNemar's test for paired classifiers and the autoregressive baseline."""
import math

import pytest
import torch

from dlcourse import forecast, metrics


def test_mcnemar_counts_only_discordant_pairs_and_matches_the_binomial():
    a = torch.tensor([True, True, True, False, False, True, False])
    b = torch.tensor([True, False, False, True, False, True, False])
    n01, n10, p = metrics.mcnemar(a, b)
    assert (n01, n10) == (2, 1)  # right by A only: examples 1, 2; right by B only: example 3
    assert p == 1.0  # 2 · P(X ≤ 1), X ~ Bin(3, ½) = 2 · 4/8, capped at 1
    # all n discordant pairs one way: p = 2 · 2^−n exactly
    for n in (1, 5, 12, 60):
        _, _, p = metrics.mcnemar(torch.ones(n, dtype=torch.bool), torch.zeros(n, dtype=torch.bool))
        assert p == min(1.0, 2 * 0.5 ** n)
    # symmetric in the two models; no disagreement at all gives p = 1
    assert metrics.mcnemar(b, a)[2] == metrics.mcnemar(a, b)[2]
    assert metrics.mcnemar(a, a) == (0, 0, 1.0)


def test_mcnemar_agrees_with_scipys_exact_binomial_test():
    scipy_stats = pytest.importorskip("scipy.stats")
    gen = torch.Generator().manual_seed(0)
    for n, flip in [(50, 0.2), (1054, 0.1), (1054, 0.25), (3000, 0.05)]:
        a = torch.rand(n, generator=gen) < 0.75
        b = torch.where(torch.rand(n, generator=gen) < flip, ~a, a)
        n01, n10, p = metrics.mcnemar(a, b)
        reference = scipy_stats.binomtest(min(n01, n10), n01 + n10, 0.5).pvalue
        assert p == pytest.approx(reference, rel=1e-9, abs=1e-300)


def test_mcnemar_refuses_predictions_instead_of_correctness():
    with pytest.raises(TypeError, match="booleans"):
        metrics.mcnemar(torch.tensor([1, 0]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="same length"):
        metrics.mcnemar(torch.tensor([True]), torch.tensor([True, False]))


def _ar2_series(n, seed=0):
    """x_t = 0.5 + 1.2 x_{t−1} − 0.5 x_{t−2} + ε_t, a stationary AR(2) with small noise."""
    gen = torch.Generator().manual_seed(seed)
    noise = 0.1 * torch.randn(n, generator=gen, dtype=torch.float64)
    x = torch.zeros(n, dtype=torch.float64)
    for t in range(2, n):
        x[t] = 0.5 + 1.2 * x[t - 1] - 0.5 * x[t - 2] + noise[t]
    return x


def test_autoregression_recovers_known_coefficients():
    model = forecast.AutoRegression.fit(_ar2_series(20_000), 2)
    # least squares is consistent: the error shrinks like 1/√N (about 0.01 here for the lags)
    assert model.coef.tolist() == pytest.approx([-0.5, 1.2], abs=0.03)  # oldest lag first
    assert model.intercept == pytest.approx(0.5, abs=0.05)


def test_autoregression_is_ordinary_least_squares():
    sklearn = pytest.importorskip("sklearn.linear_model")
    series = torch.randn(200, generator=torch.Generator().manual_seed(1), dtype=torch.float64).cumsum(0)
    model = forecast.AutoRegression.fit(series, 5)
    x, y = forecast.lagged(series, 5)
    reference = sklearn.LinearRegression().fit(x.numpy(), y.numpy())
    assert model.coef.numpy() == pytest.approx(reference.coef_, rel=1e-8, abs=1e-10)
    assert model.intercept == pytest.approx(reference.intercept_, rel=1e-8, abs=1e-10)
    assert model.predict(x).numpy() == pytest.approx(reference.predict(x.numpy()), rel=1e-8, abs=1e-10)


def test_predict_reads_only_the_last_p_values_of_longer_windows():
    model = forecast.AutoRegression(1.0, torch.tensor([2.0, 3.0], dtype=torch.float64))
    windows = torch.tensor([[100.0, 1.0, 2.0], [-7.0, 0.0, 1.0]])
    assert model.predict(windows).tolist() == [1 + 2 * 1 + 3 * 2, 1 + 0 + 3 * 1]
    with pytest.raises(ValueError, match="T ≥ 2"):
        model.predict(torch.zeros(4, 1))


def test_select_order_finds_the_true_order_and_never_reads_past_the_series():
    series = _ar2_series(3000, seed=2)
    best, rmse = forecast.select_order(series, 2000, range(1, 7))
    # AR(1) misses the second lag: its error is σ/√(1 − 0.5²) ≈ 1.15 σ in theory (partial autocorrelation −0.5)
    assert best >= 2 and rmse[2] < 0.95 * rmse[1]
    assert all(math.isfinite(v) for v in rmse.values()) and set(rmse) == set(range(1, 7))
    # validation error of AR(2) by hand: fit on the first part, forecast every later value
    model = forecast.AutoRegression.fit(series[:2000], 2)
    by_hand = [float(model.predict(series[t - 2:t][None])[0]) - float(series[t]) for t in range(2000, 3000)]
    assert rmse[2] == pytest.approx(math.sqrt(sum(e * e for e in by_hand) / len(by_hand)), rel=1e-12)
    with pytest.raises(ValueError, match="order 9"):
        forecast.select_order(series[:10], 9, [9])
