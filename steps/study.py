"""Optuna study plumbing for ``steps.tuning``: the seeded study, stratified folds, the
wall-clock budget callback, per-trial reporting and the trials table."""
from __future__ import annotations

import logging
import time

import numpy as np
import optuna
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from steps.time_folds import block_labels, forward_folds, is_row_times, purge_gap

log = logging.getLogger("steps.tuning")


class _Budget:
    """Stops the study when one more trial plus the final refit would overrun
    the wall-clock budget (Optuna's own timeout only checks between trials)."""

    def __init__(self, budget_s: float | None, start: float, n_folds: int,
                 refit_factor: float = 1.25):
        self.budget_s, self.start, self.n_folds = budget_s, start, n_folds
        self.refit_factor = refit_factor  # refit time / one fold's fit time

    def __call__(self, study, trial):
        if self.budget_s is None or trial.duration is None:
            return
        done = [t.duration.total_seconds() for t in study.trials
                if t.duration is not None and "repeat_of" not in t.user_attrs]  # repeats are free
        if not done:
            return
        per_trial = float(np.median(done))
        refit = per_trial / self.n_folds * self.refit_factor
        if time.monotonic() - self.start + per_trial + refit > self.budget_s:
            study.stop()


def _report(on_trial, family: str = ""):
    def callback(study, t):
        row = {"number": t.number, "state": t.state.name, "value": t.value,
               "params": dict(t.params),
               "duration": t.duration.total_seconds() if t.duration else None,
               "error": t.user_attrs.get("error"), "repeat_of": t.user_attrs.get("repeat_of"),
               "best": _best_value(study)}
        if t.state.name == "FAIL":
            log.warning("%s trial %d failed: %s", family, t.number, row["error"])
        if on_trial is not None:
            try:
                on_trial(row)
            except Exception:  # a reporting hiccup must not end the study
                log.exception("on_trial callback failed for trial %d", t.number)
    return callback


def _best_value(study) -> float | None:
    try:
        return float(study.best_value)
    except ValueError:  # no complete trial yet
        return None


def trials_table(study) -> pd.DataFrame:
    rows = []
    for t in study.trials:
        rows.append({"number": t.number, "state": t.state.name, "value": t.value,
                     "score_std": t.user_attrs.get("score_std"),
                     "duration_s": t.duration.total_seconds() if t.duration else None,
                     "error": t.user_attrs.get("error"),
                     "stop_reason": t.user_attrs.get("stop_reason"),
                     "repeat_of": t.user_attrs.get("repeat_of"),
                     **{f"param_{k}": v for k, v in t.params.items()}})
    return pd.DataFrame(rows)


SHORT_SEARCH = 5  # fewer scored configurations than this: TPE has hardly started
WORTHWHILE_SEARCH = 20  # configurations the advice sizes the time limit for


def short_search_note(trials: pd.DataFrame, n_trials: int, timeout_s: float | None) -> str | None:
    """Advice when the time limit, not ``n_trials``, ended a search after so few scored
    configurations that it barely left the starting one (six families sharing two cores
    can get one or two trials each in 60 s); None when the search had room."""
    if timeout_s is None or trials.empty or len(trials) >= n_trials:
        return None
    if trials["stop_reason"].astype(str).str.contains("converged").any():
        return None
    scored = trials[(trials["state"] == "COMPLETE") & trials["repeat_of"].isna()]
    if len(scored) >= SHORT_SEARCH or scored["duration_s"].isna().all():
        return None
    each = float(scored["duration_s"].mean())
    what = "configuration" if len(scored) == 1 else "configurations"
    return (f"only {len(scored)} {what} cross-validated in train.timeout_s="
            f"{timeout_s:g} s (~{each:.0f} s each here): the search hardly left its starting "
            f"point; about {each * WORTHWHILE_SEARCH:.0f} s would score {WORTHWHILE_SEARCH}, "
            "as would fewer train.cv_folds or fewer families sharing the cores")


def _make_study(seed: int, n_folds: int) -> optuna.Study:
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=8, multivariate=True)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=min(1, n_folds - 1))
    return optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)


def _folds(y: pd.Series, n_folds: int, seed: int, notes: list[str], groups=None,
           forward: bool = False):
    """Stratified k-fold; with ``groups``, stratified group k-fold (a group's rows share a fold);
    with row times as groups, blocks of time (``time_folds.block_labels``), chained forward with
    ``forward`` (``time_folds.forward_folds``), less the labels' gap (``time_folds.purge_gap``)."""
    if forward and is_row_times(groups):
        return forward_folds(groups, y, n_folds, notes)
    times, groups = groups, block_labels(groups)
    if groups is None:
        limit, what = int(y.value_counts().min()), "smallest class"
        if limit < 2:
            raise ValueError(f"a class has {limit} row: stratified CV needs at least 2 per class")
    else:
        limit, what = int(pd.Series(groups).nunique()), "number of groups"
        if limit < 2:
            raise ValueError(f"group CV needs at least 2 groups, the training rows have {limit}")
    if limit < n_folds:
        notes.append(f"cv folds reduced {n_folds} -> {limit} ({what})")
        n_folds = limit
    kind = StratifiedKFold if groups is None else StratifiedGroupKFold
    splitter = kind(n_splits=n_folds, shuffle=True, random_state=seed)
    folds = list(splitter.split(np.zeros(len(y)), y,
                                None if groups is None else np.asarray(groups)))
    return purge_gap(folds, times, y, notes)
