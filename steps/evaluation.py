"""Validation step logic: score a fitted model on the frozen test split.

This module is the public face of the evaluation step and re-exports the pieces that
live in smaller modules (metrics, bootstrap, thresholds, figures, gates, leaderboard).

Leakage rules: ``evaluate_model`` never tunes anything on test data. A binary decision
threshold arrives finished (``threshold=`` or a ``ThresholdedClassifier``), tuned by the
caller with ``tune_threshold`` on out-of-fold training predictions. ``X_train``/``y_train``
are only read for the positive-class convention, a column check and the baseline.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier

from steps.bootstrap import bootstrap_ci, mean_ci
from steps.config import EvaluateConfig
from steps.error_costs import constant_baseline_cost, cost_matrix, row_costs
from steps.figures import (calibration_figure, confusion_matrix_figure,
                           permutation_importance_figure, pr_figure, roc_figure,
                           threshold_curve_figure)
from steps.gates import GateResult, check_gates
from steps.leaderboard import leaderboard, leaderboard_figure, select_winner
from steps.metrics import (METRIC_KEYS, as_labels, compute_metrics, confusion_frame, encode,
                           metric_value, minority_label, per_class_report, resolve_positive)
from steps.thresholds import (ThresholdedClassifier, ThresholdResult, predict_with_threshold,
                              tune_threshold)

__all__ = [
    "EvalResult", "evaluate_model", "baseline_metrics", "compute_metrics", "per_class_report",
    "bootstrap_ci", "tune_threshold", "ThresholdResult", "predict_with_threshold",
    "ThresholdedClassifier", "check_gates", "GateResult", "leaderboard", "leaderboard_figure",
    "select_winner", "threshold_curve_figure", "minority_label", "METRIC_KEYS", "FIGURE_NAMES",
]

log = logging.getLogger(__name__)

FIGURE_NAMES = ("confusion_matrix", "roc_curve", "pr_curve", "calibration_curve",
                "permutation_importance", "partial_dependence", "slices")
LEADERBOARD_PREDICT_S = 30.0  # per runner-up family: its test score informs, it decides nothing
PREDICT_PROBE_ROWS = 1000


@dataclass
class EvalResult:
    metrics: dict[str, float]  # every key of METRIC_KEYS
    per_class: pd.DataFrame  # index: class; precision, recall, f1, support
    ci: tuple[float, float]  # bootstrap CI of metrics[metric]; (nan, nan) if bootstrap == 0
    figures: dict[str, Any]  # subset of FIGURE_NAMES -> matplotlib Figure
    confusion: pd.DataFrame  # counts, rows = true label, columns = predicted label
    metric: str = "macro_f1"
    positive_label: Any = None  # binary only
    threshold: float | None = None  # decision threshold used (None = the model's predict)
    baseline: dict[str, float] | None = None  # most-frequent baseline, when y_train is given
    importance: pd.DataFrame | None = None  # permutation importance table (all features)
    dependence: pd.DataFrame | None = None  # steps.dependence table of the top features
    notes: list[str] = field(default_factory=list)  # skipped parts and why
    y_pred: np.ndarray | None = None  # decisions on the scored test rows, in their order
    cost_ci: tuple[float, float] | None = None  # bootstrap CI of metrics["expected_cost"]
    slices: pd.DataFrame | None = None  # steps.slices: error rate per slice of each column
    proba: np.ndarray | None = None  # probabilities (columns = the model's classes)


def baseline_metrics(y_train, y_test, classes, beta: float = 1.0, *,
                     positive_label=None, costs=None) -> dict[str, float]:
    """Metrics of a majority-class dummy fitted on the training labels.

    Uses ``DummyClassifier(strategy="prior")``: it predicts the most frequent training class
    exactly like ``"most_frequent"`` but reports the training class priors as probabilities,
    so the baseline's log loss and Brier are meaningful rather than infinite-ish.
    """
    classes = list(classes)
    y_train, y_test = as_labels(y_train), as_labels(y_test)
    encode(y_train, classes)
    dummy = DummyClassifier(strategy="prior").fit(np.zeros((len(y_train), 1)), y_train)
    raw = dummy.predict_proba(np.zeros((len(y_test), 1)))
    proba = np.zeros((len(y_test), len(classes)))
    proba[:, [classes.index(c) for c in dummy.classes_]] = raw  # align to the model's classes
    pos = resolve_positive(classes, positive_label, y_train)
    metrics = compute_metrics(y_test, dummy.predict(np.zeros((len(y_test), 1))), proba, classes,
                              beta, positive_label=pos)
    if costs:  # the cheapest constant answer, not the most frequent one
        metrics["expected_cost"] = constant_baseline_cost(y_train, y_test, classes,
                                                          cost_matrix(costs, classes))
    return metrics


def _decision_rule(model, classes, threshold, positive_label, y_train, y_test):
    """(model to score, positive label, threshold): one consistent binary decision rule."""
    if isinstance(model, ThresholdedClassifier):
        if positive_label is not None and positive_label != model.positive_label:
            raise ValueError(f"positive_label {positive_label!r} contradicts the wrapped "
                             f"model's {model.positive_label!r}")
        positive_label = model.positive_label
        threshold = model.threshold if threshold is None else threshold
        model = model.estimator
    if len(classes) != 2:
        if threshold is not None:
            raise ValueError(f"a decision threshold needs a binary model, got classes {classes}")
        return model, None, None
    if positive_label is None and y_train is None:
        log.warning("no training labels: positive class taken as the test minority class")
    pos = resolve_positive(classes, positive_label, y_test if y_train is None else y_train)
    if threshold is not None:
        model = ThresholdedClassifier(model, pos, float(threshold))
    return model, pos, None if threshold is None else float(threshold)


def _check_columns(X_test: pd.DataFrame, X_train) -> None:
    if X_train is None or not hasattr(X_train, "columns"):
        return
    missing = sorted(set(X_train.columns) - set(X_test.columns))
    extra = sorted(set(X_test.columns) - set(X_train.columns))
    if missing or extra:
        raise ValueError(f"X_test columns differ from X_train: missing {missing}, extra {extra}")


def affordable_test_rows(model, X_test: pd.DataFrame, budget_s: float = LEADERBOARD_PREDICT_S,
                         probe_rows: int = PREDICT_PROBE_ROWS) -> tuple[int, float]:
    """(rows ``model`` can score within ``budget_s``, seconds per row), timed on a probe.

    k-NN on 200k test rows took three minutes; runner-up families are scored on a
    stratified sample that fits the budget instead (see ``stratified_sample``)."""
    n = len(X_test)
    if n <= 4 * probe_rows:
        return n, float("nan")
    start = time.monotonic()
    model.predict_proba(X_test.iloc[:probe_rows])
    per_row = (time.monotonic() - start) / probe_rows
    if per_row * n <= budget_s:
        return n, per_row
    return max(2 * probe_rows, int(budget_s / per_row)), per_row


def stratified_sample(X: pd.DataFrame, y: pd.Series, rows: int, seed: int = 0):
    """A seeded, class-stratified subset of ``rows`` rows (all rows when ``rows >= len``)."""
    if rows >= len(X):
        return X, y
    from sklearn.model_selection import train_test_split
    X_s, _, y_s, _ = train_test_split(X, y, train_size=rows, stratify=y, random_state=seed)
    return X_s, y_s


def _permutation_scorer(classes, metric: str, beta: float, positive_label):
    def scorer(estimator, X_, y_) -> float:
        proba = np.asarray(estimator.predict_proba(X_), dtype=float)
        return metric_value(metric, y_, labels_from_proba(estimator, proba, classes), proba,
                            classes, beta, positive_label=positive_label)
    return scorer


def _dependence(model, X_test, importance, predict_s: float, cfg: EvaluateConfig):
    """Partial dependence of the most important columns (those whose shuffling hurt)."""
    from steps.dependence import affordable_rows, dependence_table
    if importance is None or cfg.dependence_features == 0:
        return None
    columns = importance["feature"].isin(X_test.columns)  # not the redundant groups' rows
    top = importance[columns & (importance["importance_mean"] > 0)]["feature"].head(
        cfg.dependence_features)
    if top.empty:
        return None
    rows = affordable_rows(predict_s / max(len(X_test), 1), len(top))
    return dependence_table(model, X_test, list(top), rows)


def _figures(y_test, proba, classes, pos, confusion, importance, metric,
             dependence=None) -> dict[str, Any]:
    figures = {
        "confusion_matrix": confusion_matrix_figure(confusion),
        "roc_curve": roc_figure(y_test, proba, classes, pos),
        "pr_curve": pr_figure(y_test, proba, classes, pos),
        "calibration_curve": calibration_figure(y_test, proba, classes, pos),
    }
    if importance is not None:
        figures["permutation_importance"] = permutation_importance_figure(importance, metric)
    if dependence is not None:
        from steps.dependence import dependence_figure
        figures["partial_dependence"] = dependence_figure(dependence, pos)
    return figures


def labels_from_proba(model, proba: np.ndarray, classes) -> np.ndarray:
    """The model's decisions from probabilities already computed: predicting twice doubled
    the cost of scoring k-NN or SVM on a large test split. Wrappers whose decisions are not
    the argmax (a threshold, calibrated multiclass) say so with ``decide``."""
    if hasattr(model, "decide"):
        return as_labels(model.decide(proba))
    return as_labels(np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)])


def evaluate_model(model, X_test: pd.DataFrame, y_test: pd.Series, cfg: EvaluateConfig, *,
                   threshold: float | None = None, positive_label=None, X_train=None,
                   y_train=None, seed: int = 0, figures: bool = True) -> EvalResult:
    """Metrics, per-class table, bootstrap CI on ``cfg.metric``, confusion and figures.

    ``model``: fitted, with ``predict_proba`` and ``classes_`` (possibly a
    ``ThresholdedClassifier``). Binary positive class: ``positive_label``, else the wrapped
    model's, else the minority class of ``y_train`` (of ``y_test`` if no ``y_train``).
    """
    classes = list(model.classes_)
    y_test = pd.Series(as_labels(y_test), index=getattr(y_test, "index", None))
    encode(y_test, classes)
    _check_columns(X_test, X_train)
    scored, pos, threshold = _decision_rule(model, classes, threshold, positive_label,
                                            y_train, y_test)
    started = time.perf_counter()
    proba = np.asarray(scored.predict_proba(X_test), dtype=float)
    predict_s = time.perf_counter() - started
    y_pred = labels_from_proba(scored, proba, classes)  # a threshold wraps the model
    metrics = compute_metrics(y_test, y_pred, proba, classes, cfg.beta, positive_label=pos)
    notes: list[str] = []
    cost_ci = costs = slices = None
    if cfg.costs:
        costs = row_costs(y_test, y_pred, classes, cost_matrix(cfg.costs, classes))
        metrics["expected_cost"] = float(costs.mean())
        if cfg.bootstrap > 0:
            cost_ci = mean_ci(costs, encode(y_test, classes), cfg.bootstrap, seed)
    if cfg.bootstrap > 0:
        ci = bootstrap_ci(y_test, y_pred, proba, classes, cfg.metric, n=cfg.bootstrap, seed=seed,
                          beta=cfg.beta, positive_label=pos)
    else:
        ci = (float("nan"), float("nan"))
        notes.append("bootstrap CI skipped: evaluate.bootstrap is 0")
    importance = None
    if cfg.permutation_repeats > 0:
        from steps.importance import permutation_table, redundant_groups
        importance, cut = permutation_table(
            scored, X_test, y_test, _permutation_scorer(classes, cfg.metric, cfg.beta, pos),
            cfg.permutation_repeats, predict_s, seed, groups=redundant_groups(X_train))
        notes += cut
    elif figures:  # a leaderboard row (no figures) never computes it: nothing to say
        notes.append("permutation importance skipped: evaluate.permutation_repeats is 0")
    confusion = confusion_frame(y_test, y_pred, classes)
    dependence = _dependence(scored, X_test, importance, predict_s, cfg) if figures else None
    plots = (_figures(y_test, proba, classes, pos, confusion, importance, cfg.metric, dependence)
             if figures else {})
    if figures and cfg.slices:
        from steps.slices import slice_errors, slices_figure
        slices = slice_errors(X_test, y_test, y_pred, row_costs=costs)
        plots["slices"] = slices_figure(slices)
    baseline = None
    if y_train is not None:
        baseline = baseline_metrics(y_train, y_test, classes, cfg.beta, positive_label=pos,
                                    costs=cfg.costs)
    for note in notes:
        log.info(note)
    return EvalResult(metrics=metrics, per_class=per_class_report(y_test, y_pred, classes),
                      ci=ci, figures=plots, confusion=confusion, metric=cfg.metric,
                      positive_label=pos, threshold=threshold, baseline=baseline,
                      importance=importance, dependence=dependence, notes=notes,
                      y_pred=np.asarray(y_pred, dtype=object), proba=proba, cost_ci=cost_ci,
                      slices=slices)
