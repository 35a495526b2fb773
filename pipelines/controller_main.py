"""The pipeline controller's own script: ``python -m pipelines.controller_main``.

Every run's controller task records *this* file as its script, so a run can be
cloned in the web UI, its parameters edited, and enqueued: an agent then runs
this file, which rebuilds the config from the task's (edited) parameters and
drives the same DAG. Started by ``pipelines.runner`` with the config in
``TABPIPE_CONFIG_JSON``; writes a JSON summary to ``TABPIPE_RESULT_FILE``.
"""
from __future__ import annotations

import json
import logging
import os
import sys

from pipelines.dag import STEP_SECTIONS, build_dag
from steps.config import parse_config

log = logging.getLogger("tabpipe.controller")
CONFIG_ENV, RESULT_ENV, RUN_INFO_ENV = "TABPIPE_CONFIG_JSON", "TABPIPE_RESULT_FILE", "TABPIPE_RUN_INFO"
REPORT_ENV = "TABPIPE_REPORT_DIR"  # set: write the run's HTML report under <dir>/<run id>/
RUN_ID_SUFFIX = ".run_id"  # <result file><this>: the controller task's ID, as soon as it has one


def config_from_parameters(params: dict) -> "object":
    """Rebuild the typed config from the controller task's ``Args/<section>`` parameters."""
    raw = {}
    for section in (*STEP_SECTIONS, "execution"):
        value = params.get(f"Args/{section}")
        if value not in (None, ""):
            raw[section] = json.loads(value) if isinstance(value, str) else value
    if params.get("Args/project"):
        raw["project"] = {"name": params["Args/project"]}
    return parse_config(raw)


def _remote_config():
    from clearml import Task
    task = Task.init(auto_connect_arg_parser=False, auto_connect_frameworks=False)
    return config_from_parameters(task.get_parameters() or {}), json.loads(
        (task.get_parameters() or {}).get("Args/run_info") or "{}")


def _write_result(result: dict) -> None:
    if os.environ.get(RESULT_ENV):
        with open(os.environ[RESULT_ENV], "w") as fh:
            json.dump(result, fh, default=str)


def _write_run_id(run_id: str) -> None:
    """Before the steps start: if the run is interrupted, the launcher knows which tasks to stop."""
    if os.environ.get(RESULT_ENV):
        with open(os.environ[RESULT_ENV] + RUN_ID_SUFFIX, "w") as fh:
            fh.write(run_id)


def _report(run_id: str, outputs: dict[str, dict]) -> str | None:
    """The run's HTML page; a failure here is logged, never the run's failure."""
    if not os.environ.get(REPORT_ENV):
        return None
    from pathlib import Path

    from pipelines.report import write_report
    steps = [{"name": name, "status": str(s["status"]), "task_id": s["task_id"] or ""}
             for name, s in outputs.items()]
    try:
        return str(write_report(run_id, Path(os.environ[REPORT_ENV]) / run_id, steps))
    except Exception as err:  # noqa: BLE001 - the run itself is done and recorded
        log.warning("could not write the run report: %s", err)
        return None


def _steps_run_here(raw: str | None) -> bool:
    """Whether ClearML will start the steps as processes of this machine."""
    if not raw:
        return False
    ex = json.loads(raw).get("execution") or {}
    mode = ex.get("mode", "embedded")
    return mode != "remote" and (mode == "local" or not ex.get("agents"))


def main() -> int:
    raw = os.environ.get(CONFIG_ENV)
    steps_here = _steps_run_here(raw)
    if steps_here:
        # ClearML starts each step as a local process: start them warm. Before anything
        # else, so the forkserver's imports overlap with the controller's own start-up.
        from pipelines import warm
        warm.start_forkserver()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S")
    from pipelines import sdk_speedups
    if raw:
        cfg, info = parse_config(json.loads(raw)), json.loads(os.environ.get(RUN_INFO_ENV) or "{}")
        if steps_here:
            warm.install()  # its forkserver is already starting
            sdk_speedups.notice_local_step_exit()
    sdk_speedups.install_all()
    if not raw:
        cfg, info = _remote_config()
    elif cfg.execution.mode == "remote":  # workers cannot read this machine's files
        from pipelines.uploads import upload_local_source
        cfg = upload_local_source(cfg)
    from pipelines.controller import build_controller, decision_of, step_outputs
    ex = cfg.execution
    spec = build_dag(cfg, run_info=info or None)
    pipe = build_controller(spec, retries=ex.retries)
    if not raw or ex.mode == "remote":
        if raw:  # launching from this machine: start() enqueues the controller and exits
            _write_result({"pipeline_task_id": pipe.id, "steps": {}, "decision": None,
                           "enqueued_on": ex.controller_queue})
        pipe.start(queue=ex.controller_queue)
    else:
        _write_run_id(pipe.id)
        pipe.start_locally(run_pipeline_steps_locally=steps_here)
    outputs = step_outputs(pipe)
    _write_result({"pipeline_task_id": pipe.id, "steps": outputs, "decision": decision_of(outputs),
                   "report": _report(pipe.id, outputs)})
    failed = [name for name, s in outputs.items() if s["status"] == "failed"]
    return 1 if failed else 0


def _quiet_interrupt(kind, value, tb) -> None:
    """Ctrl-C: no traceback (the launcher says it in one sentence). Installed before ClearML
    wraps the hook, so ClearML still sees the interrupt and marks the task stopped."""
    if not issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)


if __name__ == "__main__":
    sys.excepthook = _quiet_interrupt
    sys.exit(main())
