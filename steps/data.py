"""Data step contract: load, fingerprint, describe, prepare, split and profile a table.

This module is the public face used by the wiring layer; the work lives in small modules
(``sources``, ``columns``, ``prepare``, ``derive``, ``profile``) re-exported here.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

import numpy as np
import pandas as pd

from steps.columns import (DataValidationError, class_counts, column_roles,  # noqa: F401
                           schema_of)
from steps.prepare import PreparedFrame, prepare_frame  # noqa: F401
from steps.profile import class_balance_figure, missing_rate_figure, profile_frame  # noqa: F401
from steps.sources import (DataSourceError, LoadedTable, list_cards, load_table,  # noqa: F401
                           read_card)

__all__ = [
    "DataSourceError", "DataValidationError", "LoadedTable", "PreparedFrame",
    "class_balance_figure", "class_counts", "column_roles", "content_hash", "file_sha256",
    "list_cards",
    "load_table", "missing_rate_figure", "prepare_frame", "profile_frame", "read_card",
    "schema_of", "split_fingerprint", "split_frame",
]


def content_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of column names, dtypes and every value, in row order (the index is ignored).

    Values go through pandas' vectorised row hashing (one 64-bit hash per row covering all
    its cells), which keeps this fast on millions of rows; names and dtypes are hashed
    separately so a renamed column or an int->float cast changes the digest too.
    """
    digest = hashlib.sha256()
    header = [[str(c), str(t)] for c, t in zip(frame.columns, frame.dtypes)]
    digest.update(json.dumps({"columns": header, "rows": len(frame)}).encode())
    if len(frame) and frame.shape[1]:
        rows = pd.util.hash_pandas_object(frame, index=False, categorize=True)
        digest.update(rows.to_numpy().tobytes())
    return digest.hexdigest()


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks (model weights can be large)."""
    from pathlib import Path
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def split_frame(frame: pd.DataFrame, target: str, test_size: float,
                seed: int, group_column: str | None = None,
                time_column: str | None = None, time_gap=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified, seeded train/test split; both parts keep the original index and row order.
    With ``group_column``, whole groups go to one side (see ``_group_split``); with
    ``time_column``, the latest rows are the test part, or with ``seed`` k the k-th period
    before them, less the labels' ``time_gap`` (``steps.splits.time_split``)."""
    if time_column:
        from steps.splits import time_split
        return time_split(frame, target, test_size, time_column, origin=seed, gap=time_gap)
    if group_column:
        return _group_split(frame, target, test_size, seed, group_column)
    counts = class_counts(frame[target])
    n_test = test_size if isinstance(test_size, int) else int(-(-test_size * len(frame) // 1))
    if min(counts.values(), default=0) < 2 or n_test < len(counts) or len(frame) - n_test < len(counts):
        raise DataValidationError(
            f"cannot stratify {len(frame)} rows with test_size={test_size}: every class needs at "
            f"least one row on each side (class counts: {counts}); adjust preprocess.test_size "
            "or merge rare classes")
    from sklearn.model_selection import train_test_split  # here: the dataset step never splits
    positions = pd.RangeIndex(len(frame))
    y = frame[target].astype(str).to_numpy()
    _, test_pos = train_test_split(positions, test_size=test_size, random_state=seed, stratify=y)
    mask = positions.isin(test_pos)
    tested = set(y[mask])
    untested = {c: counts[c] for c in counts if c not in tested}
    if untested:  # stratification rounds a small class's share down to zero test rows
        raise DataValidationError(
            f"class(es) {untested} got no test rows at test_size={test_size}, so the test split "
            "cannot score them; raise preprocess.min_class_rows above their counts to drop them, "
            "or raise preprocess.test_size")
    return frame.iloc[~mask], frame.iloc[mask]


def _group_split(frame, target, test_size, seed, group_column):
    """One fold of a seeded StratifiedGroupKFold with about ``1 / test_size`` folds as the
    test part: every group on one side, class shares as close to stratified as groups allow."""
    from sklearn.model_selection import StratifiedGroupKFold
    groups = frame[group_column].astype(str).to_numpy()
    n_groups = len(set(groups))
    fraction = test_size / len(frame) if isinstance(test_size, int) else test_size
    n_splits = min(max(2, round(1 / fraction)), n_groups)
    if n_groups < 2:
        raise DataValidationError(f"group column {group_column!r} has {n_groups} group: a test "
                                  "split needs at least 2")
    y = frame[target].astype(str).to_numpy()
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    _, test_pos = next(splitter.split(np.zeros(len(frame)), y, groups))
    mask = np.zeros(len(frame), dtype=bool)
    mask[test_pos] = True
    lacking = sorted(set(y) - set(y[mask])) + sorted(set(y) - set(y[~mask]))
    if lacking:
        raise DataValidationError(
            f"grouping by {group_column!r} leaves class(es) {sorted(set(lacking))} on one side "
            f"of the test split only ({n_groups} groups); use more groups or merge rare classes")
    return frame.iloc[~mask], frame.iloc[mask]


def split_fingerprint(test_index: Iterable, dataset_hash: str = "") -> str:
    """Identify a frozen test split: SHA-256 of ``"<dataset_hash>:<sorted test row ids>"``.

    Integer row ids are rendered as a Python list (``[3, 7, 12]``) so the value matches the
    split id the wiring layer stores next to the frozen test rows.
    """
    ids = list(test_index)
    try:
        rows = sorted(int(i) for i in ids)
    except (TypeError, ValueError):
        rows = sorted(str(i) for i in ids)
    return hashlib.sha256(f"{dataset_hash}:{rows}".encode()).hexdigest()
