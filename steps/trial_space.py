"""One family's search as separate trials: the pieces a trial run in its own process (a
ClearML task per trial, ``train.trial_tasks``) shares with the in-process study.

Both build the same ``Objective`` (same row cap, same seeded folds), and both draw a
configuration through ``Objective.params``: here the optimizer's proposals come back as
text (task parameters are strings) and ``parse_params`` turns them into the values the
recorded space allows, so a trial task fits exactly what the in-process study would have.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import optuna
import pandas as pd

from steps.objective import Objective
from steps.recipe import infer_roles
from steps.tuning import family_rows, objective_on

# (Optuna suggest method, its keyword arguments) per parameter name
Space = dict[str, tuple[str, dict]]


class _SpaceRecorder:
    """Stands in for an Optuna trial and records every ``suggest_*`` call, keywords (step,
    log) included, so the optimizer proposes from exactly the in-process space."""

    def __init__(self) -> None:
        self.space: Space = {}

    def suggest_float(self, name, low, high, *, step=None, log=False):
        self.space[name] = ("suggest_float", {"low": low, "high": high, "step": step, "log": log})
        return low

    def suggest_int(self, name, low, high, *, step=1, log=False):
        self.space[name] = ("suggest_int", {"low": low, "high": high, "step": step, "log": log})
        return low

    def suggest_categorical(self, name, choices):
        self.space[name] = ("suggest_categorical", {"choices": list(choices)})
        return choices[0]


def record_space(objective: Objective) -> Space:
    """The family's space after ``train.search`` overrides, the ordinal choice and the
    imbalance search: what ``objective.params`` asks of a trial."""
    recorder = _SpaceRecorder()
    objective.params(recorder)
    return recorder.space


def parse_params(raw: dict[str, str], space: Space) -> dict:
    """Typed values for the text the optimizer set on a trial task. A missing or unknown
    value fails with the parameter's name: a trial must not silently fit a default."""
    out = {}
    for name, (method, kw) in space.items():
        if name not in raw:
            raise ValueError(f"trial parameter {name!r} is missing; expected {sorted(space)}")
        text = str(raw[name]).strip()
        if method == "suggest_categorical":
            match = [c for c in kw["choices"] if str(c) == text]
            if not match:
                raise ValueError(f"trial parameter {name}={text!r} is not one of {kw['choices']}")
            out[name] = match[0]
        elif method == "suggest_int":
            out[name] = int(round(float(text)))
        else:
            out[name] = float(text)
    return out


def as_text(params: dict) -> dict[str, str]:
    """Parameter values as task parameters store them (``parse_params`` reads them back)."""
    return {k: str(v) for k, v in params.items()}


def configuration(objective: Objective, typed: dict) -> tuple[dict, str]:
    """(model parameters, imbalance strategy) of a parsed proposal, drawn through the same
    ``Objective.params`` as an in-process trial."""
    return objective.params(optuna.trial.FixedTrial(typed))


@dataclass
class TrialData:
    objective: Objective
    row_index: np.ndarray  # positions in the step's training rows (the row cap keeps them)
    notes: list[str]


def trial_objective(family: str, X: pd.DataFrame, y: pd.Series, roles: dict, prep_cfg,
                    train_cfg, class_order=None, groups=None) -> TrialData:
    """The objective every trial of ``family`` scores on: the row cap (``train.max_rows``)
    and the seeded folds are deterministic, so each trial process and the step that refits
    the winner see the same rows and folds. No cost guard: these families are the
    expensive ones on purpose, and ``train.trial_tasks.time_limit_s`` bounds a trial."""
    X, y, notes = family_rows(family, X, y, train_cfg, quiet=True)
    objective, row_index = objective_on(family, X, y, roles or infer_roles(X), prep_cfg,
                                        train_cfg, class_order, groups, notes)
    return TrialData(objective, row_index, notes)


def _distribution(method: str, kw: dict):
    from optuna.distributions import (CategoricalDistribution, FloatDistribution,
                                      IntDistribution)
    if method == "suggest_categorical":
        return CategoricalDistribution(kw["choices"])
    kind = IntDistribution if method == "suggest_int" else FloatDistribution
    step = kw.get("step") if not kw.get("log") else None
    return kind(kw["low"], kw["high"], log=bool(kw.get("log")),
                **({"step": step} if step else {}))


def row_params(row) -> dict:
    """A trials-table row's parameters (its ``param_*`` columns), by name."""
    return {k[len("param_"):]: v for k, v in row.items() if k.startswith("param_")}


def study_of(trials: pd.DataFrame, space: Space) -> optuna.Study:
    """An in-memory study of trials run elsewhere (a ``state``, a ``value`` and ``param_*``
    text per row), for the same history and importance figures as an in-process search."""
    study = optuna.create_study(direction="maximize")
    states = {"COMPLETE": optuna.trial.TrialState.COMPLETE,
              "PRUNED": optuna.trial.TrialState.PRUNED, "FAIL": optuna.trial.TrialState.FAIL}
    for _, row in trials.iterrows():
        try:
            params = parse_params(row_params(row), space)
        except ValueError:
            continue  # a trial whose parameters were edited by hand: not drawn from the space
        complete = row["state"] == "COMPLETE"
        study.add_trial(optuna.trial.create_trial(
            state=states.get(row["state"], optuna.trial.TrialState.FAIL), params=params,
            distributions={n: _distribution(*space[n]) for n in params},
            value=float(row["value"]) if complete else None))
    return study
