"""CV folds that respect time: each training row's time (``RowTimes``), blocks of time that
folds take whole, forward chaining (``forward_folds``: each fold learns only from the periods
before the one it is scored on, as the test split does) and purging the labels' gap
(``purge_gap``: a row whose label is known only ``preprocess.time_gap`` after its time is
left out of a fold that scores a period starting within that gap).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from steps.splits import gap_in_units, sortable_times, split_columns

TIME_BLOCKS = 20  # contiguous blocks of the training period; CV folds take whole blocks


class RowTimes(np.ndarray):
    """Each training row's time as a number (dates in nanoseconds) and, as ``gap``, how long
    after it the row's label is known: what CV folds that respect time are built from
    (``time_blocks`` of them; ``forward_folds``, ``purge_gap``). A plain array of group labels
    never is. Indexing keeps the type and the gap; ``np.asarray`` drops both."""
    gap: float = 0.0

    def __array_finalize__(self, obj):
        self.gap = getattr(obj, "gap", 0.0)


def row_times(times: pd.Series, gap=None, column: str = "time") -> RowTimes:
    """``times`` (``sortable_times``) and ``gap`` (``preprocess.time_gap``) as ``RowTimes``."""
    step = gap_in_units(gap, times, column)
    if pd.api.types.is_datetime64_any_dtype(times):
        values = pd.DatetimeIndex(times.dt.as_unit("ns")).asi8.astype(float)
        step = float(step.as_unit("ns").value)
    else:
        values = times.to_numpy(dtype=float)
    out = values.view(RowTimes)
    out.gap = float(step)
    return out


def is_row_times(groups) -> bool:
    """Whether CV ``groups`` are ``RowTimes`` rather than a group column's labels."""
    return isinstance(groups, RowTimes)


def block_labels(groups, n_blocks: int = TIME_BLOCKS):
    """What CV keeps together: ``RowTimes`` as ``time_blocks`` labels, group labels as they are."""
    if not is_row_times(groups):
        return groups
    return time_blocks(pd.Series(np.asarray(groups)), n_blocks)


def purge_gap(folds, times: RowTimes, y, notes: list[str]) -> list:
    """Each fold without the training rows whose labels reach into a scored stretch of time:
    those within ``times.gap`` before the start of a run of scored blocks (purging, as in
    López de Prado 2018). Folds left with a single class are dropped."""
    if not is_row_times(times) or not times.gap:
        return folds
    t, labels, y = np.asarray(times), block_labels(times), np.asarray(y)
    kept, purged = [], []
    for train, scored in folds:
        blocks = set(np.unique(labels[scored]).tolist())
        near = np.zeros(len(train), dtype=bool)
        for start in (t[labels == b].min() for b in blocks if b - 1 not in blocks):
            near |= (t[train] >= start - times.gap) & (t[train] < start)
        purged.append(int(near.sum()))
        if len(np.unique(y[train[~near]])) > 1:
            kept.append((train[~near], scored))
    if len(kept) < 2:
        raise ValueError("preprocess.time_gap leaves fewer than 2 CV folds with more than one "
                         "class to learn from; shorten the gap or lower train.cv_folds")
    dropped = f"; {len(folds) - len(kept)} fold(s) left with one class dropped" \
        if len(kept) < len(folds) else ""
    count = f"{min(purged)}" if min(purged) == max(purged) else f"{min(purged)}-{max(purged)}"
    notes.append(f"time gap: each fold leaves out the training rows whose labels would not be "
                 f"known by its scored period ({count} rows){dropped}")
    return kept


def time_blocks(times: pd.Series, n_blocks: int = TIME_BLOCKS) -> np.ndarray:
    """Block labels 0..n_blocks-1 in time order, about equal rows each; equal times share a
    block, so folds built from whole blocks never split one moment across training and
    validation."""
    ranks = times.rank(method="min").to_numpy() - 1  # equal times: equal ranks
    return np.minimum((ranks * n_blocks // len(times)).astype(int), n_blocks - 1)


def forward_folds(times: RowTimes, y, n_folds: int,
                  notes: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Forward chaining over time blocks: consecutive blocks are merged into ``n_folds + 1``
    periods of about equal rows; fold i learns from periods 0..i and is scored on period
    i + 1. The first period is never scored. A fold whose earlier periods hold a single
    class is left out (nothing to learn a decision from), with a note; ``purge_gap`` then
    applies the labels' gap."""
    blocks, y = block_labels(times), np.asarray(y)
    labels, counts = np.unique(blocks, return_counts=True)  # sorted labels: time order
    before = (np.cumsum(counts) - counts) / len(blocks)  # share of rows in earlier blocks
    period_of = np.unique((before * (n_folds + 1)).astype(int), return_inverse=True)[1]
    period = period_of[np.searchsorted(labels, blocks)]
    n_periods = int(period.max()) + 1
    if n_periods < 3:
        raise ValueError(f"forward CV needs at least 3 periods of time, the training rows "
                         f"make {n_periods}; set train.time_cv: blocked")
    if n_periods < n_folds + 1:
        notes.append(f"cv folds reduced {n_folds} -> {n_periods - 1} (periods of time)")
    folds = [(np.flatnonzero(period <= i), np.flatnonzero(period == i + 1))
             for i in range(n_periods - 1)]
    usable = [f for f in folds if len(np.unique(y[f[0]])) > 1]
    if len(usable) < len(folds):
        notes.append(f"forward CV: {len(folds) - len(usable)} earliest fold(s) left out: their "
                     "training periods hold a single class")
    if len(usable) < 2:
        raise ValueError("forward CV: fewer than 2 folds learn from more than one class; "
                         "set train.time_cv: blocked")
    unscored = len(y) - sum(len(va) for _, va in usable)
    notes.append(f"forward-chaining CV: {len(usable)} folds, each learning only from earlier "
                 f"periods; the earliest {unscored} of {len(y)} rows are learnt from, never scored")
    return purge_gap(usable, times, y, notes)


def fold_groups(train: pd.DataFrame, recipe: dict) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The training rows without their split columns, and what CV folds keep together:
    the group of each row, its time (``RowTimes``), or None (plain stratified folds)."""
    groups = None
    if recipe.get("group_column"):
        groups = train[recipe["group_column"]].astype(str).to_numpy()
    elif recipe.get("time_column"):
        column = recipe["time_column"]
        groups = row_times(sortable_times(train[column], column), recipe.get("time_gap"), column)
    return train.drop(columns=split_columns(recipe)), groups
