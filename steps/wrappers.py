"""A base for estimators that wrap an already fitted classifier (a threshold, a calibration).

Fit-free, like scikit-learn's ``FrozenEstimator``: ``clone`` returns the same object, so the
wrapped model is never refit by accident, and the fitted attributes are the wrapped model's.
Subclasses live at module level so joblib pickles them like any estimator.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted


class FittedWrapper(ClassifierMixin, BaseEstimator):
    estimator = None  # set by the subclass's __init__

    def __sklearn_clone__(self):
        return self

    def __sklearn_is_fitted__(self) -> bool:
        check_is_fitted(self.estimator)
        return True

    @property
    def classes_(self) -> np.ndarray:
        return self.estimator.classes_

    @property
    def n_features_in_(self) -> int:
        return self.estimator.n_features_in_

    @property
    def feature_names_in_(self) -> np.ndarray:
        return self.estimator.feature_names_in_
