"""Learning curve of the winner: would more training rows of the same kind help?

The winner's configuration is refit on stratified fractions of the training rows and scored
out of fold (3 folds, the primary metric, argmax decisions as in model selection); the point
at full size is the out-of-fold score the training step already measured. Only training rows
are used: the test split stays untouched. A curve still rising at its right end says more
data is likely to pay; a flat one says the model, features or labels are the limit.

Work is bounded by a time budget: fractions run smallest first, and the next one is skipped
when its predicted fit time (measured growth, at least linear in rows) would pass the budget,
or abandoned after a fold when the folds left would (fit time can grow faster than that).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import train_test_split

FRACTIONS = (0.1, 0.25, 0.5)
FOLDS = 3
RISING = 0.005  # gain per doubling of the rows above which the curve is "still rising"
CEILING = 0.99  # a score this close to perfect has no room left to rise


@dataclass
class LearningCurve:
    table: pd.DataFrame  # train_rows, score_mean, score_std, source
    verdict: str
    note: str | None = None  # fractions skipped for the budget


def refit(estimator, X, y):
    """A fresh fit of ``estimator``'s configuration; a blend refits each member."""
    from steps.ensemble import EnsembleClassifier
    if isinstance(estimator, EnsembleClassifier):
        return EnsembleClassifier({n: clone(m).fit(X, y) for n, m in estimator.members.items()},
                                  dict(estimator.weights))
    return clone(estimator).fit(X, y)


def _subsample(X, y, fraction: float, seed: int):
    """A stratified ``fraction`` of the rows; a plain random one when a class is too rare
    to stratify (an early fold of forward-chaining CV can hold a single row of a class)."""
    try:
        X_s, _, y_s, _ = train_test_split(X, y, train_size=fraction, stratify=y, random_state=seed)
    except ValueError:
        X_s, _, y_s, _ = train_test_split(X, y, train_size=fraction, random_state=seed)
    return X_s, y_s


class _OverBudget(Exception):
    """A fraction's folds so far say the rest would pass the budget."""


def _fraction_scores(estimator, X, y, fraction: float, folds, score, seed: int,
                     deadline: float | None = None) -> list[float]:
    """One score per fold; with a ``deadline``, stops (``_OverBudget``) as soon as the folds
    left, at the pace of those done, would pass it: a misjudged fraction overruns by one fit
    at most."""
    out, start = [], time.monotonic()
    for tr, va in folds:
        if out and deadline is not None:
            pace = (time.monotonic() - start) / len(out)
            if time.monotonic() + pace * (len(folds) - len(out)) > deadline:
                raise _OverBudget
        X_tr, y_tr = X.iloc[tr], y.iloc[tr]
        if fraction < 1.0:
            X_tr, y_tr = _subsample(X_tr, y_tr, fraction, seed)
        with warnings.catch_warnings():  # small fractions leave a rare class a few rows: the
            # point is rougher, which the curve's spread already shows; no warning per fit
            warnings.filterwarnings("ignore", "The least populated class", UserWarning)
            model = refit(estimator, X_tr, y_tr)
        out.append(score(y.iloc[va], model, X.iloc[va]))
    return out


def _folds(y: pd.Series, groups, seed: int, forward: bool = False) -> list:
    """Stratified folds, grouped (or chained forward in time) like the training step's."""
    from steps.study import _folds as study_folds
    try:
        return study_folds(y, FOLDS, seed, [], groups, forward=forward)
    except ValueError:  # fewer than 2 rows per class or 2 groups: no curve
        return []


def learning_curve(estimator, X: pd.DataFrame, y: pd.Series, score, *, full_rows: int,
                   full_score: float, budget_s: float = 20.0, seed: int = 0,
                   fractions=FRACTIONS, groups=None, forward: bool = False) -> LearningCurve:
    """``score(y_true, fitted_model, X)`` -> higher is better. ``full_rows``/``full_score``:
    the training step's out-of-fold score and the rows each of its fits saw. ``groups``: one
    label per row; a group's rows then stay in one fold, as in the training step."""
    y = pd.Series(np.asarray(y), index=X.index)
    folds = _folds(y, groups, seed, forward)
    k = len(folds)
    rows, skipped, start, last = [], [], time.monotonic(), None
    if k >= 2:
        train_part = np.mean([len(tr) for tr, _ in folds])  # (k-1)/k of the rows, or less forward
        for f in sorted(fractions):
            n = int(train_part * f)
            if last is not None:  # predicted from the previous fraction, at least linear
                need = last[1] * (n / last[0]) * 1.2
                if time.monotonic() - start + need > budget_s:
                    skipped.append(f)
                    continue
            if n < 2 * y.nunique():
                continue
            t0 = time.monotonic()
            try:  # the smallest fraction always completes; later ones keep to the budget
                scores = _fraction_scores(estimator, X, y, f, folds, score, seed,
                                          None if last is None else start + budget_s)
            except ValueError:  # a fraction too small for a class, a sampler or a fold
                continue
            except _OverBudget:  # and the larger ones would take longer still
                skipped += [g for g in sorted(fractions) if g >= f]
                break
            last = (n, time.monotonic() - t0)
            rows.append({"train_rows": n, "score_mean": float(np.mean(scores)),
                         "score_std": float(np.std(scores)), "source": f"{k}-fold CV on {f:.0%}"})
    rows.append({"train_rows": int(full_rows), "score_mean": float(full_score), "score_std": 0.0,
                 "source": "out-of-fold score of the training step"})
    table = pd.DataFrame(rows)
    note = (f"fractions {skipped} skipped: they would pass evaluate.learning_curve_s "
            f"({budget_s:g} s)") if skipped else None
    return LearningCurve(table, verdict(table), note)


def verdict(table: pd.DataFrame) -> str:
    """The gain per doubling of the training rows over the last two points, in words."""
    if len(table) < 2:
        return "too few points for a learning curve"
    a, b = table.iloc[-2], table.iloc[-1]
    if b["score_mean"] >= CEILING:
        return (f"at the ceiling ({b['score_mean']:.3f} at {int(b['train_rows'])} rows): more "
                "rows cannot show a gain; a score this high is worth a look for leakage")
    doublings = np.log2(b["train_rows"] / a["train_rows"])
    gain = (b["score_mean"] - a["score_mean"]) / doublings if doublings > 0 else 0.0
    rough = " (from two points only: a rough guide)" if len(table) == 2 else ""
    if gain > RISING:
        return (f"still rising: {gain:+.3f} per doubling of the training rows; more rows of "
                f"the same kind are likely to help{rough}")
    return (f"flat: {gain:+.3f} per doubling of the training rows; more rows of the same kind "
            f"are unlikely to help much (the model, features or labels are the limit){rough}")


def learning_curve_figure(curve: LearningCurve, metric: str):
    from steps.figures import new_figure
    fig, axes = new_figure(6.5, 4.0)
    ax = axes[0, 0]
    t = curve.table
    ax.errorbar(t["train_rows"], t["score_mean"], yerr=t["score_std"], marker="o", capsize=4)
    ax.set_xscale("log")
    ax.set(xlabel="training rows (log scale)", ylabel=f"out-of-fold {metric}",
           title="Learning curve of the winner")
    # bottom right: a rising curve runs from bottom left to top right
    ax.text(0.98, 0.04, curve.verdict, transform=ax.transAxes, fontsize=8, wrap=True, ha="right",
            bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0})
    return fig


def winner_curve(estimator, X: pd.DataFrame, y: pd.Series, classes, metric: str, *,
                 beta: float, positive_label, cv_score: float, oof_rows: int, cv_folds: int,
                 budget_s: float, seed: int = 0, groups=None,
                 forward: bool = False) -> LearningCurve:
    """The validation step's call: scores like model selection does (argmax of the
    probabilities, the primary metric); the full-size point is the training step's
    out-of-fold score, whose fits each saw ``(cv_folds - 1) / cv_folds`` of its rows, or
    under forward chaining (``forward``, time blocks as ``groups``; the curve's own folds
    then chain forward too) ``(cv_folds + 2) / (2 cv_folds)`` of the scored rows on average."""
    from steps.ensemble import oof_score
    from steps.metrics import columns_in_order
    classes = list(classes)

    def score(y_true, model, X_valid) -> float:
        proba = columns_in_order(model.predict_proba(X_valid), model.classes_, classes)
        return oof_score(metric, y_true, proba, classes, beta, positive_label)

    seen = (cv_folds + 2) / (2 * cv_folds) if forward else (cv_folds - 1) / cv_folds
    return learning_curve(estimator, X, y, score, full_rows=int(oof_rows * seen),
                          full_score=cv_score, budget_s=budget_s, seed=seed, groups=groups,
                          forward=forward)
