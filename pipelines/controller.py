"""Apply the DAG (pipelines.dag) to a ClearML PipelineController and run it.

The controller is ClearML's own; the three modes differ only in where the
controller and the steps execute and which server they report to.
"""
from __future__ import annotations

import importlib
import json
import logging
import time
from typing import Callable

from pipelines.dag import PipelineSpec

log = logging.getLogger(__name__)
from pipelines.failures import LOGIC_FAILURE_TAG


POLL_MINUTES = 0.1 / 60  # a step's end is noticed within 0.1 s


def resolve(dotted: str) -> Callable:
    module, _, func = dotted.partition(":")
    return getattr(importlib.import_module(module), func)


def retry_infrastructure_only(max_retries: int) -> Callable:
    """Retry a failed step only when the failure was not in our own logic.

    Step wrappers tag the task ``failure:logic`` on a Python error of their own
    (bad data, bad config, a bug): rerunning that cannot help. A killed process,
    lost agent or unreachable server leaves no tag, and is retried.
    """
    def should_retry(pipeline, node, retries: int) -> bool:
        if retries >= max_retries:
            return False
        task = getattr(getattr(node, "job", None), "task", None)
        if task is not None:
            task.reload()
            if LOGIC_FAILURE_TAG in (task.get_tags() or []):
                log.warning("step %s failed in its own logic: not retrying", node.name)
                return False
        log.warning("step %s failed (infrastructure?): retry %d of %d", node.name,
                    retries + 1, max_retries)
        return True
    return should_retry


class ProgressPrinter:
    """One line per step status change, so a long run shows where it is."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def __call__(self, pipeline, node, previous_status) -> None:
        status = getattr(node, "status", "?")
        task_id = getattr(getattr(node, "job", None), "task_id", lambda: None)
        tid = task_id() if callable(task_id) else task_id
        log.info("[%6.1fs] %-22s %s%s", time.monotonic() - self.t0, node.name, status,
                 f" (task {tid})" if tid else "")


def build_controller(spec: PipelineSpec, *, retries: int, packages: list[str] | None = None,
                     version: str = "1.0.0"):
    """A configured (not yet started) PipelineController for the spec."""
    from clearml import PipelineController

    pipe = PipelineController(
        name=spec.name, project=spec.project, version=version, add_pipeline_tags=False,
        # minutes between state checks: ClearML's 0.2 (12 s) idles ~10 s after every step;
        # each check is two or three calls to the server
        pool_frequency=POLL_MINUTES,
        retry_on_failure=retry_infrastructure_only(retries), packages=packages,
        output_uri=True, abort_on_failure=False)
    for name, value in spec.parameters.items():
        pipe.add_parameter(name=name, default=value,
                           description=f"JSON config section '{name}' (edit to change the step)")
    progress = ProgressPrinter()
    for step in spec.steps:
        pipe.add_function_step(
            name=step.name, function=resolve(step.function), function_kwargs=dict(step.kwargs),
            function_return=list(step.returns), parents=list(step.parents) or None,
            execution_queue=step.queue, cache_executed_step=step.cache,
            task_type=step.task_type, packages=packages, status_change_callback=progress,
            auto_connect_frameworks={"matplotlib": False, "joblib": False, "scikit": False},
        )
    return pipe


def step_outputs(pipe) -> dict[str, dict]:
    """Per step: task id, status, and its string return values (IDs, small JSON)."""
    from clearml import Task
    out: dict[str, dict] = {}
    for name, node in pipe.get_pipeline_dag().items():
        task_id = node.executed or (node.job.task_id() if node.job else None)
        info = {"task_id": task_id, "status": node.status, "returns": {}, "worker": None}
        if task_id:
            task = Task.get_task(task_id=task_id)
            params = task.get_parameters() or {}
            info["returns"] = {k.split("/", 1)[1]: v for k, v in params.items()
                               if k.startswith("return/")}
            info["worker"] = getattr(task.data, "last_worker", None)
        out[name] = info
    return out


def decision_of(outputs: dict[str, dict]) -> dict | None:
    raw = outputs.get("publish", {}).get("returns", {}).get("decision")
    return json.loads(raw) if raw else None
