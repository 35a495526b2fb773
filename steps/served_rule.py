"""Out-of-fold scores of the decision rule a binary model is served with.

A binary model is served with a decision threshold tuned on its out-of-fold training
predictions (``steps.thresholds``), not with argmax decisions. Ranking the candidates, and
weighting a blend, by argmax decisions judges them by a rule nobody uses: on ISLR's
``Default`` (3% positives, balanced class weights) logistic regression's argmax macro-F1 was
0.61 out of fold and 0.78 on test at its tuned threshold, so a blend of trees scoring 0.73 on
test won. Scoring each candidate at a threshold tuned on the very rows it is scored on would
flatter it (a second search on the same predictions), so each fold of the out-of-fold rows is
decided at the threshold tuned on the other folds: cross-fitting, as the served threshold
meets new rows.
"""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedKFold

from steps.ensemble import Objective
from steps.metrics import metric_value
from steps.thresholds import best_threshold

FOLDS = 5


def cross_fitted_decisions(is_positive, proba_positive, beta: float = 1.0, folds: int = FOLDS,
                           seed: int = 0, metric: str = "f_beta") -> np.ndarray:
    """Per row, positive or not at the threshold tuned (for ``metric``; the default, the
    positive class's F-beta) on the rows of the other folds."""
    target = np.asarray(is_positive, dtype=bool)
    score = np.asarray(proba_positive, dtype=float)
    folds = min(folds, int(target.sum()), int((~target).sum()))
    if folds < 2:  # too few of a class to hold any out: one threshold on every row
        return score >= best_threshold(target, score, beta, metric)
    decided = np.zeros(len(target), dtype=bool)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for fit, held in splitter.split(score.reshape(-1, 1), target):
        decided[held] = score[held] >= best_threshold(target[fit], score[fit], beta, metric)
    return decided


def served_score(metric: str, y, proba: np.ndarray, classes, positive_label, *,
                 beta: float = 1.0, rule: tuple[str, float] = ("f_beta", 1.0),
                 seed: int = 0) -> float:
    """``metric`` of cross-fitted threshold decisions for ``positive_label`` (binary), each
    threshold tuned for ``rule`` (its metric and beta, ``steps.thresholds.threshold_metric``)."""
    classes = [str(c) for c in classes]
    y = np.asarray(y, dtype=object).astype(str)
    positive = str(positive_label)
    negative = next(c for c in classes if c != positive)
    decided = cross_fitted_decisions(y == positive, proba[:, classes.index(positive)],
                                     rule[1], seed=seed, metric=rule[0])
    pred = np.where(decided, positive, negative).astype(object)
    return metric_value(metric, y.astype(object), pred, proba, classes, beta,
                        positive_label=positive)


def served_objective(metric: str, positive_label, beta: float = 1.0,
                     rule: tuple[str, float] = ("f_beta", 1.0)) -> Objective:
    """Model selection's objective for binary models served with a threshold tuned for
    ``rule``."""
    return Objective(f"{metric} at a threshold tuned on the other folds",
                     lambda y, proba, classes: served_score(
                         metric, y, proba, classes, positive_label, beta=beta, rule=rule))
