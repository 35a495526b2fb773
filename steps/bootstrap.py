"""Percentile bootstrap confidence intervals for the test metrics, vectorised.

Each resample is a vector of row counts (how often each test row was drawn). Every metric
in ``steps.metrics.METRIC_KEYS`` is re-expressed over those counts so that a chunk of
resamples is scored with a few array operations instead of one sklearn call per resample:
confusion matrices via ``bincount``, ROC AUC / average precision via weighted cumulative
sums over the rows sorted once by score, log loss / Brier via weighted per-row losses.
``tests/test_metrics.py`` checks that unit counts reproduce ``compute_metrics`` exactly.
"""
from __future__ import annotations

import logging
from typing import Iterator, Sequence

import numpy as np
from scipy import sparse

from steps.metrics import METRIC_KEYS, encode, resolve_positive

log = logging.getLogger(__name__)

_CHUNK_CELLS = 2_000_000  # resamples x rows per chunk: bounds memory at ~16 MB per array


class EncodedRows:
    """Test rows pre-encoded once for all resamples."""

    def __init__(self, y_true, y_pred, proba, classes, beta, positive_label):
        self.classes = list(classes)
        self.k = len(self.classes)
        self.t = encode(y_true, self.classes)
        self.p = encode(y_pred, self.classes)
        self.proba = np.asarray(proba, dtype=float)
        self.beta = beta
        pos = resolve_positive(self.classes, positive_label, np.asarray(self.classes)[self.t])
        self.pos = None if pos is None else self.classes.index(pos)


def resample_counts(y_codes: np.ndarray, n_boot: int, seed: int,
                    stratified: bool = True) -> Iterator[np.ndarray]:
    """Yield chunks of (resamples, rows) draw counts.

    Stratified: each class keeps its test count, so no resample loses a class (which
    would make one-vs-rest metrics undefined) and the class mix matches the test split.
    """
    rng = np.random.default_rng(seed)
    n = len(y_codes)
    groups = [np.flatnonzero(y_codes == c) for c in np.unique(y_codes)] if stratified \
        else [np.arange(n)]
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        idx = np.concatenate([g[rng.integers(0, len(g), size=(b, len(g)))] for g in groups], axis=1)
        offsets = (np.arange(b) * n)[:, None]
        yield np.bincount((idx + offsets).ravel(), minlength=b * n).reshape(b, n).astype(float)


def _confusions(d: EncodedRows, w: np.ndarray) -> np.ndarray:
    """(resamples, k, k) weighted confusion matrices, rows = true class."""
    code = d.t * d.k + d.p
    # sparse one-hot (rows x k*k cells): dense would be rows * k^2 floats
    onehot = sparse.csr_matrix((np.ones(len(code)), (np.arange(len(code)), code)),
                               shape=(len(code), d.k * d.k))
    return np.asarray((onehot.T @ w.T).T).reshape(-1, d.k, d.k)


def _f_scores(cm: np.ndarray, beta: float) -> np.ndarray:
    """Per-class F-beta (NaN where tp + fp + fn == 0, as sklearn's zero_division=nan)."""
    tp = np.diagonal(cm, axis1=1, axis2=2)
    fp = cm.sum(axis=1) - tp
    fn = cm.sum(axis=2) - tp
    b2 = beta * beta
    denom = (1 + b2) * tp + b2 * fn + fp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (1 + b2) * tp / denom, np.nan)


def _nanmean(a: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(a)
    with np.errstate(invalid="ignore"):
        return np.where(ok, a, 0).sum(axis=1) / ok.sum(axis=1)


def _label_metric(metric: str, d: EncodedRows, w: np.ndarray) -> np.ndarray:
    cm = _confusions(d, w)
    support = cm.sum(axis=2)
    if metric == "accuracy":
        return np.trace(cm, axis1=1, axis2=2) / support.sum(axis=1)
    if metric == "balanced_accuracy":
        with np.errstate(invalid="ignore", divide="ignore"):
            recall = np.where(support > 0, np.diagonal(cm, axis1=1, axis2=2) / support, np.nan)
        return _nanmean(recall)
    f = _f_scores(cm, d.beta if metric == "f_beta" else 1.0)
    if metric == "f_beta" and d.pos is not None:
        return f[:, d.pos]
    if metric == "weighted_f1":
        ok = ~np.isnan(f)
        return np.where(ok, f * support, 0).sum(axis=1) / np.where(ok, support, 0).sum(axis=1)
    return _nanmean(f)


def _ranking_curve(target: np.ndarray, score: np.ndarray, w: np.ndarray):
    """Weighted cumulative (tp, fp) at each distinct score, highest score first."""
    order = np.argsort(-score, kind="mergesort")
    s = score[order]
    ends = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last row of each tie group
    ws = w[:, order]
    pos = target[order].astype(float)
    tp = np.cumsum(ws * pos, axis=1)[:, ends]
    fp = np.cumsum(ws * (1 - pos), axis=1)[:, ends]
    return tp, fp


def _roc_auc(target, score, w) -> np.ndarray:
    tp, fp = _ranking_curve(target, score, w)
    tpr = np.c_[np.zeros(len(tp)), tp] / tp[:, -1:]
    fpr = np.c_[np.zeros(len(fp)), fp] / fp[:, -1:]
    return (np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2).sum(axis=1)


def _average_precision(target, score, w) -> np.ndarray:
    tp, fp = _ranking_curve(target, score, w)
    total = tp[:, -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall_step = np.diff(np.c_[np.zeros(len(tp)), tp], axis=1) / total
    return (recall_step * precision).sum(axis=1)


def _rank_metric(metric: str, d: EncodedRows, w: np.ndarray) -> np.ndarray:
    fn = _roc_auc if metric == "roc_auc" else _average_precision
    with np.errstate(invalid="ignore", divide="ignore"):
        if d.pos is not None:
            target = d.t == d.pos
            if target.all() or not target.any():
                return np.full(len(w), np.nan)
            return fn(target, d.proba[:, d.pos], w)
        per_class = []
        for k in range(d.k):
            target = d.t == k
            if target.all() or not target.any():
                return np.full(len(w), np.nan)  # same rule as the point estimate
            per_class.append(fn(target, d.proba[:, k], w))
    return np.mean(per_class, axis=0)


def _row_losses(metric: str, d: EncodedRows) -> np.ndarray:
    if metric == "log_loss":
        eps = np.finfo(d.proba.dtype).eps
        # clipped like sklearn's log_loss so unit counts reproduce it exactly
        return -np.log(np.clip(d.proba[np.arange(len(d.t)), d.t], eps, 1 - eps))
    if d.pos is not None:
        return (d.proba[:, d.pos] - (d.t == d.pos)) ** 2
    return ((d.proba - np.eye(d.k)[d.t]) ** 2).sum(axis=1)


def metric_from_counts(metric: str, d: EncodedRows, w: np.ndarray) -> np.ndarray:
    """Metric value for each row of draw counts ``w`` (resamples, rows)."""
    if metric in ("roc_auc", "pr_auc"):
        return _rank_metric(metric, d, w)
    if metric in ("log_loss", "brier"):
        return w @ _row_losses(metric, d) / w.sum(axis=1)
    return _label_metric(metric, d, w)


def bootstrap_distribution(y_true, y_pred, proba, classes: Sequence, metric: str, n: int = 1000,
                           seed: int = 0, *, beta: float = 1.0, positive_label=None,
                           stratified: bool = True) -> np.ndarray:
    """``n`` bootstrap replicates of ``metric`` over test rows."""
    if metric not in METRIC_KEYS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {METRIC_KEYS}")
    d = EncodedRows(y_true, y_pred, proba, classes, beta, positive_label)
    chunks = [metric_from_counts(metric, d, w)
              for w in resample_counts(d.t, n, seed, stratified)]
    return np.concatenate(chunks) if chunks else np.empty(0)


def bootstrap_ci(y_true, y_pred, proba, classes: Sequence, metric: str, n: int = 1000,
                 seed: int = 0, alpha: float = 0.05, *, beta: float = 1.0,
                 positive_label=None, stratified: bool = True) -> tuple[float, float]:
    """Percentile bootstrap ``(low, high)`` at level ``1 - alpha``; (NaN, NaN) if undefined."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    values = bootstrap_distribution(y_true, y_pred, proba, classes, metric, n, seed, beta=beta,
                                    positive_label=positive_label, stratified=stratified)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        log.warning("bootstrap CI for %s undefined: no resample gave a finite value", metric)
        return float("nan"), float("nan")
    if finite.size < values.size:
        log.warning("bootstrap CI for %s: %d of %d resamples undefined and skipped",
                    metric, values.size - finite.size, values.size)
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def mean_ci(values, y_codes, n: int = 1000, seed: int = 0,
            alpha: float = 0.05) -> tuple[float, float]:
    """Percentile interval of the mean of per-row ``values`` (a cost per decision) under the
    same stratified resampling as ``bootstrap_ci``."""
    low, high = np.quantile(resampled_means(values, y_codes, n, seed), [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def resampled_means(values, y_codes, n: int, seed: int) -> np.ndarray:
    """The mean of per-row ``values`` on each of ``n`` stratified resamples."""
    values = np.asarray(values, dtype=float)
    return np.concatenate([w @ values / w.sum(axis=1)
                           for w in resample_counts(np.asarray(y_codes), n, seed)])
