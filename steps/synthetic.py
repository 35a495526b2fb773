"""Synthetic imbalanced tables for scale benchmarks (deterministic for a given seed).

Built on ``make_classification`` and then made realistic enough to exercise the whole
preprocessing recipe: some features are turned into text categories and some cells go
missing completely at random. The target stays text labels like the real datasets.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: Parameters a synthetic card (or ``DataConfig.params``) may set, with their defaults.
DEFAULTS: dict = {
    "rows": 5000,
    "seed": 0,
    "n_features": 30,  # feature columns in total, categorical ones included
    "n_categorical": 6,
    "n_informative": 8,
    "n_redundant": 4,
    "weights": [0.9, 0.1],
    "class_sep": 1.0,
    "flip_y": 0.01,
    "missing_rate": 0.03,  # share of feature cells set missing, per column
    "missing_columns": 8,  # how many feature columns receive missing cells
    "levels": 5,  # categories per categorical column
    "labels": ["negative", "positive"],
    "target": "label",
}


def resolve_params(card_params: dict, overrides: dict | None = None) -> dict:
    """Card parameters over defaults, then overrides; unknown keys fail loudly."""
    card_params = dict(card_params or {})
    generator = card_params.pop("generator", "make_classification")
    if generator != "make_classification":
        raise ValueError(f"unsupported synthetic generator {generator!r}; only make_classification")
    params = dict(DEFAULTS)
    for source in (card_params, overrides or {}):
        unknown = sorted(set(source) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"unknown synthetic parameter(s) {unknown}; allowed: {sorted(DEFAULTS)}")
        params.update(source)
    if int(params["rows"]) < 10:
        raise ValueError(f"synthetic rows must be at least 10, got {params['rows']}")
    if len(params["labels"]) != len(params["weights"]):
        raise ValueError("synthetic 'labels' and 'weights' must have the same length")
    if not 0 <= int(params["n_categorical"]) < int(params["n_features"]):
        raise ValueError("synthetic n_categorical must be between 0 and n_features - 1")
    signal = int(params["n_informative"]) + int(params["n_redundant"])
    if signal >= int(params["n_features"]):
        raise ValueError(f"synthetic n_informative + n_redundant ({signal}) must be below "
                         f"n_features ({params['n_features']}): the rest are noise columns")
    return params


def make_imbalanced_table(params: dict) -> pd.DataFrame:
    """Generate the table described by resolved ``params`` (see ``DEFAULTS``)."""
    p = params
    rng = np.random.default_rng(int(p["seed"]))
    from sklearn.datasets import make_classification  # here: loading a card needs no sklearn
    x, y = make_classification(
        n_samples=int(p["rows"]), n_features=int(p["n_features"]),
        n_informative=int(p["n_informative"]), n_redundant=int(p["n_redundant"]),
        n_classes=len(p["labels"]), weights=list(p["weights"][:-1]) or None,
        class_sep=float(p["class_sep"]), flip_y=float(p["flip_y"]),
        shuffle=True, random_state=int(p["seed"]))
    # shuffle=True scatters informative features, so some categorical columns carry signal.
    n_cat = int(p["n_categorical"])
    n_num = int(p["n_features"]) - n_cat
    frame = pd.DataFrame(x[:, :n_num], columns=[f"num_{i:02d}" for i in range(n_num)])
    for j in range(n_cat):
        frame[f"cat_{j:02d}"] = _to_levels(x[:, n_num + j], int(p["levels"]))
    _punch_missing(frame, rng, float(p["missing_rate"]), int(p["missing_columns"]))
    labels = np.asarray([str(v) for v in p["labels"]], dtype=object)
    frame[str(p["target"])] = pd.Series(labels[y], dtype="str")
    return frame


def _to_levels(values: np.ndarray, levels: int) -> pd.Series:
    """Quantile-bin a numeric column into text levels ``L0..Lk`` (keeps its signal)."""
    edges = np.quantile(values, np.linspace(0, 1, levels + 1)[1:-1])
    codes = np.digitize(values, edges)
    return pd.Series([f"L{c}" for c in codes], dtype="str")


def _punch_missing(frame: pd.DataFrame, rng: np.random.Generator, rate: float, n_cols: int) -> None:
    """Set ``rate`` of the cells missing in ``n_cols`` evenly spaced feature columns."""
    if rate <= 0 or n_cols <= 0:
        return
    cols = list(frame.columns)
    picked = [cols[i] for i in np.linspace(0, len(cols) - 1, min(n_cols, len(cols))).astype(int)]
    for col in dict.fromkeys(picked):
        mask = rng.random(len(frame)) < rate
        frame.loc[mask, col] = np.nan
