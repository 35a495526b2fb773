"""Trial-cost guard: large tables are tuned on the rows the budget can afford."""
import math

import numpy as np
import pandas as pd
import pytest

from steps import cost
from steps.config import PreprocessConfig, TrainConfig
from steps.tuning import tune_family


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(["no", "yes"], size=n, p=[0.8, 0.2])
    X = pd.DataFrame({"x1": rng.normal(size=n) + (y == "yes") * 1.5,
                      "x2": rng.normal(size=n),
                      "cat": rng.choice(["u", "v", "w"], size=n)})
    return X, pd.Series(y)


def test_affordable_rows_follows_the_power_law():
    linear = cost.fit_cost([(1000, 1.0)])  # one probe: every second is row-dependent
    # 100 s budget, a quarter per trial: 5 fits of 5000 rows -> 6250 study rows; the refit
    # alone may use 25 s -> 25000 rows
    assert cost.affordable_rows(linear, 100.0, 5, 1000) == (6250, 25000)
    quadratic = cost.fit_cost([(1000, 1.0)], exponent=2.0)
    study, refit = cost.affordable_rows(quadratic, 100.0, 5, 1000)
    assert study == int(1000 * math.sqrt(5) * 1.25) and refit == int(1000 * math.sqrt(25))
    slow = cost.fit_cost([(1000, 100.0)])
    assert cost.affordable_rows(slow, 1.0, 5, 1000) == (1000, 1000)  # never below the probe


def test_two_probes_separate_fixed_from_per_row_cost():
    # boosting-like: 2 s of trees whatever the rows, plus 0.3 ms a row
    model = cost.fit_cost([(2000, 2.6), (8000, 4.4)])
    assert model.fixed_s == pytest.approx(2.0) and model.per_unit_s == pytest.approx(3e-4)
    assert model.seconds(100_000) == pytest.approx(32.0)
    assert model.rows_within(32.0) == pytest.approx(100_000)
    assert model.rows_within(1.0) == 0.0  # less than the fixed cost buys no rows
    # the one-probe reading would have allowed 4x fewer refit rows
    one = cost.fit_cost([(2000, 2.6)])
    assert cost.affordable_rows(model, 100.0, 5, 2000)[1] > 3 * cost.affordable_rows(one, 100.0, 5, 2000)[1]
    # noise (a larger probe that ran faster) never makes rows free
    noisy = cost.fit_cost([(2000, 3.0), (8000, 2.5)])
    assert noisy.per_unit_s > 0 and noisy.seconds(8000) == pytest.approx(2.5)


def test_small_tables_and_unlimited_budgets_are_never_probed(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("probe must not run")
    monkeypatch.setattr(cost, "_probe_seconds", boom)
    X, y = _data(cost.GUARD_MIN_ROWS - 1)
    params, imb = cost.starting_config("logreg", PreprocessConfig())
    args = ("logreg", X, y, {"numeric": ["x1", "x2"], "categorical": ["cat"]},
            PreprocessConfig(), TrainConfig())
    assert cost.plan_rows(*args, 60.0, 5, params, imb).rows is None
    X, y = _data(cost.GUARD_MIN_ROWS + 10)
    assert cost.plan_rows("logreg", X, y, *args[3:], math.inf, 5, params, imb).rows is None


def test_expensive_family_is_tuned_on_an_affordable_subsample(monkeypatch):
    probes = []
    monkeypatch.setattr(cost, "_probe_seconds",  # 0.25 ms a row
                        lambda *a, **k: probes.append(a[-1]) or a[-1] * 2.5e-4)
    X, y = _data(12_000)
    res = tune_family("logreg", X, y, PreprocessConfig(), TrainConfig(cv_folds=3),
                      timeout_s=8.0, n_trials=2)
    assert probes == [2000]  # a 4x probe (2 s) would not fit the 2 s a trial may take
    # 0.25 * 8 s per trial: 3 fits of 2000 * (2 / 1.5) rows -> 4000 tuned rows; the
    # refit alone may take 2 s -> 8000 rows
    assert res.oof_proba.shape == (4000, 2) and res.n_rows_used == 8000
    assert any(n.startswith("cost guard") for n in res.notes)
    assert len(set(res.row_index)) == 4000 and res.row_index.max() < 12_000
    # stratified: the class balance of the subsample matches the table's
    used = y.iloc[res.row_index]
    assert abs((used == "yes").mean() - (y == "yes").mean()) < 0.01


def test_cheap_family_keeps_every_row(monkeypatch):
    monkeypatch.setattr(cost, "_probe_seconds", lambda *a, **k: 0.001)
    X, y = _data(12_000)
    res = tune_family("logreg", X, y, PreprocessConfig(), TrainConfig(cv_folds=3),
                      timeout_s=60.0, n_trials=1)
    assert res.n_rows_used == 12_000 and not any("cost guard" in n for n in res.notes)


def test_second_probe_runs_when_affordable(monkeypatch):
    probes = []
    monkeypatch.setattr(cost, "_probe_seconds",
                        lambda *a, **k: probes.append(a[-1]) or 2.0 + a[-1] * 1e-4)
    X, y = _data(40_000)
    params, imb = cost.starting_config("hist_gb", PreprocessConfig())
    plan = cost.plan_rows("hist_gb", X, y, {"numeric": ["x1", "x2"], "categorical": ["cat"]},
                          PreprocessConfig(), TrainConfig(), 120.0, 5, params, imb)
    assert probes == [2000, 8000]
    # 30 s a trial -> 6 s a fold -> 40 000 fold rows: every row is affordable for a trial
    assert plan.rows is None and plan.model.fixed_s == pytest.approx(2.0)
