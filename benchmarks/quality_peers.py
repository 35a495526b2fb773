"""Peer models for benchmarks/quality.py: simple baselines and FLAML AutoML.

Each peer is fitted on the same training rows as the pipeline and returns a fitted
model with ``predict_proba`` plus a short detail string. Scikit-learn peers reuse the
pipeline's preprocessor so the comparison isolates the modelling, not the encoding.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

from steps.columns import is_numeric
from steps.config import PreprocessConfig
from steps.recipe import build_model_pipeline, infer_roles, make_preprocessor

log = logging.getLogger("quality.peers")
PEERS = ["dummy", "logreg_balanced", "hgb_balanced", "smote_rf", "flaml"]


def proba_in_order(model, X, classes) -> np.ndarray:
    """predict_proba with columns in ``classes`` order (absent classes get 0)."""
    proba = np.asarray(model.predict_proba(X))
    out = np.zeros((len(X), len(classes)))
    index = {str(c): i for i, c in enumerate(classes)}
    for j, c in enumerate(model.classes_):
        out[:, index[str(c)]] = proba[:, j]
    return out


def _sklearn_peer(name: str, X, y, seed: int):
    prep, roles = PreprocessConfig(), infer_roles(X)
    if name == "dummy":
        return DummyClassifier(strategy="most_frequent")
    if name == "logreg_balanced":
        return build_model_pipeline(roles, prep, "logreg", {"C": 1.0}, "class_weight", seed, y=y)
    if name == "hgb_balanced":  # library defaults; trees need no scaling
        return Pipeline([("prep", make_preprocessor(roles, prep, scale=False)),
                         ("clf", HistGradientBoostingClassifier(class_weight="balanced",
                                                                random_state=seed))])
    if name == "smote_rf":
        return Pipeline([("prep", make_preprocessor(roles, prep, scale=False)),
                         ("smote", SMOTE(random_state=seed)),
                         ("clf", RandomForestClassifier(random_state=seed, n_jobs=1))])
    raise ValueError(f"unknown peer {name!r}")


def as_categories(X: pd.DataFrame) -> pd.DataFrame:
    """Non-numeric columns as pandas categories (missing stays missing), for learners that
    encode categories themselves (FLAML; HistGradientBoosting's native splits)."""
    X = X.copy()
    for col in X.columns:
        if not is_numeric(X[col]):
            X[col] = X[col].astype(object).astype("category")
    return X


class _FlamlModel:
    """Wraps a fitted AutoML so it takes the raw frame like the other peers."""

    def __init__(self, automl):
        self.automl, self.classes_ = automl, np.asarray(automl.classes_, dtype=object)

    def predict_proba(self, X):
        return self.automl.predict_proba(as_categories(X))


def _flaml(X, y, budget: float, seed: int):
    try:
        from flaml.automl import AutoML
    except ImportError:
        return None
    automl = AutoML()
    automl.fit(as_categories(X), pd.Series(np.asarray(y, dtype=object)), task="classification",
               metric="macro_f1", time_budget=budget, n_jobs=1, seed=seed, verbose=0)
    return _FlamlModel(automl), f"best={automl.best_estimator}"


def fit(name: str, X: pd.DataFrame, y: pd.Series, budget: float, seed: int):
    """(fitted model, detail) or None when the peer's library is not installed."""
    if name == "flaml":
        return _flaml(X, y, budget, seed)
    model = _sklearn_peer(name, X, y, seed)
    model.fit(X, y)
    return model, ""
