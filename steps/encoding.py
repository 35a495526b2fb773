"""Categorical encoding chosen per column by its number of levels, at fit time.

One-hot encoding groups every level beyond ``max_categories`` into one "infrequent" column,
so a 500-level column (a city, a product code) keeps 29 arbitrary levels and loses the rest.
Target encoding keeps what each level says about the classes instead: scikit-learn's
``TargetEncoder`` cross-fits in ``fit_transform`` (each training row is encoded by a model
that never saw it), and it runs inside the model pipeline, so CV folds and the test split
never reach it. Columns with few levels stay one-hot, where nothing is lost.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import OneHotEncoder, TargetEncoder

_SPLITTER_CV = tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 9)


def one_hot(max_categories: int) -> OneHotEncoder:
    return OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=max_categories,
                         sparse_output=False)


def target_encoder(seed: int) -> TargetEncoder:
    """Seeded 5-fold cross-fitting (a splitter from scikit-learn 1.9 on, random_state before)."""
    if _SPLITTER_CV:
        return TargetEncoder(cv=StratifiedKFold(5, shuffle=True, random_state=seed))
    return TargetEncoder(random_state=seed)


class CardinalityEncoder(TransformerMixin, BaseEstimator):
    """One-hot for columns with at most ``max_categories`` levels, target encoding (one
    column per class for multiclass targets) for the rest."""

    def __init__(self, max_categories: int = 30, seed: int = 0):
        self.max_categories = max_categories
        self.seed = seed

    def fit(self, X, y):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None, **_):
        if y is None:
            raise ValueError("CardinalityEncoder needs the training labels (target encoding)")
        X = np.asarray(X, dtype=object)
        levels = [pd.unique(X[:, j]).size for j in range(X.shape[1])]
        self.low_ = [j for j, n in enumerate(levels) if n <= self.max_categories]
        self.high_ = [j for j, n in enumerate(levels) if n > self.max_categories]
        parts = []
        if self.low_:
            self.onehot_ = one_hot(self.max_categories).fit(X[:, self.low_])
            parts.append(self.onehot_.transform(X[:, self.low_]))
        if self.high_:
            self.target_ = target_encoder(self.seed)
            parts.append(self.target_.fit_transform(X[:, self.high_], np.asarray(y)))
        return np.hstack(parts).astype(float)

    def transform(self, X):
        X = np.asarray(X, dtype=object)
        parts = []
        if self.low_:
            parts.append(self.onehot_.transform(X[:, self.low_]))
        if self.high_:
            parts.append(self.target_.transform(X[:, self.high_]))
        return np.hstack(parts).astype(float)

    def get_feature_names_out(self, input_features=None):
        names = np.asarray(input_features if input_features is not None
                           else [f"x{j}" for j in range(len(self.low_) + len(self.high_))], dtype=object)
        out = []
        if self.low_:
            out += list(self.onehot_.get_feature_names_out(names[self.low_]))
        if self.high_:
            out += list(self.target_.get_feature_names_out(names[self.high_]))
        return np.asarray(out, dtype=object)
