"""Where the winner errs: its test error rate within slices of each input column.

A single test score hides the segments a model serves badly (one protocol, night-time jobs,
the largest inputs). Every column is cut into slices (the most frequent categorical levels,
the rest pooled; numeric quartiles; missing values apart) and each slice's error rate gets a
Wilson interval. A slice is flagged only when its interval lies wholly above the overall
error rate with a Bonferroni correction over all slices, so scanning many slices does not
manufacture findings. With misclassification costs, each slice also carries its cost per row.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import norm

from steps.columns import is_numeric
from steps.figures import new_figure

MAX_LEVELS = 12  # categorical slices: the most frequent levels, the rest pooled as "(other)"
NUMERIC_BINS = 4  # numeric slices: quartiles
MIN_ROWS = 20  # smaller slices say nothing
FAMILY_ALPHA = 0.05  # for the flags, shared by all slices of the table
SHOWN = 15  # slices drawn, worst first


def _numeric_slices(values: pd.Series, bins: int) -> Iterator[tuple[str, np.ndarray]]:
    present = values.notna().to_numpy()
    cuts = pd.qcut(values[present], bins, duplicates="drop")
    for interval in cuts.cat.categories:
        mask = np.zeros(len(values), bool)
        mask[present] = (cuts == interval).to_numpy()
        yield f"{interval.left:.4g} to {interval.right:.4g}", mask


def _level_slices(values: pd.Series, max_levels: int) -> Iterator[tuple[str, np.ndarray]]:
    text = values.astype(object).where(values.notna(), None)
    top = text.dropna().astype(str).value_counts().index[:max_levels]
    as_str = text.map(lambda v: None if v is None else str(v))
    for level in top:
        yield str(level), (as_str == level).to_numpy()
    rest = (as_str.notna() & ~as_str.isin(top)).to_numpy()
    if rest.any():
        yield "(other)", rest


def column_slices(X: pd.DataFrame, *, max_levels: int = MAX_LEVELS,
                  bins: int = NUMERIC_BINS) -> Iterator[tuple[str, str, np.ndarray]]:
    """(column, slice label, row mask) for every column of ``X``."""
    for column in X.columns:
        values = X[column]
        if is_numeric(values) and values.nunique() > bins:
            yield from ((column, label, mask) for label, mask in _numeric_slices(values, bins))
        else:
            yield from ((column, label, mask) for label, mask in _level_slices(values, max_levels))
        missing = values.isna().to_numpy()
        if missing.any():
            yield column, "(missing)", missing


def wilson(errors: np.ndarray, rows: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion, vectorised."""
    p = errors / rows
    centre = (p + z * z / (2 * rows)) / (1 + z * z / rows)
    half = z * np.sqrt(p * (1 - p) / rows + z * z / (4 * rows * rows)) / (1 + z * z / rows)
    return centre - half, centre + half


def slice_errors(X_test: pd.DataFrame, y_test, y_pred, *, row_costs=None,
                 min_rows: int = MIN_ROWS) -> pd.DataFrame:
    """One row per slice of at least ``min_rows`` test rows: error rate, its interval
    (simultaneous over the table, Bonferroni), and whether it is worse than overall."""
    wrong = np.asarray(y_test, dtype=str) != np.asarray(y_pred, dtype=str)
    rows = [(c, label, mask) for c, label, mask in column_slices(X_test) if mask.sum() >= min_rows]
    columns = ["column", "slice", "rows", "error_rate", "ci_low", "ci_high", "overall_error",
               "worse_than_overall"]
    if not rows:
        return pd.DataFrame(columns=columns)
    n = np.array([m.sum() for _, _, m in rows], dtype=float)
    k = np.array([wrong[m].sum() for _, _, m in rows], dtype=float)
    z = norm.ppf(1 - FAMILY_ALPHA / (2 * len(rows)))  # two-sided, Bonferroni over the slices
    low, high = wilson(k, n, z)
    overall = float(wrong.mean())
    table = pd.DataFrame({"column": [c for c, _, _ in rows], "slice": [s for _, s, _ in rows],
                          "rows": n.astype(int), "error_rate": k / n, "ci_low": low,
                          "ci_high": high, "overall_error": overall,
                          "worse_than_overall": low > overall})
    if row_costs is not None:
        costs = np.asarray(row_costs, dtype=float)
        table["expected_cost"] = [costs[m].mean() for _, _, m in rows]
    return table.sort_values(["worse_than_overall", "error_rate"], ascending=False,
                             kind="mergesort").reset_index(drop=True)


def slices_figure(table: pd.DataFrame, shown: int = SHOWN) -> Figure:
    """The worst slices' error rates with their intervals; flagged slices in red."""
    top = table.head(shown)
    fig, axes = new_figure(7.5, max(3.0, 0.35 * len(top) + 1.6))
    ax = axes[0, 0]
    y = np.arange(len(top))[::-1]
    colors = np.where(top["worse_than_overall"], "tab:red", "tab:blue")
    ax.barh(y, top["error_rate"], color=colors, alpha=0.75)
    err = np.vstack([top["error_rate"] - top["ci_low"], top["ci_high"] - top["error_rate"]])
    ax.errorbar(top["error_rate"], y, xerr=np.clip(err, 0, None), fmt="none", ecolor="black",
                capsize=3)
    if len(table):
        ax.axvline(table["overall_error"].iloc[0], color="gray", linestyle="--",
                   label=f"overall {table['overall_error'].iloc[0]:.3f}")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_yticks(y, [f"{c} = {s} (n={r})" for c, s, r in
                      zip(top["column"], top["slice"], top["rows"])], fontsize=8)
    flagged = int(table["worse_than_overall"].sum()) if len(table) else 0
    ax.set(xlabel="Test error rate (intervals simultaneous over all slices)",
           ylabel="Column = slice (test rows)",
           title=f"Worst slices of the test split: {flagged} of {len(table)} worse than overall")
    return fig
