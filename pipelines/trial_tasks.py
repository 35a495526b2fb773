"""A family's search with one ClearML task per trial (``train.trial_tasks``), for models whose
fits take minutes: ClearML's own HyperParameterOptimizer with OptimizerOptuna drives it.

The study is the in-process one (``steps.study._make_study``: seeded TPE, the median
pruner, the quick starts enqueued first) over the same space (``steps.trial_space``); only
where a trial runs differs. Trials are children of the training step's task, so the web UI
lists them under it, each with its parameters, per-fold curve and log. With
``train.trial_tasks.queue`` they are enqueued for clearml-agent workers on that queue (say
several machines); without, the step runs them as its own subprocesses. The winner is
refit in the step and registered like any other family's model.
"""
from __future__ import annotations

import logging
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.trial_main import ERROR_PROPERTY, OBJECTIVE_TITLE, OOF_ARTIFACT, PROPOSAL, SETUP
from pipelines.trial_optimizer import clearml_ranges, settle_trials
from pipelines.trial_optimizer import optimizer_class as trial_optimizer_class

log = logging.getLogger(__name__)

TRIAL_SCRIPT = "from pipelines.trial_main import main\n\nmain()\n"
POLL_MINUTES = 0.5 / 60  # the optimizer checks its trials every half second


def _template(project: str, family: str, setup: dict[str, str], first: dict[str, str]):
    """The draft every trial clones: the trial script, the shared setup, the first proposal."""
    from clearml import Task
    with tempfile.TemporaryDirectory() as folder:  # outside any repository: a standalone script
        script = Path(folder) / "trial.py"
        script.write_text(TRIAL_SCRIPT)
        task = Task.create(project_name=project, task_name=f"{family} trial",
                           task_type=Task.TaskTypes.training, script=str(script),
                           add_task_init_call=False, packages=False)
    task.set_parameters({**{f"{SETUP}/{k}": v for k, v in setup.items()},
                         **{f"{PROPOSAL}/{k}": v for k, v in first.items()}})
    return task


def _seeded_study(objective, family: str, prep_cfg, train_cfg, space: dict):
    """The in-process study (``steps.study._make_study``) with the family's quick starts
    enqueued first, named as the optimizer's proposals are; returns it and the first start."""
    from steps.search_space import starting_trials
    from steps.study import _make_study
    study = _make_study(train_cfg.seed, len(objective.folds))
    starts = starting_trials(family, prep_cfg, bool(objective.class_order),
                             train_cfg.search.get(family, {}), objective.first_k)
    for params in starts:
        study.enqueue_trial({f"{PROPOSAL}/{k}": v for k, v in params.items()
                             if f"{PROPOSAL}/{k}" in space})
    return study, starts[0]


def _optimizer(template_id: str, study, space: dict, train_cfg, n_folds: int, project: str,
               callback, repeat_score=None):
    from clearml.automation import HyperParameterOptimizer
    opts = train_cfg.trial_tasks
    optimizer_class = trial_optimizer_class()
    optimizer_class.study, optimizer_class.space = study, space
    optimizer_class.callbacks = [callback]
    optimizer_class.repeat_score = staticmethod(repeat_score) if repeat_score else None
    hpo = HyperParameterOptimizer(
        base_task_id=template_id, hyper_parameters=clearml_ranges(space),
        objective_metric_title=OBJECTIVE_TITLE, objective_metric_series=train_cfg.metric,
        objective_metric_sign="max", optimizer_class=optimizer_class,
        execution_queue=opts.queue or "local", max_number_of_concurrent_tasks=opts.concurrency,
        total_max_jobs=train_cfg.n_trials, max_iteration_per_job=n_folds,
        min_iteration_per_job=0, pool_period_min=POLL_MINUTES,
        time_limit_per_job=opts.time_limit_s / 60 if opts.time_limit_s else None,
        auto_connect_task=False, spawn_project=project)
    hpo.set_report_period(0.05)  # its reporter thread sleeps this long; stop() joins it
    return hpo


def _run(hpo, queue: str | None, timeout_s: float | None) -> bool:
    """Run the optimization to its end or ``timeout_s``; False when the time ran out."""
    if not queue:  # trials fork from a process that imported their libraries once
        from pipelines import warm
        warm.install()
    with warnings.catch_warnings():
        # the optimizer reports a trial's last fold again at every poll until the trial ends
        warnings.filterwarnings("ignore", message="The reported value is ignored")
        (hpo.start if queue else hpo.start_locally)()
        finished = hpo.wait(timeout=timeout_s / 60 if timeout_s else None)
        hpo.stop(timeout=1)  # aborts trials still running once the time limit passed
    return finished


def search_with_tasks(step_task, family: str, prepared_id: str, train_cfg, prep_cfg, project: str,
                      X, y, roles, class_order=None, groups=None, on_trial=None):
    """Run the family's study with a task per trial; returns a ``steps.tuning.TuneResult``."""
    from steps.study import _report
    from steps.tuning import repeat_note
    from steps.trial_space import as_text, record_space, trial_objective

    start = time.monotonic()
    opts = train_cfg.trial_tasks
    if opts.queue:  # checked before the run too; a clone edited in the web UI is not
        from pipelines.queues import require_workers
        require_workers([opts.queue])
    else:  # its imports overlap with the setup below
        from pipelines import warm
        warm.start_forkserver()
    data = trial_objective(family, X, y, roles, prep_cfg, train_cfg, class_order, groups)
    space = record_space(data.objective)
    proposals = {f"{PROPOSAL}/{k}": v for k, v in space.items()}  # as the optimizer names them
    study, first = _seeded_study(data.objective, family, prep_cfg, train_cfg, proposals)
    setup = {"family": family, "prepared_id": prepared_id,
             "train_cfg": train_cfg.model_dump_json(), "preprocess_cfg": prep_cfg.model_dump_json()}
    trials_project = f"{project}/trials"  # together, for the web UI's compare view
    template = _template(trials_project, family, setup, as_text(first))
    hpo = _optimizer(template.id, study, proposals, train_cfg, len(data.objective.folds),
                     trials_project, _report(_unprefixed(on_trial), family),
                     data.objective.repeat_score)
    log.info("%s: %d trials as ClearML tasks (%s, %d at a time)", family, train_cfg.n_trials,
             f"queue {opts.queue}" if opts.queue else "subprocesses of this step",
             opts.concurrency)
    if not _run(hpo, opts.queue, train_cfg.timeout_s):
        data.notes.append(f"train.timeout_s={train_cfg.timeout_s:g} s ended the search; "
                          "running trials were stopped")
    settle_trials(step_task.id)
    data.notes.extend(repeat_note(study))
    trials = trial_table(step_task.id, train_cfg.metric)
    return _result(family, train_cfg, data, space, trials, start)


STATES = {"completed": "COMPLETE", "failed": "FAIL", "stopped": "PRUNED"}


def _unprefixed(on_trial):
    """The step's trial log names parameters as the in-process search does."""
    if on_trial is None:
        return None
    cut = len(PROPOSAL) + 1
    return lambda row: on_trial({**row, "params": {k[cut:]: v for k, v in row["params"].items()}})


def trial_table(parent_id: str, metric: str) -> pd.DataFrame:
    """One row per trial task under the step (the template has no parent), numbered in
    launch order, with the columns of the in-process trials table
    (``steps.study.trials_table``) plus the task's id. A stopped trial was pruned by the
    optimizer or ran out of time."""
    from clearml import Task
    rows = []
    for task in Task.get_tasks(task_filter={"parent": parent_id, "order_by": ["created"]}):
        values = task.get_reported_single_values() or {}
        started, ended = task.data.started, task.data.completed
        rows.append({
            "number": len(rows), "state": STATES.get(str(task.status), "FAIL"),
            "value": values.get(f"cv_{metric}"), "score_std": values.get(f"cv_{metric}_std"),
            "duration_s": (ended - started).total_seconds() if started and ended else None,
            "error": (task.get_user_properties(value_only=True) or {}).get(ERROR_PROPERTY),
            "task_id": task.id,
            **{f"param_{k}": v for k, v in task.get_parameters_as_dict().get(PROPOSAL, {}).items()}})
    return pd.DataFrame(rows)


def _result(family, train_cfg, data, space: dict, trials: pd.DataFrame, start: float):
    """Refit the best completed trial's configuration and assemble the TuneResult.
    ``space``: the recorded space (``steps.trial_space.record_space``) the trials drew from."""
    from pipelines.train_task import load_oof
    from steps.trial_space import configuration, parse_params, row_params, study_of
    from steps.tuning import TuneResult
    from steps.tuning_plots import history_figure, importance_figure

    objective = data.objective
    done = trials[(trials["state"] == "COMPLETE") & trials["value"].notna()] \
        if len(trials) else trials
    if done.empty:
        errors = sorted(set(trials["error"].dropna())) if len(trials) else []
        raise RuntimeError(f"{family}: no trial task completed; " + (
            f"their errors: {errors}" if errors else
            f"{len(trials)} were stopped: raise train.timeout_s (the whole search, now "
            f"{train_cfg.timeout_s}) or train.trial_tasks.time_limit_s (one trial, now "
            f"{train_cfg.trial_tasks.time_limit_s})"))
    best = done.loc[done["value"].astype(float).idxmax()]
    params, imbalance = configuration(objective, parse_params(row_params(best), space))
    oof = load_oof(best["task_id"], OOF_ARTIFACT)["proba"]
    model = objective.fit_model(params, imbalance, objective.X, objective.y)
    study, states = study_of(trials, space), trials["state"].tolist()
    return TuneResult(
        family=family, metric=train_cfg.metric, best_params=params, best_imbalance=imbalance,
        best_score=float(best["value"]), best_score_std=float(best["score_std"] or 0.0),
        n_trials_completed=len(done), n_trials_failed=states.count("FAIL"),
        n_trials_pruned=states.count("PRUNED"), trials=trials, model=model, oof_proba=oof,
        classes=list(objective.classes), fit_seconds=time.monotonic() - start, notes=data.notes,
        figures={"optimization_history": history_figure(study, train_cfg.metric),
                 "param_importance": importance_figure(study)},
        n_rows_used=len(objective.y), cv_folds=len(objective.folds), cv_forward=objective.forward,
        row_index=np.asarray(data.row_index)[objective.scored()])
