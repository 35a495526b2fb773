"""Binary calibration: fitted on out-of-fold training predictions, it brings balanced-weight
probabilities back to observed frequencies and leaves the tuned decisions unchanged."""
import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from steps.calibration import BinaryCalibrator, calibrate
from steps.thresholds import predict_with_threshold, tune_threshold


def _skewed(n, seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-(2 * X.a + X.b - 3))), "pos", "neg")
    return X, pd.Series(y)


@pytest.fixture(scope="module")
def fitted():
    X, y = _skewed(3000, 0)
    model = LogisticRegression(class_weight="balanced")  # minority probabilities inflated
    oof = cross_val_predict(model, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                            method="predict_proba")
    return model.fit(X, y), oof, y, _skewed(3000, 1)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_restores_frequencies_on_new_rows(fitted, method):
    model, oof, y, (X_new, y_new) = fitted
    classes = list(model.classes_)
    calibrated, _ = calibrate(model, oof, y, classes, "pos", method)
    raw, cal = model.predict_proba(X_new), calibrated.predict_proba(X_new)
    rate = (y_new == "pos").mean()
    assert raw[:, 1].mean() > 2 * rate, "balanced weights inflate the minority probability"
    assert abs(cal[:, 1].mean() - rate) < 0.03
    assert log_loss(y_new, cal, labels=classes) < 0.8 * log_loss(y_new, raw, labels=classes)
    np.testing.assert_allclose(cal.sum(axis=1), 1.0)
    assert ((cal > 0) & (cal < 1)).all()


def test_threshold_on_calibrated_oof_keeps_the_decisions(fitted):
    model, oof, y, (X_new, _) = fitted
    classes = list(model.classes_)
    calibrated, oof_cal = calibrate(model, oof, y, classes, "pos", "sigmoid")
    decisions = []
    for est, o in ((model, oof), (calibrated, oof_cal)):
        cut = tune_threshold((y == "pos").to_numpy(), o[:, 1], beta=1.0).threshold
        decisions.append(predict_with_threshold(est.predict_proba(X_new), classes, "pos", cut))
    assert (decisions[0] == decisions[1]).mean() > 0.995


def test_calibrated_model_is_fit_free_and_pickles(fitted, tmp_path):
    model, oof, y, (X_new, _) = fitted
    calibrated, _ = calibrate(model, oof, y, list(model.classes_), "pos", "isotonic")
    assert clone(calibrated) is calibrated and calibrated.fit(X_new) is calibrated
    joblib.dump(calibrated, tmp_path / "m.joblib")
    again = joblib.load(tmp_path / "m.joblib")
    np.testing.assert_array_equal(again.predict_proba(X_new.head(50)),
                                  calibrated.predict_proba(X_new.head(50)))
    assert list(again.feature_names_in_) == ["a", "b"]


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="unknown calibration 'beta'"):
        BinaryCalibrator("beta", 1)


def test_out_of_fold_columns_in_another_order_than_the_model(fitted):
    model, oof, y, (X_new, _) = fitted  # model.classes_ == ["neg", "pos"]
    straight, oof_a = calibrate(model, oof, y, ["neg", "pos"], "pos", "sigmoid")
    swapped, oof_b = calibrate(model, oof[:, ::-1], y, ["pos", "neg"], "pos", "sigmoid")
    np.testing.assert_allclose(oof_b, oof_a[:, ::-1])
    np.testing.assert_allclose(swapped.predict_proba(X_new), straight.predict_proba(X_new))


def _three_classes(n, seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    logits = np.column_stack([np.zeros(n), 1.5 * X.a - 2.5, 1.5 * X.b - 3.5])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array(["big", "mid", "rare"])[(rng.random((n, 1)) > p.cumsum(axis=1)).sum(axis=1)]
    return X, pd.Series(y)


@pytest.fixture(scope="module")
def multiclass():
    X, y = _three_classes(4000, 0)
    model = LogisticRegression(class_weight="balanced")
    oof = cross_val_predict(model, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                            method="predict_proba")
    return model.fit(X, y), oof, y, _three_classes(4000, 1)


def test_multiclass_scaling_restores_frequencies_and_keeps_every_decision(multiclass):
    model, oof, y, (X_new, y_new) = multiclass
    classes = list(model.classes_)
    calibrated, oof_cal = calibrate(model, oof, y, classes, None, "isotonic")
    raw, cal = model.predict_proba(X_new), calibrated.predict_proba(X_new)
    rates = y_new.value_counts(normalize=True).reindex(classes).to_numpy()
    assert raw[:, 2].mean() > 2 * rates[2], "balanced weights inflate the rare class"
    np.testing.assert_allclose(cal.mean(axis=0), rates, atol=0.02)
    assert log_loss(y_new, cal, labels=classes) < 0.8 * log_loss(y_new, raw, labels=classes)
    assert log_loss(y, oof_cal, labels=classes) < log_loss(y, oof, labels=classes)
    np.testing.assert_allclose(cal.sum(axis=1), 1.0)
    assert (np.argmax(cal, axis=1) != np.argmax(raw, axis=1)).any(), "biases move the argmax"
    np.testing.assert_array_equal(calibrated.predict(X_new), model.predict(X_new))
    np.testing.assert_array_equal(calibrated.decide(cal), model.predict(X_new))


def test_multiclass_oof_columns_in_another_order_than_the_model(multiclass):
    model, oof, y, (X_new, _) = multiclass
    order = [2, 0, 1]
    straight, oof_a = calibrate(model, oof, y, list(model.classes_), None, "sigmoid")
    shuffled, oof_b = calibrate(model, oof[:, order], y, list(model.classes_[order]), None,
                                "sigmoid")
    np.testing.assert_allclose(oof_b, oof_a[:, order], atol=1e-6)
    np.testing.assert_allclose(shuffled.predict_proba(X_new), straight.predict_proba(X_new),
                               atol=1e-6)


def test_evaluation_scores_calibrated_multiclass_decisions_as_the_model(multiclass):
    from steps.config import EvaluateConfig
    from steps.evaluation import evaluate_model
    model, oof, y, (X_new, y_new) = multiclass
    calibrated, _ = calibrate(model, oof, y, list(model.classes_), None, "sigmoid")
    cfg = EvaluateConfig(bootstrap=50, permutation_repeats=1)
    raw = evaluate_model(model, X_new, y_new, cfg, X_train=X_new, y_train=y, figures=False)
    cal = evaluate_model(calibrated, X_new, y_new, cfg, X_train=X_new, y_train=y, figures=False)
    assert cal.metrics["macro_f1"] == raw.metrics["macro_f1"]
    assert cal.ci == raw.ci
    pd.testing.assert_frame_equal(cal.confusion, raw.confusion)
    assert cal.metrics["log_loss"] < 0.8 * raw.metrics["log_loss"]
    assert cal.metrics["brier"] < raw.metrics["brier"]


def test_scoring_a_calibrated_multiclass_model_keeps_its_decisions(multiclass):
    from steps.columns import column_roles
    from steps.scoring import PREDICTION, ScoringSpec, not_most_probable, score_rows
    model, oof, y, (X_new, _) = multiclass
    calibrated, _ = calibrate(model, oof, y, list(model.classes_), None, "sigmoid")
    classes = [str(c) for c in model.classes_]
    spec = ScoringSpec.from_recipe({"target": "label", "classes": classes, "derivations": [],
                                    "roles": column_roles(X_new.assign(label=y.values), "label")})
    scored = score_rows(calibrated, X_new, spec)
    np.testing.assert_array_equal(scored[PREDICTION].to_numpy(), model.predict(X_new))
    raw_top = np.asarray(classes)[np.argmax(calibrated.predict_proba(X_new), axis=1)]
    assert not_most_probable(scored, classes) == (raw_top != model.predict(X_new)).sum() > 0
