"""tune_family: budget, reporting, failure handling, determinism, metrics."""
import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from steps import models
from steps.config import ImbalanceConfig, PreprocessConfig, TrainConfig
from steps.models import FamilySpec
from steps.tuning import score, tune_family


def _data(n=150, seed=0, classes=("a", "b", "c")):
    rng = np.random.default_rng(seed)
    p = [0.6, 0.3, 0.1][: len(classes)]
    y = rng.choice(list(classes), size=n, p=np.array(p) / sum(p))
    X = pd.DataFrame({"x1": rng.normal(size=n) + (y == classes[1]) * 1.5,
                      "x2": rng.normal(size=n) + (y == classes[-1]) * 2.0,
                      "cat": rng.choice(["u", "v"], size=n)})
    X.loc[rng.random(n) < 0.1, "x1"] = np.nan
    return X, pd.Series(y)


def test_tiny_budget_returns_fitted_model_trials_oof_and_figures():
    X, y = _data()
    rows = []
    res = tune_family("logreg", X, y, PreprocessConfig(), TrainConfig(cv_folds=3),
                      n_trials=3, timeout_s=math.inf, on_trial=rows.append)
    assert res.family == "logreg" and res.metric == "macro_f1"
    assert res.n_trials_completed + res.n_trials_pruned == 3 and res.n_trials_failed == 0
    assert len(res.trials) == 3 and len(rows) == 3
    assert {"number", "state", "value", "params", "duration", "error"} <= set(rows[0])
    assert res.best_params == {"C": 1.0} or res.trials["value"].max() == res.best_score
    assert res.oof_proba.shape == (150, 3) and res.classes == ["a", "b", "c"]
    assert (res.row_index == np.arange(150)).all()
    np.testing.assert_allclose(res.oof_proba.sum(axis=1), 1.0)
    assert res.model.predict(X).shape == (150,)
    assert 0 < res.best_score <= 1 and res.best_score_std >= 0
    assert set(res.figures) == {"optimization_history", "param_importance"}
    assert all(isinstance(f, Figure) for f in res.figures.values())


def test_quick_start_then_defaults_are_the_first_trials():
    X, y = _data()
    spec = models.FAMILIES["hist_gb"]
    res = tune_family("hist_gb", X, y, PreprocessConfig(), TrainConfig(cv_folds=3), n_trials=1)
    assert res.best_params == spec.quick_starts[0]  # cheap and good: tried first
    res = tune_family("logreg", X, y, PreprocessConfig(), TrainConfig(cv_folds=3), n_trials=1)
    assert res.best_params == models.FAMILIES["logreg"].defaults  # no quick start: defaults
    # one trial: importance cannot be estimated, a placeholder figure says so
    assert isinstance(res.figures["param_importance"], Figure)


def _flaky_family(monkeypatch):
    def make(params, seed, cw):
        if params["mode"] == "bad":
            raise ValueError("sampler exploded")
        return models.FAMILIES["logreg"].make({"C": params["C"]}, seed, cw)

    def suggest(t):
        return {"mode": t.suggest_categorical("mode", ["bad", "good"]),
                "C": t.suggest_float("C", 0.1, 10, log=True)}

    monkeypatch.setitem(models.FAMILIES, "flaky",
                        FamilySpec("flaky", make, suggest, {"mode": "bad", "C": 1.0}))


def test_failing_trial_is_recorded_and_study_continues(monkeypatch):
    _flaky_family(monkeypatch)
    X, y = _data()
    rows = []
    res = tune_family("flaky", X, y, PreprocessConfig(), TrainConfig(cv_folds=3),
                      n_trials=6, timeout_s=math.inf, on_trial=rows.append)
    assert rows[0]["state"] == "FAIL"
    assert "ValueError: sampler exploded" in rows[0]["error"]
    assert res.n_trials_failed >= 1 and len(res.trials) == 6
    assert res.trials.loc[0, "error"] == "ValueError: sampler exploded"
    assert res.best_params["mode"] == "good"


def test_all_trials_failing_raises_with_reason(monkeypatch):
    _flaky_family(monkeypatch)
    always_bad = dataclasses.replace(
        models.FAMILIES["flaky"],
        suggest=lambda t: {"mode": t.suggest_categorical("mode", ["bad"]), "C": 1.0})
    monkeypatch.setitem(models.FAMILIES, "flaky", always_bad)
    X, y = _data()
    with pytest.raises(RuntimeError, match="sampler exploded"):
        tune_family("flaky", X, y, PreprocessConfig(), TrainConfig(cv_folds=3), n_trials=2)


def test_on_trial_errors_do_not_stop_the_study():
    X, y = _data()

    def broken(row):
        raise OSError("tracker down")

    res = tune_family("logreg", X, y, PreprocessConfig(), TrainConfig(cv_folds=3),
                      n_trials=2, on_trial=broken)
    assert len(res.trials) == 2


def test_fixed_seed_is_deterministic():
    X, y = _data()
    prep = PreprocessConfig(imbalance=ImbalanceConfig(search=["class_weight", "smote", "none"]))
    untimed = TrainConfig(cv_folds=3, seed=7, n_trials=4, timeout_s=None)  # no time limit
    runs = [tune_family("logreg", X, y, prep, untimed) for _ in range(2)]
    assert len(runs[0].trials) == 4
    assert runs[0].best_params == runs[1].best_params
    assert runs[0].best_imbalance == runs[1].best_imbalance
    pd.testing.assert_series_equal(runs[0].trials["value"], runs[1].trials["value"])
    np.testing.assert_allclose(runs[0].oof_proba, runs[1].oof_proba)


def test_imbalance_search_and_row_cap():
    X, y = _data(n=200)
    prep = PreprocessConfig(imbalance=ImbalanceConfig(strategy="smote",
                                                      search=["random_over", "smote", "none"]))
    train = TrainConfig(cv_folds=3, max_rows={"knn": 120})
    res = tune_family("knn", X, y, prep, train, n_trials=4)
    assert "param_imbalance" in res.trials
    assert res.trials.loc[0, "param_imbalance"] == "smote"  # configured strategy goes first
    assert res.best_imbalance in {"random_over", "smote", "none"}
    assert res.n_rows_used == 120 and res.oof_proba.shape == (120, 3)
    assert len(set(res.row_index)) == 120 and res.row_index.max() < 200
    assert any("row cap" in n for n in res.notes)


@pytest.mark.parametrize("metric", ["macro_f1", "balanced_accuracy", "f_beta", "roc_auc",
                                    "pr_auc"])
def test_every_metric_tunes_binary_and_multiclass(metric):
    for classes in (("no", "yes"), ("a", "b", "c")):
        X, y = _data(classes=classes)
        res = tune_family("logreg", X, y, PreprocessConfig(),
                          TrainConfig(cv_folds=3, metric=metric, beta=2.0), n_trials=2)
        assert 0 < res.best_score <= 1


def test_score_matches_sklearn_on_known_values():
    y = np.array(["n", "n", "y", "y"])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.8, 0.2]])
    assert score("macro_f1", y, proba, ["n", "y"]) == pytest.approx(0.5)
    assert score("roc_auc", y, proba, ["n", "y"]) == pytest.approx(0.75)  # 3 of 4 pairs
    assert score("balanced_accuracy", y, proba, ["n", "y"]) == pytest.approx(0.5)


def test_small_class_reduces_folds_with_a_note():
    X, y = _data(n=60)
    y.iloc[np.flatnonzero(y == "c")[3:]] = "a"  # 3 rows of class c
    res = tune_family("logreg", X, y, PreprocessConfig(), TrainConfig(cv_folds=5), n_trials=1)
    assert res.cv_folds == 3 and any("folds reduced" in n for n in res.notes)


def test_a_resumed_study_goes_on_without_repeating_its_trials():
    X, y = _data(n=200)
    cfg = TrainConfig(cv_folds=3)
    first = tune_family("hist_gb", X, y, PreprocessConfig(), cfg, timeout_s=math.inf, n_trials=3)
    again = tune_family("hist_gb", None, None, PreprocessConfig(), cfg, timeout_s=math.inf,
                        n_trials=2, resume=first.session)
    assert len(first.trials) == 3 and len(again.trials) == 5
    assert again.trials["number"].tolist() == list(range(5))
    params = again.trials.filter(like="param_").round(9).astype(str).agg("|".join, axis=1)
    assert params.nunique() == 5  # the starting configurations are not run again
    assert again.best_score >= first.best_score
    assert again.session is first.session and np.array_equal(again.row_index, first.row_index)
    if again.best_params == first.best_params:  # nothing better found: the refit is reused
        assert again.model is first.model


def test_a_trial_that_cannot_finish_by_the_deadline_stops_after_one_fold(monkeypatch):
    """Optuna's timeout only acts between trials: without the per-fold check the slow third
    trial would run all five folds (5 s) past a 3 s budget."""
    import time as _time

    from steps.tuning import Objective
    calls = {"n": 0}
    fit = Objective.fit_fold

    def slow_after_two_trials(self, *args):
        calls["n"] += 1
        if calls["n"] > 10:  # trials 0 and 1 (5 folds each) are quick
            _time.sleep(1.0)
        return fit(self, *args)

    monkeypatch.setattr(Objective, "fit_fold", slow_after_two_trials)
    X, y = _data()
    t0 = _time.monotonic()
    res = tune_family("logreg", X, y, PreprocessConfig(), TrainConfig(cv_folds=5),
                      n_trials=20, timeout_s=3.0)
    elapsed = _time.monotonic() - t0
    stopped = res.trials["stop_reason"].dropna()
    assert len(stopped) >= 1 and stopped.str.startswith("out of time after fold 1").all()
    assert (res.trials.loc[stopped.index, "state"] == "PRUNED").all()
    assert res.n_trials_completed >= 2 and elapsed < 3.0 + 1.5


def test_a_repeated_configuration_reuses_its_score_and_a_converged_search_stops(monkeypatch):
    """k-NN narrowed to two configurations: TPE can only repeat them, so each is
    cross-validated once, the repeats carry the first score, and after REPEATS_TO_STOP
    repeats in a row the study ends well before its trial budget."""
    from steps import objective
    X, y = _data()
    fits = {"n": 0}
    fit = objective.Objective.fit_fold

    def counting(self, *args):
        fits["n"] += 1
        return fit(self, *args)
    monkeypatch.setattr(objective.Objective, "fit_fold", counting)
    cfg = TrainConfig(cv_folds=3, search={"knn": {"n_neighbors": [3, 9], "weights": "distance",
                                                  "p": 2}})
    rows = []
    res = tune_family("knn", X, y, PreprocessConfig(), cfg, n_trials=60, timeout_s=math.inf,
                      on_trial=rows.append)
    trials = res.trials
    assert fits["n"] <= 2 * 3  # two configurations x three folds, never again
    first = trials[trials["repeat_of"].isna()]
    assert len(first) <= 2
    repeats = trials[trials["repeat_of"].notna()]
    assert len(repeats) == objective.REPEATS_TO_STOP and len(trials) < 60
    for _, row in repeats.iterrows():  # a repeat's score is its original's
        original = trials.loc[trials["number"] == row["repeat_of"]].iloc[0]
        assert row["value"] == original["value"]
        assert row["param_n_neighbors"] == original["param_n_neighbors"]
    assert "converged" in str(trials["stop_reason"].dropna().iloc[-1])
    assert any("repeated a scored configuration" in n and "converged" in n for n in res.notes)
    assert rows[-1]["repeat_of"] is not None and rows[-1]["best"] == res.best_score


def test_a_search_cut_short_by_the_time_limit_says_how_much_time_a_real_one_needs():
    from steps.study import short_search_note

    def table(states, repeat_of=None, stop=None):
        n = len(states)
        return pd.DataFrame({"number": range(n), "state": states, "duration_s": [15.0] * n,
                             "repeat_of": repeat_of or [None] * n, "stop_reason": stop or [None] * n})
    cut = short_search_note(table(["COMPLETE", "COMPLETE", "PRUNED"]), n_trials=40, timeout_s=60)
    assert "only 2 configurations cross-validated" in cut and "timeout_s=60 s (~15 s each" in cut
    assert "about 300 s would score 20" in cut
    # a repeat is not a new configuration
    assert "only 1 configuration cross" in short_search_note(table(["COMPLETE", "COMPLETE"], repeat_of=[None, 0]),
                                          n_trials=40, timeout_s=60)
    assert short_search_note(table(["COMPLETE"] * 3), n_trials=3, timeout_s=60) is None  # n_trials
    assert short_search_note(table(["COMPLETE"] * 2), n_trials=40, timeout_s=None) is None
    assert short_search_note(table(["COMPLETE"] * 6), n_trials=40, timeout_s=60) is None
    assert short_search_note(table(["COMPLETE"] * 2, stop=[None, "converged: ..."]),
                             n_trials=40, timeout_s=60) is None
    X, y = _data()  # the real trials table has the columns the note reads
    res = tune_family("logreg", X, y, PreprocessConfig(), TrainConfig(cv_folds=3), n_trials=2,
                      timeout_s=math.inf)
    assert short_search_note(res.trials, n_trials=40, timeout_s=60.0).startswith("only 2 ")
