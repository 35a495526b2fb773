"""Forward-chaining CV for out-of-time tables: every fold learns only from earlier periods,
and what is scored out of fold (the blend, calibration, thresholds) is the later periods."""
import numpy as np
import pandas as pd
import pytest

from pipelines.validate_candidates import blendable
from steps.config import ConfigError, PreprocessConfig, TrainConfig, parse_config
from steps.ordinal import OrdinalClassifier
from steps.time_folds import forward_folds, fold_groups
from steps.study import _folds
from steps.tuning import tune_family


def _dated(n=400, seed=0):
    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-01-01", periods=n // 2, freq="D").repeat(2)  # two rows a day
    x = rng.normal(size=len(days))
    label = np.where(x + rng.normal(0, 0.7, len(days)) > 0.8, "churn", "stay")
    return pd.DataFrame({"when": days.strftime("%Y-%m-%d"), "x": x,
                         "z": rng.normal(size=len(days)), "label": label})


def _times(frame):
    return pd.to_datetime(frame["when"]).to_numpy()


def test_forward_folds_learn_only_from_earlier_periods():
    frame = _dated()
    X, groups = fold_groups(frame.drop(columns=["label"]), {"time_column": "when"})
    notes = []
    folds = _folds(frame["label"], 5, 0, notes, groups, forward=True)
    times = _times(frame)
    assert len(folds) == 5
    for train_pos, valid_pos in folds:
        assert times[train_pos].max() < times[valid_pos].min()  # never learns from the future
    scored = np.concatenate([va for _, va in folds])
    assert len(scored) == len(set(scored))  # each later row is scored once
    first = np.setdiff1d(np.arange(len(frame)), scored)
    assert times[first].max() < times[scored].min()  # only the first period goes unscored
    assert 0.1 < len(first) / len(frame) < 0.25  # about a sixth
    assert notes == [f"forward-chaining CV: 5 folds, each learning only from earlier periods; "
                     f"the earliest {len(first)} of 400 rows are learnt from, never scored"]
    sizes = [len(va) for _, va in folds]
    assert max(sizes) - min(sizes) <= len(frame) // 20 + 2  # periods of about equal rows
    # blocked (and plain group) folds are unchanged: every row scored
    blocked = _folds(frame["label"], 5, 0, [], groups, forward=False)
    assert sorted(np.concatenate([va for _, va in blocked])) == list(range(len(frame)))
    for labels in (np.asarray(groups), np.asarray(groups).astype(str)):  # a group column's
        grouped = _folds(frame["label"], 5, 0, [], labels, forward=True)  # are never chained
        assert sorted(np.concatenate([va for _, va in grouped])) == list(range(len(frame)))


def test_folds_whose_past_holds_one_class_are_left_out_with_a_note():
    blocks = np.repeat(np.arange(20), 10)
    y = np.where(np.arange(200) < 70, "stay", np.where(np.arange(200) % 3 == 0, "churn", "stay"))
    notes = []
    folds = forward_folds(blocks, y, 5, notes)
    assert len(folds) < 5 and any("single class" in n for n in notes)
    for train_pos, _ in folds:
        assert len(set(y[train_pos])) == 2
    late = np.where(np.arange(200) < 185, "stay", "churn")
    with pytest.raises(ValueError, match="train.time_cv: blocked"):
        forward_folds(blocks, late, 5, [])
    notes = []
    assert len(forward_folds(np.repeat([0, 1, 2, 3], 50), np.tile(["a", "b"], 100), 5, notes)) == 3
    assert any("cv folds reduced 5 -> 3" in n for n in notes)


def test_a_forward_study_returns_out_of_fold_rows_of_the_later_periods_only():
    frame = _dated(300)
    X, groups = fold_groups(frame.drop(columns=["label"]), {"time_column": "when"})
    cfg = TrainConfig(n_trials=1, cv_folds=4, timeout_s=60)
    forward = tune_family("logreg", X, frame["label"], PreprocessConfig(), cfg, groups=groups)
    times = _times(frame)
    rows = forward.row_index
    assert len(forward.oof_proba) == len(rows) < len(frame)
    assert times[np.setdiff1d(np.arange(len(frame)), rows)].max() < times[rows].min()
    assert np.allclose(forward.oof_proba.sum(axis=1), 1)  # every kept row was predicted
    blocked = tune_family("logreg", X, frame["label"], PreprocessConfig(),
                          cfg.model_copy(update={"time_cv": "blocked"}), groups=groups)
    assert list(blocked.row_index) == list(range(len(frame)))
    with pytest.raises(ConfigError, match="train.time_cv"):
        parse_config({"train": {"time_cv": "rolling"}})


def test_an_ordinal_fit_on_a_past_without_the_top_class_predicts_the_others():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300)})
    y = np.array(["low", "mid", "high"], dtype=object)[np.digitize(X.a, [-0.5, 0.7])]
    model = OrdinalClassifier(None, ["low", "mid", "high", "top"])
    from sklearn.linear_model import LogisticRegression
    model.set_params(estimator=LogisticRegression()).fit(X, y)
    assert list(model.classes_) == ["high", "low", "mid"]
    assert model.predict_proba(X).shape == (300, 3) and len(model.estimators_) == 2


def test_the_blend_leaves_out_families_that_share_too_few_rows():
    later = np.arange(50, 300)

    def fam(rows):
        return {"oof": {"rows": np.asarray(rows), "y": pd.Series(np.asarray(rows) % 2),
                        "proba": np.zeros((len(rows), 2))}}

    families = {"a": fam(later), "b": fam(later), "capped": fam(later[::2]),
                "shifted": fam(np.arange(0, 250))}
    chosen, rows = blendable(families, min_rows=201)
    assert sorted(chosen) == ["a", "b"] and np.array_equal(rows, later)
    assert blendable({})[0] == {}
    chosen, rows = blendable(families, min_rows=200)  # 200 rows from 50 to 249: enough now
    assert sorted(chosen) == ["a", "b", "shifted"] and np.array_equal(rows, np.arange(50, 250))


def test_the_learning_curve_of_a_forward_run_chains_forward_too():
    from sklearn.linear_model import LogisticRegression

    from steps.learning_curve import winner_curve
    frame = _dated(600)
    X, groups = fold_groups(frame.drop(columns=["label"]), {"time_column": "when"})
    rows = np.arange(100, 600)  # the scored rows of a forward run: all but the first period
    kwargs = dict(beta=1.0, positive_label="churn", cv_score=0.7, oof_rows=len(rows),
                  cv_folds=5, budget_s=60, groups=groups[rows])
    forward = winner_curve(LogisticRegression(), X.iloc[rows], frame["label"].iloc[rows],
                           ["churn", "stay"], "macro_f1", forward=True, **kwargs)
    blocked = winner_curve(LogisticRegression(), X.iloc[rows], frame["label"].iloc[rows],
                           ["churn", "stay"], "macro_f1", **kwargs)
    # the training step's point: its forward fits saw 7/10 of the scored rows on average,
    # blocked ones 4/5
    assert forward.table["train_rows"].iloc[-1] == 350
    assert blocked.table["train_rows"].iloc[-1] == 400
    # the curve's own folds: forward ones learn from fewer rows (3 folds over 4 periods:
    # about 1/4, 2/4 and 3/4 of the rows, half on average; blocked 2/3)
    half = lambda t: t.loc[t["source"].str.contains("50%"), "train_rows"].iloc[0]  # noqa: E731
    assert 110 <= half(forward.table) <= 140 and half(blocked.table) == 166


def test_the_report_says_when_the_winner_was_chosen_on_forward_folds():
    from pipelines.validate_candidates import cv_forward
    from pipelines.validate_task import _selected_by
    assert cv_forward({"cv_forward": True}) and cv_forward({"cv_forward": "True"})
    assert not cv_forward({"cv_forward": False}) and not cv_forward({})
    said = _selected_by(False, 0.3, "macro_f1", forward=True)
    assert said.startswith("out-of-fold macro_f1 at decision thresholds tuned on the other "
                           "folds (forward-chaining CV")
    assert said.endswith("as the tuned threshold is served")
    assert "forward" not in _selected_by(False, None, "macro_f1")
