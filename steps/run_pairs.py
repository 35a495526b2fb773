"""Two runs on the same test rows, compared with a paired bootstrap.

A single test split of a few hundred rows moves a macro-F1 by about +-0.01 between equally
good models, so "B scored 0.008 more than A" means little on its own. When both runs were
scored on the same frozen split, their stored test predictions are scored on the same
resamples and the interval is that of the *gap* (``steps.paired``), which says whether a
setting changed the result beyond the split's noise.

The validate step stores every fully scored family's test predictions as one table
(``predictions_table``): a ``row`` column with the prepared test rows' index, ``y_true``,
and per family ``pred/<family>`` plus ``proba/<family>/<class>``.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from steps.paired import gain_verdict, paired_difference

ARTIFACT = "test_predictions"  # the validate step's artifact holding the table
PRED, PROBA = "pred/", "proba/"


def predictions_table(predictions: Mapping[str, tuple | None], y_test, rows: Sequence) -> pd.DataFrame:
    """One table of the test predictions: ``predictions`` maps family -> ``(y_pred, proba,
    classes)`` on every test row, or None for a family scored on a sample (left out)."""
    columns = {"row": np.asarray(rows), "y_true": np.asarray(y_test, dtype=str)}
    for family, scored in predictions.items():
        if scored is None:
            continue
        pred, proba, classes = scored
        columns[PRED + family] = np.asarray(pred, dtype=str)
        proba = np.asarray(proba, dtype=np.float32)
        for i, c in enumerate(classes):
            columns[f"{PROBA}{family}/{c}"] = proba[:, i]
    return pd.DataFrame(columns)


def families_in(table: pd.DataFrame) -> list[str]:
    return [c[len(PRED):] for c in table.columns if c.startswith(PRED)]


def scored(table: pd.DataFrame, family: str, classes: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """(decisions, probabilities in ``classes`` order) of one family in the table."""
    names = [f"{PROBA}{family}/{c}" for c in classes]
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise ValueError(f"{family}: no stored probabilities for {missing}")
    return table[PRED + family].to_numpy(dtype=object), table[names].to_numpy(dtype=float)


def same_rows(table_a: pd.DataFrame, table_b: pd.DataFrame) -> str | None:
    """Why the two tables cannot be paired, or None when they hold the same test rows."""
    if len(table_a) != len(table_b):
        return f"A has {len(table_a)} test rows, B {len(table_b)}"
    if not np.array_equal(table_a["row"].to_numpy(), table_b["row"].to_numpy()):
        return "the test rows differ"
    if not np.array_equal(table_a["y_true"].to_numpy(), table_b["y_true"].to_numpy()):
        return "the test rows' labels differ"
    return None


def _gain(y, b: tuple, a: tuple, classes, metric, n, beta, positive_label, costs) -> dict:
    """B's paired gain over A, as a dict with its verdict."""
    if costs:
        from steps.error_costs import decision_cost_saving
        gain = decision_cost_saving(y, b[0], a[0], classes, costs, n)
    else:
        gain = paired_difference(y, b, a, classes, metric, n=n, beta=beta,
                                 positive_label=positive_label)
    return {**gain.to_dict(), "verdict": gain_verdict(gain.ci_low, gain.ci_high, better="B")}


def classes_of(table: pd.DataFrame, family: str) -> list[str]:
    prefix = f"{PROBA}{family}/"
    return [c[len(prefix):] for c in table.columns if c.startswith(prefix)]


def paired_runs(table_a: pd.DataFrame, table_b: pd.DataFrame, winner_a: str, winner_b: str,
                metric: str, *, n: int = 1000, beta: float = 1.0,
                positive_label=None, costs=None) -> dict:
    """B - A on the same test rows: B's winner against A's winner, and each family both runs
    scored on every row against itself. Gains are positive when B is better (for losses and,
    with ``costs``, in cost saved per row). Raises ValueError when the rows differ."""
    why = same_rows(table_a, table_b)
    if why:
        raise ValueError(f"not the same test rows: {why}")
    if n < 1:
        raise ValueError(f"a paired bootstrap needs at least one resample, got n={n}")
    in_a, in_b = set(families_in(table_a)), families_in(table_b)
    if winner_a not in in_a or winner_b not in in_b:
        raise ValueError(f"the winners' predictions are missing (A: {winner_a}, B: {winner_b})")
    classes = classes_of(table_b, winner_b)  # scored() checks that A stores the same ones
    y = table_b["y_true"].to_numpy(dtype=object)

    def gain(family_b, family_a):
        return _gain(y, scored(table_b, family_b, classes), scored(table_a, family_a, classes),
                     classes, metric, n, beta, positive_label, costs)
    return {"rows": len(y), "in": "expected_cost" if costs else metric,
            "winner": gain(winner_b, winner_a),
            "families": {f: gain(f, f) for f in in_b if f in in_a}}

