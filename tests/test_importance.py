"""Redundant columns shuffled together: the measurement's importance, which shuffling
either copy alone hides."""
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

from steps.config import EvaluateConfig
from steps.evaluation import evaluate_model
from steps.importance import TOGETHER, redundant_groups


def _churn_like(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    minutes = rng.gamma(2.0, 90.0, size=n)
    X = pd.DataFrame({"minutes": minutes, "charge": minutes * 0.17, "calls": rng.poisson(4, n),
                      "noise": rng.normal(size=n)})
    churn = (minutes > 250) ^ (rng.random(n) < 0.05)
    return X, pd.Series(np.where(churn, "yes", "no"))


def test_groups_join_chains_of_redundant_pairs():
    X, _ = _churn_like()
    X["minutes_left"] = 1000 - X["minutes"]
    X["calls_x2"] = X["calls"] * 2
    assert redundant_groups(X) == [["calls", "calls_x2"], ["charge", "minutes", "minutes_left"]]
    assert redundant_groups(X[["noise", "calls"]]) == [] and redundant_groups(None) == []


def test_shuffling_redundant_columns_together_shows_what_each_alone_hides():
    X, y = _churn_like()
    model = RandomForestClassifier(100, random_state=0).fit(X[:800], y[:800])
    cfg = EvaluateConfig(permutation_repeats=3, bootstrap=0, dependence_features=2, slices=False)
    result = evaluate_model(model, X[800:], y[800:], cfg, X_train=X[:800], y_train=y[:800])
    imp = result.importance.set_index("feature")["importance_mean"]
    together = imp["charge + minutes" + TOGETHER]
    assert together > 0.3  # the signal itself
    assert together > max(imp["charge"], imp["minutes"]) + 0.05  # one copy stands in for the other
    assert abs(imp["noise"]) < 0.05
    # partial dependence only draws real columns, never a group's row
    assert set(result.dependence["feature"]) <= set(X.columns)


def test_the_budget_cuts_repeats_before_columns_and_never_below_the_floors():
    from steps.importance import MIN_COLUMNS, MIN_REPEATS, plan_shuffles
    assert plan_shuffles(0.01, 20, 1, 5, budget_s=20) == (5, 20)  # 105 passes fit
    assert plan_shuffles(0.25, 20, 0, 5, budget_s=20) == (4, 20)  # 80 passes: 4 x 20
    assert plan_shuffles(0.5, 20, 0, 5, budget_s=20) == (MIN_REPEATS, 20)  # 40 passes: 2 x 20
    repeats, columns = plan_shuffles(0.1, 300, 2, 5, budget_s=20)
    assert repeats == MIN_REPEATS and (columns + 2) * repeats <= 200 and columns == 98
    assert plan_shuffles(10.0, 300, 0, 5, budget_s=20) == (MIN_REPEATS, MIN_COLUMNS)
    assert plan_shuffles(10.0, 4, 0, 5, budget_s=20) == (MIN_REPEATS, 4)


def test_the_screen_ranks_what_moves_the_predictions_first():
    from steps.importance import prediction_association
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({"noise": rng.normal(size=n), "driver": rng.normal(size=n),
                      "colour": rng.choice(["red", "blue", "green"], size=n),
                      "flat": np.ones(n)})
    logit = 2 * X["driver"] + np.where(X["colour"] == "red", 1.5, -0.5)
    p = 1 / (1 + np.exp(-logit.to_numpy()))
    association = prediction_association(X, np.column_stack([1 - p, p]))
    assert association.idxmax() == "driver"
    assert association["colour"] > association["noise"] + 0.2
    assert association["flat"] == 0.0 and association["noise"] < 0.2


class _CountingForest(RandomForestClassifier):
    passes = 0

    def predict_proba(self, X):
        type(self).passes += 1
        return super().predict_proba(X)


def test_a_wide_table_shuffles_only_the_columns_the_budget_allows(monkeypatch):
    """300 columns x 5 repeats would re-predict 1500 times; within the budget the model
    is scored a bounded number of times and the columns that drive it are still measured."""
    from steps import importance
    rng = np.random.default_rng(1)
    n, width = 900, 300
    X = pd.DataFrame(rng.normal(size=(n, width)), columns=[f"f{i}" for i in range(width)])
    y = pd.Series(np.where(X["f7"] + X["f150"] - X["f299"] > 0.5, "yes", "no"))
    model = _CountingForest(30, random_state=0).fit(X[:600], y[:600])
    probe = X[600:]
    started = __import__("time").perf_counter()
    for _ in range(3):
        model.predict_proba(probe)
    pass_s = (__import__("time").perf_counter() - started) / 3
    monkeypatch.setattr(importance, "PERMUTATION_BUDGET_S", 40 * pass_s)  # ~40 passes
    cfg = EvaluateConfig(permutation_repeats=5, bootstrap=0, dependence_features=0, slices=False)
    _CountingForest.passes = 0
    result = evaluate_model(model, X[600:], y[600:], cfg, X_train=X[:600], y_train=y[:600],
                            figures=False)
    measured = set(result.importance["feature"])
    assert {"f7", "f150", "f299"} <= measured and len(measured) < width
    assert _CountingForest.passes < 200  # not 1500: the plan held, up to timing noise
    assert any(f"of the {len(measured)} of {width} columns" in n for n in result.notes)
    assert any("with 2 repeats instead of 5" in n for n in result.notes)
    assert result.importance.filter(like="repeat_").shape[1] == 2
