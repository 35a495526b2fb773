"""Learning curve of the winner: would more training rows of the same kind help?

The winner's configuration is refit on stratified fractions of the training rows and scored
out of fold (3 folds, the primary metric, argmax decisions as in model selection); the point
at full size is the out-of-fold score the training step already measured. Only training rows
are used: the test split stays untouched. A curve still rising at its right end says more
data is likely to pay; a flat one says the model, features or labels are the limit.

Work is bounded by a time budget: fractions run smallest first, and the next one is skipped
when its predicted fit time (measured growth, at least linear in rows) would pass the budget.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import train_test_split

FRACTIONS = (0.1, 0.25, 0.5)
FOLDS = 3
RISING = 0.005  # gain per doubling of the rows above which the curve is "still rising"


@dataclass
class LearningCurve:
    table: pd.DataFrame  # train_rows, score_mean, score_std, source
    verdict: str
    note: str | None = None  # fractions skipped for the budget


def unfitted(estimator):
    """``estimator``'s configuration without its fitted state (cheap to send to a worker);
    a blend keeps its members and weights."""
    from steps.ensemble import EnsembleClassifier
    if isinstance(estimator, EnsembleClassifier):
        return EnsembleClassifier({n: clone(m) for n, m in estimator.members.items()},
                                  dict(estimator.weights))
    return clone(estimator)


def refit(estimator, X, y):
    """A fresh fit of ``estimator``'s configuration; a blend refits each member."""
    from steps.ensemble import EnsembleClassifier
    if isinstance(estimator, EnsembleClassifier):
        return EnsembleClassifier({n: clone(m).fit(X, y) for n, m in estimator.members.items()},
                                  dict(estimator.weights))
    return clone(estimator).fit(X, y)


def _fold_score(estimator, X, y, fraction: float, tr, va, score, seed: int) -> float:
    X_tr, y_tr = X.iloc[tr], y.iloc[tr]
    if fraction < 1.0:
        X_tr, _, y_tr, _ = train_test_split(X_tr, y_tr, train_size=fraction, stratify=y_tr,
                                            random_state=seed)
    return score(y.iloc[va], refit(estimator, X_tr, y_tr), X.iloc[va])


class _FoldRunner:
    """Scores one fraction's folds, in parallel processes when ``n_jobs`` > 1 (the validation
    step runs alone, so the machine's other cores are idle). The workers start, and import
    the estimator's modules, before the first fraction is timed: the budget predicts each
    fraction's time from the last one's, which a cold start would inflate."""

    def __init__(self, estimator, X, y, folds, score, seed: int, n_jobs: int = 1) -> None:
        self.args = (estimator, X, y)
        self.folds, self.score, self.seed = folds, score, seed
        self.parallel = None
        if n_jobs > 1 and len(folds) > 1:
            from joblib import Parallel, delayed
            self.delayed = delayed
            self.parallel = Parallel(n_jobs=min(n_jobs, len(folds)))
            self.parallel.__enter__()  # one pool for every fraction
            self.parallel(delayed(_warm)(estimator) for _ in range(min(n_jobs, len(folds))))

    def __call__(self, fraction: float) -> list[float]:
        jobs = [(*self.args, fraction, tr, va, self.score, self.seed) for tr, va in self.folds]
        if self.parallel is None:
            return [_fold_score(*job) for job in jobs]
        return self.parallel(self.delayed(_fold_score)(*job) for job in jobs)

    def close(self) -> None:
        if self.parallel is not None:
            from joblib.externals.loky import get_reusable_executor
            self.parallel.__exit__(None, None, None)
            # idle workers would otherwise outlive the curve and keep the step from exiting
            get_reusable_executor().shutdown(wait=True)


def _warm(estimator) -> None:
    """Nothing: receiving ``estimator`` makes a worker import what it is built of."""


def _folds(y: pd.Series, groups, seed: int) -> list:
    """Stratified folds, grouped like the training step's when rows come in groups."""
    from steps.study import _folds as study_folds
    try:
        return study_folds(y, FOLDS, seed, [], groups)
    except ValueError:  # fewer than 2 rows per class or 2 groups: no curve
        return []


def learning_curve(estimator, X: pd.DataFrame, y: pd.Series, score, *, full_rows: int,
                   full_score: float, budget_s: float = 20.0, seed: int = 0,
                   fractions=FRACTIONS, groups=None, n_jobs: int = 1) -> LearningCurve:
    """``score(y_true, fitted_model, X)`` -> higher is better. ``full_rows``/``full_score``:
    the training step's out-of-fold score and the rows each of its fits saw. ``groups``: one
    label per row; a group's rows then stay in one fold, as in the training step.
    ``n_jobs``: processes fitting folds in parallel."""
    y = pd.Series(np.asarray(y), index=X.index)
    estimator = unfitted(estimator)
    folds = _folds(y, groups, seed)
    k = len(folds)
    rows, skipped, start = [], [], time.monotonic()  # worker start-up counts against the budget
    runner = _FoldRunner(estimator, X, y, folds, score, seed, n_jobs) if k >= 2 else None
    try:
        if runner is not None:
            _run_fractions(runner, X, y, k, fractions, budget_s, start, rows, skipped)
    finally:
        if runner is not None:
            runner.close()
    rows.append({"train_rows": int(full_rows), "score_mean": float(full_score), "score_std": 0.0,
                 "source": "out-of-fold score of the training step"})
    table = pd.DataFrame(rows)
    note = (f"fractions {skipped} skipped: they would pass evaluate.learning_curve_s "
            f"({budget_s:g} s)") if skipped else None
    return LearningCurve(table, verdict(table), note)


def _run_fractions(runner, X, y, k: int, fractions, budget_s: float, start: float,
                   rows: list, skipped: list) -> None:
    """Fractions smallest first; one is skipped when its time, predicted from the last one's
    (at least linear in rows), would pass the budget."""
    train_part, last = len(X) * (k - 1) / k, None
    for f in sorted(fractions):
        n = int(train_part * f)
        if last is not None:
            need = last[1] * (n / last[0]) * 1.2
            if time.monotonic() - start + need > budget_s:
                skipped.append(f)
                continue
        if n < 2 * y.nunique():
            continue
        t0 = time.monotonic()
        try:
            scores = runner(f)
        except ValueError:  # a fraction too small for a class, a sampler or a fold
            continue
        last = (n, time.monotonic() - t0)
        rows.append({"train_rows": n, "score_mean": float(np.mean(scores)),
                     "score_std": float(np.std(scores)), "source": f"{k}-fold CV on {f:.0%}"})


def verdict(table: pd.DataFrame) -> str:
    """The gain per doubling of the training rows over the last two points, in words."""
    if len(table) < 2:
        return "too few points for a learning curve"
    a, b = table.iloc[-2], table.iloc[-1]
    doublings = np.log2(b["train_rows"] / a["train_rows"])
    gain = (b["score_mean"] - a["score_mean"]) / doublings if doublings > 0 else 0.0
    if gain > RISING:
        return (f"still rising: {gain:+.3f} per doubling of the training rows; more rows of "
                "the same kind are likely to help")
    return (f"flat: {gain:+.3f} per doubling of the training rows; more rows of the same kind "
            "are unlikely to help much (the model, features or labels are the limit)")


def learning_curve_figure(curve: LearningCurve, metric: str):
    from steps.figures import new_figure
    fig, axes = new_figure(6.5, 4.0)
    ax = axes[0, 0]
    t = curve.table
    ax.errorbar(t["train_rows"], t["score_mean"], yerr=t["score_std"], marker="o", capsize=4)
    ax.set_xscale("log")
    ax.set(xlabel="training rows (log scale)", ylabel=f"out-of-fold {metric}",
           title="Learning curve of the winner")
    ax.text(0.02, 0.04, curve.verdict, transform=ax.transAxes, fontsize=8, wrap=True,
            bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0})
    return fig


def winner_curve(estimator, X: pd.DataFrame, y: pd.Series, classes, metric: str, *,
                 beta: float, positive_label, cv_score: float, oof_rows: int, cv_folds: int,
                 budget_s: float, seed: int = 0, groups=None, n_jobs: int = 1) -> LearningCurve:
    """The validation step's call: scores like model selection does (argmax of the
    probabilities, the primary metric); the full-size point is the training step's
    out-of-fold score, whose fits each saw ``(cv_folds - 1) / cv_folds`` of its rows."""
    from steps.ensemble import oof_score
    from steps.metrics import columns_in_order
    classes = list(classes)

    def score(y_true, model, X_valid) -> float:
        proba = columns_in_order(model.predict_proba(X_valid), model.classes_, classes)
        return oof_score(metric, y_true, proba, classes, beta, positive_label)

    return learning_curve(estimator, X, y, score, full_rows=oof_rows * (cv_folds - 1) // cv_folds,
                          full_score=cv_score, budget_s=budget_s, seed=seed, groups=groups,
                          n_jobs=n_jobs)
