"""train.custom_families: any scikit-learn-compatible classifier by import path, tuned,
resampled and served like the built-in families; bad definitions fail with the key's path."""
import math

import numpy as np
import pandas as pd
import pytest

from steps.config import ConfigError, PreprocessConfig, parse_config
from steps.models import FAMILIES
from steps.tuning import tune_family

TREE = {"estimator": "sklearn.tree.DecisionTreeClassifier",
        "params": {"min_samples_leaf": 3},
        "search": {"max_depth": {"low": 2, "high": 12, "integer": True},
                   "criterion": ["gini", "entropy"]},
        "scale": False}
BAYES = {"estimator": "sklearn.naive_bayes:GaussianNB",
         "search": {"var_smoothing": {"low": 1e-10, "high": 1e-6, "log": True}}}


@pytest.fixture(autouse=True)
def _forget_custom_families():
    before = dict(FAMILIES)
    yield
    FAMILIES.clear()
    FAMILIES.update(before)


def _data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    X = pd.DataFrame({"x1": rng.normal(size=n) + (y == "b") * 1.5,
                      "x2": rng.normal(size=n) + (y == "c") * 2.0,
                      "cat": rng.choice(["u", "v"], size=n)})
    return X, pd.Series(y)


def _train_cfg(**custom):
    raw = {"families": ["logreg", *custom], "custom_families": custom, "cv_folds": 3, "seed": 7}
    return parse_config({"train": raw}).train


def test_a_custom_family_is_searched_in_its_own_space_and_gets_seed_and_weights():
    X, y = _data()
    cfg = _train_cfg(tree=TREE)
    res = tune_family("tree", X, y, PreprocessConfig(), cfg, n_trials=6, timeout_s=math.inf)
    params = [t.params for t in res.session.study.trials]
    assert len(params) == 6 and res.n_trials_failed == 0
    assert params[0] == {"max_depth": 7, "criterion": "gini"}  # starts mid-range
    assert all(2 <= p["max_depth"] <= 12 and isinstance(p["max_depth"], int) for p in params)
    assert {p["criterion"] for p in params} <= {"gini", "entropy"}
    tree = res.model.named_steps["clf"]
    assert type(tree).__name__ == "DecisionTreeClassifier"
    assert tree.min_samples_leaf == 3 and tree.random_state == 7  # fixed params, the seed
    assert tree.class_weight == "balanced"  # the default class_weight strategy reaches it
    assert "StandardScaler" not in str(res.model.named_steps["prep"])  # scale: false
    assert res.oof_proba.shape == (240, 3)


def test_an_estimator_without_class_weight_is_balanced_by_oversampling():
    X, y = _data()
    res = tune_family("bayes", X, y, PreprocessConfig(), _train_cfg(bayes=BAYES), n_trials=3,
                      timeout_s=math.inf)
    steps = res.model.named_steps
    assert steps["sampler"].kind == "random_over"
    assert "StandardScaler" in str(steps["prep"])  # scale defaults to true    assert 1e-10 <= steps["clf"].var_smoothing <= 1e-6


def test_without_a_search_space_one_trial_is_run():
    X, y = _data()
    cfg = _train_cfg(bayes={"estimator": "sklearn.naive_bayes.GaussianNB"})
    res = tune_family("bayes", X, y, PreprocessConfig(), cfg, n_trials=10, timeout_s=math.inf)
    assert len(res.trials) == 1 and res.n_trials_completed == 1


@pytest.mark.parametrize("custom, message", [
    ({"estimator": "nosuchpkg.Model"}, r"train\.custom_families\.mine\.estimator: cannot import "
                                        r"'nosuchpkg\.Model'.*install its package"),
    ({"estimator": "GaussianNB"}, r"is not an import path"),
    ({"estimator": "sklearn.preprocessing.StandardScaler"},
     r"StandardScaler is not a classifier with fit and predict_proba"),
    ({"estimator": "sklearn.naive_bayes.GaussianNB", "params": {"alpha": 1.0}},
     r"train\.custom_families\.mine: sklearn\.naive_bayes\.GaussianNB takes no \['alpha'\]"),
])
def test_bad_estimators_fail_before_training_with_the_key_path(custom, message):
    from pipelines.preflight import preflight
    cfg = parse_config({"train": {"families": ["mine"], "custom_families": {"mine": custom}}})
    with pytest.raises(ValueError, match=message):
        preflight(cfg)


@pytest.mark.parametrize("train, message", [
    ({"families": ["xgb"]}, r"train\.families\.0: unknown family 'xgb'.*train\.custom_families"),
    ({"custom_families": {"svm": BAYES}}, r"svm is a built-in family"),
    ({"custom_families": {"Bayes!": BAYES}}, r"lower case letters, digits and _"),
    ({"families": ["bayes"], "custom_families": {"bayes": {**BAYES, "params": {"var_smoothing": 1}}}},
     r"\['var_smoothing'\] both fixed in params and searched"),
    ({"families": ["bayes"], "custom_families": {"bayes": BAYES},
      "search": {"bayes": {"var_smoothing": 1e-9}}}, r"bayes is a custom family; its space is"),
])
def test_bad_definitions_fail_in_the_config(train, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({"train": train})


def test_the_dag_gets_a_training_step_for_a_custom_family():
    from pipelines.dag import build_dag
    cfg = parse_config({"train": {"families": ["logreg", "bayes"], "custom_families": {"bayes": BAYES}}})
    dag = build_dag(cfg)
    assert dag.step("train_bayes").kwargs["family"] == "bayes"
    assert "model_bayes" in dag.step("validate").kwargs


def test_remote_runs_are_reminded_that_agents_need_the_package(caplog):
    from pipelines.preflight import preflight
    train = {"families": ["bayes"], "custom_families": {"bayes": BAYES}}
    with caplog.at_level("WARNING", logger="pipelines.preflight"):
        preflight(parse_config({"train": train}))
    assert not caplog.records  # embedded: the steps run here, where the import just worked
    remote = {"train": train, "execution": {"mode": "remote", "step_queues": {"train_bayes": "cpu"}}}
    with caplog.at_level("WARNING", logger="pipelines.preflight"):
        preflight(parse_config(remote))
    assert "import sklearn" in caplog.text and "queue 'cpu' need it installed" in caplog.text
