"""Calibrated probabilities, without changing decisions.

Balanced class weights and oversampling move a model's probabilities toward the minority
classes on purpose: good for recall, wrong as a risk estimate (a churn "probability" of 0.6
may mean 25%). A map fitted on out-of-fold *training* predictions (never test) brings them
back.

- Binary: Platt scaling on the logit (``sigmoid``) or isotonic regression. The decision
  threshold is then tuned on the calibrated out-of-fold probabilities, so decisions stay what
  the threshold makes them.
- Multiclass: a temperature and one bias per class on the log-probabilities
  (``ClassScaling``), whatever the configured method: any per-class map would move the argmax
  and with it the decisions the pipeline tuned for. This one is undone exactly at decision
  time (``decide`` subtracts the biases; one temperature does not reorder a row), so
  decisions are the model's own while ``predict_proba`` estimates frequencies.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
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


class ClassScaling:
    """Calibrated log-probabilities ``log p / T + b`` (renormalized), fitted by minimum
    log loss. Decisions are recovered by subtracting ``b``; ``T`` is shared, so it never
    reorders a row."""

    def fit(self, proba, y_index) -> "ClassScaling":
        logp = np.log(np.clip(np.asarray(proba, dtype=float), EPS, 1.0))
        onehot = np.eye(logp.shape[1])[np.asarray(y_index, dtype=int)]

        def loss(theta):  # theta = (log 1/T, b); gradient from d loss / d z = softmax(z) - y
            a, b = np.exp(theta[0]), theta[1:]
            z = a * logp + b
            grad_z = (softmax(z, axis=1) - onehot) / len(logp)
            value = -(onehot * log_softmax(z, axis=1)).sum() / len(logp)
            return value, np.concatenate([[a * (grad_z * logp).sum()], grad_z.sum(axis=0)])

        theta = minimize(loss, np.zeros(logp.shape[1] + 1), jac=True, method="L-BFGS-B").x
        self.temperature_ = float(np.exp(-theta[0]))
        self.bias_ = theta[1:] - theta[1:].mean()  # softmax ignores a shared offset
        return self

    def transform(self, proba) -> np.ndarray:
        logp = np.log(np.clip(np.asarray(proba, dtype=float), EPS, 1.0))
        # no clipping: a class pushed up to a floor could outscore the winner in undo_bias
        return softmax(logp / self.temperature_ + self.bias_, axis=1)

    def undo_bias(self, calibrated) -> np.ndarray:
        """Scores whose argmax is the uncalibrated model's argmax."""
        return np.log(np.asarray(calibrated, dtype=float)) - self.bias_


class CalibratedClassifier(FittedWrapper):
    """A fitted classifier whose probabilities pass through a fitted calibrator (a
    ``BinaryCalibrator`` or a ``ClassScaling``); fit-free (steps.wrappers)."""

    def __init__(self, estimator, calibrator):
        self.estimator = estimator
        self.calibrator = calibrator

    def fit(self, X=None, y=None, **fit_params):
        check_is_fitted(self.estimator)
        return self

    def predict_proba(self, X) -> np.ndarray:
        return self.calibrator.transform(self.estimator.predict_proba(X))

    def decide(self, proba) -> np.ndarray:
        """Labels from this model's (calibrated) probabilities: the wrapped model's decisions."""
        scores = (self.calibrator.undo_bias(proba) if isinstance(self.calibrator, ClassScaling)
                  else np.asarray(proba))
        return np.asarray(self.classes_)[np.argmax(scores, axis=1)]

    def predict(self, X) -> np.ndarray:
        return self.decide(self.predict_proba(X))


def _multiclass(estimator, oof_proba, y, classes):
    order = [str(c) for c in classes]  # column order of oof_proba
    to_model = [order.index(str(c)) for c in estimator.classes_]
    in_model = np.asarray(oof_proba, dtype=float)[:, to_model]
    y_index = [to_model.index(order.index(str(v))) for v in np.asarray(y)]
    scaling = ClassScaling().fit(in_model, y_index)
    back = np.empty_like(in_model)
    back[:, to_model] = scaling.transform(in_model)
    return CalibratedClassifier(estimator, scaling), back


def calibrate(estimator, oof_proba, y, classes, positive, method: str):
    """(calibrated estimator, calibrated out-of-fold probabilities), fitted on ``oof_proba``
    (out-of-fold training predictions with labels ``y``, columns in ``classes`` order).
    ``positive`` None means multiclass: ``ClassScaling`` whatever ``method``."""
    if positive is None:
        return _multiclass(estimator, oof_proba, y, classes)
    pos = [str(c) for c in classes].index(str(positive))  # column order of oof_proba
    in_model = [str(c) for c in estimator.classes_].index(str(positive))  # of predict_proba
    calibrator = BinaryCalibrator(method, in_model).fit(np.asarray(oof_proba)[:, pos],
                                                        np.asarray(y) == positive)
    return CalibratedClassifier(estimator, calibrator), calibrator.transform(oof_proba, pos)


def method_name(method: str, positive) -> str:
    """What ``calibrate`` applies, for reports: multiclass always scales temperature and bias."""
    return method if positive is not None else "temperature_bias"
