"""Scoring new rows with a registered model: the same derivations and column types as
training, then the model's own probabilities and decisions (its stored threshold included).

A registered model is the full fitted pipeline (imputation, encoding, scaling, classifier),
so scoring needs only what happened before it: the row-wise derivations and the columns it
was fitted on. ``ScoringSpec`` is that record; it travels in the model's metadata.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from steps.columns import DataValidationError, as_text
from steps.config_types import parse_derivation
from steps.derive import apply_derivation, needed

SPEC_KEY = "scoring_spec"  # the model metadata entry that holds a ScoringSpec
PREDICTION = "predicted"
PROBA_PREFIX = "proba_"


@dataclass(frozen=True)
class ScoringSpec:
    target: str
    numeric: list[str]
    categorical: list[str]
    classes: list[str]
    derivations: list[dict] = field(default_factory=list)  # steps.config derivations, as dicts
    profile: dict = field(default_factory=dict)  # steps.drift.input_profile of the train split

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def to_json(self) -> str:
        return json.dumps({"target": self.target, "numeric": self.numeric,
                           "categorical": self.categorical, "classes": self.classes,
                           "derivations": self.derivations, "profile": self.profile})

    @classmethod
    def from_recipe(cls, recipe: dict, X_train: pd.DataFrame | None = None) -> "ScoringSpec":
        """From the prepare step's recipe.json (roles, classes, derivations); with the training
        rows, also their profile for input checks at scoring time."""
        from steps.drift import input_profile
        roles = recipe["roles"]
        numeric, categorical = list(roles["numeric"]), list(roles["categorical"])
        profile = {} if X_train is None else input_profile(X_train, numeric, categorical)
        return cls(recipe["target"], numeric, categorical, [str(c) for c in recipe["classes"]],
                   list(recipe.get("derivations") or []), profile)

    @classmethod
    def from_metadata(cls, meta: dict, model_ref: str = "the model") -> "ScoringSpec":
        raw = meta.get(SPEC_KEY)
        if not raw:
            raise DataValidationError(
                f"{model_ref} carries no {SPEC_KEY!r} metadata (it was registered before "
                "scoring was supported); run the pipeline again with --force to register one")
        return cls(**(json.loads(raw) if isinstance(raw, str) else raw))


def prepare_rows(frame: pd.DataFrame, spec: ScoringSpec) -> pd.DataFrame:
    """The model's input columns, derived and typed as in training; clear errors otherwise."""
    out = frame.copy()
    for col in (c for c in spec.numeric if c in out.columns):  # first: derivations read them
        out[col] = _as_numbers(out[col], col)
    for d in map(parse_derivation, spec.derivations):
        if needed(out, d):  # a column with nothing to fill needs no inputs
            out = apply_derivation(out, d)
    missing = [c for c in spec.features if c not in out.columns]
    if missing:
        raise DataValidationError(
            f"the table lacks {len(missing)} column(s) the model was trained on: "
            f"{', '.join(map(repr, missing))}; it has: {', '.join(map(str, out.columns))}")
    X = out[spec.features].copy()
    for col in spec.categorical:  # text, like the dataset step stores it (e.g. zip codes)
        levels = (spec.profile.get(col) or {}).get("levels")
        X[col] = _numbers_as_levels(X[col], levels) if levels else as_text(X[col])
    return X


def _numbers_as_levels(series: pd.Series, levels: list[str]) -> pd.Series:
    """A categorical column read as numbers here (a few rows of a column that held text in
    training: 1.0 for the file's "1") takes the training level of the same number; other
    values become text as usual."""
    text = as_text(series)
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return text
    by_number = {}
    for level in levels:
        number = pd.to_numeric(level, errors="coerce")
        if pd.notna(number):
            by_number.setdefault(float(number), level)
    matched = series.map(lambda v: by_number.get(float(v)) if pd.notna(v) else None)
    return matched.where(matched.notna(), text).astype("str")


def _as_numbers(series: pd.Series, col: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype):
        raise DataValidationError(f"column {col!r} holds booleans; the model expects numbers")
    values = pd.to_numeric(series, errors="coerce")
    bad = series[values.isna() & series.notna()]
    if len(bad):
        raise DataValidationError(
            f"column {col!r} must be numeric like in training; {len(bad)} value(s) are not, "
            f"e.g. {', '.join(map(repr, bad.astype(str).unique()[:3]))}")
    return values.astype(float)


def score_rows(model, frame: pd.DataFrame, spec: ScoringSpec) -> pd.DataFrame:
    """``frame`` with the model's decision (``predicted``) and one ``proba_<class>`` column
    per class appended; decisions are the model's own (``decide``, else ``predict``), so a
    tuned binary threshold or undone multiclass calibration stored with the model applies."""
    if len(frame) == 0:
        raise DataValidationError("the table has no rows to score")
    X = prepare_rows(frame, spec)
    classes = [str(c) for c in model.classes_]
    if sorted(classes) != sorted(spec.classes):
        raise DataValidationError(f"model classes {classes} differ from its record {spec.classes}")
    proba = np.asarray(model.predict_proba(X))
    out = frame.copy()
    decide = getattr(model, "decide", None)  # from the probabilities: one prediction, not two
    out[PREDICTION] = np.asarray(decide(proba) if decide else model.predict(X)).astype(str)
    for i, c in enumerate(classes):
        out[PROBA_PREFIX + c] = proba[:, i]
    return out


def not_most_probable(scored: pd.DataFrame, classes) -> int:
    """Rows whose decision is not their most probable class: calibrated probabilities estimate
    frequencies, while decisions keep the class weighting (or threshold) tuned for the metric."""
    top = scored[[PROBA_PREFIX + str(c) for c in classes]].idxmax(axis=1)
    top = top.str.removeprefix(PROBA_PREFIX)
    return int((top != scored[PREDICTION]).sum())


def agreement(scored: pd.DataFrame, target: str) -> dict | None:
    """Accuracy and macro-F1 of the decisions when the table also holds known labels."""
    if target not in scored.columns:
        return None
    from sklearn.metrics import accuracy_score, f1_score
    known = scored[scored[target].notna()]
    if known.empty:
        return None
    y, pred = known[target].astype(str), known[PREDICTION]
    out = {"rows": int(len(known)), "accuracy": float(accuracy_score(y, pred)),
           "macro_f1": float(f1_score(y, pred, average="macro"))}
    from steps.conformal import SEPARATOR, SET_COLUMN
    if SET_COLUMN in known:  # how often the prediction sets held the true class
        sets = known[SET_COLUMN].fillna("").astype(str).str.split(SEPARATOR, regex=False)
        out["set_coverage"] = float(np.mean([label in s for label, s in zip(y, sets)]))
    return out
