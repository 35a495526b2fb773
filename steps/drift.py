"""Do the rows being scored look like the rows the model was trained on?

A model scores anything with the right columns, silently: a unit change (grams for
kilograms), a new category, or a column that stopped being filled all produce confident
predictions. ``input_profile`` records, per model input column, what the training split held
(numeric range, categorical levels, missing rate); it travels with the model in its scoring
spec. ``check_inputs`` compares new rows with it and names the columns that differ. Findings
inform; they never block scoring.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from steps.columns import as_text

MAX_LEVELS = 200  # above this a column's levels are not stored (nor checked): metadata stays small
MIN_SHARE = 0.01  # below 1% of rows a difference is noise (new rows fall outside a range by chance)
MISSING_MARGIN = 0.05  # a missing rate this much above training's is a finding


def input_profile(X: pd.DataFrame, numeric, categorical) -> dict:
    """Per input column, what the training rows held (JSON-ready)."""
    profile = {}
    for col in numeric:
        values = pd.to_numeric(X[col], errors="coerce")
        present = values.dropna()
        profile[col] = {"kind": "numeric", "missing": float(values.isna().mean()),
                        "min": float(present.min()) if len(present) else None,
                        "max": float(present.max()) if len(present) else None}
    for col in categorical:
        text = as_text(X[col])
        levels = text.dropna().unique()
        profile[col] = {"kind": "categorical", "missing": float(text.isna().mean()),
                        "levels": sorted(map(str, levels)) if len(levels) <= MAX_LEVELS else None}
    return profile


def _finding(col: str, issue: str, share: float, detail: str) -> dict:
    return {"column": col, "issue": issue, "share": float(share), "detail": detail}


def _numeric(col: str, values: pd.Series, p: dict) -> list[dict]:
    values = pd.to_numeric(values, errors="coerce")
    present = values.dropna()
    if p["min"] is None or present.empty:
        return []
    outside = ((present < p["min"]) | (present > p["max"])).mean()
    if outside < MIN_SHARE:
        return []
    lo, hi, new_lo, new_hi = _digits_enough([p["min"], p["max"], present.min(), present.max()])
    return [_finding(col, "out_of_range", outside,
                     f"{outside:.1%} of values outside the training range "
                     f"[{lo}, {hi}] (new rows: {new_lo} to {new_hi})")]


def _digits_enough(values: list[float]) -> list[str]:
    """The values with 4 significant digits, or more where 4 would print two different values
    alike (a new minimum just below the training one)."""
    for digits in range(4, 16):
        text = [f"{float(v):.{digits}g}" for v in values]
        if len(set(text)) == len({float(v) for v in values}):
            return text
    return [repr(float(v)) for v in values]


def _categorical(col: str, values: pd.Series, p: dict) -> list[dict]:
    if p["levels"] is None:
        return []
    present = as_text(values).dropna()
    unseen = present[~present.isin(set(p["levels"]))]
    share = len(unseen) / len(present) if len(present) else 0.0
    if share < MIN_SHARE:
        return []
    examples = ", ".join(map(repr, unseen.value_counts().index[:3]))
    return [_finding(col, "unseen_levels", share,
                     f"{share:.1%} of values are levels training never saw, e.g. {examples}")]


def _missing(col: str, values: pd.Series, p: dict) -> list[dict]:
    rate, base = float(values.isna().mean()), p["missing"]
    # a small batch's missing rate scatters around training's: 3 binomial SDs are chance
    chance = 3 * np.sqrt(base * (1 - base) / max(len(values), 1))
    if rate < MIN_SHARE or rate < base + max(MISSING_MARGIN, chance):
        return []
    return [_finding(col, "missing", rate,
                     f"missing in {rate:.1%} of rows (training: {p['missing']:.1%}); "
                     "imputation fills them")]


def check_inputs(X: pd.DataFrame, profile: dict) -> list[dict]:
    """Columns of ``X`` that differ from the training profile, the largest share first."""
    findings = []
    for col, p in profile.items():
        if col not in X.columns:
            continue  # scoring already insists on every input column
        check = _numeric if p["kind"] == "numeric" else _categorical
        findings += check(col, X[col], p) + _missing(col, X[col], p)
    return sorted(findings, key=lambda f: -f["share"])


def summary(findings: list[dict], rows: int, limit: int = 5) -> list[str]:
    """Lines for a terminal: what differs, the largest first."""
    if not findings:
        return []
    lines = [f"input check: {len({f['column'] for f in findings})} column(s) of the {rows} "
             "scored rows differ from the training rows; check them before trusting the predictions:"]
    lines += [f"  {f['column']}: {f['detail']}" for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"  ... and {len(findings) - limit} more")
    return lines

