"""Nested stratified subsamples: a smaller cap's rows are (up to one row per class) among a
larger cap's.

Families tune on different row counts when the cost guard or ``train.max_rows`` caps them.
Drawn independently, three 2000-row samples of a 5600-row table share about 250 rows, so the
validation step could blend and rank only the families that kept every row. Ranking each
class's rows by a seeded hash of the row's label instead makes every cap a prefix of one
order per class: the families' out-of-fold rows then nest, and the smallest sample is
shared by all of them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _row_keys(index: pd.Index, seed: int) -> np.ndarray:
    """A seeded pseudo-random key per row label, the same in every process and table that
    holds the row under that label."""
    labels = pd.Series(np.asarray(index)).astype(str).to_numpy(dtype=object)
    return pd.util.hash_array(labels, hash_key=f"tabpipe{seed:09d}"[-16:])


def _per_class(counts: pd.Series, cap: int) -> pd.Series:
    """Rows per class, proportional to ``counts``, summing to ``cap`` (largest remainders;
    every class keeps at least one row when the cap allows)."""
    exact = counts / counts.sum() * cap
    take = np.floor(exact).astype(int).clip(lower=min(1, cap // max(len(counts), 1)))
    short = cap - int(take.sum())
    if short > 0:
        order = (exact - take).sort_values(ascending=False, kind="stable").index
        take[order[:short]] += 1
    return take.clip(upper=counts)


def nested_sample(y: pd.Series, cap: int, seed: int) -> np.ndarray:
    """Positions (sorted) of a stratified ``cap`` of ``y``'s rows; caps of the same labelled
    rows nest. ``y``'s index labels identify the rows."""
    y = pd.Series(y)
    if cap >= len(y):
        return np.arange(len(y))
    keys = _row_keys(y.index, seed)
    codes = pd.factorize(y.astype(str), sort=True)[0]
    counts = pd.Series(codes).value_counts().sort_index()
    chosen = []
    for code, n in _per_class(counts, cap).items():
        at = np.flatnonzero(codes == code)
        chosen.append(at[np.argsort(keys[at], kind="stable")[:n]])
    return np.sort(np.concatenate(chosen))
