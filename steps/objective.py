"""The Optuna objective of one family: the whole imblearn pipeline cross-validated on fixed
folds, the running mean reported after each fold so a pruner can stop weak trials, a trial
that cannot finish by the deadline stopped, and a repeated configuration answered from the
earlier trial's score instead of being cross-validated again."""
from __future__ import annotations

import math
import time
import warnings

import numpy as np
import optuna
import pandas as pd
from threadpoolctl import threadpool_limits

from steps.metrics import metric_value, minority_label
from steps.models import FAMILIES
from steps.recipe import build_model_pipeline
from steps.search_space import ORDINAL_CHOICES, ConstrainedTrial, searches_ordinal
from steps.selection import PARAM as SELECT_K, first_k, select_choices

# TPE re-proposes configurations it has already scored once a discrete space (k-NN's) is
# mostly explored; this many repeats in a row means it has nothing new left to try
REPEATS_TO_STOP = 20


def score(metric: str, y_true, proba: np.ndarray, classes, beta: float = 1.0,
          positive_label=None) -> float:
    """Primary metric of argmax predictions and probabilities (columns ordered as
    ``classes``), with the evaluation step's conventions (``steps.metrics``) so
    CV and test scores mean the same thing; binary positive = training minority."""
    classes = list(classes)
    pred = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    return metric_value(metric, y_true, pred, proba, classes, beta,
                        positive_label=positive_label)


def _proba_in_order(model, X, classes) -> np.ndarray:
    """predict_proba with columns reordered to ``classes`` (a fold can only lack a
    class if the data is degenerate; missing columns get zero probability)."""
    proba = model.predict_proba(X)
    out = np.zeros((len(X), len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model.classes_):
        out[:, index[c]] = proba[:, j]
    return out


class Objective:
    """Callable Optuna objective holding the data, folds and configs."""

    def __init__(self, family, X, y, roles, prep_cfg, train_cfg, folds, classes,
                 class_order=None, forward: bool = False):
        self.family, self.X, self.y, self.roles = family, X, y, roles
        self.prep_cfg, self.train_cfg, self.folds, self.classes = prep_cfg, train_cfg, folds, classes
        self.best_value, self.best_oof = -math.inf, None  # oof of the best trial so far
        self.positive = minority_label(y, classes) if len(classes) == 2 else None
        self.class_order = class_order if searches_ordinal(family, train_cfg, class_order) else None
        # set per tune_family call: a trial that cannot finish (plus the best's refit) by the
        # deadline stops after the fold that shows it, so a budget overruns by one fold at most
        self.deadline: float | None = None
        self.refit_factor = 1.25  # refit time / one fold's fit time (TuningSession sets it)
        self.refit_done: int | None = None  # number of the trial whose refit is already made
        self.repeats_in_row = 0
        self.forward = forward  # the folds chain forward in time (steps.time_folds.forward_folds)
        self.select_choices = select_choices(roles, prep_cfg)
        self.first_k = first_k(roles, prep_cfg)  # the starting trials' select_k, or None

    def params(self, trial) -> tuple[dict, str]:
        overrides = self.train_cfg.search.get(self.family)
        if overrides:  # the researcher's fixed values, choices and ranges
            trial = ConstrainedTrial(trial, overrides)
        params = FAMILIES[self.family].suggest(trial)
        if self.class_order:
            params["ordinal"] = trial.suggest_categorical("ordinal", list(ORDINAL_CHOICES))
        if self.select_choices:  # a wide table: how many columns to keep is searched too
            params[SELECT_K] = trial.suggest_categorical(SELECT_K, self.select_choices)
        search = self.prep_cfg.imbalance.search
        imbalance = (trial.suggest_categorical("imbalance", list(search)) if search
                     else self.prep_cfg.imbalance.strategy)
        return params, imbalance

    def fit_model(self, params, imbalance, X, y):
        """The family's whole pipeline with this configuration, fitted on (X, y): a fold's
        model, or the refit of the best configuration."""
        model = build_model_pipeline(self.roles, self.prep_cfg, self.family, params, imbalance,
                                     self.train_cfg.seed, y=y, class_order=self.class_order)
        # OpenMP/BLAS threads capped at n_jobs: the machine is shared
        with warnings.catch_warnings(), threadpool_limits(self.train_cfg.n_jobs):
            warnings.simplefilter("ignore")  # convergence chatter; failures still raise
            return model.fit(X, y)

    def fit_fold(self, params, imbalance, train_idx, valid_idx) -> np.ndarray:
        model = self.fit_model(params, imbalance, self.X.iloc[train_idx], self.y.iloc[train_idx])
        with warnings.catch_warnings(), threadpool_limits(self.train_cfg.n_jobs):
            warnings.simplefilter("ignore")
            return _proba_in_order(model, self.X.iloc[valid_idx], self.classes)

    def _stop_if_late(self, trial, step: int, elapsed: float) -> None:
        """Prune a trial whose remaining folds and the best's refit would pass the deadline.
        The study's first complete trial is never stopped: every call returns a model."""
        left_folds = len(self.folds) - step - 1
        if self.deadline is None or left_folds == 0:
            return
        done = trial.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if not done:
            return
        best = max(done, key=lambda t: t.value)
        refit = 0.0 if best.number == self.refit_done else \
            best.duration.total_seconds() / len(self.folds) * self.refit_factor
        need = elapsed / (step + 1) * left_folds + refit
        if time.monotonic() + need > self.deadline:
            reason = f"out of time after fold {step + 1}: needs ~{need:.1f}s more"
            trial.set_user_attr("stop_reason", reason)
            raise optuna.TrialPruned(reason)

    def repeat_score(self, trial) -> float | None:
        """The score of an earlier complete trial with the same configuration, if any: the
        folds and seeds are fixed, so cross-validating it again would give the same number.
        After ``REPEATS_TO_STOP`` repeats in a row the study stops: it has converged."""
        done = trial.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        earlier = next((t for t in done if t.params == trial.params), None)
        if earlier is None:
            self.repeats_in_row = 0
            return None
        trial.set_user_attr("repeat_of", earlier.number)
        trial.set_user_attr("score_std", earlier.user_attrs.get("score_std", 0.0))
        self.repeats_in_row += 1
        if self.repeats_in_row >= REPEATS_TO_STOP:
            trial.set_user_attr("stop_reason", f"converged: the last {self.repeats_in_row} "
                                "proposals repeated scored configurations")
            trial.study.stop()
        return float(earlier.value)

    def scored(self) -> np.ndarray:
        """Positions of the rows a fold scored: every row, except the first period's under
        forward-chaining CV (``steps.time_folds.forward_folds``)."""
        return np.unique(np.concatenate([va for _, va in self.folds]))

    def covered(self, oof: np.ndarray, row_index) -> tuple[np.ndarray, pd.Series, np.ndarray]:
        """(out-of-fold probabilities, labels, their positions in ``row_index``) of the
        scored rows."""
        scored = self.scored()
        return oof[scored], self.y.iloc[scored], np.asarray(row_index)[scored]

    def cross_validate(self, params: dict, imbalance: str, on_fold=None):
        """(fold scores, out-of-fold probabilities) of one configuration; ``on_fold(step,
        running mean)`` after each fold may raise to stop it (pruning, the deadline)."""
        oof = np.zeros((len(self.y), len(self.classes)))
        scores = []
        for step, (tr, va) in enumerate(self.folds):
            oof[va] = self.fit_fold(params, imbalance, tr, va)
            scores.append(score(self.train_cfg.metric, self.y.iloc[va], oof[va],
                                self.classes, self.train_cfg.beta, self.positive))
            if not np.isfinite(scores[-1]):
                raise ValueError(f"{self.train_cfg.metric} undefined on fold {step + 1}")
            if on_fold is not None:
                on_fold(step, float(np.mean(scores)))
        return scores, oof

    def __call__(self, trial) -> float:
        params, imbalance = self.params(trial)
        repeated = self.repeat_score(trial)
        if repeated is not None:
            return repeated
        fold_start = time.monotonic()

        def after_fold(step: int, running_mean: float) -> None:
            trial.report(running_mean, step)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after fold {step + 1}")
            self._stop_if_late(trial, step, time.monotonic() - fold_start)

        try:
            scores, oof = self.cross_validate(params, imbalance, after_fold)
        except optuna.TrialPruned:
            raise
        except Exception as err:  # recorded on the trial; the study goes on
            trial.set_user_attr("error", f"{type(err).__name__}: {err}")
            raise
        value = float(np.mean(scores))
        trial.set_user_attr("score_std", float(np.std(scores)))
        if value > self.best_value:  # the oof of the winner is reused, not recomputed
            self.best_value, self.best_oof = value, oof
        return value
