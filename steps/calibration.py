"""Calibrated probabilities for binary targets, without changing decisions.

Balanced class weights and oversampling move a model's probabilities toward the minority
class on purpose: good for recall, wrong as a risk estimate (a churn "probability" of 0.6 may
mean 25%). A one-dimensional map fitted on out-of-fold *training* predictions (never test)
brings them back: Platt scaling on the logit (``sigmoid``) or isotonic regression. The
decision threshold is then tuned on the calibrated out-of-fold probabilities, so decisions
stay what the threshold makes them while ``predict_proba`` becomes a usable estimate.
Multiclass probabilities are left as they are: any per-class map moves the argmax, and with
it the decisions the pipeline was tuned for.
"""
from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from steps.wrappers import FittedWrapper

EPS = 1e-6  # calibrated probabilities stay inside (0, 1): log loss remains finite


def _logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(p / (1 - p)).reshape(-1, 1)


class BinaryCalibrator:
    """Maps the positive class's probability; the other column is its complement."""

    def __init__(self, method: str, positive_index: int):
        if method not in ("sigmoid", "isotonic"):
            raise ValueError(f"unknown calibration {method!r}; expected sigmoid or isotonic")
        self.method = method
        self.positive_index = positive_index

    def fit(self, pos_proba, is_positive) -> "BinaryCalibrator":
        y = np.asarray(is_positive, dtype=int)
        if self.method == "sigmoid":
            self.map_ = LogisticRegression(C=1e6).fit(_logit(pos_proba), y)
        else:
            self.map_ = IsotonicRegression(y_min=EPS, y_max=1 - EPS, out_of_bounds="clip").fit(
                np.asarray(pos_proba, dtype=float), y)
        return self

    def positive(self, pos_proba) -> np.ndarray:
        if self.method == "sigmoid":
            out = self.map_.predict_proba(_logit(pos_proba))[:, 1]
        else:
            out = self.map_.predict(np.asarray(pos_proba, dtype=float))
        return np.clip(out, EPS, 1 - EPS)

    def transform(self, proba, positive_index: int | None = None) -> np.ndarray:
        """``proba`` with the positive column (``positive_index``, default the model's)
        calibrated and the other its complement."""
        i = self.positive_index if positive_index is None else positive_index
        proba = np.asarray(proba, dtype=float)
        pos = self.positive(proba[:, i])
        out = np.empty_like(proba)
        out[:, i] = pos
        out[:, 1 - i] = 1 - pos
        return out


class CalibratedClassifier(FittedWrapper):
    """A fitted binary classifier whose probabilities pass through a fitted calibrator;
    fit-free (steps.wrappers)."""

    def __init__(self, estimator, calibrator: BinaryCalibrator):
        self.estimator = estimator
        self.calibrator = calibrator

    def fit(self, X=None, y=None, **fit_params):
        check_is_fitted(self.estimator)
        return self

    def predict_proba(self, X) -> np.ndarray:
        return self.calibrator.transform(self.estimator.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        return np.asarray(self.classes_)[np.argmax(self.predict_proba(X), axis=1)]


def calibrate(estimator, oof_proba, y, classes, positive, method: str):
    """(calibrated estimator, calibrated out-of-fold probabilities), fitted on ``oof_proba``
    (out-of-fold training predictions with labels ``y``)."""
    pos = [str(c) for c in classes].index(str(positive))  # column order of oof_proba
    in_model = [str(c) for c in estimator.classes_].index(str(positive))  # of predict_proba
    calibrator = BinaryCalibrator(method, in_model).fit(np.asarray(oof_proba)[:, pos],
                                                        np.asarray(y) == positive)
    return CalibratedClassifier(estimator, calibrator), calibrator.transform(oof_proba, pos)
