"""Metrics against scikit-learn on known inputs, and the vectorised bootstrap."""
import logging

import numpy as np
import pytest
from sklearn.metrics import (accuracy_score, average_precision_score, balanced_accuracy_score,
                             brier_score_loss, f1_score, fbeta_score, log_loss, roc_auc_score)

from steps.bootstrap import EncodedRows, bootstrap_ci, bootstrap_distribution, metric_from_counts
from steps.metrics import METRIC_KEYS, compute_metrics, minority_label, per_class_report


def _synthetic(n, k, seed=0, skill=1.5):
    """Labels 'c0'.. with imbalanced priors and informative, imperfect probabilities."""
    rng = np.random.default_rng(seed)
    priors = np.r_[0.6, np.full(k - 1, 0.4 / (k - 1))]
    codes = rng.choice(k, size=n, p=priors)
    logits = rng.normal(size=(n, k)) + skill * np.eye(k)[codes]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    classes = [f"c{i}" for i in range(k)]
    labels = np.array(classes, dtype=object)
    return labels[codes], labels[proba.argmax(axis=1)], proba, classes


def test_binary_metrics_match_sklearn():
    y, pred, proba, classes = _synthetic(400, 2)
    pos = "c1"  # minority by construction
    assert minority_label(y, classes) == pos
    m = compute_metrics(y, pred, proba, classes, beta=2.0)
    assert list(m) == list(METRIC_KEYS)
    target = y == pos
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, pred))
    assert m["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert m["weighted_f1"] == pytest.approx(f1_score(y, pred, average="weighted"))
    assert m["f_beta"] == pytest.approx(fbeta_score(y, pred, beta=2.0, pos_label=pos))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(target, proba[:, 1]))
    assert m["pr_auc"] == pytest.approx(average_precision_score(target, proba[:, 1]))
    assert m["log_loss"] == pytest.approx(log_loss(y, proba, labels=classes))
    assert m["brier"] == pytest.approx(brier_score_loss(target, proba[:, 1]))


def test_explicit_positive_label_changes_binary_metrics():
    y, pred, proba, classes = _synthetic(300, 2)
    m = compute_metrics(y, pred, proba, classes, positive_label="c0")
    assert m["f_beta"] == pytest.approx(f1_score(y, pred, pos_label="c0"))
    assert m["pr_auc"] == pytest.approx(average_precision_score(y == "c0", proba[:, 0]))


def test_multiclass_metrics_match_sklearn():
    y, pred, proba, classes = _synthetic(500, 3)
    m = compute_metrics(y, pred, proba, classes, beta=0.5)
    assert m["f_beta"] == pytest.approx(fbeta_score(y, pred, beta=0.5, average="macro"))
    assert m["roc_auc"] == pytest.approx(
        roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes))
    assert m["pr_auc"] == pytest.approx(np.mean(
        [average_precision_score(y == c, proba[:, k]) for k, c in enumerate(classes)]))
    onehot = np.eye(3)[[classes.index(v) for v in y]]
    assert m["brier"] == pytest.approx(np.mean(((proba - onehot) ** 2).sum(axis=1)))
    assert m["log_loss"] == pytest.approx(log_loss(y, proba, labels=classes))


def test_class_missing_from_y_true_gives_nan_with_reason(caplog):
    y, pred, proba, classes = _synthetic(300, 3)
    keep = y != "c2"
    with caplog.at_level(logging.WARNING):
        m = compute_metrics(y[keep], pred[keep], proba[keep], classes)
    assert np.isnan(m["roc_auc"]) and np.isnan(m["pr_auc"])
    assert np.isfinite(m["macro_f1"]) and np.isfinite(m["log_loss"])
    assert "absent from y_true" in caplog.text


def test_binary_single_class_in_y_true_does_not_crash():
    y, pred, proba, classes = _synthetic(200, 2)
    keep = y == "c0"
    m = compute_metrics(y[keep], pred[keep], proba[keep], classes, positive_label="c1")
    assert np.isnan(m["roc_auc"]) and np.isnan(m["pr_auc"])
    assert m["accuracy"] == pytest.approx(np.mean(pred[keep] == "c0"))


def test_per_class_report_columns_and_support():
    y, pred, _, classes = _synthetic(200, 3)
    report = per_class_report(y, pred, classes)
    assert list(report.columns) == ["precision", "recall", "f1", "support"]
    assert list(report.index) == classes
    assert report["support"].sum() == 200
    assert report.loc["c0", "f1"] == pytest.approx(f1_score(y, pred, labels=["c0"], average=None)[0])


@pytest.mark.parametrize("k", [2, 3])
def test_unit_counts_reproduce_point_metrics(k):
    """The vectorised bootstrap scorer equals compute_metrics on the original sample."""
    y, pred, proba, classes = _synthetic(300, k, seed=k)
    point = compute_metrics(y, pred, proba, classes, beta=2.0)
    data = EncodedRows(y, pred, proba, classes, 2.0, None)
    ones = np.ones((1, len(y)))
    for metric in METRIC_KEYS:
        assert metric_from_counts(metric, data, ones)[0] == pytest.approx(point[metric]), metric


@pytest.mark.parametrize("metric", ["macro_f1", "roc_auc", "pr_auc", "balanced_accuracy"])
def test_bootstrap_ci_contains_point_and_narrows(metric):
    small = _synthetic(200, 2, seed=1)
    large = _synthetic(2000, 2, seed=1)
    widths = []
    for y, pred, proba, classes in (small, large):
        point = compute_metrics(y, pred, proba, classes)[metric]
        low, high = bootstrap_ci(y, pred, proba, classes, metric, n=300, seed=0)
        assert low <= point <= high
        widths.append(high - low)
    assert widths[1] < widths[0] * 0.6


def test_bootstrap_is_seeded():
    y, pred, proba, classes = _synthetic(1000, 3)
    a = bootstrap_distribution(y, pred, proba, classes, "roc_auc", n=1000, seed=3)
    b = bootstrap_distribution(y, pred, proba, classes, "roc_auc", n=1000, seed=3)
    np.testing.assert_array_equal(a, b)
    assert len(a) == 1000 and np.isfinite(a).all()
    c = bootstrap_distribution(y, pred, proba, classes, "roc_auc", n=1000, seed=4)
    assert not np.array_equal(a, c)


def test_bootstrap_undefined_metric_gives_nan_interval():
    y, pred, proba, classes = _synthetic(200, 3)
    keep = y != "c2"
    low, high = bootstrap_ci(y[keep], pred[keep], proba[keep], classes, "roc_auc", n=50)
    assert np.isnan(low) and np.isnan(high)
