"""Optuna tuning of one model family with honest (pipeline-inside-CV) scores.

A seeded TPE study; every trial cross-validates the whole imblearn pipeline on
fixed stratified folds, reporting the running mean after each fold so a
MedianPruner can stop weak trials early. Failed trials are recorded with their
reason and never stop the study. The best config is refit on all rows.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from steps.config import PreprocessConfig, TrainConfig
from steps.cost import plan_rows, starting_config
from steps.models import FAMILIES
from steps.objective import Objective, score
from steps.recipe import infer_roles
from steps.search_space import nothing_to_search, starting_trials
from steps.subsample import nested_sample
from steps.time_folds import is_row_times
from steps.study import _Budget, _folds, _make_study, _report, trials_table

__all__ = ["TuneResult", "TuningSession", "cap_rows", "score", "tune_family"]

log = logging.getLogger(__name__)


@dataclass
class TuneResult:
    family: str
    metric: str
    best_params: dict
    best_imbalance: str
    best_score: float
    best_score_std: float
    n_trials_completed: int
    n_trials_failed: int
    n_trials_pruned: int
    trials: pd.DataFrame
    model: object  # fitted imblearn Pipeline (refit on all rows used)
    oof_proba: np.ndarray  # (n_rows_used, n_classes), columns ordered as ``classes``
    classes: list
    fit_seconds: float
    notes: list[str] = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    n_rows_used: int = 0  # rows the final model was fit on (< len(X) under a row cap)
    # positions in X of the oof_proba rows: the tuned rows that a fold scored (all of them
    # unless row-capped or, under forward-chaining CV, in the first period)
    row_index: np.ndarray | None = None
    cv_folds: int = 0
    cv_forward: bool = False  # forward-chaining folds (steps.time_folds.forward_folds)
    session: object = None  # the TuningSession, for ``tune_family(resume=...)``
    refit_seconds: float | None = None  # the last refit of the best config


def cap_rows(X: pd.DataFrame, y: pd.Series, cap: int | None, seed: int, quiet: bool = False):
    """Stratified subsample down to ``cap`` rows, nested across caps of the same rows
    (``steps.subsample``); returns (X, y, note or None)."""
    if cap is None or len(X) <= cap:
        return X, y, None
    keep = nested_sample(pd.Series(np.asarray(y), index=X.index), cap, seed)
    X_s, y_s = X.iloc[keep], y.iloc[keep]
    note = f"row cap: tuned and fit on a stratified {cap} of {len(X)} rows"
    if not quiet:
        log.warning(note)
    return X_s, y_s, note


def tune_family(family: str, X: pd.DataFrame, y: pd.Series, prep_cfg: PreprocessConfig,
                train_cfg: TrainConfig, *, timeout_s: float | None = None,
                n_trials: int | None = None, on_trial=None,
                roles: dict[str, list[str]] | None = None,
                resume: "TuningSession | None" = None,
                class_order: list | None = None, groups=None) -> TuneResult:
    """Tune ``family`` on (X, y), refit the best config on all rows.

    Budget: ``n_trials`` (default ``train_cfg.n_trials``) and ``timeout_s``
    seconds of wall clock for the whole call incl. the refit (default
    ``train_cfg.timeout_s``; ``math.inf`` disables it). ``resume``: the ``session`` of
    an earlier result, to go on with the same study (same rows and folds, TPE keeps its
    history) instead of starting a new one; X, y and the configs are then ignored.
    ``class_order``: the target's classes lowest first, when they are ordered; families that
    can (``FamilySpec.ordinal``) then search a cumulative decomposition (``steps.ordinal``).
    ``groups``: one group label per row; CV folds then keep each group's rows together.
    """
    start = time.monotonic()
    n_trials = train_cfg.n_trials if n_trials is None else n_trials
    timeout_s = train_cfg.timeout_s if timeout_s is None else timeout_s
    budget = None if timeout_s is None or math.isinf(timeout_s) else float(timeout_s)
    session = resume or TuningSession(family, X, y, prep_cfg, train_cfg, budget, roles,
                                      class_order, groups)
    session.objective.deadline = None if budget is None else start + budget
    if session.all_fixed:  # train.search fixed every parameter: one trial says it all
        n_trials = 0 if any(t.state.name != "WAITING" for t in session.study.trials) else 1
    session.study.optimize(session.objective, n_trials=n_trials, catch=(Exception,),
                           callbacks=[_report(on_trial, family), _Budget(budget, start,
                                                                 len(session.objective.folds),
                                                                 session.objective.refit_factor)])
    return session.finish(start)


def family_rows(family: str, X: pd.DataFrame, y, train_cfg, quiet: bool = False):
    """(X, y, notes) that ``family`` is tuned on: its ``train.max_rows`` cap applied
    (stratified, seeded: the same rows in every process). Custom families are registered
    first; an unknown family fails with the known ones."""
    if train_cfg.custom_families:  # imported here: where the family is trained
        from steps.custom_families import register
        register(train_cfg.custom_families)
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {sorted(FAMILIES)}")
    X, y = X.reset_index(drop=True), pd.Series(y).reset_index(drop=True)
    cap = train_cfg.max_rows.get(family, FAMILIES[family].row_cap)
    X, y, note = cap_rows(X, y, cap, train_cfg.seed, quiet=quiet)
    return X, y, [note] if note else []


def objective_on(family: str, X: pd.DataFrame, y: pd.Series, roles, prep_cfg, train_cfg,
                 class_order, groups, notes: list[str]) -> tuple[Objective, np.ndarray]:
    """The objective on rows chosen from the caller's (their index: positions there, which
    caps keep), with its seeded folds, and those positions. ``groups``: the caller's, one per
    row. A note is added when the folds had to be fewer."""
    row_index = X.index.to_numpy()
    X, y = X.reset_index(drop=True), y.reset_index(drop=True)
    if groups is not None:  # the chosen rows' groups, by position
        groups = np.asanyarray(groups)[row_index]  # row times stay row times
    forward = train_cfg.time_cv == "forward" and is_row_times(groups)
    folds = _folds(y, train_cfg.cv_folds, train_cfg.seed, notes, groups, forward=forward)
    return Objective(family, X, y, roles, prep_cfg, train_cfg, folds,
                     sorted(pd.unique(y).tolist()), class_order, forward), row_index


class TuningSession:
    """A family's study with its rows, folds and refit rows: what a later budget round
    resumes. Opening one applies the row caps and the trial-cost guard."""

    def __init__(self, family, X, y, prep_cfg, train_cfg, budget, roles,
                 class_order=None, groups=None) -> None:
        X, y, self.notes = family_rows(family, X, y, train_cfg)
        roles = roles or infer_roles(X)
        overrides = train_cfg.search.get(family, {})
        plan = plan_rows(family, X, y, roles, prep_cfg, train_cfg, budget, train_cfg.cv_folds,
                         *starting_config(family, prep_cfg, overrides, roles))
        self.refit_data, self.cost_capped = (X, y), bool(plan.rows)
        if plan.rows:  # a single trial on every row would overrun the budget
            if plan.refit_rows:
                self.refit_data = cap_rows(X, y, plan.refit_rows, train_cfg.seed, quiet=True)[:2]
            X, y, _ = cap_rows(X, y, plan.rows, train_cfg.seed, quiet=True)
            self.notes.append(plan.note)
        self.objective, self.row_index = objective_on(family, X, y, roles, prep_cfg, train_cfg,
                                                      class_order, groups, self.notes)
        folds = self.objective.folds
        # refit time / one fold's fit time: ~ a bit over a fold unless the cost guard measured it
        self.objective.refit_factor = plan.refit_factor(len(folds)) or 1.25
        self.study = _make_study(train_cfg.seed, len(folds))
        for params in starting_trials(family, prep_cfg, bool(self.objective.class_order),
                                      overrides, self.objective.first_k):
            self.study.enqueue_trial(params)
        self.all_fixed = nothing_to_search(family, overrides, bool(self.objective.class_order),
                                           bool(prep_cfg.imbalance.search),
                                           self.objective.select_choices)
        if self.all_fixed:
            self.notes.append("train.search fixes every parameter: one trial, no search")
        self._refit_model = None  # the refit of trial ``objective.refit_done``
        self.refit_seconds: float | None = None

    def finish(self, start: float) -> TuneResult:
        return _finish(self, start)


REPEAT_NOTE = "repeated a scored configuration"


def repeat_note(study) -> list[str]:
    """How many trials reused an earlier score, and whether the search stopped converged."""
    repeats = sum("repeat_of" in t.user_attrs for t in study.trials)
    if not repeats:
        return []
    stopped = any("converged" in str(t.user_attrs.get("stop_reason", "")) for t in study.trials)
    return [f"{repeats} of {len(study.trials)} trials {REPEAT_NOTE} (score reused, not "
            "recomputed)" + ("; the search stopped: converged" if stopped else "")]


def _finish(session: TuningSession, start: float) -> TuneResult:
    # drawn here only: matplotlib's import would cost each trial task ~0.4 s otherwise
    from steps.tuning_plots import history_figure, importance_figure

    study, objective, notes = session.study, session.objective, session.notes
    states = [t.state.name for t in study.trials]
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    if not complete:
        reasons = sorted({t.user_attrs.get("error", t.state.name) for t in study.trials})
        raise RuntimeError(f"{objective.family}: no trial completed; reasons: {reasons}")
    best = study.best_trial
    notes = session.notes = [n for n in notes if REPEAT_NOTE not in n] + repeat_note(study)
    params = {k: v for k, v in best.params.items() if k != "imbalance"}
    imbalance = best.params.get("imbalance", objective.prep_cfg.imbalance.strategy)
    (X, y), cfg = session.refit_data, objective.train_cfg
    if objective.refit_done == best.number:
        model = session._refit_model  # a resumed study found nothing better: same refit
    else:
        refit_start = time.monotonic()
        model = objective.fit_model(params, imbalance, X, y)
        session._refit_model, session.refit_seconds = model, time.monotonic() - refit_start
        objective.refit_done = best.number
    oof = objective.best_oof if math.isclose(objective.best_value, best.value) else None
    if oof is None:  # cannot happen with a single study, kept for safety
        oof = np.zeros((len(objective.y), len(objective.classes)))
        for tr, va in objective.folds:
            oof[va] = objective.fit_fold(params, imbalance, tr, va)
    oof, _, row_index = objective.covered(oof, session.row_index)
    return TuneResult(
        family=objective.family, metric=cfg.metric, best_params=params, best_imbalance=imbalance,
        best_score=float(best.value), best_score_std=float(best.user_attrs.get("score_std", 0.0)),
        n_trials_completed=states.count("COMPLETE"), n_trials_failed=states.count("FAIL"),
        n_trials_pruned=states.count("PRUNED"), trials=trials_table(study), model=model,
        oof_proba=oof, classes=list(objective.classes), fit_seconds=time.monotonic() - start,
        notes=notes, figures={"optimization_history": history_figure(study, cfg.metric),
                              "param_importance": importance_figure(study)},
        n_rows_used=len(y), row_index=row_index, cv_folds=len(objective.folds),
        cv_forward=objective.forward,
        session=session, refit_seconds=session.refit_seconds)
