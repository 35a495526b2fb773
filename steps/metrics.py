"""Test-set metrics for fitted classifiers (labels are strings, ``classes`` fixes the order).

Conventions (used everywhere in the evaluation step, so they are decided once here):

* Positive class (binary only): the label passed as ``positive_label``; otherwise the
  minority class of the *training* labels (``minority_label(y_train, classes)``), which is
  what the caller should pass. When no training labels are at hand, ``compute_metrics``
  falls back to the minority class of ``y_true`` (ties -> the later class in ``classes``,
  matching scikit-learn's ``classes_[1]`` convention).
* ``f_beta``: binary -> F-beta of the positive class; multiclass -> macro F-beta.
* ``roc_auc`` / ``pr_auc`` (average precision): binary -> positive class; multiclass ->
  one-vs-rest macro average over *all* model classes.
* ``brier``: binary -> mean squared error of the positive-class probability; multiclass ->
  mean over rows of the sum over classes of squared errors (original multiclass Brier).
* A class absent from ``y_true`` never crashes: one-vs-rest ranking metrics become NaN
  (a macro over fewer classes would not be comparable across runs) and the reason is
  logged; F-scores ignore a class only when it is neither present nor predicted.
"""
from __future__ import annotations

import logging
import warnings
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import (accuracy_score, average_precision_score, balanced_accuracy_score,
                             brier_score_loss, f1_score, fbeta_score, log_loss,
                             precision_recall_fscore_support, roc_auc_score)

log = logging.getLogger(__name__)

# Every key returned by compute_metrics, in reporting order. The first five names are the
# primary metrics allowed by steps.config.Metric.
METRIC_KEYS = ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "f_beta",
               "roc_auc", "pr_auc", "log_loss", "brier")
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "expected_cost"})


def as_labels(y) -> np.ndarray:
    """Labels as a flat object array (pandas 3 string dtypes compare like plain str)."""
    return np.asarray(pd.Series(y).to_numpy(dtype=object))


def encode(y, classes: Sequence) -> np.ndarray:
    """Integer index of each label in ``classes``; unknown labels are a clear error."""
    codes = pd.Index(list(classes)).get_indexer(as_labels(y))
    if (codes < 0).any():
        unknown = sorted({str(v) for v in as_labels(y)[codes < 0]})
        raise ValueError(f"labels not among the model classes {list(classes)}: {unknown[:5]}")
    return codes


def columns_in_order(proba, own: Sequence, classes: Sequence) -> np.ndarray:
    """Probability columns that follow ``own`` (a model's classes) rearranged to ``classes``."""
    own = [str(c) for c in own]
    return np.asarray(proba, dtype=float)[:, [own.index(str(c)) for c in classes]]


def minority_label(y, classes: Sequence):
    """Least frequent class of ``y`` (ties -> the later class in ``classes``)."""
    counts = np.bincount(encode(y, classes), minlength=len(classes))
    # reversed argmin picks the last of tied minima
    return list(classes)[len(classes) - 1 - int(np.argmin(counts[::-1]))]


def resolve_positive(classes: Sequence, positive_label=None, y_fallback=None):
    """The positive class of a binary problem (None for multiclass)."""
    if len(classes) != 2:
        return None
    if positive_label is not None:
        if positive_label not in list(classes):
            raise ValueError(f"positive_label {positive_label!r} is not one of {list(classes)}")
        return positive_label
    if y_fallback is None:
        return list(classes)[1]
    return minority_label(y_fallback, classes)


def _check_inputs(y_true, y_pred, proba, classes):
    y_true, y_pred = as_labels(y_true), as_labels(y_pred)
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2 or proba.shape != (len(y_true), len(classes)):
        raise ValueError(f"proba shape {proba.shape} != (rows={len(y_true)}, classes={len(classes)})")
    if len(y_pred) != len(y_true):
        raise ValueError(f"y_pred has {len(y_pred)} rows, y_true has {len(y_true)}")
    encode(y_true, classes), encode(y_pred, classes)
    return y_true, y_pred, proba, list(classes)


def _ovr_mean(y_true, proba, classes, score: Callable) -> float:
    """One-vs-rest macro of ``score``; NaN as soon as one class has no positives/negatives."""
    values = []
    for k, label in enumerate(classes):
        target = y_true == label
        if target.all() or not target.any():
            return float("nan")
        values.append(score(target, proba[:, k]))
    return float(np.mean(values))


def _ranking(score: Callable) -> Callable:
    def metric(y_true, y_pred, proba, classes, beta, pos) -> float:
        if pos is None:
            return _ovr_mean(y_true, proba, classes, score)
        target = y_true == pos
        if target.all() or not target.any():
            return float("nan")
        return float(score(target, proba[:, classes.index(pos)]))
    return metric


def _f_beta(y_true, y_pred, proba, classes, beta, pos) -> float:
    if pos is None:
        return float(fbeta_score(y_true, y_pred, beta=beta, labels=classes, average="macro",
                                 zero_division=np.nan))
    return float(fbeta_score(y_true, y_pred, beta=beta, pos_label=pos, average="binary",
                             zero_division=np.nan))


def _balanced_accuracy(y_true, y_pred, proba, classes, beta, pos) -> float:
    # mean recall over the classes present in y_true; sklearn warns (harmlessly) when a
    # predicted class is absent from y_true
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return float(balanced_accuracy_score(y_true, y_pred))


def _brier(y_true, y_pred, proba, classes, beta, pos) -> float:
    if pos is None:
        return float(brier_score_loss(y_true, proba, labels=classes, scale_by_half=False))
    return float(np.mean((proba[:, classes.index(pos)] - (y_true == pos)) ** 2))


_METRICS: dict[str, Callable] = {
    "accuracy": lambda t, p, pr, c, b, pos: float(accuracy_score(t, p)),
    "balanced_accuracy": _balanced_accuracy,
    "macro_f1": lambda t, p, pr, c, b, pos: float(
        f1_score(t, p, labels=c, average="macro", zero_division=np.nan)),
    "weighted_f1": lambda t, p, pr, c, b, pos: float(
        f1_score(t, p, labels=c, average="weighted", zero_division=np.nan)),
    "f_beta": _f_beta,
    "roc_auc": _ranking(roc_auc_score),
    "pr_auc": _ranking(average_precision_score),
    "log_loss": lambda t, p, pr, c, b, pos: float(log_loss(t, pr, labels=c)),
    "brier": _brier,
}


def metric_value(metric: str, y_true, y_pred, proba, classes, beta: float = 1.0, *,
                 positive_label=None) -> float:
    """One metric, quietly (no logging): used by scorers called many times."""
    if metric not in _METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {METRIC_KEYS}")
    y_true, y_pred, proba, classes = _check_inputs(y_true, y_pred, proba, classes)
    pos = resolve_positive(classes, positive_label, y_true)
    return _METRICS[metric](y_true, y_pred, proba, classes, beta, pos)


def compute_metrics(y_true, y_pred, proba, classes, beta: float = 1.0, *,
                    positive_label=None) -> dict[str, float]:
    """All of ``METRIC_KEYS`` as plain floats (NaN where undefined, with the reason logged)."""
    y_true, y_pred, proba, classes = _check_inputs(y_true, y_pred, proba, classes)
    pos = resolve_positive(classes, positive_label, y_true)
    _log_missing_classes(y_true, classes, pos)
    return {name: _METRICS[name](y_true, y_pred, proba, classes, beta, pos)
            for name in METRIC_KEYS}


def _log_missing_classes(y_true, classes, pos) -> None:
    missing = [c for c in classes if not (y_true == c).any()]
    if not missing:
        return
    if pos is None:
        log.warning("classes %s absent from y_true: one-vs-rest roc_auc and pr_auc are NaN; "
                    "F-scores skip a class only if it is also never predicted", missing)
    else:
        log.warning("class %s absent from y_true: roc_auc is NaN (needs both classes)%s",
                    missing, "; pr_auc and f_beta are NaN (no positives)" if pos in missing else "")


def per_class_report(y_true, y_pred, classes) -> pd.DataFrame:
    """Precision, recall, F1 and support per class (NaN where a ratio is undefined)."""
    y_true, y_pred = as_labels(y_true), as_labels(y_pred)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(classes), zero_division=np.nan)
    frame = pd.DataFrame({"precision": precision, "recall": recall, "f1": f1,
                          "support": support.astype(int)}, index=pd.Index(list(classes), name="class"))
    return frame


def confusion_frame(y_true, y_pred, classes) -> pd.DataFrame:
    """Counts with true labels as rows and predicted labels as columns."""
    k = len(classes)
    counts = np.bincount(encode(y_true, classes) * k + encode(y_pred, classes),
                         minlength=k * k).reshape(k, k)
    return pd.DataFrame(counts, index=pd.Index(list(classes), name="true"),
                        columns=pd.Index(list(classes), name="predicted"))
