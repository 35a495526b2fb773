"""Binary decision thresholds: tuning, applying, and storing them with the model.

Leakage rule: ``tune_threshold`` must only ever see OUT-OF-FOLD TRAINING predictions (the
training step's cross-validated probabilities). The test split is for measuring, never for
choosing: ``evaluate_model`` accepts a finished threshold (or a ``ThresholdedClassifier``)
and has no code path that tunes one, so the test data cannot reach this module through
the evaluation API.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from steps.wrappers import FittedWrapper

log = logging.getLogger(__name__)

MAX_CURVE_POINTS = 500  # the stored curve is for plots/tables; selection uses every point


# Metrics a threshold can be tuned for: each follows from the 2 x 2 counts at every cut.
THRESHOLD_METRICS = ("f_beta", "macro_f1", "balanced_accuracy", "accuracy", "weighted_f1")


def threshold_metric(metric: str, beta: float, tuned_for: str | None,
                     tuned_beta: float) -> tuple[str, float]:
    """(metric, beta) a binary threshold is tuned for: ``tuned_for`` when set (F-beta with
    ``tuned_beta``); else, when ``tuned_beta`` is not 1, the positive class's F-beta (a beta
    set for the threshold asks for F-beta); else the primary ``metric`` when it judges
    decisions, so the served rule maximises what the model is ranked and gated by; else
    (ROC-AUC, PR-AUC: no decisions) the positive class's F-beta with ``tuned_beta``."""
    if tuned_for is not None:
        return tuned_for, tuned_beta
    if tuned_beta != 1.0:
        return "f_beta", tuned_beta
    if metric in THRESHOLD_METRICS:
        return metric, beta
    return "f_beta", tuned_beta


@dataclass(frozen=True)
class ThresholdResult:
    threshold: float  # predict positive iff P(positive) >= threshold
    score: float  # ``metric`` at ``threshold`` (on the data it was tuned on)
    curve: pd.DataFrame  # threshold, precision, recall, f_beta, positive_rate[, metric]
    default_score: float  # ``metric`` at the usual 0.5, for comparison
    beta: float = 1.0
    metric: str = "f_beta"


def _indicator(y_true, positive_label) -> np.ndarray:
    y = np.asarray(pd.Series(y_true).to_numpy(dtype=object))
    if positive_label is not None:
        return y == positive_label
    values = set(pd.unique(y).tolist())
    if not values <= {0, 1, True, False}:
        raise ValueError("y_true must be boolean/0-1 unless positive_label is given")
    return y.astype(bool)


def _ratio(num, den):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


def _f_beta(tp, fp, fn, beta):
    b2 = beta * beta
    return _ratio((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)


def _objective(metric: str, tp, fp, fn, tn, beta: float) -> np.ndarray:
    """``metric`` of the decisions with these counts (positive class first)."""
    if metric not in THRESHOLD_METRICS:
        raise ValueError(f"a threshold cannot be tuned for {metric!r}; use one of "
                         f"{', '.join(THRESHOLD_METRICS)}")
    pos, neg = tp + fn, tn + fp
    if metric == "f_beta":
        return _f_beta(tp, fp, fn, beta)
    if metric == "balanced_accuracy":
        return (_ratio(tp, pos) + _ratio(tn, neg)) / 2
    if metric == "accuracy":
        return (tp + tn) / (pos + neg)
    f1_pos, f1_neg = _f_beta(tp, fp, fn, 1.0), _f_beta(tn, fn, fp, 1.0)
    if metric == "macro_f1":
        return (f1_pos + f1_neg) / 2
    return (pos * f1_pos + neg * f1_neg) / (pos + neg)  # weighted_f1


def _curve(target: np.ndarray, score: np.ndarray, beta: float,
           metric: str = "f_beta") -> pd.DataFrame:
    """Every distinct cut point, with thresholds placed midway between observed scores."""
    order = np.argsort(-score, kind="mergesort")
    s, t = score[order], target[order]
    ends = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tp = np.cumsum(t)[ends].astype(float)
    fp = np.cumsum(~t)[ends].astype(float)
    fn, tn = t.sum() - tp, (~t).sum() - fp
    distinct = s[ends]
    # midpoint to the next lower score: same predictions on these rows, but no new row sits
    # exactly on the boundary; the last cut (everything positive) keeps the lowest score
    thresholds = np.r_[(distinct[:-1] + distinct[1:]) / 2, distinct[-1]]
    curve = pd.DataFrame({"threshold": thresholds, "precision": _ratio(tp, tp + fp),
                          "recall": tp / max(t.sum(), 1), "f_beta": _f_beta(tp, fp, fn, beta),
                          "positive_rate": (tp + fp) / len(t)})
    if metric != "f_beta":
        curve[metric] = _objective(metric, tp, fp, fn, tn, beta)
    return curve


def _best(target: np.ndarray, score: np.ndarray, beta: float,
          metric: str = "f_beta") -> tuple[pd.DataFrame, int]:
    """(curve, index of the best cut): the highest ``metric``, ties to the threshold nearest
    0.5."""
    curve = _curve(target, score, beta, metric)
    f = curve[metric].to_numpy()
    ties = np.flatnonzero(np.isclose(f, f.max(), rtol=0, atol=1e-12))
    return curve, int(ties[np.argmin(np.abs(curve["threshold"].to_numpy()[ties] - 0.5))])


def best_threshold(target: np.ndarray, score: np.ndarray, beta: float = 1.0,
                   metric: str = "f_beta") -> float:
    """``tune_threshold``'s threshold without its curve, result object or log line (for
    callers that tune many, e.g. ``steps.served_rule``); 0.5 when a class is absent."""
    target = np.asarray(target, dtype=bool)
    if target.all() or not target.any():
        return 0.5
    curve, best = _best(target, np.asarray(score, dtype=float), beta, metric)
    return float(curve["threshold"].iloc[best])


def _thin(curve: pd.DataFrame, best: int) -> pd.DataFrame:
    if len(curve) <= MAX_CURVE_POINTS:
        return curve.reset_index(drop=True)
    keep = np.unique(np.r_[np.linspace(0, len(curve) - 1, MAX_CURVE_POINTS).astype(int), best])
    return curve.iloc[keep].reset_index(drop=True)


def tune_threshold(y_true, proba_pos, beta: float = 1.0, *, positive_label=None,
                   metric: str = "f_beta") -> ThresholdResult:
    """Threshold on P(positive) maximising ``metric`` of the decisions (``THRESHOLD_METRICS``;
    the default, the positive class's F-beta).

    ``y_true``/``proba_pos`` MUST be out-of-fold training labels and probabilities (see
    module docstring). ``y_true`` is a boolean/0-1 indicator of the positive class, or any
    labels together with ``positive_label``. Ties go to the threshold closest to 0.5.
    """
    target = _indicator(y_true, positive_label)
    score = np.asarray(proba_pos, dtype=float).ravel()
    if len(score) != len(target):
        raise ValueError(f"{len(score)} probabilities for {len(target)} labels")
    if target.all() or not target.any():
        raise ValueError("threshold tuning needs both classes in the out-of-fold labels")
    curve, best = _best(target, score, beta, metric)
    f = curve[metric].to_numpy()
    at_half = score >= 0.5
    tp, fp = (at_half & target).sum(), (at_half & ~target).sum()
    fn, tn = (~at_half & target).sum(), (~at_half & ~target).sum()
    default = float(_objective(metric, tp, fp, fn, tn, beta))
    result = ThresholdResult(threshold=float(curve["threshold"].iloc[best]), score=float(f[best]),
                             curve=_thin(curve, best), default_score=default, beta=beta,
                             metric=metric)
    log.debug("tuned threshold %.4f: %s %.4f (at 0.5: %.4f) on %d out-of-fold rows",
              result.threshold, metric_label(metric, beta), result.score, default, len(target))
    return result


def metric_label(metric: str, beta: float) -> str:
    """``f_beta`` as F1, F2, ...; other metrics by their key."""
    return f"F{beta:g}" if metric == "f_beta" else metric


def predict_with_threshold(proba, classes: Sequence, positive_label, threshold: float) -> np.ndarray:
    """Labels: ``positive_label`` where its probability >= ``threshold``, else the other class."""
    classes = list(classes)
    if len(classes) != 2:
        raise ValueError(f"a decision threshold needs a binary model, got classes {classes}")
    if positive_label not in classes:
        raise ValueError(f"positive_label {positive_label!r} is not one of {classes}")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be within [0, 1], got {threshold}")
    pos = classes.index(positive_label)
    proba = np.asarray(proba, dtype=float)
    return np.asarray(classes, dtype=object)[np.where(proba[:, pos] >= threshold, pos, 1 - pos)]


class ThresholdedClassifier(FittedWrapper):
    """An already fitted binary classifier plus its decision threshold, saved together;
    ``fit`` only validates (steps.wrappers)."""

    def __init__(self, estimator, positive_label, threshold: float = 0.5):
        self.estimator = estimator
        self.positive_label = positive_label
        self.threshold = threshold

    def fit(self, X=None, y=None, **fit_params):
        """No refit: check the wrapped model and the decision rule, then return self."""
        check_is_fitted(self.estimator)
        predict_with_threshold(np.zeros((0, len(self.classes_))), self.classes_,
                               self.positive_label, self.threshold)
        return self

    def predict_proba(self, X) -> np.ndarray:
        return self.estimator.predict_proba(X)

    def decide(self, proba) -> np.ndarray:
        """Labels from this model's probabilities."""
        return predict_with_threshold(proba, self.classes_, self.positive_label, self.threshold)

    def predict(self, X) -> np.ndarray:
        return self.decide(self.predict_proba(X))
