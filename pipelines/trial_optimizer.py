"""ClearML's HyperParameterOptimizer driven by our Optuna study (``train.trial_tasks``).

``optimizer_class`` adapts ClearML's OptimizerOptuna to the in-process study's semantics;
``clearml_ranges`` shows the recorded space on the optimizer.
"""
from __future__ import annotations

import logging
import threading
import time

import numpy as np

log = logging.getLogger(__name__)

STOPPED_MESSAGE = "the search had ended"
OPEN_STATES = ["created", "queued", "in_progress"]
SETTLE_S = 60.0  # how long the step waits for its stopped trials to end
CALM_S = 3.0  # and for none to start again: an agent that had just taken one up restarts it


def optimizer_class():
    """OptimizerOptuna starting from our study (seeded TPE, our pruner, the quick starts
    enqueued) and proposing from the recorded space with its steps and log scales. A
    proposal repeating a scored configuration reuses its score, as in-process (ClearML's own
    objective would prune it, so a small space spent its trials on nothing and never
    converged). It also ends promptly when stopped (Optuna ignores ``Study.stop`` from
    another thread), launches no trial once stopped, and a trial stopped before its last
    fold counts as pruned, not scored on part of its folds."""
    import optuna
    from clearml.automation.optuna import OptimizerOptuna
    from clearml.automation.optuna.optuna import OptunaObjective

    class StudyOptimizer(OptimizerOptuna):
        study = None  # set before start(): an optuna Study
        space: dict = {}  # "General/<name>" -> (suggest method, keywords)
        callbacks: list = []
        repeat_score = None  # Objective.repeat_score: an earlier score of this configuration

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._launch_lock = threading.Lock()

        def start(self) -> None:
            self._study = self.study
            self._objective = OptunaObjective(
                base_task_id=self._base_task_id, queue_name=self._execution_queue,
                optimizer=self, max_iteration_per_job=self.max_iteration_per_job,
                min_iteration_per_job=self.min_iteration_per_job,
                # ClearML's own start() rounds the poll period down to whole seconds
                sleep_interval=max(0.2, self.pool_period_minutes * 60),
                config_space=self.space)
            self._study.optimize(self._run_trial, n_trials=self.total_max_jobs,
                                 n_jobs=self._num_concurrent_workers,
                                 callbacks=[self._stop_if_asked, *self.callbacks])

        def stop(self) -> None:
            with self._launch_lock:  # a launch under way finishes first, later ones refuse
                super().stop()

        def helper_create_job(self, *args, **kwargs):
            """The trial's task, launched only while the search runs: a stop between the
            clone and the launch otherwise enqueued a trial after the search had ended."""
            job = super().helper_create_job(*args, **kwargs)
            launch = job.launch

            def launch_unless_stopped(queue_name=None) -> bool:
                with self._launch_lock:
                    if not self._stop_event.is_set():
                        return launch(queue_name)
                job.task.mark_stopped(force=True, status_message=STOPPED_MESSAGE)
                raise optuna.TrialPruned("the search was stopped")

            job.launch = launch_unless_stopped
            return job

        def _run_trial(self, trial) -> float:
            if self._stop_event.is_set():
                raise optuna.TrialPruned("the search was stopped")
            for name, (method, keywords) in self.space.items():  # drawn once per trial:
                getattr(trial, method)(name=name, **keywords)    # the objective reads them back
            repeated = self.repeat_score(trial) if self.repeat_score else None
            if repeated is not None:
                return repeated
            value = self._objective.objective(trial)
            job = next((j for j, override in self._created_jobs_ids.values()
                        if override == trial.params), None)
            if job is not None and job.status(force=True) != "completed":
                raise optuna.TrialPruned(f"trial task {job.task_id()} was stopped")
            return value

        def _stop_if_asked(self, study, _trial) -> None:
            if self._stop_event.is_set():
                study.stop()

        def monitor_job(self, job) -> bool:
            if self._stop_event.is_set():  # the time limit: running trials are stopped
                job.abort()
                return False
            return super().monitor_job(job)

    return StudyOptimizer


def clearml_ranges(space: dict) -> list:
    """The space as ClearML parameter ranges (shown on the optimizer; the proposals
    themselves come from ``space``, which keeps integer steps and log scales exactly)."""
    from clearml.automation import (DiscreteParameterRange, LogUniformParameterRange,
                                    UniformIntegerParameterRange, UniformParameterRange)
    out = []
    for name, (method, kw) in space.items():
        if method == "suggest_categorical":
            out.append(DiscreteParameterRange(name, values=list(kw["choices"])))
        elif kw.get("log"):
            out.append(LogUniformParameterRange(name, min_value=float(np.log10(kw["low"])),
                                                max_value=float(np.log10(kw["high"]))))
        elif method == "suggest_int":
            out.append(UniformIntegerParameterRange(name, min_value=kw["low"],
                                                    max_value=kw["high"],
                                                    step_size=kw.get("step") or 1))
        else:
            out.append(UniformParameterRange(name, min_value=kw["low"], max_value=kw["high"]))
    return out


def settle_trials(parent_id: str, limit_s: float = SETTLE_S, calm_s: float = CALM_S,
                  poll_s: float = 0.5) -> list[str]:
    """Stop the step's trials that are still a draft, queued or running once its search has
    ended, and wait until they all have ended; returns the ids still open after ``limit_s``.

    ClearML's own abort returns a queued trial to draft, and an agent that had just taken
    it from the queue starts it regardless (it forces the start), so the step stops
    whatever is open until nothing has been open for ``calm_s``: no trial outlives its step,
    and the trial table it reads next is final."""
    from clearml import Task
    deadline, calm_since = time.monotonic() + limit_s, None
    stopped_any = False
    while True:
        open_trials = Task.get_tasks(task_filter={"parent": parent_id, "status": OPEN_STATES})
        now = time.monotonic()
        if open_trials:
            calm_since = None
            stopped_any = True
            for task in open_trials:
                _stop(task)
        elif not stopped_any:  # nothing was open: no agent can be taking one up
            return []
        elif calm_since is None:
            calm_since = now
        elif now - calm_since >= calm_s:
            return []
        if now >= deadline:
            left = [t.id for t in open_trials]
            if left:
                log.warning("trial tasks %s had not ended %g s after the search", left, limit_s)
            return left
        time.sleep(poll_s)


def _stop(task) -> None:
    """A queued trial leaves its queue first, so no agent takes it up afterwards."""
    from clearml import Task
    try:
        if str(task.status) == "queued":
            Task.dequeue(task)
        task.mark_stopped(force=True, status_message=STOPPED_MESSAGE)
    except Exception as err:  # it ended meanwhile: the next look decides
        log.debug("stopping trial task %s: %s", task.id, err)
