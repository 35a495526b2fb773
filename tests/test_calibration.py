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
