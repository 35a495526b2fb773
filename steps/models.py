"""Model families: factory, Optuna search space, defaults and row cap.

Each family is a ``FamilySpec`` in ``FAMILIES``. ``make(params, seed,
class_weight)`` builds the classifier; ``suggest(trial)`` draws params from the
search space; ``defaults`` is a strong configuration enqueued as the first trial
so that a tiny budget still yields a good model.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from scipy.special import expit, softmax
from sklearn.ensemble import (ExtraTreesClassifier, HistGradientBoostingClassifier,
                              RandomForestClassifier)
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC


@dataclass(frozen=True)
class FamilySpec:
    name: str
    make: Callable[[dict, int, Any], Any]  # (params, seed, class_weight) -> classifier
    suggest: Callable[[Any], dict]  # optuna trial -> params
    defaults: dict = field(default_factory=dict)
    scale: bool = True  # trees are scale-invariant: skip the scaler
    class_weight: bool = True  # estimator accepts class_weight
    row_cap: int | None = None  # above this many rows, tune on a stratified subsample
    # Cheap configurations tried before ``defaults``: under a tight budget the first trial
    # must finish quickly and already be good (e.g. scikit-learn's own HGB defaults).
    quick_starts: tuple[dict, ...] = ()
    # Can decompose an ordered target into cumulative binary fits (steps.ordinal); the
    # choice is then searched per trial. Cheap for boosting: K-1 binary fits cost about
    # what one K-class fit does (boosting grows one tree per class per iteration). Not
    # logreg: its cumulative fits scored 0.47 against 0.60 multinomial on hpc_data.
    ordinal: bool = False


def class_weights(class_weight, params: dict, y=None):
    """``'balanced'`` tempered by ``params['class_weight_power']`` (0 = none,
    1 = fully balanced). Partial weighting often wins on macro-F1 because full
    balancing over-predicts the rare class; the power needs the training labels."""
    power = params.get("class_weight_power", 1.0)
    if class_weight != "balanced" or y is None:
        return class_weight
    counts = Counter(np.asarray(y))
    integer_like = [label for label in counts if _integer_text(label) is not None]
    if power == 1.0 and not integer_like:
        return class_weight
    n, k = sum(counts.values()), len(counts)
    weights = {label: float((n / (k * c)) ** power) for label, c in counts.items()}
    # scikit-learn (1.9) looks a label up in a class_weight dict as int(label) when it parses
    # as one, so labels such as '0'/'1' (an integer target read as text) would be missing, and
    # forests expand 'balanced' into such a dict themselves: list each weight under both keys
    for label in integer_like:
        weights.setdefault(_integer_text(label), weights[label])
    return weights


def _integer_text(label) -> int | None:
    """``int(label)`` for a text label that parses as an integer ('0', '12'), else None."""
    if not isinstance(label, str):
        return None
    try:
        return int(label)
    except ValueError:
        return None


class ScoreSVC(SVC):
    """RBF SVC whose ``predict_proba`` is a softmax (binary: sigmoid) of the
    one-vs-rest decision scores. Platt scaling is deprecated in SVC and costs an
    internal CV; downstream only needs scores that rank and argmax like
    ``predict`` (AUC, average precision, threshold tuning)."""

    def predict_proba(self, X):
        scores = self.decision_function(X)
        if scores.ndim == 1:
            pos = expit(scores)
            return np.column_stack([1 - pos, pos])
        return softmax(scores, axis=1)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


# --- logistic regression -------------------------------------------------------------
def _make_logreg(p, seed, cw):
    return LogisticRegression(C=p.get("C", 1.0), max_iter=2000, class_weight=cw,
                              random_state=seed)


def _suggest_logreg(t):
    return {"C": t.suggest_float("C", 1e-3, 1e2, log=True)}


# --- random forest / extra trees -----------------------------------------------------
def _forest(cls):
    def make(p, seed, cw):
        return cls(n_estimators=p.get("n_estimators", 300), max_features=p.get("max_features", "sqrt"),
                   min_samples_leaf=p.get("min_samples_leaf", 1), max_depth=p.get("max_depth"),
                   class_weight=cw, random_state=seed, n_jobs=1)
    return make


def _suggest_forest(t):
    return {"n_estimators": t.suggest_int("n_estimators", 100, 500, step=50),
            "max_features": t.suggest_float("max_features", 0.1, 1.0),
            "min_samples_leaf": t.suggest_int("min_samples_leaf", 1, 20, log=True),
            "max_depth": t.suggest_categorical("max_depth", [None, 8, 16, 32])}


# --- histogram gradient boosting -----------------------------------------------------
WIDE_COLUMNS = 128  # encoded input columns above which hist_gb bins more coarsely
WIDE_BINS = 63


class HistGradientBoosting(HistGradientBoostingClassifier):
    """scikit-learn's, binning by the table's width: 255 bins up to ``WIDE_COLUMNS`` input
    columns, ``WIDE_BINS`` beyond (``max_bins_used_`` says which). Finding a split costs
    bins x columns per node whatever the rows: on a 2400 x 380 table with balanced weights
    63 bins cut a 5-fold trial from 198 s to 60 s at the same CV macro-F1 (0.745 against
    0.742; 32 bins 0.738). Every bundled table (<= ~100 columns) keeps all 255."""

    def fit(self, X, y, sample_weight=None):
        constructed = self.max_bins
        if np.shape(X)[1] > WIDE_COLUMNS:
            self.set_params(max_bins=min(constructed, WIDE_BINS))
        try:
            super().fit(X, y, sample_weight=sample_weight)
        finally:
            self.max_bins_used_ = self.max_bins
            self.set_params(max_bins=constructed)  # as constructed: clones see no change
        return self


def _make_hgb(p, seed, cw):
    if isinstance(cw, dict):  # HGB looks weights up by its encoded labels 0..k-1 (sorted)
        labels = {k: w for k, w in cw.items() if isinstance(k, str)} or cw  # not int aliases
        cw = {i: w for i, (_, w) in enumerate(sorted(labels.items()))}
    # no early stopping: on hpc_data/mlc_churn its loss-based stop on a 10% split
    # halted at ~60 trees and cost 1-2 macro-F1 points; max_iter is tuned instead
    return HistGradientBoosting(
        learning_rate=p.get("learning_rate", 0.05), max_iter=p.get("max_iter", 400),
        max_leaf_nodes=p.get("max_leaf_nodes", 63), min_samples_leaf=p.get("min_samples_leaf", 20),
        l2_regularization=p.get("l2_regularization", 0.0), max_features=p.get("max_features", 1.0),
        early_stopping=False, class_weight=cw, random_state=seed)


def _suggest_hgb(t):
    return {"learning_rate": t.suggest_float("learning_rate", 0.02, 0.2, log=True),
            "max_iter": t.suggest_int("max_iter", 100, 800, step=50),
            "max_leaf_nodes": t.suggest_int("max_leaf_nodes", 15, 127, log=True),
            "min_samples_leaf": t.suggest_int("min_samples_leaf", 3, 60, log=True),
            "l2_regularization": t.suggest_float("l2_regularization", 1e-6, 10.0, log=True),
            "max_features": t.suggest_float("max_features", 0.4, 1.0),
            "class_weight_power": t.suggest_float("class_weight_power", 0.0, 1.0)}


# --- SVM -----------------------------------------------------------------------------
def _make_svm(p, seed, cw):
    return ScoreSVC(C=p.get("C", 1.0), gamma=p.get("gamma", "scale"), kernel="rbf",
                    class_weight=cw, random_state=seed, cache_size=500)


def _suggest_svm(t):
    return {"C": t.suggest_float("C", 1e-2, 1e3, log=True),
            "gamma": t.suggest_float("gamma", 1e-4, 1.0, log=True)}


# --- k-NN ----------------------------------------------------------------------------
def _make_knn(p, seed, cw):  # no class_weight: the recipe oversamples instead
    return KNeighborsClassifier(n_neighbors=p.get("n_neighbors", 15),
                                weights=p.get("weights", "distance"), p=p.get("p", 2), n_jobs=1)


def _suggest_knn(t):
    return {"n_neighbors": t.suggest_int("n_neighbors", 3, 75, log=True),
            "weights": t.suggest_categorical("weights", ["uniform", "distance"]),
            "p": t.suggest_categorical("p", [1, 2])}


_RF_DEFAULTS = {"n_estimators": 300, "max_features": 0.5, "min_samples_leaf": 2, "max_depth": None}
_ET_DEFAULTS = {**_RF_DEFAULTS, "max_features": 0.7}


def _few_trees(defaults: dict) -> dict:
    """A forest's first trial: its defaults with a third of the trees cost a third (about
    3 s instead of 9 s for 5-fold CV on hpc_data), leaving a tight budget to the families
    that gain most from more trials; the defaults come next."""
    return {**defaults, "n_estimators": 100}


FAMILIES: dict[str, FamilySpec] = {
    "logreg": FamilySpec("logreg", _make_logreg, _suggest_logreg, {"C": 1.0}),
    "random_forest": FamilySpec(
        "random_forest", _forest(RandomForestClassifier), _suggest_forest,
        _RF_DEFAULTS, scale=False, quick_starts=(_few_trees(_RF_DEFAULTS),)),
    "extra_trees": FamilySpec(
        "extra_trees", _forest(ExtraTreesClassifier), _suggest_forest,
        _ET_DEFAULTS, scale=False, quick_starts=(_few_trees(_ET_DEFAULTS),)),
    "hist_gb": FamilySpec(
        "hist_gb", _make_hgb, _suggest_hgb,
        # measured best of a small grid on hpc_data / mlc_churn (3 splits each)
        {"learning_rate": 0.05, "max_iter": 400, "max_leaf_nodes": 63, "min_samples_leaf": 20,
         "l2_regularization": 1e-6, "max_features": 1.0, "class_weight_power": 1.0},
        scale=False,
        # a third of the defaults' cost for most of their score (5-fold CV macro-F1 over
        # 3 splits: hpc_data 0.817 vs 0.820 ordinal, mlc_churn 0.910 vs 0.912); scikit-
        # learn's own defaults (100 iterations, 31 leaves) scored 0.805 / 0.907
        quick_starts=({"learning_rate": 0.1, "max_iter": 150, "max_leaf_nodes": 63,
                       "min_samples_leaf": 20, "l2_regularization": 1e-6, "max_features": 1.0,
                       "class_weight_power": 1.0},),
        ordinal=True),
    "svm": FamilySpec("svm", _make_svm, _suggest_svm, {"C": 10.0, "gamma": 0.05},
                      row_cap=20000),
    "knn": FamilySpec("knn", _make_knn, _suggest_knn,
                      {"n_neighbors": 15, "weights": "distance", "p": 2},
                      class_weight=False, row_cap=50000),
}
