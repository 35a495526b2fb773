"""Paired bootstrap comparisons: how much one model beats another on the same test rows.

Both models are scored on the same resamples (``steps.bootstrap``'s stratified row counts),
so the interval is that of the *gap*, far narrower than either score's own interval when
the models err on the same rows.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from steps.bootstrap import EncodedRows, metric_from_counts, resample_counts, resampled_means
from steps.metrics import LOWER_IS_BETTER, METRIC_KEYS


@dataclass(frozen=True)
class PairedDifference:
    """How much model ``a`` beats model ``b`` on the same test rows, with a paired bootstrap
    interval: ``metric(a) - metric(b)``, or ``b - a`` for the losses (log loss, Brier), so
    a positive ``delta`` always means ``a`` is better.

    Both models are scored on every resample, so the interval reflects how much the *gap*
    moves across resamples, which is far less than each score's own interval when the models
    err on the same rows. ``p_not_better`` is the share of resamples where ``a`` does not beat
    ``b`` (a one-sided bootstrap p-value for "a is better").
    """
    metric: str
    delta: float
    ci_low: float
    ci_high: float
    p_not_better: float
    rows: int
    resamples: int
    value_a: float = float("nan")  # the metric of each model on all the rows
    value_b: float = float("nan")

    @property
    def significant(self) -> bool:
        """The whole 95% interval lies above zero."""
        return bool(np.isfinite(self.ci_low) and self.ci_low > 0)

    def describe(self) -> str:
        return (f"{self.delta:+.4f} (95% CI {self.ci_low:+.4f} to {self.ci_high:+.4f}, paired "
                f"bootstrap over {self.rows} test rows)")

    def to_dict(self) -> dict:
        return {**asdict(self), "significant": self.significant}


def paired_difference(y_true, a: tuple, b: tuple, classes: Sequence, metric: str,
                      n: int = 1000, seed: int = 0, alpha: float = 0.05, *, beta: float = 1.0,
                      positive_label=None) -> PairedDifference:
    """Paired bootstrap of ``metric`` for two models' ``(y_pred, proba)`` on the same rows.

    Stratified like ``bootstrap_ci``; undefined resamples (a metric needing a class the
    resample lacks) are skipped for both models alike.
    """
    if metric not in METRIC_KEYS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {METRIC_KEYS}")
    if n < 1:
        raise ValueError(f"a paired bootstrap needs at least one resample, got n={n}")
    da = EncodedRows(y_true, a[0], a[1], classes, beta, positive_label)
    db = EncodedRows(y_true, b[0], b[1], classes, beta, positive_label)
    if len(da.p) != len(db.p) or len(da.p) != len(da.t):
        raise ValueError("both models must be scored on the same test rows")
    unit = np.ones((1, len(da.t)))
    value_a, value_b = (float(metric_from_counts(metric, d, unit)[0]) for d in (da, db))
    delta = value_a - value_b
    diffs = np.concatenate([metric_from_counts(metric, da, w) - metric_from_counts(metric, db, w)
                            for w in resample_counts(da.t, n, seed)])
    if metric in LOWER_IS_BETTER:  # report the gain as a + number
        delta, diffs = -delta, -diffs
    return _paired(metric, delta, finite_of(diffs), len(da.t), alpha, value_a, value_b)


def finite_of(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def _paired(metric: str, delta: float, finite: np.ndarray, rows: int, alpha: float,
            value_a: float, value_b: float) -> PairedDifference:
    if finite.size == 0:
        return PairedDifference(metric, delta, float("nan"), float("nan"), float("nan"), rows, 0,
                                value_a, value_b)
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return PairedDifference(metric, delta, float(low), float(high), float(np.mean(finite <= 0)),
                            rows, int(finite.size), value_a, value_b)


def paired_cost_saving(costs_a, costs_b, y_codes, n: int = 1000, seed: int = 0,
                       alpha: float = 0.05) -> PairedDifference:
    """How much less model ``a``'s decisions cost per row than ``b``'s on the same rows
    (``delta`` = mean cost of b - mean cost of a), with a paired, stratified bootstrap."""
    a, b = np.asarray(costs_a, dtype=float), np.asarray(costs_b, dtype=float)
    if len(a) != len(b) or len(a) != len(y_codes):
        raise ValueError("both models must be scored on the same test rows")
    saved = b - a
    diffs = resampled_means(saved, y_codes, n, seed)
    return _paired("expected_cost", float(saved.mean()), finite_of(diffs), len(a), alpha,
                   float(a.mean()), float(b.mean()))


def gain_verdict(low: float, high: float, better: str = "winner") -> str:
    """Plain words for a paired 95% interval of ``better``'s gain over another model (the
    leaderboard's winner; B when two runs are compared)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "not compared"
    if low > 0:
        return f"{better} better beyond noise"
    if high < 0:
        return f"{better} worse beyond noise"
    if low == 0 == high:  # every resample scores both alike: the same decisions on every row
        return "no difference"
    return "within noise"
