"""preprocess.time_gap: a row's label is known only some time after the row (a churn label
over the next 90 days), so neither the test split's training rows nor a CV fold's may come
from within that gap before the period they are scored against."""
import numpy as np
import pandas as pd
import pytest

from steps.columns import DataValidationError
from steps.config import ConfigError, parse_config
from steps.data import split_frame
from steps.splits import before_test, gap_needs_time, period_note
from steps.study import _folds
from steps.time_folds import fold_groups, is_row_times


def _dated(n=400, seed=0):
    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-01-01", periods=n // 2, freq="D").repeat(2)  # two rows a day
    x = rng.normal(size=len(days))
    label = np.where(x + rng.normal(0, 0.7, len(days)) > 0.8, "churn", "stay")
    return pd.DataFrame({"when": days.strftime("%Y-%m-%d"), "x": x, "label": label})


def test_the_gap_before_the_test_period_is_in_neither_part():
    frame = _dated()
    train0, test0 = split_frame(frame, "label", 0.2, seed=0, time_column="when")
    train, test = split_frame(frame, "label", 0.2, seed=0, time_column="when", time_gap="10D")
    assert test.equals(test0)  # the test period does not move
    start = pd.Timestamp(test["when"].min())
    assert pd.Timestamp(train["when"].max()) == start - pd.Timedelta("11D")
    assert len(train) == len(train0) - 20  # 10 days of two rows
    note = period_note(train, test, "when", frame, "10D")
    assert "the 20 rows within time_gap=10D before the test period are left out" in note
    # a backtest: the later rows and the gap are both left out, and said apart
    train, test = split_frame(frame, "label", 0.2, seed=1, time_column="when", time_gap="5D")
    note = period_note(train, test, "when", frame, "5D")
    assert "the 80 later rows are left out" in note and "the 10 rows within" in note
    # a frozen split reused: the training rows are the same ones, never the later rows
    rest = frame.drop(index=test.index)
    assert rest[before_test(rest, test, "when", "5D")].index.equals(train.index)


def test_numbers_take_a_numeric_gap_and_mismatched_kinds_fail_clearly():
    frame = _dated().assign(when=lambda f: np.arange(len(f)) // 2)  # day numbers
    train, test = split_frame(frame, "label", 0.2, seed=0, time_column="when", time_gap=3)
    assert train["when"].max() == test["when"].min() - 4
    with pytest.raises(DataValidationError, match="holds numbers, so give the gap as a number"):
        split_frame(frame, "label", 0.2, seed=0, time_column="when", time_gap="3D")
    with pytest.raises(DataValidationError, match="holds dates, so give the gap as a duration"):
        split_frame(_dated(), "label", 0.2, seed=0, time_column="when", time_gap=3.0)
    with pytest.raises(DataValidationError, match="leaves no training rows"):
        split_frame(frame, "label", 0.2, seed=0, time_column="when", time_gap=500)
    with pytest.raises(DataValidationError, match="needs a time column: set data.time_column"):
        gap_needs_time("30D", None)
    gap_needs_time(None, None)


def test_the_config_takes_durations_and_numbers_and_names_the_key_otherwise():
    assert parse_config({"preprocess": {"time_gap": "90D"}}).preprocess.time_gap == "90D"
    assert parse_config({"preprocess": {"time_gap": 7}}).preprocess.time_gap == 7.0
    for bad, says in (("soon", "is not a duration"), ("-3D", "cannot be negative"),
                      (-1, "finite number >= 0"), (True, "give a duration")):
        with pytest.raises(ConfigError, match=rf"preprocess.time_gap: .*{says}"):
            parse_config({"preprocess": {"time_gap": bad}})


@pytest.mark.parametrize("forward", [True, False])
def test_no_fold_learns_from_rows_whose_labels_reach_its_scored_period(forward):
    frame = _dated()
    recipe = {"time_column": "when", "time_gap": "6D"}
    _, times = fold_groups(frame.drop(columns=["label"]), recipe)
    _, plain = fold_groups(frame.drop(columns=["label"]), {"time_column": "when"})
    day = pd.to_datetime(frame["when"]).to_numpy()
    notes = []
    folds = _folds(frame["label"], 5, 0, notes, times, forward=forward)
    unpurged = _folds(frame["label"], 5, 0, [], plain, forward=forward)
    assert len(folds) == len(unpurged)
    left_out = 0
    for (train, scored), (all_train, same_scored) in zip(folds, unpurged):
        assert np.array_equal(scored, same_scored)  # the scored rows do not change
        gap_before_scored = np.zeros(len(frame), dtype=bool)
        for start in np.unique(day[scored]):  # any scored day: the 6 days before it
            gap_before_scored |= (day >= start - np.timedelta64(6, "D")) & (day < start)
        gap_before_scored[scored] = False
        assert not gap_before_scored[train].any()
        # only those rows are left out: the rest of the fold's training rows stay
        assert set(all_train) - set(train) == set(all_train[gap_before_scored[all_train]])
        left_out += len(all_train) - len(train)
    assert left_out > 0
    assert any(n.startswith("time gap: each fold leaves out the training rows") for n in notes)


def test_a_subsample_of_row_times_keeps_its_gap():
    frame = _dated()
    _, times = fold_groups(frame.drop(columns=["label"]), {"time_column": "when",
                                                           "time_gap": "2D"})
    part = np.asanyarray(times)[np.arange(0, len(frame), 3)]  # as the study's row caps take
    assert is_row_times(part) and part.gap == times.gap == pd.Timedelta("2D").value
    assert not is_row_times(np.asarray(times))


def test_a_gap_too_long_for_the_folds_says_what_to_change():
    frame = _dated()
    _, times = fold_groups(frame.drop(columns=["label"]), {"time_column": "when",
                                                           "time_gap": "400D"})
    with pytest.raises(ValueError, match="shorten the gap or lower train.cv_folds"):
        _folds(frame["label"], 5, 0, [], times, forward=True)
