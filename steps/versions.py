"""What changed between two versions of a dataset: rows, columns, classes and each column's
profile, so a new version says how it differs from its parent instead of only that it does.

Rows are compared as a multiset of whole-row hashes over the columns both versions share,
so reordering is not a change and an edited row counts as one removed and one added.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from steps.columns import is_numeric

SHIFT_FLAG = 0.1  # a column is flagged when its mean moves by this many parent std. devs
MISSING_FLAG = 0.02  # ...or its missing rate by this much


def _row_hashes(frame: pd.DataFrame, columns: list[str]) -> Counter:
    if not columns or frame.empty:
        return Counter()
    return Counter(pd.util.hash_pandas_object(frame[columns], index=False).to_numpy().tolist())


def _column_change(name: str, old: pd.Series, new: pd.Series) -> dict:
    row = {"column": name, "missing_before": float(old.isna().mean()),
           "missing_after": float(new.isna().mean()), "mean_shift_sd": np.nan,
           "new_levels": 0, "dtype_before": str(old.dtype), "dtype_after": str(new.dtype)}
    if is_numeric(old) and is_numeric(new):
        sd = float(old.std()) if old.notna().sum() > 1 else 0.0
        if sd > 0 and new.notna().any():
            row["mean_shift_sd"] = (float(new.mean()) - float(old.mean())) / sd
    else:
        seen = set(old.dropna().astype(str))
        row["new_levels"] = int(len(set(new.dropna().astype(str)) - seen))
    shift = abs(row["mean_shift_sd"]) if np.isfinite(row["mean_shift_sd"]) else 0.0
    row["changed"] = bool(shift >= SHIFT_FLAG or row["new_levels"] > 0
                          or abs(row["missing_after"] - row["missing_before"]) >= MISSING_FLAG
                          or row["dtype_before"] != row["dtype_after"])
    return row


def version_diff(parent: pd.DataFrame, new: pd.DataFrame, target: str) -> dict:
    """Rows kept, added and removed; columns added and removed; class counts before and after;
    one profile row per shared column (``changes``), flagged when it moved noticeably."""
    shared = [c for c in new.columns if c in parent.columns]
    before, after = _row_hashes(parent, shared), _row_hashes(new, shared)
    kept = sum((before & after).values())
    counts = {}
    for label, frame in (("before", parent), ("after", new)):
        if target in frame.columns:
            counts[label] = {str(k): int(v) for k, v in
                             frame[target].astype(str).value_counts().sort_index().items()}
    changes = [_column_change(c, parent[c], new[c]) for c in shared]
    return {"rows_before": int(len(parent)), "rows_after": int(len(new)), "rows_kept": int(kept),
            "rows_added": int(len(new) - kept), "rows_removed": int(len(parent) - kept),
            "columns_added": [c for c in new.columns if c not in parent.columns],
            "columns_removed": [c for c in parent.columns if c not in new.columns],
            "class_counts": counts, "changes": changes}


def describe_diff(diff: dict) -> list[str]:
    """The diff in a few sentences, most important first."""
    added, removed = diff["rows_added"], diff["rows_removed"]
    # rows have no identity across versions: an edited row is an old one gone and a new one
    both = " (an edited row counts in both)" if added and removed else ""
    lines = [f"rows {diff['rows_before']} -> {diff['rows_after']}: {diff['rows_kept']} kept, "
             f"{added} {'new or edited' if both else 'added'}, "
             f"{removed} {'removed or edited' if both else 'removed'}{both}"]
    for key, verb in (("columns_added", "added"), ("columns_removed", "removed")):
        if diff[key]:
            lines.append(f"columns {verb}: {', '.join(map(str, diff[key]))}")
    counts = diff["class_counts"]
    if counts.get("before") != counts.get("after"):
        classes = sorted(set(counts.get("before", {})) | set(counts.get("after", {})))
        lines.append("classes: " + ", ".join(
            f"{c} {counts.get('before', {}).get(c, 0)} -> {counts.get('after', {}).get(c, 0)}"
            for c in classes))
    for row in diff["changes"]:
        if row["changed"]:
            lines.append(_describe_column(row))
    return lines


def _describe_column(row: dict) -> str:
    parts = []
    if row["dtype_before"] != row["dtype_after"]:
        parts.append(f"type {row['dtype_before']} -> {row['dtype_after']}")
    if np.isfinite(row["mean_shift_sd"]) and abs(row["mean_shift_sd"]) >= SHIFT_FLAG:
        parts.append(f"mean moved {row['mean_shift_sd']:+.2f} sd")
    if row["new_levels"]:
        parts.append(f"{row['new_levels']} new levels")
    if abs(row["missing_after"] - row["missing_before"]) >= MISSING_FLAG:
        parts.append(f"missing {row['missing_before']:.1%} -> {row['missing_after']:.1%}")
    return f"column {row['column']}: " + "; ".join(parts)
