"""Per-column profile and the two data figures reported by the preprocessing step.

Figures are built with ``matplotlib.figure.Figure`` directly instead of pyplot: no global
backend switch, no figure registry to leak, nothing ever shown. The caller reports them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # imported where a figure is drawn: the dataset step draws none
    from matplotlib.figure import Figure

from steps.columns import n_unique, role_of


def profile_frame(frame: pd.DataFrame, target: str, id_columns=()) -> pd.DataFrame:
    """One row per column (index ``column``): dtype, missing_rate, n_unique, role."""
    rows = [{"column": str(col), "dtype": str(frame[col].dtype),
             "missing_rate": float(frame[col].isna().mean()) if len(frame) else 0.0,
             "n_unique": n_unique(frame[col]),
             "role": role_of(frame[col], col, target, id_columns)} for col in frame.columns]
    return pd.DataFrame(rows, columns=["column", "dtype", "missing_rate", "n_unique", "role"]
                        ).set_index("column")


def class_balance_figure(counts: dict[str, int], title: str = "Class balance") -> Figure:
    """Horizontal bars of rows per class, annotated with count and share."""
    labels = list(counts)
    values = [int(counts[k]) for k in labels]
    total = sum(values) or 1
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 0.5 * len(labels) + 1.5))
    ax = fig.add_subplot()
    bars = ax.barh(labels[::-1], values[::-1], color="#4c72b0")
    for bar, v in zip(bars, values[::-1]):
        ax.annotate(f"{v} ({v / total:.1%})", (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    xytext=(3, 0), textcoords="offset points", va="center", fontsize=9)
    ax.set_xlabel("rows")
    ax.set_xlim(0, max(values, default=1) * 1.25)
    ax.set_title(f"{title} ({total} rows, {len(labels)} classes)")
    fig.tight_layout()
    return fig


def missing_rate_figure(profile: pd.DataFrame, top: int = 30) -> Figure:
    """Missing share of the ``top`` most incomplete columns (a note if nothing is missing)."""
    rates = profile["missing_rate"].astype(float)
    rates = rates[rates > 0].sort_values(ascending=False).head(top)
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 0.3 * len(rates) + 1.8))
    ax = fig.add_subplot()
    if rates.empty:
        ax.text(0.5, 0.5, "no missing values", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        ax.barh([str(c) for c in rates.index[::-1]], rates.values[::-1], color="#dd8452")
        ax.set_xlim(0, min(1.0, rates.max() * 1.2))
        ax.set_xlabel("missing share")
    ax.set_title("Missing values per column")
    fig.tight_layout()
    return fig


REDUNDANT_SPEARMAN = 0.999  # |rank correlation| from which two columns count as one measurement


def redundant_pairs(frame: pd.DataFrame, threshold: float = REDUNDANT_SPEARMAN,
                    max_rows: int = 20_000) -> pd.DataFrame:
    """Pairs of numeric columns that carry the same information (|Spearman| >= ``threshold``:
    one is a monotone function of the other, like a charge and the minutes it bills).

    Worth knowing before reading importances: permutation importance splits between the two
    (shuffling one leaves the other), so each looks less important than the measurement is.
    """
    import numpy as np
    numeric = frame.select_dtypes("number").loc[:, lambda f: f.nunique() > 1]
    if numeric.shape[1] < 2:
        return pd.DataFrame(columns=["column", "same_as", "spearman"])
    ranks = numeric.sample(min(len(numeric), max_rows), random_state=0).rank()
    if ranks.isna().to_numpy().any():  # pairwise-complete rows: pandas, column pair by pair
        corr = ranks.corr().to_numpy()
        i, j = np.where(np.triu(np.abs(corr) >= threshold, k=1))
        found = i, j, corr[i, j]
    else:  # one matrix product per block of columns: 5000 columns in seconds, not minutes
        found = _complete_pairs(ranks.to_numpy(), threshold)
    cols = list(numeric.columns)
    i, j, values = found
    return pd.DataFrame({"column": [cols[b] for b in j], "same_as": [cols[a] for a in i],
                         "spearman": values})


def _complete_pairs(ranks, threshold: float, block: int = 512):
    """(i, j, correlation) with i < j and |correlation| >= ``threshold``, for columns
    without missing values; memory stays at ``block`` x columns."""
    import numpy as np
    z = ranks - ranks.mean(axis=0)
    z /= np.linalg.norm(z, axis=0)
    rows, cols, values = [], [], []
    for start in range(0, z.shape[1], block):
        corr = z[:, start:start + block].T @ z
        a, b = np.where(np.abs(corr) >= threshold)
        keep = start + a < b
        rows.append(start + a[keep]); cols.append(b[keep]); values.append(corr[a[keep], b[keep]])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(values)


def redundant_sets(pairs: pd.DataFrame) -> list[list[str]]:
    """Connected sets of columns linked by ``redundant_pairs`` (a ~ b and b ~ c: {a, b, c}),
    each in the order its columns first appear in ``pairs`` (the table's order), sets
    ordered by their first column."""
    parent: dict[str, str] = {}

    def root(col: str) -> str:
        parent.setdefault(col, col)
        while parent[col] != col:
            col = parent[col]
        return col
    for r in pairs.itertuples():
        a, b = root(r.same_as), root(r.column)
        if a != b:
            parent[b] = a
    sets: dict[str, list[str]] = {}
    for col in list(parent):  # insertion order: first appearance
        sets.setdefault(root(col), []).append(col)
    return [s for s in sets.values() if len(s) > 1]


_SHUFFLE_WHY = ("shuffled alone, each hides the other's importance (the permutation importance "
                "also shuffles them together)")


def redundancy_notes(pairs: pd.DataFrame, listed: int = 3) -> list[str]:
    """Plain sentences for the run page: one per redundant pair when there are at most
    ``listed``; beyond that one sentence, so 20 pairs do not bury the other notes, with a
    drop list keeping the first column of each set."""
    if len(pairs) <= listed:
        return [f"column {r.column!r} repeats {r.same_as!r} (Spearman {r.spearman:+.3f}): "
                f"{_SHUFFLE_WHY}; if they are one measurement, drop one with "
                "preprocess.drop_columns" for r in pairs.itertuples()]
    sets = redundant_sets(pairs)
    shown = "; ".join(f"{r.column!r} repeats {r.same_as!r} ({r.spearman:+.3f})"
                      for r in pairs.head(listed).itertuples())
    drop = [col for s in sets for col in s[1:]]
    return [f"{len(pairs)} column pairs repeat each other (|Spearman| >= {REDUNDANT_SPEARMAN}) "
            f"in {_sets(len(sets))}, e.g. {shown}; all in table data/redundant_columns: "
            f"{_SHUFFLE_WHY}; if each set is one measurement, keep its first column with --set "
            f"'preprocess.drop_columns=[{', '.join(drop)}]'"]


def _sets(n: int) -> str:
    return "one set" if n == 1 else f"{n} sets"


def conflicting_rows(X: pd.DataFrame, y: pd.Series) -> int:
    """Rows whose every feature value is shared with a row of another class: no model can
    tell them apart, so they set a floor under the error (label noise, or missing features)."""
    if X.empty:
        return 0
    keys = pd.util.hash_pandas_object(X, index=False).to_numpy()
    labels = pd.Series(pd.Series(y).astype(str).to_numpy(), index=keys)
    mixed = labels.groupby(level=0).nunique()
    return int(labels.index.isin(mixed.index[mixed > 1]).sum())


def conflict_note(conflicting: int, rows: int) -> list[str]:
    if not conflicting:
        return []
    return [f"{conflicting} of {rows} training rows ({conflicting / max(rows, 1):.1%}) share every "
            "feature value with a row of another class: no model can tell them apart, so their "
            "labels put a floor under the error (label noise, or a missing feature)"]


def missingness_notes(X: pd.DataFrame, y: pd.Series, indicators: bool,
                      z_min: float = 3.0, limit: int = 3) -> list[str]:
    """Columns whose missing values go with a class beyond noise (a two-proportion z of
    ``z_min``): missing not at random, a signal that imputation alone erases."""
    y = pd.Series(y).astype(str).reset_index(drop=True)
    overall = y.value_counts(normalize=True)
    found = []
    for column in X.columns:
        missing = X[column].isna().to_numpy()
        k, n = int(missing.sum()), len(missing)
        if not 0 < k < n:
            continue
        share = y[missing].value_counts(normalize=True).reindex(overall.index, fill_value=0.0)
        rest = y[~missing].value_counts(normalize=True).reindex(overall.index, fill_value=0.0)
        se = (overall * (1 - overall) * (1 / k + 1 / (n - k))) ** 0.5
        z = ((share - rest) / se.where(se > 0)).dropna()
        if len(z) and z.max() >= z_min:  # the class missing rows over-represent
            label = z.idxmax()
            found.append((z[label], column, k / n, label, share[label], overall[label]))
    kept = ("kept as a 0/1 column (preprocess.missing_indicators)" if indicators else
            "preprocess.missing_indicators: false lets imputation erase it")
    return [f"{column} is missing in {rate:.1%} of training rows, and {share:.0%} of those "
            f"are {label!r} against {base:.0%} overall: whether it is missing carries signal, "
            f"{kept}" for _, column, rate, label, share, base in sorted(found, reverse=True)[:limit]]
