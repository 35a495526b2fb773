"""evaluate_model end to end on small fitted models (binary and 3-class)."""
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from sklearn.linear_model import LogisticRegression

from steps import evaluation, importance
from steps.config import EvaluateConfig
from steps.evaluation import (FIGURE_NAMES, METRIC_KEYS, ThresholdedClassifier, baseline_metrics,
                              evaluate_model)

CFG = EvaluateConfig(bootstrap=200, permutation_repeats=2)


def _data(k, n=400, seed=0):
    rng = np.random.default_rng(seed)
    codes = rng.choice(k, size=n, p=np.r_[0.6, np.full(k - 1, 0.4 / (k - 1))])
    X = pd.DataFrame(rng.normal(size=(n, 3)) + np.eye(k)[codes][:, :3] * 1.5 if k >= 3 else
                     np.c_[rng.normal(size=n) + 1.5 * codes, rng.normal(size=(n, 2))],
                     columns=["a", "b", "c"])
    X["colour"] = rng.choice(["red", "blue"], size=n)  # a column the model ignores
    y = pd.Series(np.array(["low", "mid", "high"], dtype=object)[codes], name="target")
    train, test = slice(0, n // 2), slice(n // 2, n)
    model = LogisticRegression(max_iter=500).fit(X.iloc[train][["a", "b", "c"]], y.iloc[train])
    return _Selecting(model), X.iloc[train], y.iloc[train], X.iloc[test], y.iloc[test]


class _Selecting:
    """Tiny fitted stand-in for a pipeline whose preprocessing selects columns."""

    def __init__(self, model):
        self.model, self.classes_ = model, model.classes_

    def fit(self, X, y):
        return self

    def predict(self, X):
        return self.model.predict(X[["a", "b", "c"]])

    def predict_proba(self, X):
        return self.model.predict_proba(X[["a", "b", "c"]])


@pytest.fixture(params=[2, 3], ids=["binary", "3-class"])
def case(request):
    return _data(request.param)


def test_evaluate_model_produces_everything(case):
    model, X_train, y_train, X_test, y_test = case
    result = evaluate_model(model, X_test, y_test, CFG, X_train=X_train, y_train=y_train)
    assert list(result.metrics) == list(METRIC_KEYS)
    assert all(np.isfinite(v) for v in result.metrics.values())
    low, high = result.ci
    assert low <= result.metrics["macro_f1"] <= high
    assert set(result.figures) == set(FIGURE_NAMES)
    for fig in result.figures.values():
        assert isinstance(fig, Figure)
        main = fig.axes[0]
        assert fig.get_suptitle() or main.get_title()
        assert main.get_ylabel() and (main.get_xlabel() or fig.axes[-1].get_xlabel())
    assert result.confusion.to_numpy().sum() == len(y_test)
    assert list(result.per_class.index) == list(model.classes_)
    assert set(result.importance["feature"]) == {"a", "b", "c", "colour"}
    assert result.importance.set_index("feature").loc["colour", "importance_mean"] == 0
    # partial dependence only for columns whose shuffling hurt: never the ignored one
    shown = set(result.dependence["feature"])
    assert shown and shown <= {"a", "b", "c"}
    assert result.baseline["macro_f1"] < result.metrics["macro_f1"]
    if len(model.classes_) == 2:
        assert result.positive_label == "mid"  # minority of the training labels
    else:
        assert result.positive_label is None


def test_threshold_applies_and_wrapper_is_not_double_wrapped():
    model, X_train, y_train, X_test, y_test = _data(2)
    cfg = EvaluateConfig(bootstrap=0, permutation_repeats=0)
    low = evaluate_model(model, X_test, y_test, cfg, threshold=0.05, y_train=y_train)
    assert low.threshold == 0.05 and low.confusion["mid"].sum() > low.confusion["low"].sum()
    wrapped = ThresholdedClassifier(model, "mid", 0.05)
    same = evaluate_model(wrapped, X_test, y_test, cfg, threshold=0.05, positive_label="mid",
                          y_train=y_train)
    pd.testing.assert_frame_equal(same.confusion, low.confusion)
    assert "permutation_importance" not in same.figures and same.importance is None
    assert len(same.notes) == 2 and np.isnan(same.ci[0])
    with pytest.raises(ValueError):
        evaluate_model(wrapped, X_test, y_test, cfg, positive_label="low")


def test_evaluate_model_never_tunes_on_test(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("threshold tuned during evaluation")
    monkeypatch.setattr(evaluation, "tune_threshold", forbidden)
    monkeypatch.setattr("steps.thresholds.tune_threshold", forbidden)
    model, _, y_train, X_test, y_test = _data(2)
    result = evaluate_model(model, X_test, y_test, EvaluateConfig(bootstrap=0, permutation_repeats=0),
                            y_train=y_train)
    assert result.threshold is None


def test_class_absent_from_test_does_not_crash():
    model, X_train, y_train, X_test, y_test = _data(3)
    keep = (y_test != "high").to_numpy()
    result = evaluate_model(model, X_test[keep], y_test[keep], EvaluateConfig(
        metric="roc_auc", bootstrap=50, permutation_repeats=1), y_train=y_train)
    assert np.isnan(result.metrics["roc_auc"]) and np.isnan(result.ci[0])
    assert np.isfinite(result.metrics["macro_f1"])
    # roc_auc is undefined, so is every importance, so no column is known to matter
    assert set(result.figures) == set(FIGURE_NAMES) - {"partial_dependence"}
    assert result.per_class.loc["high", "support"] == 0


def test_baseline_predicts_training_majority():
    y_train = pd.Series(["a"] * 8 + ["b"] * 2)
    y_test = pd.Series(["a", "b", "b", "a"])
    base = baseline_metrics(y_train, y_test, ["a", "b"], beta=1.0)
    assert base["accuracy"] == 0.5 and base["roc_auc"] == 0.5
    assert base["f_beta"] == 0.0  # positive = training minority "b", never predicted
    assert base["brier"] == pytest.approx(np.mean((0.2 - np.array([0, 1, 1, 0])) ** 2))


def test_unknown_test_labels_are_a_clear_error():
    model, _, _, X_test, y_test = _data(2)
    with pytest.raises(ValueError, match="labels not among the model classes"):
        evaluate_model(model, X_test, y_test.replace("mid", "MID"),
                       EvaluateConfig(bootstrap=0, permutation_repeats=0))


class _SlowPredictor:
    """Wraps a model; each predicted row costs a fixed, simulated time."""

    def __init__(self, model, seconds_per_row):
        self.model, self.classes_, self.per_row = model, model.classes_, seconds_per_row
        self.clock = 0.0

    def predict_proba(self, X):
        self.clock += self.per_row * len(X)
        return self.model.predict_proba(X)


def test_runner_up_scoring_is_capped_by_a_timed_probe(monkeypatch):
    model, _, _, X_test, _ = _data(2, n=400)
    X_big = pd.concat([X_test] * 50, ignore_index=True)  # 10k rows
    slow = _SlowPredictor(model, seconds_per_row=0.01)
    monkeypatch.setattr(evaluation.time, "monotonic", lambda: slow.clock)
    rows, per_row = evaluation.affordable_test_rows(slow, X_big, budget_s=30.0, probe_rows=500)
    assert per_row == pytest.approx(0.01)
    assert rows == 3000  # 30 s at 10 ms a row
    fast = _SlowPredictor(model, seconds_per_row=1e-6)
    monkeypatch.setattr(evaluation.time, "monotonic", lambda: fast.clock)
    assert evaluation.affordable_test_rows(fast, X_big, budget_s=30.0, probe_rows=500)[0] == len(X_big)


def test_stratified_sample_keeps_class_shares():
    y = pd.Series(["a"] * 900 + ["b"] * 100)
    X = pd.DataFrame({"x": range(1000)})
    X_s, y_s = evaluation.stratified_sample(X, y, 200, seed=1)
    assert len(X_s) == 200 and y_s.value_counts().to_dict() == {"a": 180, "b": 20}
    assert list(X_s.index) == list(y_s.index)
    assert evaluation.stratified_sample(X, y, 5000)[0] is X


def test_labels_from_proba_follow_the_threshold_and_figures_can_be_skipped():
    model, X_train, y_train, X_test, y_test = _data(2)
    wrapped = ThresholdedClassifier(model, "mid", 0.2)
    proba = wrapped.predict_proba(X_test)
    labels = evaluation.labels_from_proba(wrapped, proba, list(wrapped.classes_))
    assert list(labels) == list(wrapped.predict(X_test))
    assert (labels == "mid").mean() > (model.predict(X_test) == "mid").mean()
    result = evaluate_model(wrapped, X_test, y_test, CFG.model_copy(update={"permutation_repeats": 0}),
                            X_train=X_train, y_train=y_train, figures=False)
    assert result.figures == {} and 0 <= result.metrics["macro_f1"] <= 1


def test_permutation_rows_fit_the_time_budget():
    # fast model: every row (capped at PERMUTATION_MAX_ROWS)
    assert importance.permutation_rows(0.01, 1000, 19, 5, budget_s=20) == 1000
    assert importance.permutation_rows(0.01, 50_000, 19, 5, budget_s=20) == \
        importance.PERMUTATION_MAX_ROWS
    # 0.7 s per 1000 rows, 95 re-predictions: ~300 rows fit in 20 s
    rows = importance.permutation_rows(0.7, 1000, 19, 5, budget_s=20)
    assert rows == 300
    assert 0.7 / 1000 * rows * 95 <= 20.5
    # never fewer than the floor, nor more rows than there are
    assert importance.permutation_rows(100.0, 1000, 19, 5, budget_s=1) == \
        importance.PERMUTATION_MIN_ROWS
    assert importance.permutation_rows(100.0, 120, 19, 5, budget_s=1) == 120


class _Slow(_Selecting):
    """Prediction costs time per row, like k-NN or an SVM inside a blend."""

    def predict_proba(self, X):
        import time
        time.sleep(2e-4 * len(X))
        return super().predict_proba(X)


def test_slow_winner_gets_permutation_importance_on_a_sample(monkeypatch):
    model, X_tr, y_tr, X_te, y_te = _data(3, n=1400)
    monkeypatch.setattr(importance, "PERMUTATION_BUDGET_S", 0.2)  # affords ~125 rows: floor 300
    cfg = EvaluateConfig(bootstrap=0, permutation_repeats=2)
    result = evaluate_model(_Slow(model.model), X_te, y_te, cfg, X_train=X_tr, y_train=y_tr)
    assert any("permutation importance on a seeded sample of 300 of 700" in n for n in result.notes)
    assert set(result.importance["feature"]) == {"a", "b", "c", "colour"}
    fast = evaluate_model(model, X_te, y_te, cfg, X_train=X_tr, y_train=y_tr)
    assert not any("seeded sample" in n for n in fast.notes)
