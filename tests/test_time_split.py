"""Out-of-time splits: the test rows are the latest, CV folds follow time, and
the time column decides splits without being a feature."""
import numpy as np
import pandas as pd
import pytest

from steps.columns import DataValidationError
from steps.config import DataConfig, PreprocessConfig, TrainConfig
from steps.data import load_table, prepare_frame, split_frame
from steps.splits import period_note
from steps.time_folds import fold_groups, time_blocks
from steps.study import _folds
from steps.tuning import tune_family


def _dated(n=400, seed=0):
    """Daily rows whose label comes in runs of weeks (regimes): neighbouring days look alike."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-01-01", periods=n // 2, freq="D").repeat(2)  # two rows a day
    regime = (np.arange(len(days)) // 28) % 3 == 0
    label = np.where(regime ^ (rng.random(len(days)) < 0.05), "churn", "stay")
    t = np.arange(len(days), dtype=float)
    return pd.DataFrame({"when": days.strftime("%Y-%m-%d"), "x": t + rng.normal(0, 1, len(t)),
                         "z": rng.normal(size=len(t)), "label": label})


def test_the_test_split_is_the_latest_rows_whole_days_together():
    frame = _dated()
    train, test = split_frame(frame, "label", 0.2, seed=0, time_column="when")
    assert train["when"].max() < test["when"].min()  # every test day after every training day
    assert 0.19 <= len(test) / len(frame) <= 0.22
    assert set(test.label) == set(train.label)
    # the cut falls inside a day: that day's rows all go to the test side
    odd = frame.iloc[:-1]
    train, test = split_frame(odd, "label", 0.2, seed=0, time_column="when")
    assert train["when"].max() < test["when"].min()


def test_a_split_seed_backtests_an_earlier_test_period():
    frame = _dated()  # 400 rows, two a day
    latest_train, latest = split_frame(frame, "label", 0.2, seed=0, time_column="when")
    train, test = split_frame(frame, "label", 0.2, seed=1, time_column="when")
    assert len(test) == 80 and test["when"].max() < latest["when"].min()  # the period before
    assert train["when"].max() < test["when"].min()
    assert len(train) + len(test) == 320  # the latest period's rows are in neither part
    again, _ = split_frame(frame, "label", 0.2, seed=1, time_column="when")
    assert again.index.equals(train.index)
    with pytest.raises(DataValidationError, match="use a split seed below 4"):
        split_frame(frame, "label", 0.2, seed=4, time_column="when")


def test_numbers_and_datetimes_order_rows_too():
    frame = _dated()
    as_numbers = frame.assign(when=np.arange(len(frame))[::-1])  # later rows first in the file
    train, test = split_frame(as_numbers, "label", 0.25, seed=0, time_column="when")
    assert test.when.min() > train.when.max() and len(test) == 100
    as_dates = frame.assign(when=pd.to_datetime(frame.when))
    _, test_dates = split_frame(as_dates, "label", 0.2, seed=0, time_column="when")
    _, test_text = split_frame(frame, "label", 0.2, seed=0, time_column="when")
    assert test_dates.index.equals(test_text.index)


def test_a_class_absent_from_the_test_period_is_a_clear_error():
    frame = _dated()
    with pytest.raises(DataValidationError, match="no row is earlier than the test period"):
        split_frame(frame.assign(when="2024-01-01"), "label", 0.2, seed=0, time_column="when")
    frame.loc[frame.index[-100:], "label"] = "stay"
    with pytest.raises(DataValidationError, match=r"test period .* no rows of class\(es\) \['churn'\]"):
        split_frame(frame, "label", 0.2, seed=0, time_column="when")


def test_unreadable_or_missing_times_are_named():
    frame = _dated()
    bad = frame.assign(when=frame.when.where(frame.index != 7, "last tuesday"))
    with pytest.raises(DataValidationError, match="do not read as dates, e.g. \\['last tuesday'\\]"):
        split_frame(bad, "label", 0.2, seed=0, time_column="when")
    for ambiguous in ("03/04/2024", "Mar"):  # two readings; no year
        with pytest.raises(DataValidationError, match="use ISO 8601"):
            split_frame(frame.assign(when=frame.when.where(frame.index != 7, ambiguous)), "label",
                        0.2, seed=0, time_column="when")
    zones = frame.assign(when=frame.when + np.where(frame.index % 2, "T10:00:00+01:00",
                                                    "T09:30:00+00:00"))
    train, test = split_frame(zones, "label", 0.2, seed=0, time_column="when")
    assert len(test) == 80  # 10:00+01:00 is 09:00 UTC, before 09:30 UTC: the day's rows together
    with pytest.raises(DataValidationError, match="time column 'when' has 1 missing value"):
        prepare_frame(frame.assign(when=frame.when.where(frame.index != 3)), "label",
                      PreprocessConfig(), time_column="when")


def test_time_blocks_are_contiguous_and_keep_equal_times_together():
    times = pd.Series(pd.to_datetime(_dated().when))
    blocks = time_blocks(times, 20)
    assert sorted(set(blocks)) == list(range(20))
    assert (np.diff(blocks[np.argsort(times.to_numpy(), kind="stable")]) >= 0).all()
    assert pd.Series(blocks).groupby(times.to_numpy()).nunique().max() == 1
    counts = np.bincount(blocks)
    assert counts.max() - counts.min() <= 2


def test_cv_folds_take_whole_blocks_and_the_time_column_is_no_feature():
    frame = _dated()
    recipe = {"target": "label", "time_column": "when"}
    X, groups = fold_groups(frame.drop(columns=["label"]), recipe)
    assert list(X.columns) == ["x", "z"]
    folds = _folds(frame["label"], 5, 0, [], groups)
    for train_pos, valid_pos in folds:
        assert not set(groups[valid_pos]) & set(groups[train_pos])
    assert fold_groups(frame.drop(columns=["label"]), {"target": "label"})[1] is None


def test_blocked_cv_is_not_fooled_by_neighbouring_days():
    """x tracks time, so row-wise folds find each validation row's neighbours in training
    and read off the regime: a score the future will not repeat."""
    frame = _dated(n=500)
    X, groups = fold_groups(frame.drop(columns=["label"]), {"time_column": "when"})
    cfg = TrainConfig(n_trials=1, cv_folds=4, timeout_s=60)
    rows = tune_family("knn", X, frame["label"], PreprocessConfig(), cfg)
    blocked = tune_family("knn", X, frame["label"], PreprocessConfig(), cfg, groups=groups)
    assert blocked.best_score < rows.best_score - 0.1


def test_prepare_keeps_the_time_column_for_the_split_even_when_a_derivation_reads_it():
    frame = _dated()
    cfg = PreprocessConfig(derivations=[{"kind": "datetime_parts", "column": "when",
                                         "parts": ["month", "dayofweek"]}])
    out = prepare_frame(frame, "label", cfg, time_column="when").frame
    # kept to decide the split, parsed once as times for every later step
    assert out["when"].equals(pd.to_datetime(frame["when"]))
    assert pd.api.types.is_datetime64_any_dtype(out["when"])
    assert {"when_month", "when_dayofweek"} <= set(out.columns)
    auto = prepare_frame(frame, "label", PreprocessConfig(), time_column="when").frame
    assert "when" in auto and not any(c.startswith("when_") for c in auto)  # not auto-expanded
    with pytest.raises(DataValidationError, match="choose one way to split. Keep time_column to score on a later period"):
        prepare_frame(frame.assign(g="a"), "label", PreprocessConfig(), group_column="g",
                      time_column="when")


def test_load_table_takes_the_time_column_from_config_and_names_mistakes(tmp_path):
    path = tmp_path / "accounts.csv"
    _dated().to_csv(path, index=False)
    table = load_table(DataConfig(source=str(path), target="label", time_column="when"), tmp_path)
    assert table.time_column == "when" and table.group_column is None
    with pytest.raises(DataValidationError, match="time column 'date' not found"):
        load_table(DataConfig(source=str(path), target="label", time_column="date"), tmp_path)
    with pytest.raises(DataValidationError, match="choose one way to split"):
        load_table(DataConfig(source=str(path), target="label", time_column="when",
                              group_column="z"), tmp_path)


def test_the_period_note_says_what_trained_and_what_scored():
    train, test = split_frame(_dated(), "label", 0.2, seed=0, time_column="when")
    note = period_note(train, test, "when")
    # 200 days, two rows each: the last 40 days are the test period
    assert "training rows 2023-01-01 .. 2023-06-09, test rows 2023-06-10 .. 2023-07-19" in note
    train, test = split_frame(_dated(), "label", 0.2, seed=1, time_column="when")
    assert "test rows 2023-05-01 .. 2023-06-09; the 80 later rows are left out" in \
        period_note(train, test, "when", _dated())
    hours = _dated().assign(when=lambda f: pd.to_datetime(f.when) + pd.Timedelta("90min"))
    train, test = split_frame(hours, "label", 0.2, seed=0, time_column="when")
    assert "test rows 2023-06-10 01:30:00 .. 2023-07-19 01:30:00" in period_note(train, test, "when")


def _scored_over_time(decay: bool, n=600, seed=0):
    """Binary decisions on 600 dated test rows; with ``decay``, wrong ever more often later."""
    rng = np.random.default_rng(seed)
    times = pd.Series(pd.date_range("2024-01-01", periods=n, freq="h"))
    y = rng.choice(["no", "yes"], n, p=[0.7, 0.3])
    error_rate = np.linspace(0.02, 0.5, n) if decay else np.full(n, 0.15)
    wrong = rng.random(n) < error_rate
    pred = np.where(wrong, np.where(y == "yes", "no", "yes"), y)
    proba = np.column_stack([(pred == "no") * 0.8 + 0.1, (pred == "yes") * 0.8 + 0.1])
    return y, pred, proba, times


def test_period_scores_find_a_decaying_model_and_not_a_steady_one():
    from steps.over_time import over_time_figure, period_scores, trend_note
    from steps.metrics import metric_value
    y, pred, proba, times = _scored_over_time(decay=True)
    table = period_scores(y, pred, proba, ["no", "yes"], times, "macro_f1", positive_label="yes")
    assert list(table["period"]) == [1, 2, 3, 4, 5] and table["rows"].sum() == 600
    assert table["start"].iloc[0] == "2024-01-01" and table["end"].iloc[-1] == "2024-01-25 23:00:00"
    first = slice(0, 120)
    assert table["macro_f1"].iloc[0] == pytest.approx(
        metric_value("macro_f1", y[first], pred[first], proba[first], ["no", "yes"]))
    assert table["macro_f1"].is_monotonic_decreasing
    assert "decays over time" in trend_note(table, "macro_f1")
    y_s, pred_s, proba_s, times_s = _scored_over_time(decay=False)
    steady = period_scores(y_s, pred_s, proba_s, ["no", "yes"], times_s, "macro_f1")
    assert "no clear trend" in trend_note(steady, "macro_f1")
    fig = over_time_figure(table, "macro_f1", overall=0.7, cv_score=0.75)
    assert len(fig.axes[0].get_xticklabels()) == 5
    few = period_scores(y[:80], pred[:80], proba[:80], ["no", "yes"], times[:80], "macro_f1")
    assert few is None  # fewer than two periods of 50 rows
    # with the rows' prediction-set hits: each period's coverage, and the note lists them
    from steps.conformal import covered_rows
    rule = {"thresholds": {"no": 0.5, "yes": 0.5}}  # a set holds a class of p >= 0.5: the decision
    covered = covered_rows(y, proba, ["no", "yes"], rule)
    assert (covered == (pred == y)).all()
    with_sets = period_scores(y, pred, proba, ["no", "yes"], times, "macro_f1", covered=covered)
    assert with_sets["set_coverage"].iloc[0] == pytest.approx((pred[first] == y[first]).mean())
    assert with_sets["set_coverage"].is_monotonic_decreasing
    note = trend_note(with_sets, "macro_f1")
    assert note.endswith("; prediction sets held the true class on " + ", ".join(
        f"{v:.0%}" for v in with_sets["set_coverage"]))
    assert "set_coverage" not in table and "prediction sets" not in trend_note(table, "macro_f1")


def test_period_bounds_say_whether_a_champion_saw_a_later_test_period():
    from steps.splits import bound_value, period_bounds, shown_bound, unseen_period
    frame = _dated()
    old = period_bounds(*split_frame(frame.iloc[:300], "label", 0.2, 0, time_column="when"), "when")
    new = period_bounds(*split_frame(frame, "label", 0.2, 0, time_column="when"), "when")
    assert old == {"time_column": "when", "train_until": "2023-04-30T00:00:00",
                   "test_from": "2023-05-01T00:00:00"}
    assert shown_bound(old["train_until"]) == "2023-04-30"
    assert unseen_period(new, old)  # the old model's training ended before the new test period
    assert not unseen_period(old, new)  # the new model trained on the old test period
    assert not unseen_period(new, {**old, "time_column": "other"})
    assert not unseen_period(new, None) and not unseen_period(None, old)
    assert not unseen_period(new, {"time_column": "when"})  # recorded without bounds
    numbers = frame.assign(when=np.arange(len(frame)))
    bounds = period_bounds(*split_frame(numbers, "label", 0.2, 0, time_column="when"), "when")
    assert bounds["train_until"] == 319.0 and bounds["test_from"] == 320.0
    assert unseen_period(bounds, {**bounds, "train_until": 100.0})
    # times recorded with offsets are compared in UTC; those without read as UTC
    utc = {"time_column": "when", "train_until": "2024-01-01T23:00:00-02:00",
           "test_from": "2024-01-02T00:30:00+00:00"}
    assert not unseen_period(utc, utc)  # 01:00 UTC on the 2nd is after 00:30
    assert bound_value("2024-01-02", utc=True) == pd.Timestamp("2024-01-02", tz="UTC")
    assert bound_value(3.0, utc=True) == 3.0 and bound_value(None) is None


def test_period_shift_names_trends_and_counters_not_noise():
    from steps.splits import period_shift, shift_notes
    train, test = split_frame(_dated(), "label", 0.2, seed=0, time_column="when")
    shift = period_shift(train[["x", "z"]], test[["x", "z"]])
    auc = dict(zip(shift["column"], shift["auc"]))
    assert auc["x"] > 0.99 and 0.35 < auc["z"] < 0.65  # x follows time; z is noise
    notes = shift_notes(shift)
    assert len(notes) == 1 and notes[0].startswith("column 'x' tells the test period")


def test_a_period_without_some_class_is_undefined_for_ranking_metrics_and_said_so():
    from steps.over_time import period_scores, trend_note
    y, pred, proba, times = _scored_over_time(decay=False)
    y = y.copy()
    y[:120] = "no"  # the first period has no "yes" row: its ROC-AUC is undefined
    table = period_scores(y, pred, proba, ["no", "yes"], times, "roc_auc")
    assert np.isnan(table["roc_auc"].iloc[0]) and np.isnan(table["ci_low"].iloc[0])
    assert table["roc_auc"].iloc[1:].notna().all()
    note = trend_note(table, "roc_auc")
    assert note.startswith("test roc_auc by period, earliest to latest: undefined, 0.")
    assert "latest" in note and "against earliest" in note  # periods 2 and 5 compared
    table.loc[1:, "roc_auc"] = np.nan
    assert "undefined where a class has no test rows" in trend_note(table, "roc_auc")


def test_scoring_labelled_rows_reports_periods_and_rows_from_the_training_period():
    from steps.over_time import labelled_periods
    y, pred, proba, times = _scored_over_time(decay=True)
    scored = pd.DataFrame({"when": times.dt.strftime("%Y-%m-%dT%H:%M:%S"), "label": y,
                           "predicted": pred, "proba_no": proba[:, 0], "proba_yes": proba[:, 1]})
    period = {"time_column": "when", "train_until": "2024-01-02T23:00:00",
              "test_from": "2024-01-03T00:00:00"}
    table, seen = labelled_periods(scored, "label", ["no", "yes"], period)
    assert seen == 48  # the first two days' hourly rows were training rows
    assert len(table) == 5 and table["macro_f1"].iloc[0] > table["macro_f1"].iloc[-1]
    numbers = scored.assign(when=np.arange(600))
    _, seen = labelled_periods(numbers, "label", ["no", "yes"], {**period, "train_until": 99.0})
    assert seen == 100
    assert labelled_periods(scored.drop(columns="when"), "label", ["no", "yes"], period) == (None, 0)
    assert labelled_periods(scored, "label", ["no", "yes"], None) == (None, 0)
    odd = scored.assign(when=scored.when.where(scored.index != 5, "next week"))
    assert labelled_periods(odd, "label", ["no", "yes"], period) == (None, 0)  # scoring goes on
    gaps = scored.assign(when=scored.when.where(scored.index >= 10))  # rows without a time
    table, _ = labelled_periods(gaps, "label", ["no", "yes"], period)
    assert table["rows"].sum() == 590
    assert labelled_periods(numbers, "label", ["no", "yes"], period) == (None, 0)  # number vs date
    assert labelled_periods(scored.drop(columns="label"), "label", ["no", "yes"], period) == (None, 0)


def test_a_cut_inside_a_coarse_period_moves_to_its_nearer_edge():
    """Yearly rows, a 20% test part: a cut late in a year leaves that year to training
    (the test part is the last year, 18%) instead of sending it to the test side (34%)."""
    years = np.repeat([1997, 1998, 1999, 2000, 2001, 2002], [40, 44, 45, 44, 41, 47])
    frame = pd.DataFrame({"year": years, "x": np.arange(len(years)),
                          "label": np.tile(["a", "b", "b", "b"], len(years) // 4 + 1)[:len(years)]})
    train, test = split_frame(frame, "label", 0.2, seed=0, time_column="year")
    assert set(test.year) == {2002} and train.year.max() == 2001
    # a cut early in a year sends the whole year to the test side, as before: 24% of the
    # rows there, against 5% with the last year alone
    small_end = pd.DataFrame({"year": np.repeat([1997, 1998, 1999, 2000, 2001, 2002],
                                                [40, 40, 40, 40, 40, 10]), "x": 0.0,
                              "label": np.tile(["a", "b"], 105)})
    train, test = split_frame(small_end, "label", 0.2, seed=0, time_column="year")
    assert set(test.year) == {2001, 2002} and len(test) == 50
    # backtests cut at the nearer edges too: the period before is 2001
    train, test = split_frame(frame, "label", 0.2, seed=1, time_column="year")
    assert set(test.year) == {2001} and train.year.max() == 2000
