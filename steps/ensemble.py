"""Greedy ensemble selection over the families' out-of-fold predictions.

Caruana et al. (2004), as used by auto-sklearn: start from the empty ensemble and,
for a fixed number of rounds, add (with replacement) the member whose inclusion
maximises the primary metric of the averaged out-of-fold probabilities. Members'
weights are how often they were picked. Only training-fold predictions are used,
so the choice never looks at the test split.

``select_final`` decides between the best single family and that ensemble by the
same out-of-fold metric; ``EnsembleClassifier`` serves the chosen blend.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from steps.metrics import metric_value

log = logging.getLogger(__name__)
ENSEMBLE = "ensemble"


def oof_score(metric: str, y, proba: np.ndarray, classes, beta: float = 1.0,
              positive_label=None) -> float:
    """``metric`` of argmax decisions on probabilities whose columns follow ``classes``."""
    pred = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    return metric_value(metric, np.asarray(y, dtype=object), pred, proba, list(classes), beta,
                        positive_label=positive_label)


@dataclass(frozen=True)
class Objective:
    """What model selection maximises out of fold: ``score(y, proba, classes)``, higher is
    better, and its name for messages. Default: the primary metric of argmax decisions."""
    name: str
    score: Callable[..., float]


def metric_objective(metric: str, beta: float = 1.0, positive_label=None) -> Objective:
    return Objective(metric, lambda y, proba, classes: oof_score(metric, y, proba, classes, beta,
                                                                 positive_label))


@dataclass
class EnsembleSelection:
    weights: dict[str, float]  # member -> weight (sums to 1)
    score: float  # out-of-fold metric of the blend
    history: list[tuple[str, float]] = field(default_factory=list)  # (added, score) per round

    def blend(self, probas: dict[str, np.ndarray]) -> np.ndarray:
        return sum(w * probas[name] for name, w in self.weights.items())


def greedy_ensemble(oofs: dict[str, np.ndarray], y, classes, metric: str, *, beta: float = 1.0,
                    positive_label=None, rounds: int = 25,
                    objective: Objective | None = None) -> EnsembleSelection:
    """Caruana selection with replacement; ties keep the earlier round's choice order.
    ``objective`` replaces ``metric`` (e.g. minus the cost of least-cost decisions)."""
    objective = objective or metric_objective(metric, beta, positive_label)
    if not oofs:
        raise ValueError("greedy_ensemble needs at least one member")
    shapes = {name: p.shape for name, p in oofs.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"out-of-fold predictions must share one shape, got {shapes}")
    names = sorted(oofs)
    total = np.zeros(next(iter(oofs.values())).shape)
    picks: list[str] = []
    history: list[tuple[str, float]] = []
    best_score, best_len = -np.inf, 0
    for _ in range(rounds):
        scored = [(objective.score(y, (total + oofs[n]) / (len(picks) + 1), classes), n)
                  for n in names]
        score, name = max(scored, key=lambda s: (np.nan_to_num(s[0], nan=-np.inf), -names.index(s[1])))
        picks.append(name)
        total += oofs[name]
        history.append((name, float(score)))
        if score > best_score + 1e-12:  # keep the shortest prefix reaching the best score
            best_score, best_len = score, len(picks)
    counts = Counter(picks[:best_len])
    weights = {n: c / best_len for n, c in sorted(counts.items())}
    return EnsembleSelection(weights=weights, score=float(best_score), history=history)


@dataclass
class FinalChoice:
    name: str  # a family, or ENSEMBLE
    cv_scores: dict[str, float]  # out-of-fold score per family (and the ensemble, if built)
    ensemble: EnsembleSelection | None
    reason: str


def select_final(oofs: dict[str, np.ndarray], y, classes, metric: str, *, beta: float = 1.0,
                 positive_label=None, ensemble: bool = True, rounds: int = 25,
                 objective: Objective | None = None) -> FinalChoice:
    """Best single family by out-of-fold score, or the greedy blend if it scores higher.

    ``oofs`` must cover the same training rows in the same order (row-capped families
    are left out by the caller). Ties go to the single family: it is simpler to serve.
    """
    objective = objective or metric_objective(metric, beta, positive_label)
    metric = objective.name
    scores = {n: objective.score(y, p, classes) for n, p in oofs.items()}
    best = max(sorted(scores), key=lambda n: np.nan_to_num(scores[n], nan=-np.inf))
    if not ensemble or len(oofs) < 2:
        return FinalChoice(best, scores, None, f"{best}: best out-of-fold {metric}")
    sel = greedy_ensemble(oofs, y, classes, metric, rounds=rounds, objective=objective)
    scores[ENSEMBLE] = sel.score
    if len(sel.weights) > 1 and sel.score > scores[best] + 1e-12:
        members = ", ".join(f"{n} {w:.2f}" for n, w in sel.weights.items())
        return FinalChoice(ENSEMBLE, scores, sel,
                           f"ensemble ({members}): out-of-fold {metric} {sel.score:.4f} "
                           f"> best single {best} {scores[best]:.4f}")
    return FinalChoice(best, scores, sel,
                       f"{best}: best out-of-fold {metric} {scores[best]:.4f}; "
                       f"the blend did not beat it ({sel.score:.4f})")


class EnsembleClassifier(ClassifierMixin, BaseEstimator):
    """Weighted average of fitted classifiers' probabilities (columns aligned by label).

    The members are already fitted on the training split; ``fit`` is a no-op so the
    blend can be scored and pickled like any estimator.
    """

    def __init__(self, members: dict, weights: dict[str, float]):
        self.members = members
        self.weights = weights

    def __sklearn_is_fitted__(self) -> bool:
        return True

    @property
    def classes_(self) -> np.ndarray:
        labels = set()
        for model in self.members.values():
            labels.update(model.classes_.tolist())
        return np.array(sorted(labels, key=str), dtype=object)

    @property
    def feature_names_in_(self) -> np.ndarray:
        return next(iter(self.members.values())).feature_names_in_

    def fit(self, X=None, y=None):
        return self

    def predict_proba(self, X) -> np.ndarray:
        classes = self.classes_.tolist()
        out = np.zeros((len(X), len(classes)))
        for name, weight in self.weights.items():
            model = self.members[name]
            proba = model.predict_proba(X)
            for j, label in enumerate(model.classes_.tolist()):
                out[:, classes.index(label)] += weight * proba[:, j]
        return out / sum(self.weights.values())

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
