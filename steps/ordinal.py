"""Ordinal targets: a classifier that knows its classes are ordered.

Frank & Hall (2001), "A simple approach to ordinal classification": for classes
c_0 < c_1 < ... < c_{K-1}, fit K-1 binary models of P(y > c_k) and take class
probabilities as differences of the (monotone) cumulative curve. Each binary problem
pools the rare top classes with their neighbours, so a rare class such as hpc_data's
long jobs borrows strength from the moderate ones instead of being learnt alone.

The wrapper is a plain scikit-learn estimator; ``predict_proba`` columns follow the
sorted ``classes_`` like every other classifier, so out-of-fold blending, thresholds
and metrics need no special case.
"""
from __future__ import annotations

import hashlib

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from steps.columns import DataValidationError
from steps.models import class_weights


def check_class_order(order, classes) -> list:
    """``order`` as a list of text labels when it names exactly ``classes``; a
    ``DataValidationError`` saying what differs otherwise."""
    order, classes = [str(c) for c in order], sorted(str(c) for c in classes)
    if len(set(order)) != len(order):
        raise DataValidationError(f"class_order repeats a class: {order}")
    missing, unknown = sorted(set(classes) - set(order)), sorted(set(order) - set(classes))
    if missing or unknown:
        raise DataValidationError(f"class_order {order} must list exactly the target's classes "
                                  f"{classes}" + (f"; missing {missing}" if missing else "")
                                  + (f"; not in the data {unknown}" if unknown else ""))
    return order


class OrdinalClassifier(ClassifierMixin, BaseEstimator):
    """K-1 cumulative binary fits of ``estimator``, one per cut between ordered classes.

    ``class_weight_power`` tempers the balanced weights of each binary problem (as the
    families do for multiclass ones); it applies only when ``estimator`` takes a
    ``class_weight`` that is not None.
    """

    def __init__(self, estimator=None, order=(), class_weight_power: float = 1.0):
        self.estimator = estimator
        self.order = order
        self.class_weight_power = class_weight_power

    def fit(self, X, y):
        y = np.asarray(y)
        labels = np.unique(y)  # the labels as given (str or int), sorted like other estimators
        order = list(map(str, self.order))
        if _label_encoded(labels, order):  # cross_val_predict hands over sorted-label codes
            order = [str(sorted(order).index(c)) for c in order]
        order = check_class_order(order, labels)
        rank = _rank(order, y)
        self.classes_, self.order_ = labels, order
        self.estimators_ = []
        weighted = getattr(self.estimator, "class_weight", None) is not None
        for k in range(len(order) - 1):
            above = (rank > k).astype(int)
            model = clone(self.estimator)
            if weighted:  # balance each cut on its own counts, tempered like the family's
                model.set_params(class_weight=class_weights(
                    "balanced", {"class_weight_power": self.class_weight_power}, above))
            self.estimators_.append(model.fit(X, above))
        return self

    def predict_proba(self, X) -> np.ndarray:
        n = X.shape[0]
        above = [m.predict_proba(X)[:, list(m.classes_).index(1)] for m in self.estimators_]
        cumulative = np.column_stack([np.ones(n), *above, np.zeros(n)])
        cumulative = np.minimum.accumulate(cumulative, axis=1)  # P(y > c_k) never rises with k
        in_order = cumulative[:, :-1] - cumulative[:, 1:]  # non-negative, telescopes to 1 - 0
        position = {c: i for i, c in enumerate(self.order_)}
        return in_order[:, [position[str(c)] for c in self.classes_]]

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _label_encoded(labels: np.ndarray, order: list) -> bool:
    """Labels 0..K-1 where the order names other classes: scikit-learn's LabelEncoder
    codes of the sorted class names (``cross_val_predict(method='predict_proba')``)."""
    as_text = {str(c) for c in labels}
    return as_text != set(order) and as_text == {str(i) for i in range(len(order))}


def _rank(order: list, y: np.ndarray) -> np.ndarray:
    """Position of each label (compared as text, as configs write them) in ``order``."""
    lookup = {c: i for i, c in enumerate(order)}
    return np.fromiter((lookup[str(v)] for v in y), dtype=int, count=len(y))


def order_tag(order) -> str:
    """A short dataset-version tag for a declared class order ('' for none)."""
    if not order:
        return ""
    return "class_order:" + hashlib.sha256(">".join(order).encode()).hexdigest()[:12]
