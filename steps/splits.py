"""Out-of-time splits, and the columns that decide splits without being features.

With ``data.time_column`` the test split is the latest rows: a model is scored on a period
it never saw, as it will be used; with ``preprocess.time_gap`` the training rows whose
labels would not yet be known when that period starts are left out. CV folds inside the
training period follow time too (``steps.time_folds``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from steps.columns import DataValidationError

def sortable_times(values: pd.Series, column: str) -> pd.Series:
    """The time column as numbers or datetimes that sort in time order; a clear error when
    values are missing or do not read as dates."""
    missing = int(values.isna().sum())
    if missing:
        raise DataValidationError(f"time column {column!r} has {missing} missing value(s): every "
                                  "row needs a time to fall on one side of the split")
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values
    text = values.astype(str)
    try:  # ISO 8601 only: 03/04/2024 has two readings, and "Mar" no year
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    except ValueError:  # offsets that differ between rows: compare them in UTC
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    bad = values[parsed.isna()]
    if len(bad):
        raise DataValidationError(
            f"time column {column!r} has {len(bad)} value(s) that do not read as dates, e.g. "
            f"{bad.astype(str).unique()[:3].tolist()}; use ISO 8601 (2024-03-01 or "
            "2024-03-01T12:30) or numbers that grow with time")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC")
    return parsed


def _boundary(ordered: pd.Series, position: int):
    """The first time of the later side for a cut before sorted row ``position``. Rows
    sharing the time there move wholly to whichever side leaves the cut nearer
    ``position`` (the later side on a tie): with yearly data and a cut late in a year,
    that year trains rather than doubling the test part."""
    values = ordered.to_numpy()
    time = values[position]
    first = int(np.searchsorted(values, time, side="left"))
    after = int(np.searchsorted(values, time, side="right"))
    if after < len(values) and after - position < position - first:
        return values[after]
    return time


def time_split(frame: pd.DataFrame, target: str, test_size: float, time_column: str,
               origin: int = 0, gap=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest rows as the test part, about ``test_size`` of them; rows sharing a cut's
    time stay together, on the side that keeps the part nearer its size (``_boundary``).
    ``origin`` k > 0 backtests: the test period is the k-th
    before the latest, and the rows after it are in neither part. ``gap``
    (``preprocess.time_gap``): training rows closer than it before the test period are in
    neither part either. Both parts keep the original index and row order."""
    times = sortable_times(frame[time_column], time_column)
    n_test = test_size if isinstance(test_size, int) else int(-(-test_size * len(frame) // 1))
    if not 0 < n_test < len(frame):
        raise DataValidationError(f"test_size={test_size} leaves no rows on one side of the split")
    ordered = times.sort_values(kind="stable")
    if (origin + 1) * n_test >= len(frame):
        raise DataValidationError(
            f"preprocess.split_seed={origin} with a time column backtests the test period "
            f"{origin} before the latest, further back than the table's {len(frame)} rows allow "
            f"at test_size={test_size}: use a split seed below {max(1, len(frame) // n_test - 1)}")
    cut = _boundary(ordered, len(frame) - (origin + 1) * n_test)
    later = (times >= _boundary(ordered, len(frame) - origin * n_test)).to_numpy() if origin \
        else np.zeros(len(frame), dtype=bool)
    mask = (times >= cut).to_numpy() & ~later
    if not mask.any() or (mask | later).all():
        raise DataValidationError(f"time column {time_column!r}: the latest {n_test} rows share "
                                  f"their time with every earlier row ({cut}), so no row is "
                                  "earlier than the test period")
    y = frame[target].astype(str).to_numpy()
    train = learnable_before(times, cut, gap_in_units(gap, times, time_column))
    if not train.any():
        raise DataValidationError(f"preprocess.time_gap={gap} leaves no training rows before the "
                                  f"test period ({cut}); shorten it")
    for side, rows, where in (("test", mask, "from"), ("training", train, "before")):
        lacking = sorted(set(y) - set(y[rows]))
        if lacking:
            raise DataValidationError(
                f"the {side} period ({where} {cut}) has no rows of class(es) {lacking}, so they "
                f"cannot be {'scored' if side == 'test' else 'learnt'} out of time; change "
                "preprocess.test_size, or merge or drop the classes (preprocess.min_class_rows)")
    return frame.iloc[train], frame.iloc[mask]


def gap_in_units(gap, times: pd.Series, column: str):
    """``preprocess.time_gap`` in the parsed times' units: a Timedelta for dates, a number
    for numbers, 0 for none; a clear error when the kinds do not match."""
    dates = pd.api.types.is_datetime64_any_dtype(times)
    if gap is None:
        return pd.Timedelta(0) if dates else 0.0
    if dates and not isinstance(gap, str):
        raise DataValidationError(f"preprocess.time_gap={gap}: time column {column!r} holds "
                                  "dates, so give the gap as a duration, e.g. '30D' or '12h'")
    if not dates and isinstance(gap, str):
        raise DataValidationError(f"preprocess.time_gap={gap!r}: time column {column!r} holds "
                                  "numbers, so give the gap as a number in the column's units")
    return pd.Timedelta(gap) if dates else float(gap)


def gap_needs_time(gap, time_column: str | None) -> None:
    """``preprocess.time_gap`` means nothing without a time column: say so."""
    if gap is not None and not time_column:
        raise DataValidationError(f"preprocess.time_gap={gap!r} needs a time column: set "
                                  "data.time_column (the gap is measured on it), or drop the gap")


def learnable_before(times: pd.Series, start, gap) -> np.ndarray:
    """Rows a model put to use at ``start`` can learn from: their labels, known ``gap`` after
    their time, are known by then (time + gap < start; with no gap, time < start)."""
    return (times < start - gap).to_numpy()


def before_test(frame: pd.DataFrame, test: pd.DataFrame, time_column: str, gap=None) -> np.ndarray:
    """``learnable_before`` the first time of ``test``: the training rows of a frozen split
    (rows after a backtest's test period, and those in the gap, are never among them)."""
    times = sortable_times(frame[time_column], time_column)
    start = sortable_times(test[time_column], time_column).min()
    return learnable_before(times, start, gap_in_units(gap, times, time_column))


def split_columns(recipe: dict) -> list[str]:
    """Columns kept only to decide splits and folds (never features)."""
    return [c for c in (recipe.get("group_column"), recipe.get("time_column")) if c]


def period_note(train: pd.DataFrame, test: pd.DataFrame, time_column: str,
                frame: pd.DataFrame | None = None, gap=None) -> str:
    """One line saying which periods training and scoring cover (for the run's data notes),
    and, given the whole ``frame``, which rows neither does: those after a backtest's test
    period and those in the labels' ``gap`` before it."""
    def span(part):
        t = sortable_times(part[time_column], time_column)
        return f"{shown_time(t.min())} .. {shown_time(t.max())}"
    out = ""
    if frame is not None:
        times = sortable_times(frame[time_column], time_column)
        later = int((times > sortable_times(test[time_column], time_column).max()).sum())
        gapped = len(frame) - len(train) - len(test) - later
        out += (f"; the {later} later rows are left out (a backtest of an earlier period)"
                if later else "")
        out += (f"; the {gapped} rows within time_gap={gap} before the test period are left out "
                "(their labels would not be known when it starts)" if gapped else "")
    return (f"out-of-time split on {time_column!r}: training rows {span(train)}, test rows "
            f"{span(test)}{out}; CV folds respect time (train.time_cv)")


def shown_time(value) -> str:
    """A time as text; a date without a time of day reads as the date alone."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    return str(value)


def period_bounds(train: pd.DataFrame, test: pd.DataFrame, time_column: str) -> dict:
    """Where training ends and testing starts, as JSON values that compare in time order
    (ISO text for dates, numbers otherwise): recorded with a model so a later out-of-time
    run can tell whether this model ever saw its test period."""
    def value(frame, pick):
        v = pick(sortable_times(frame[time_column], time_column))
        return v.isoformat() if isinstance(v, pd.Timestamp) else float(v)
    return {"time_column": time_column, "train_until": value(train, pd.Series.max),
            "test_from": value(test, pd.Series.min)}


def bound_value(value, utc: bool = False):
    """A ``period_bounds`` value back as one that compares with parsed times: ISO text as a
    Timestamp (``utc``: a time without an offset is read as UTC, to compare with times that
    had offsets), numbers and None as they are."""
    if not isinstance(value, str):
        return value
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if utc and stamp.tz is None else stamp


def unseen_period(candidate: dict | None, champion: dict | None) -> bool:
    """Whether the champion's training ended before the candidate's test period began, on the
    same time column: then the champion never saw those rows and can be scored on them."""
    if not candidate or not champion or champion.get("time_column") != candidate.get("time_column"):
        return False
    try:
        return bool(bound_value(champion["train_until"]) < bound_value(candidate["test_from"]))
    except (KeyError, TypeError, ValueError):
        return False


def shown_bound(value) -> str:
    """A ``period_bounds`` value as text (ISO dates without a time of day read as dates)."""
    return shown_time(bound_value(value))


SHIFT_AUC = 0.9  # a column that tells the periods apart this well is a trend or a counter


def period_shift(X_train: pd.DataFrame, X_test: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per feature column, how well it alone tells a test-period row from a training-period
    row (cross-fitted ROC-AUC, ``steps.leakage.feature_signal``); ``suspect`` from
    ``SHIFT_AUC``. What moved between the periods is what the model must carry across."""
    from steps.leakage import feature_signal
    rows = pd.concat([X_train, X_test], ignore_index=True)
    period = pd.Series(["train"] * len(X_train) + ["test"] * len(X_test))
    return feature_signal(rows, period, SHIFT_AUC, seed=seed)


def shift_notes(shift: pd.DataFrame) -> list[str]:
    """A sentence per column that tells the periods apart almost perfectly."""
    return [f"column {r.column!r} tells the test period from the training period with ROC-AUC "
            f"{r.auc:.3f}: a trend or a counter (an id, days since a date) that the model meets "
            "beyond the range it learnt; drop it (preprocess.drop_columns) unless the trend "
            "itself predicts" for r in shift.itertuples() if r.suspect]


SMALL_TEST_CLASS = 25  # test rows of a class below which one split's score is mostly luck


def small_test_note(y_test: pd.Series, smallest: int = SMALL_TEST_CLASS) -> list[str]:
    """A note when a class has so few test rows that one split's score is rough: each such
    row moves that class's recall by 1/n. Empty otherwise."""
    counts = pd.Series(y_test).astype(str).value_counts()
    rare = counts[counts < smallest]
    if rare.empty:
        return []
    worst, n = str(rare.idxmin()), int(rare.min())
    return [f"the test split holds {len(y_test)} rows, only {n} of class {worst!r}: one row "
            f"there moves its recall by {1 / n:.2f}, so a test score from this split is rough "
            "(see its 95% interval); `tabpipe run --split-seeds 0 1 2` gives the mean and "
            "spread over several splits"]
