"""CV+ prediction sets that travel with the served model (``evaluate.prediction_sets.method:
cv_plus``).

The split rule (``steps.conformal.fit_thresholds``) compares a new row's score under the
refit model with calibration scores from the fold models, which learnt from fewer rows and are
less sharp, so rare classes can end short of the promised coverage. CV+ scores each new row
with every fold model instead (``steps.conformal.cv_plus_sets``), so it needs those models at
prediction time: ``fit_cv_plus`` refits the winner's configuration on each fold of its
training rows and keeps the fold models, their out-of-fold probabilities and each row's fold
in one picklable ``CvPlusSets``, stored on the served estimator (``ATTRIBUTE``).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from steps.conformal import cv_plus_sets

ATTRIBUTE = "prediction_sets_"  # where the served estimator carries its CvPlusSets


@dataclass
class CvPlusSets:
    """Everything CV+ needs to give new rows their sets."""
    fold_models: list  # fold k's model, fitted on the other folds; probabilities as served
    folds: np.ndarray  # per calibration row, the fold whose model predicted it
    y: np.ndarray  # calibration labels
    proba: np.ndarray  # their out-of-fold probabilities, as served, columns in ``classes``
    classes: list
    alpha: float
    by_class: bool
    order: list | None = None

    def sets(self, X: pd.DataFrame) -> np.ndarray:
        """Rows x ``classes``: True where the class is in the row's set."""
        fold_proba = {k: probabilities(m, X, self.classes) for k, m in enumerate(self.fold_models)}
        return cv_plus_sets(self.y, self.proba, self.folds, fold_proba, self.classes,
                            self.alpha, self.by_class, self.order)


def probabilities(model, X: pd.DataFrame, classes) -> np.ndarray:
    """``model``'s probabilities with columns in ``classes`` order."""
    from steps.metrics import columns_in_order
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # feature-name chatter of some fitted members
        return columns_in_order(model.predict_proba(X), model.classes_, classes)


def fit_cv_plus(estimator, X: pd.DataFrame, y: pd.Series, folds, classes, *, alpha: float,
                by_class: bool = True, order=None, served=None, on_fold=None) -> CvPlusSets:
    """Refit ``estimator``'s configuration (a blend refits each member) on each fold's
    training rows of (X, y). ``served(model)`` wraps a fold model the way the served model
    wraps the refit (its calibration), so calibration and new rows are scored alike.
    ``on_fold(done, total, seconds, model)`` after each fold may raise to give up (a size or
    time limit)."""
    from steps.learning_curve import refit
    classes = [str(c) for c in classes]
    y = pd.Series(np.asarray(y, dtype=str), index=X.index)
    proba = np.zeros((len(y), len(classes)))
    fold_of = np.full(len(y), -1)
    models = []
    for k, (train, held) in enumerate(folds):
        start = time.monotonic()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter; failures still raise
            model = refit(estimator, X.iloc[train], y.iloc[train])
        model = served(model) if served else model
        proba[held], fold_of[held] = probabilities(model, X.iloc[held], classes), k
        models.append(model)
        if on_fold is not None:
            on_fold(k + 1, len(folds), time.monotonic() - start, model)
    scored = fold_of >= 0  # every row, unless a fold scheme leaves some out
    return CvPlusSets(models, fold_of[scored], y.to_numpy()[scored], proba[scored], classes,
                      alpha, by_class, order)


def with_cv_plus_sets(scored: pd.DataFrame, X: pd.DataFrame, estimator) -> pd.DataFrame:
    """``scored`` with each row's CV+ set as text (``steps.conformal.SET_COLUMN``), from the
    rule stored on the served ``estimator``; ``X``: the rows as the model reads them."""
    from steps.conformal import SET_COLUMN, set_labels
    rule = getattr(estimator, ATTRIBUTE, None)
    if rule is None:
        raise RuntimeError("the model's record names CV+ prediction sets, but its weights "
                           "carry no fold models; re-run the validation step to rebuild them")
    return scored.assign(**{SET_COLUMN: set_labels(rule.sets(X), rule.classes, rule.order)})


def size_mb(rule) -> float:
    """The pickled size of ``rule`` (or of one fold model): what it adds to the stored model."""
    import io
    import joblib
    buffer = io.BytesIO()
    joblib.dump(rule, buffer)
    return buffer.tell() / 2 ** 20
