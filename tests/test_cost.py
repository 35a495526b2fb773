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
    # 1 s per 1000 rows, 100 s budget, a quarter per trial: 5 fits of 5000 rows -> 6250 rows
    assert cost.affordable_rows(1.0, 1000, 100.0, 5, exponent=1.0) == 6250
    # quadratic cost: fits of 1000 * sqrt(5) rows
    assert cost.affordable_rows(1.0, 1000, 100.0, 5, exponent=2.0) == int(1000 * math.sqrt(5) * 1.25)
    # the refit (one fit on all rows) binds when folds are few: 2 folds -> trial allows
    # 2 x 12500 rows but a single refit only 25000
    assert cost.affordable_rows(1.0, 1000, 100.0, 2, exponent=1.0) == 25000
    assert cost.affordable_rows(100.0, 1000, 1.0, 5) == 1000  # never below the probe


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
    monkeypatch.setattr(cost, "_probe_seconds", lambda *a, **k: 0.5)  # per 2000-row probe
    X, y = _data(12_000)
    res = tune_family("logreg", X, y, PreprocessConfig(), TrainConfig(cv_folds=3),
                      timeout_s=8.0, n_trials=2)
    # 0.25 * 8 s per trial: 3 fits of 2000 * (2 / 1.5) rows -> 4000 rows
    assert res.n_rows_used == 4000 and res.oof_proba.shape == (4000, 2)
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
