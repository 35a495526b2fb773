"""Permutation importance of columns that carry the same information, shuffled together.

Shuffling one of two redundant columns (a charge and the minutes it bills) leaves the model
the other, so each looks unimportant though the measurement matters. Shuffling a group of
them jointly, with one permutation of the rows, gives the measurement's importance; these
rows are added to the permutation table, named ``a + b (together)``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

TOGETHER = " (together)"


def sample_rows(X: pd.DataFrame, y: pd.Series, cap: int, seed: int):
    """At most ``cap`` rows, a seeded sample in their original order."""
    if len(X) <= cap:
        return X, y
    rows = np.sort(np.random.default_rng(seed).choice(len(X), size=cap, replace=False))
    return X.iloc[rows], y.iloc[rows]


def redundant_groups(X: pd.DataFrame | None) -> list[list[str]]:
    """Connected groups of columns linked by ``steps.profile.redundant_pairs``."""
    if X is None:
        return []
    from steps.profile import redundant_pairs
    parent: dict[str, str] = {}

    def root(col: str) -> str:
        parent.setdefault(col, col)
        while parent[col] != col:
            col = parent[col]
        return col
    for r in redundant_pairs(X).itertuples():
        parent[root(r.column)] = root(r.same_as)
    groups: dict[str, list[str]] = {}
    for col in list(parent):
        groups.setdefault(root(col), []).append(col)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def grouped_rows(model, X: pd.DataFrame, y, scorer, groups: list[list[str]], repeats: int,
                 seed: int = 0) -> pd.DataFrame:
    """Rows shaped like the permutation table's, one per group of columns."""
    if not groups:
        return pd.DataFrame()
    rng = np.random.default_rng(seed)
    base = scorer(model, X, y)
    rows = []
    for cols in groups:
        drops = []
        for _ in range(repeats):
            shuffled = X.copy()
            order = rng.permutation(len(X))
            for col in cols:
                shuffled[col] = X[col].to_numpy()[order]
            drops.append(base - scorer(model, shuffled, y))
        rows.append({"feature": " + ".join(cols) + TOGETHER, "importance_mean": float(np.mean(drops)),
                     "importance_std": float(np.std(drops)),
                     **{f"repeat_{i}": d for i, d in enumerate(drops)}})
    return pd.DataFrame(rows)
