"""Misclassification costs: what each kind of error is worth, and the decisions that cost least.

Accuracy-like metrics price every error alike; in most imbalanced problems they are not alike
(a long HPC job scheduled as very fast blocks the queue, a missed churner is lost revenue).
``evaluate.costs`` maps a true class to the predicted classes whose confusion costs other
than 1, e.g. ``{L: {VF: 10, F: 5}, M: {VF: 5, F: 5}}``. A correct decision costs 0 and an
unlisted error 1, the convention of Kuhn and Johnson's cost-sensitive models for hpc_data
(Applied Predictive Modeling, ch. 17).

With calibrated probabilities p, predicting class j costs ``sum_i p_i C[i, j]`` in
expectation; ``CostSensitiveClassifier`` decides for the class with the least (the Bayes
decision rule), which is why the validation step calibrates before it decides.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from sklearn.utils.validation import check_is_fitted

from steps.wrappers import FittedWrapper


def cost_matrix(costs: Mapping[str, Mapping[str, float]], classes: Sequence) -> np.ndarray:
    """Costs as a (true, predicted) matrix over ``classes``; unknown class names are an error."""
    names = [str(c) for c in classes]
    named = {str(t) for t in costs} | {str(p) for row in costs.values() for p in row}
    unknown = sorted(named - set(names))
    if unknown:
        raise ValueError(f"evaluate.costs names classes the target does not have: {unknown}; "
                         f"its classes are {names}")
    matrix = 1.0 - np.eye(len(names))
    for true, row in costs.items():
        for predicted, cost in row.items():
            i, j = names.index(str(true)), names.index(str(predicted))
            if i == j and cost != 0:
                raise ValueError(f"evaluate.costs.{true}.{predicted}: a correct decision costs 0, "
                                 f"got {cost}")
            matrix[i, j] = float(cost)
    return matrix


def row_costs(y_true, y_pred, classes: Sequence, matrix: np.ndarray) -> np.ndarray:
    """The cost of each decision."""
    names = [str(c) for c in classes]
    index = {c: k for k, c in enumerate(names)}
    t = np.array([index[str(v)] for v in np.asarray(y_true)])
    p = np.array([index[str(v)] for v in np.asarray(y_pred)])
    return matrix[t, p]


def expected_cost(y_true, y_pred, classes: Sequence, matrix: np.ndarray) -> float:
    """Mean cost per row (lower is better)."""
    return float(row_costs(y_true, y_pred, classes, matrix).mean())


def least_cost_codes(proba: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Per row, the index of the class whose prediction has the least expected cost."""
    return np.argmin(np.asarray(proba, dtype=float) @ matrix, axis=1)


def least_cost_expected_cost(proba: np.ndarray, y, classes: Sequence,
                             costs: Mapping[str, Mapping[str, float]]) -> float:
    """Cost per row of least-cost decisions on ``proba`` (columns in ``classes`` order): how
    out-of-fold predictions of competing models compare when the costs decide."""
    matrix = cost_matrix(costs, classes)
    pred = np.asarray(classes, dtype=object)[least_cost_codes(proba, matrix)]
    return expected_cost(y, pred, classes, matrix)


def cost_objective(costs: Mapping[str, Mapping[str, float]]):
    """Model selection under costs (``steps.ensemble.Objective``): minus the cost per row of
    least-cost decisions, so that higher is better like every other objective."""
    from steps.ensemble import Objective
    return Objective("minus expected cost of least-cost decisions",
                     lambda y, proba, classes: -least_cost_expected_cost(proba, y, classes, costs))


def decision_cost_saving(y_true, pred_a, pred_b, classes: Sequence,
                         costs: Mapping[str, Mapping[str, float]], n: int = 1000, seed: int = 0):
    """How much less model a's decisions cost per row than model b's on the same rows, with
    its paired bootstrap interval (``steps.paired.paired_cost_saving``)."""
    from steps.paired import paired_cost_saving
    from steps.metrics import encode
    matrix = cost_matrix(costs, classes)
    return paired_cost_saving(row_costs(y_true, pred_a, classes, matrix),
                              row_costs(y_true, pred_b, classes, matrix),
                              encode(y_true, classes), n=n, seed=seed)


def constant_baseline_cost(y_train, y_test, classes: Sequence, matrix: np.ndarray) -> float:
    """Test cost of the best single answer for every row, chosen on the training priors:
    the cost-aware counterpart of the most-frequent baseline."""
    names = [str(c) for c in classes]
    priors = np.array([np.mean(np.asarray(y_train, dtype=str) == c) for c in names])
    answer = names[int(np.argmin(priors @ matrix))]
    return expected_cost(y_test, [answer] * len(y_test), names, matrix)


class CostSensitiveClassifier(FittedWrapper):
    """A fitted classifier (ideally calibrated) that decides for the least expected cost;
    its probabilities are the wrapped model's. Fit-free (steps.wrappers)."""

    def __init__(self, estimator, costs: list[list[float]]):
        self.estimator = estimator
        self.costs = costs  # (true, predicted) over estimator.classes_, as plain lists

    def fit(self, X=None, y=None, **fit_params):
        check_is_fitted(self.estimator)
        return self

    def predict_proba(self, X) -> np.ndarray:
        return self.estimator.predict_proba(X)

    def decide(self, proba) -> np.ndarray:
        return np.asarray(self.classes_)[least_cost_codes(proba, np.asarray(self.costs))]

    def predict(self, X) -> np.ndarray:
        return self.decide(self.predict_proba(X))


def with_cost_decisions(estimator, costs: Mapping[str, Mapping[str, float]]):
    """``estimator`` wrapped to decide by ``costs`` over its own classes."""
    return CostSensitiveClassifier(estimator, cost_matrix(costs, estimator.classes_).tolist())
