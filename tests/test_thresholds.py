"""Threshold tuning on out-of-fold training predictions and the thresholded wrapper."""
import inspect

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, fbeta_score

from steps.thresholds import (THRESHOLD_METRICS, ThresholdedClassifier, best_threshold,
                              predict_with_threshold, threshold_metric, tune_threshold)


def _skewed(n=2000, seed=0):
    """5% positives whose probabilities are informative but rarely above 0.5."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.05
    proba = np.clip(rng.beta(2, 12, n) + 0.25 * y * rng.random(n), 0, 1)
    return y, proba


def test_tuned_threshold_beats_default_on_skewed_data():
    y, proba = _skewed()
    result = tune_threshold(y, proba, beta=1.0)
    at_half = f1_score(y, proba >= 0.5, zero_division=0)
    assert result.default_score == pytest.approx(at_half)
    assert result.score > at_half + 0.1
    assert result.threshold < 0.5
    # the reported score is what the threshold actually achieves on these rows
    assert result.score == pytest.approx(f1_score(y, proba >= result.threshold))
    assert {"threshold", "precision", "recall", "f_beta", "positive_rate"} <= set(result.curve)


def test_string_labels_with_positive_label_and_beta():
    y, proba = _skewed(seed=1)
    labels = np.where(y, "rare", "common")
    a = tune_threshold(labels, proba, beta=2.0, positive_label="rare")
    b = tune_threshold(y, proba, beta=2.0)
    assert a.threshold == b.threshold and a.beta == 2.0
    with pytest.raises(ValueError):
        tune_threshold(labels, proba)  # strings need positive_label
    with pytest.raises(ValueError):
        tune_threshold(np.zeros(10, bool), np.linspace(0, 1, 10))  # one class only


def test_api_never_takes_test_data():
    """The tuner takes only labels and probabilities (the caller passes out-of-fold
    training predictions); evaluate_model has no way to tune on the test split."""
    assert list(inspect.signature(tune_threshold).parameters) == [
        "y_true", "proba_pos", "beta", "positive_label", "metric"]
    from steps import evaluation
    params = inspect.signature(evaluation.evaluate_model).parameters
    assert "threshold" in params and "oof_proba" not in params


SCORERS = {"macro_f1": lambda y, p: f1_score(y, p, average="macro"),
           "weighted_f1": lambda y, p: f1_score(y, p, average="weighted"),
           "balanced_accuracy": balanced_accuracy_score, "accuracy": accuracy_score,
           "f_beta": lambda y, p: fbeta_score(y, p, beta=2.0, zero_division=0)}


@pytest.mark.parametrize("metric", THRESHOLD_METRICS)
def test_each_metric_is_maximised_over_every_cut(metric):
    """The tuned threshold is the best cut for its metric by brute force with scikit-learn,
    and the reported score and the 0.5 comparison are what the decisions score."""
    y, proba = _skewed(600, seed=3)
    proba = np.round(proba, 2)  # ties: several rows share a score
    result = tune_threshold(y, proba, beta=2.0, metric=metric)
    score = SCORERS[metric]
    best = max(score(y, proba >= cut) for cut in np.unique(proba))
    assert result.metric == metric
    assert result.score == pytest.approx(best)
    assert score(y, proba >= result.threshold) == pytest.approx(best)
    assert result.default_score == pytest.approx(score(y, proba >= 0.5))
    assert best_threshold(y, proba, 2.0, metric) == result.threshold


def test_macro_f1_threshold_serves_macro_f1_where_a_hard_positive_class_pulls_f1_low():
    """A positive class that is hard to find: its own F1 peaks by calling many rows positive,
    which costs the negative class's F1; the macro-F1 cut is higher and scores more."""
    rng = np.random.default_rng(5)
    y = rng.random(4000) < 0.1
    proba = np.clip(rng.beta(2, 8, 4000) + 0.08 * y, 0, 1)
    by_f1 = tune_threshold(y, proba)
    by_macro = tune_threshold(y, proba, metric="macro_f1")
    assert by_macro.threshold > by_f1.threshold
    macro = SCORERS["macro_f1"]
    assert macro(y, proba >= by_macro.threshold) > macro(y, proba >= by_f1.threshold) + 0.02


def test_the_threshold_metric_follows_the_primary_metric_when_it_judges_decisions():
    assert threshold_metric("macro_f1", 1.0, None, 1.0) == ("macro_f1", 1.0)
    assert threshold_metric("f_beta", 0.5, None, 1.0) == ("f_beta", 0.5)  # evaluate.beta
    assert threshold_metric("roc_auc", 1.0, None, 1.0) == ("f_beta", 1.0)  # no decisions
    assert threshold_metric("macro_f1", 1.0, None, 2.0) == ("f_beta", 2.0)  # beta asks for F2
    assert threshold_metric("macro_f1", 1.0, "f_beta", 2.0) == ("f_beta", 2.0)  # as set
    with pytest.raises(ValueError, match="macro_f1"):
        tune_threshold(*_skewed(100), metric="roc_auc")


def test_predict_with_threshold():
    proba = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]])
    classes = ["neg", "pos"]
    assert list(predict_with_threshold(proba, classes, "pos", 0.5)) == ["neg", "neg", "pos"]
    assert list(predict_with_threshold(proba, classes, "pos", 0.25)) == ["neg", "pos", "pos"]
    assert list(predict_with_threshold(proba, classes, "neg", 0.8)) == ["neg", "pos", "pos"]
    with pytest.raises(ValueError):
        predict_with_threshold(np.ones((1, 3)) / 3, ["a", "b", "c"], "a", 0.5)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x1": rng.normal(size=300), "x2": rng.normal(size=300)})
    y = np.where(X["x1"] + 0.5 * rng.normal(size=300) > 1.0, "yes", "no")
    return LogisticRegression().fit(X, y), X


def test_thresholded_classifier_changes_predictions_and_round_trips(fitted, tmp_path):
    model, X = fitted
    wrapped = ThresholdedClassifier(model, "yes", 0.2)
    assert list(wrapped.classes_) == list(model.classes_)
    np.testing.assert_allclose(wrapped.predict_proba(X), model.predict_proba(X))
    p_yes = model.predict_proba(X)[:, list(model.classes_).index("yes")]
    expected = np.where(p_yes >= 0.2, "yes", "no")
    assert (wrapped.predict(X) == expected).all()
    assert (wrapped.predict(X) == "yes").sum() > (model.predict(X) == "yes").sum()

    path = tmp_path / "model.joblib"
    joblib.dump(wrapped, path)
    loaded = joblib.load(path)
    assert loaded.threshold == 0.2 and loaded.positive_label == "yes"
    assert (loaded.predict(X) == wrapped.predict(X)).all()


def test_thresholded_classifier_is_fit_free(fitted):
    model, X = fitted
    wrapped = ThresholdedClassifier(model, "yes", 0.3)
    coef = model.coef_.copy()
    assert wrapped.fit(X, np.array(["no"] * len(X))) is wrapped
    np.testing.assert_array_equal(model.coef_, coef)  # never refit
    assert clone(wrapped) is wrapped
    with pytest.raises(ValueError):
        ThresholdedClassifier(model, "maybe", 0.3).fit()


def test_threshold_curve_figure_marks_the_choice():
    from steps.figures import threshold_curve_figure
    y, proba = _skewed(500)
    result = tune_threshold(y, proba)
    ax = threshold_curve_figure(result.curve, result.threshold, result.beta).axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_legend() is not None
    macro = tune_threshold(y, proba, metric="macro_f1")  # the metric tuned for is drawn too
    ax = threshold_curve_figure(macro.curve, macro.threshold, 1.0, "macro_f1").axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["precision", "recall", "F1", "macro_f1 (tuned for)",
                      f"chosen {macro.threshold:.3f}"]
