"""CV+ prediction sets served with the model: the winner refit on each fold, its fold models
and their out-of-fold scores kept in one picklable rule that gives new rows their sets."""
import io

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from pipelines.validate_outputs import _cv_plus
from steps.calibration import BinaryCalibrator, CalibratedClassifier
from steps.config import EvaluateConfig
from steps.conformal import (SET_COLUMN, coverage_table, fit_thresholds, prediction_sets,
                             set_labels)
from steps.cv_plus import ATTRIBUTE, fit_cv_plus, size_mb, with_cv_plus_sets
from steps.ensemble import EnsembleClassifier
from steps.study import _folds


def _table(n, seed):
    """Two features, three classes (70 / 20 / 10 per cent) with overlap: no model is sure."""
    rng = np.random.default_rng(seed)
    y = rng.choice(["a", "b", "c"], size=n, p=[0.7, 0.2, 0.1])
    centre = {"a": (0, 0), "b": (1.2, 0.4), "c": (0.4, 1.4)}
    X = pd.DataFrame([np.add(centre[v], rng.normal(size=2)) for v in y], columns=["x1", "x2"])
    return X, pd.Series(y)


def _rule(estimator, n=600, alpha=0.1, served=None, seed=0):
    X, y = _table(n, seed)
    folds = _folds(y, 5, 0, [], None)
    return fit_cv_plus(estimator.fit(X, y), X, y, folds, ["a", "b", "c"], alpha=alpha,
                       served=served), X, y


def test_every_class_is_covered_on_new_rows():
    forest = RandomForestClassifier(n_estimators=60, min_samples_leaf=3, random_state=0)
    rule, _, _ = _rule(forest)
    assert len(rule.fold_models) == 5 and set(rule.folds) == set(range(5))
    X_new, y_new = _table(6000, 1)
    table = coverage_table(y_new, rule.sets(X_new), rule.classes).set_index("class")
    for c in ["a", "b", "c"]:  # 1 - alpha for every class, the rare one too (noise aside)
        assert table.loc[c, "coverage"] > 0.87, table
    assert table.loc["all", "mean_size"] < 2.2  # sets that still rule classes out
    # the split rule applies the fold models' thresholds to the sharper refit, and falls short
    thresholds = fit_thresholds(rule.y, rule.proba, rule.classes, 0.1)
    split = coverage_table(y_new, prediction_sets(forest.predict_proba(X_new), rule.classes,
                                                  thresholds), rule.classes).set_index("class")
    assert split.loc["all", "coverage"] < table.loc["all", "coverage"] - 0.01


def test_calibration_rows_are_scored_by_the_served_form_of_their_fold_model():
    calibrator = BinaryCalibrator("sigmoid", 1).fit(np.linspace(0.05, 0.95, 40),
                                                    np.arange(40) % 3 == 0)
    X, y = _table(400, 2)
    y = y.where(y == "a", "other")
    rule = fit_cv_plus(LogisticRegression().fit(X, y), X, y, _folds(y, 4, 0, [], None),
                       ["a", "other"], alpha=0.2,
                       served=lambda model: CalibratedClassifier(model, calibrator))
    for k, model in enumerate(rule.fold_models):
        assert isinstance(model, CalibratedClassifier)
        held = np.flatnonzero(rule.folds == k)
        expected = model.predict_proba(X.iloc[held])  # classes a, other: the rule's order
        np.testing.assert_allclose(rule.proba[held], expected)
    assert rule.y.tolist() == y.tolist()  # every row calibrates, in its own order


def test_a_blend_is_refit_member_by_member():
    X, y = _table(300, 3)
    members = {"logreg": LogisticRegression().fit(X, y),
               "forest": RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)}
    blend = EnsembleClassifier(members, {"logreg": 0.5, "forest": 0.5})
    rule = fit_cv_plus(blend, X, y, _folds(y, 3, 0, [], None), ["a", "b", "c"], alpha=0.1)
    for model in rule.fold_models:
        assert isinstance(model, EnsembleClassifier) and model.weights == blend.weights
        assert all(model.members[name] is not members[name] for name in members)


def test_the_rule_survives_pickling_and_writes_the_same_sets():
    rule, X, _ = _rule(LogisticRegression(), n=300)
    buffer = io.BytesIO()
    joblib.dump(rule, buffer)
    buffer.seek(0)
    again = joblib.load(buffer)
    np.testing.assert_array_equal(again.sets(X), rule.sets(X))
    assert 0 < size_mb(rule) < 1


def test_scored_rows_get_their_cv_plus_sets_from_the_served_model():
    model = LogisticRegression()
    rule, X, _ = _rule(model, n=300)
    scored = pd.DataFrame({"predicted": ["a"] * 5})
    with pytest.raises(RuntimeError, match="carry no fold models"):
        with_cv_plus_sets(scored, X.head(5), model)
    setattr(model, ATTRIBUTE, rule)
    out = with_cv_plus_sets(scored, X.head(5), model)
    assert out[SET_COLUMN].tolist() == set_labels(rule.sets(X.head(5)), rule.classes)
    assert SET_COLUMN not in scored


def _candidate_and_data(forward=False):
    X, y = _table(300, 4)
    X_test, y_test = _table(200, 5)
    candidate = {"estimator": LogisticRegression().fit(X, y), "oof": {"rows": np.arange(300)},
                 "meta": {"cv_folds": 4, "cv_forward": forward}}
    return candidate, {"X_train": X, "y_train": y, "X_test": X_test, "y_test": y_test}


def _cfg(**sets):
    return EvaluateConfig.model_validate({"prediction_sets": {"method": "cv_plus", **sets}})


def test_validation_stores_the_rule_on_the_served_model():
    candidate, data = _candidate_and_data()
    final = candidate["estimator"]
    sets, record = _cv_plus(candidate, final, data, _cfg(), None, None)
    assert record["method"] == "cv_plus" and record["folds"] == 4
    assert sets.shape == (200, 3)
    np.testing.assert_array_equal(getattr(final, ATTRIBUTE).sets(data["X_test"]), sets)


@pytest.mark.parametrize("case", ["forward", "too_large"])
def test_validation_falls_back_to_the_split_rule_and_says_why(case):
    candidate, data = _candidate_and_data(forward=case == "forward")
    cfg = _cfg(max_fold_models_mb=1e-6) if case == "too_large" else _cfg()
    sets, record = _cv_plus(candidate, candidate["estimator"], data, cfg, None, None)
    assert sets is None and not hasattr(candidate["estimator"], ATTRIBUTE)
    assert ("max_fold_models_mb" if case == "too_large" else "out-of-time") in record["fallback"]


def test_fold_models_too_large_stop_after_the_first_fold(caplog):
    candidate, data = _candidate_and_data()
    with caplog.at_level("INFO"):
        sets, record = _cv_plus(candidate, candidate["estimator"], data,
                                _cfg(max_fold_models_mb=1e-6), None, None)
    assert sets is None and "would take more than" in record["fallback"]
    refits = [r.getMessage() for r in caplog.records if "refit in" in r.getMessage()]
    assert len(refits) == 1 and refits[0].startswith("CV+ prediction sets: fold 1/4")


def test_an_unknown_method_fails_with_its_key_path():
    from steps.config import ConfigError, parse_config
    with pytest.raises(ConfigError, match="evaluate.prediction_sets.method"):
        parse_config({"evaluate": {"prediction_sets": {"method": "jackknife"}}})
