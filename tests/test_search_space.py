"""train.search: fixed values, choices and ranges reach every Optuna trial, starting trials
included; typos and impossible overrides fail with the key's path before any fit."""
import math

import numpy as np
import pandas as pd
import pytest

from steps.config import ConfigError, PreprocessConfig, TrainConfig, parse_config
from steps.search_space import check_search, constrain, searched_params
from steps.tuning import tune_family


def _data(n=160, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    X = pd.DataFrame({"x1": rng.normal(size=n) + (y == "b") * 1.5,
                      "x2": rng.normal(size=n) + (y == "c") * 2.0})
    return X, pd.Series(y)


def _trial_params(result) -> list[dict]:
    return [t.params for t in result.session.study.trials]


def test_searched_params_are_read_from_the_family_space():
    hgb = searched_params("hist_gb")
    assert hgb["learning_rate"][0] == "float" and hgb["max_iter"][0] == "int"
    assert hgb["ordinal"] == ("categorical", ("shared", True, False))  # hist_gb can decompose
    assert searched_params("knn")["weights"] == ("categorical", ("uniform", "distance"))
    assert "ordinal" not in searched_params("logreg")


@pytest.mark.parametrize("search, message", [
    ({"hist_gb": {"learnin_rate": 0.1}},
     r"train\.search\.hist_gb\.learnin_rate: hist_gb has no searched parameter 'learnin_rate'; "
     r"it searches \[.*'learning_rate'"),
    ({"knn": {"weights": {"low": 1, "high": 2}}},
     r"train\.search\.knn\.weights: weights is a choice among \['uniform', 'distance'\]"),
    ({"svm": {"C": {"low": 5, "high": 1}}}, r"train\.search\.svm\.C\.range: low \(5\) must be below"),
    ({"svm": {"C": {"low": 0, "high": 1, "log": True}}}, r"a log range needs low > 0"),
    ({"hist_gb": {"max_iter": 250.5}}, r"train\.search\.hist_gb\.max_iter: 250\.5 is not a whole"),
    ({"logreg": {"C": "large"}}, r"train\.search\.logreg\.C: 'large' is not a number"),
    ({"knn": {"p": []}}, r"an empty list leaves nothing to choose"),
    ({"knn": {"weights": "distnce"}},
     r"train\.search\.knn\.weights: 'distnce' is not one of \['uniform', 'distance'\]"),
    ({"random_forest": {"max_depth": [8, "deep"]}}, r"'deep' is not one of \[None, 8, 16, 32\]"),
])
def test_bad_overrides_fail_with_the_key_path(search, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({"train": {"search": search}})


def test_an_override_for_a_family_not_trained_is_an_error():
    with pytest.raises(ConfigError, match=r"train\.search\.svm: svm is not in train\.families"):
        parse_config({"train": {"families": ["logreg"], "search": {"svm": {"C": 1.0}}}})
    check_search({"logreg": {"C": 2.0}}, ["logreg"])  # fine: no error
    check_search({"random_forest": {"max_depth": [None, 12]}}, ["random_forest"])  # any depth


def test_starting_trials_are_moved_into_the_space():
    start = {"learning_rate": 0.1, "max_iter": 150, "max_leaf_nodes": 63, "ordinal": True}
    moved = constrain(start, {"learning_rate": 0.03, "max_iter": {"low": 200, "high": 900},
                              "max_leaf_nodes": [15, 31], "ordinal": [True, False]})
    assert moved == {"learning_rate": 0.03, "max_iter": 200, "max_leaf_nodes": 15,
                     "ordinal": True}
    assert isinstance(moved["max_iter"], int)


def test_every_trial_keeps_fixed_values_choices_and_ranges():
    X, y = _data()
    search = {"hist_gb": {"learning_rate": 0.07, "max_iter": {"low": 20, "high": 40},
                          "max_leaf_nodes": [7, 15], "ordinal": False}}
    cfg = TrainConfig(cv_folds=3, families=["hist_gb"], search=search)
    res = tune_family("hist_gb", X, y, PreprocessConfig(), cfg, n_trials=6, timeout_s=math.inf,
                      class_order=["a", "b", "c"])
    params = _trial_params(res)
    assert len(params) == 6 and res.n_trials_failed == 0
    assert all(p["learning_rate"] == 0.07 and 20 <= p["max_iter"] <= 40 for p in params)
    assert all(p["max_leaf_nodes"] in (7, 15) and p["ordinal"] is False for p in params)
    assert len({p["max_iter"] for p in params}) > 1  # the range is searched, not fixed
    assert res.best_params["learning_rate"] == 0.07
    # the served model is built with them
    hgb = res.model.named_steps["clf"]
    assert hgb.learning_rate == 0.07 and 20 <= hgb.max_iter <= 40


def test_a_fully_fixed_family_runs_one_trial():
    X, y = _data()
    cfg = TrainConfig(cv_folds=3, families=["knn"],
                      search={"knn": {"n_neighbors": 7, "weights": "uniform", "p": 1}})
    res = tune_family("knn", X, y, PreprocessConfig(), cfg, n_trials=10, timeout_s=math.inf)
    assert res.n_trials_completed == 1 and len(res.trials) == 1
    assert res.best_params == {"n_neighbors": 7, "weights": "uniform", "p": 1}
    assert any("fixes every parameter" in n for n in res.notes)
    # without the fixes the same call searches
    free = tune_family("knn", X, y, PreprocessConfig(), TrainConfig(cv_folds=3), n_trials=3,
                       timeout_s=math.inf)
    assert len(free.trials) == 3
