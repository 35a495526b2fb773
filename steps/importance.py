"""Permutation importance within a time budget, with redundant columns shuffled together.

Shuffling one of two redundant columns (a charge and the minutes it bills) leaves the model
the other, so each looks unimportant though the measurement matters. Shuffling a group of
them jointly, with one permutation of the rows, gives the measurement's importance; these
rows are added to the permutation table, named ``a + b (together)``.

The method re-predicts rows x (columns + groups) x repeats: on a wide table it took longer
than the whole training stage. Within ``PERMUTATION_BUDGET_S`` it uses fewer test rows
first (down to ``PERMUTATION_MIN_ROWS``), then fewer repeats (down to 2), then only the
columns that move most with the model's predictions (never fewer than ``MIN_COLUMNS``).
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

TOGETHER = " (together)"
PERMUTATION_MAX_ROWS = 2000
# about this long: the winner's blend of six families (k-NN and SVM among them) took 71 s
# for 19 features x 5 repeats on mlc_churn's 1000 test rows
PERMUTATION_BUDGET_S = 20.0
PERMUTATION_MIN_ROWS = 300
MIN_REPEATS = 2  # repeats are cut to this before any column is left out
MIN_COLUMNS = 10  # never screened below this many columns


def sample_rows(X: pd.DataFrame, y: pd.Series, cap: int, seed: int):
    """At most ``cap`` rows, a seeded sample in their original order."""
    if len(X) <= cap:
        return X, y
    rows = np.sort(np.random.default_rng(seed).choice(len(X), size=cap, replace=False))
    return X.iloc[rows], y.iloc[rows]


def redundant_groups(X: pd.DataFrame | None) -> list[list[str]]:
    """Connected groups of columns linked by ``steps.profile.redundant_pairs``, each sorted."""
    if X is None:
        return []
    from steps.profile import redundant_pairs, redundant_sets
    return sorted(sorted(s) for s in redundant_sets(redundant_pairs(X)))


def permutation_rows(predict_s: float, rows: int, features: int, repeats: int,
                     budget_s: float | None = None) -> int:
    """Test rows permutation importance can afford: one prediction of ``rows`` rows took
    ``predict_s``, and the method re-predicts ``features x repeats`` times."""
    budget_s = PERMUTATION_BUDGET_S if budget_s is None else budget_s
    per_row = max(predict_s, 1e-9) / max(rows, 1)
    affordable = int(budget_s / (per_row * max(features * repeats, 1)))
    return max(min(rows, PERMUTATION_MAX_ROWS, affordable), min(rows, PERMUTATION_MIN_ROWS))


def plan_shuffles(pass_s: float, columns: int, groups: int, repeats: int,
                  budget_s: float | None = None) -> tuple[int, int]:
    """(repeats, columns) that fit ``budget_s`` when one scoring pass takes ``pass_s``:
    fewer repeats first (down to ``MIN_REPEATS``), then fewer columns (not below
    ``MIN_COLUMNS``); the redundant groups are always shuffled."""
    budget_s = PERMUTATION_BUDGET_S if budget_s is None else budget_s
    passes = budget_s / max(pass_s, 1e-9)
    if (columns + groups) * repeats <= passes:
        return repeats, columns
    kept_repeats = max(min(repeats, MIN_REPEATS), int(passes // (columns + groups)))
    kept = int(passes // kept_repeats) - groups
    return kept_repeats, min(columns, max(kept, MIN_COLUMNS))


def prediction_association(X: pd.DataFrame, proba: np.ndarray) -> pd.Series:
    """Per column, how strongly it moves with the model's predicted probabilities on these
    rows: the largest |Spearman correlation| over the classes, a category standing for its
    rows' mean probability of the class. Cheap (no predictions): the screen that picks the
    columns worth shuffling when not all can be."""
    proba = np.asarray(proba, dtype=float)
    ranked = pd.DataFrame(proba).rank().to_numpy()
    out = {}
    for col in X.columns:
        values = X[col]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        keys = None if numeric else values.astype(str).to_numpy()
        own_rank = (pd.Series(values.astype(float).fillna(values.median()).to_numpy()).rank()
                    .to_numpy() if numeric else None)  # the same for every class
        best = 0.0
        for k in range(proba.shape[1]):
            rank = own_rank if numeric else \
                pd.Series(proba[:, k]).groupby(keys).transform("mean").rank().to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):  # a constant: no association
                r = np.corrcoef(rank, ranked[:, k])[0, 1]
            best = max(best, abs(r)) if np.isfinite(r) else best
        out[col] = best
    return pd.Series(out, dtype=float)


def permutation_table(model, X_test: pd.DataFrame, y_test: pd.Series, scorer, repeats: int,
                      predict_s: float, seed: int = 0, groups=(),
                      budget_s: float | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Drop in the score (``scorer(model, X, y)``, higher is better) when each raw input
    column is shuffled, and each group of redundant columns shuffled together; within
    ``budget_s`` (see the module). ``predict_s``: one prediction of all of ``X_test``.
    Returns the table, most important first, and notes on what the budget cut."""
    notes = []
    groups = [list(g) for g in groups]
    n_cols, n_rows = X_test.shape[1], len(X_test)
    rows = permutation_rows(predict_s, n_rows, n_cols + len(groups), repeats, budget_s)
    if rows < min(n_rows, PERMUTATION_MAX_ROWS):
        notes.append(f"permutation importance on a seeded sample of {rows} of {n_rows} test "
                     f"rows: one prediction took {predict_s:.2f} s, so all of them would take "
                     f"about {predict_s * (n_cols + len(groups)) * repeats:.0f} s")
    X, y = sample_rows(X_test, y_test, rows, seed)  # rows: already within the caps
    started = time.perf_counter()
    base = scorer(model, X, y)
    pass_s = time.perf_counter() - started
    kept_repeats, kept = plan_shuffles(pass_s, n_cols, len(groups), repeats, budget_s)
    columns = list(X.columns)
    if kept < n_cols:
        notes.append(f"permutation importance of the {kept} of {n_cols} columns that move most "
                     f"with the model's predictions: all of them, {repeats} times each, would "
                     f"take about {pass_s * (n_cols + len(groups)) * repeats:.0f} s; a column "
                     "that matters only through interactions with others can be missed")
        association = prediction_association(X, model.predict_proba(X))
        columns = list(association.sort_values(ascending=False, kind="mergesort").index[:kept])
        groups = [g for g in groups if set(g) & set(columns)]
    if kept_repeats < repeats:
        notes.append(f"permutation importance with {kept_repeats} repeats instead of {repeats} "
                     "(evaluate.permutation_repeats), to stay within its time budget")
    table = shuffle_drops(model, X, y, scorer, [[c] for c in columns] + groups, kept_repeats,
                          seed, base)
    return table.sort_values("importance_mean", ascending=False, kind="mergesort",
                             na_position="last").reset_index(drop=True), notes


def shuffle_drops(model, X: pd.DataFrame, y, scorer, groups: list[list[str]], repeats: int,
                  seed: int = 0, base: float | None = None) -> pd.DataFrame:
    """One row per group of columns (a single column, or redundant ones named
    ``a + b (together)``): the score's drop over ``repeats`` shuffles of the rows."""
    rng = np.random.default_rng(seed)
    base = scorer(model, X, y) if base is None else base
    shuffled, rows = X.copy(), []
    for cols in groups:
        drops = []
        for _ in range(repeats):
            order = rng.permutation(len(X))
            for col in cols:
                shuffled[col] = X[col].to_numpy()[order]
            drops.append(base - scorer(model, shuffled, y))
        for col in cols:  # restored for the next group
            shuffled[col] = X[col]
        rows.append({"feature": cols[0] if len(cols) == 1 else " + ".join(cols) + TOGETHER,
                     "importance_mean": float(np.mean(drops)),
                     "importance_std": float(np.std(drops)),
                     **{f"repeat_{i}": d for i, d in enumerate(drops)}})
    return pd.DataFrame(rows, columns=["feature", "importance_mean", "importance_std",
                                       *[f"repeat_{i}" for i in range(repeats)]])
