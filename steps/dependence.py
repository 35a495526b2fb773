"""Partial dependence: how the predicted class probabilities move as one input varies, the
other inputs as observed. Permutation importance says which columns matter; this says in
which direction and over which range.

For each of the most important columns, every sampled row is scored once per grid value of
that column (quantiles for numbers, the most frequent levels for categories), and the
probabilities are averaged. All grid copies go to one ``predict_proba`` call, and the row
sample is sized from the measured prediction speed, so slow models (k-NN, SVM) stay cheap.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from steps.figures import new_figure

GRID = 16  # values per numeric column (5th to 95th percentile)
MAX_LEVELS = 12  # most frequent levels per categorical column
MAX_ROWS, MIN_ROWS = 300, 50
BUDGET_S = 5.0  # prediction time the whole table may take


def grid_values(series: pd.Series) -> list:
    """The values a column is set to: its quantiles, or its distinct values when few."""
    present = series.dropna()
    if present.empty:
        return []
    if not pd.api.types.is_numeric_dtype(present.dtype) or pd.api.types.is_bool_dtype(present.dtype):
        return list(present.value_counts().index[:MAX_LEVELS])
    distinct = np.sort(present.unique())
    if len(distinct) <= GRID:
        return distinct.tolist()
    return np.unique(np.quantile(present.to_numpy(dtype=float), np.linspace(0.05, 0.95, GRID))).tolist()


def affordable_rows(per_row_s: float, features: int) -> int:
    """Rows to sample so that features x GRID copies of them predict within BUDGET_S."""
    copies = max(features, 1) * GRID
    return int(np.clip(BUDGET_S / (max(per_row_s, 1e-9) * copies), MIN_ROWS, MAX_ROWS))


def dependence_table(model, X: pd.DataFrame, features: Sequence[str], rows: int = MAX_ROWS,
                     seed: int = 0) -> pd.DataFrame:
    """One row per (feature, grid value): the mean probability of each class
    (``proba_<class>`` columns, in ``model.classes_`` order)."""
    sample = X.sample(min(len(X), rows), random_state=seed) if len(X) > rows else X
    keys, copies = [], []
    for feature in features:
        for value in grid_values(sample[feature]):
            keys.append((feature, value))
            copies.append(sample.assign(**{feature: value}))
    classes = [str(c) for c in model.classes_]
    if not keys:
        return pd.DataFrame(columns=["feature", "value", *(f"proba_{c}" for c in classes)])
    proba = np.asarray(model.predict_proba(pd.concat(copies, ignore_index=True)), dtype=float)
    means = proba.reshape(len(keys), len(sample), len(classes)).mean(axis=1)
    table = pd.DataFrame(means, columns=[f"proba_{c}" for c in classes])
    table.insert(0, "feature", [k[0] for k in keys])
    table.insert(1, "value", [k[1] for k in keys])
    return table


def dependence_figure(table: pd.DataFrame, positive_label=None):
    """One panel per feature; a line per class (binary: the positive class only)."""
    features = list(dict.fromkeys(table["feature"]))
    columns = [c for c in table.columns if c.startswith("proba_")]
    if positive_label is not None:
        columns = [f"proba_{positive_label}"]
    ncols = min(2, len(features))
    nrows = -(-len(features) // ncols)
    fig, axes = new_figure(5.0 * ncols, 3.6 * nrows, nrows, ncols)
    for ax, feature in zip(axes.flat, features):
        part = table[table["feature"] == feature]
        numeric = pd.api.types.is_numeric_dtype(pd.Series(list(part["value"])).dtype)
        x = part["value"].astype(float) if numeric else np.arange(len(part))
        for col in columns:  # levels are not ordered: markers, no connecting line
            ax.plot(x, part[col], marker="" if numeric else "o", linestyle="-" if numeric else "",
                    label=col.removeprefix("proba_"))
        if not numeric:
            ax.set_xticks(x, [str(v) for v in part["value"]], rotation=45, ha="right")
        elif x.min() > 0 and x.max() / x.min() > 100:  # counts, sizes: spread the crowded left
            ax.set_xscale("log")
        ax.set(xlabel=str(feature), ylabel="mean predicted probability")
    for ax in list(axes.flat)[len(features):]:
        ax.set_visible(False)
    axes.flat[0].legend(title="class", fontsize=8)
    fig.suptitle("Partial dependence on test rows (other inputs as observed)")
    return fig
