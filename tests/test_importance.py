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
