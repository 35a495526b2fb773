"""Run the one DAG in one of three modes; ClearML's PipelineController orchestrates in all.

- embedded: start (or reuse) the project's local ClearML-compatible server, point the
  SDK at it, run the controller here; steps run as subprocesses, or on local
  clearml-agent workers when ``execution.agents > 0``.
- local: controller and steps on this machine, tracked on the server configured
  in clearml.conf / CLEARML_* environment variables.
- remote: the controller is enqueued on ``execution.controller_queue`` and the
  steps on worker queues; clearml-agent workers run them.
"""
from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.controller_process import ServerGone, run_controller
from steps.config import ExecutionConfig, PipelineConfig

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunResult:
    mode: str
    pipeline_task_id: str | None
    steps: dict[str, dict] = field(default_factory=dict)
    decision: dict | None = None
    server: dict | None = None
    report: str | None = None  # path of the run's HTML report


def run_info(cfg: PipelineConfig) -> dict:
    """What the registry records about the code and config behind a model."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {"config_sha256": cfg.digest(), "git_commit": commit}


def _server_configured() -> bool:
    if os.environ.get("CLEARML_API_HOST"):
        return True
    conf = os.environ.get("CLEARML_CONFIG_FILE") or str(Path.home() / "clearml.conf")
    return Path(conf).is_file()


def require_server(what: str) -> None:
    if not _server_configured():
        raise RuntimeError(
            f"{what} needs a ClearML server: set CLEARML_API_HOST and keys, or "
            "write ~/clearml.conf (see clearml.conf.example), or use mode=embedded")


def reports_root(ex: ExecutionConfig) -> Path:
    """Each run's HTML report goes to ``<this>/<run id>/index.html``."""
    return Path(ex.data_dir).resolve() / "reports"


def existing_server(mode: str, ex: ExecutionConfig):
    """The server earlier runs wrote to, for commands that read them: the embedded one (its
    ``ex.data_dir`` must exist; a new empty server would hold nothing) or the configured one."""
    if mode == "local":
        require_server("--mode local")
        return contextlib.nullcontext()
    if not Path(ex.data_dir).is_dir():
        raise LookupError(f"no embedded server data in {Path(ex.data_dir).resolve()}; run "
                          "`tabpipe run` here first (or use --mode local)")
    return embedded_server(ex, quiet=True)


@contextlib.contextmanager
def embedded_server(ex: ExecutionConfig, quiet: bool = False):
    """Start (or reuse) the local server, shared with other commands using the same data dir
    (``localserver.sharing``): the last one out stops it unless ``tabpipe server start``
    started it. Its address is logged when a run starts it (``quiet``: commands that only read)."""
    from localserver.sharing import shared_server
    with shared_server(Path(ex.data_dir).resolve()) as handle:
        saved = dict(os.environ)
        os.environ.update(handle.client_env())
        (log.debug if quiet or not handle.owned else log.info)(
            "embedded ClearML-compatible server at %s (files %s); config %s",
            handle.api_url, handle.files_url, handle.config_path)
        try:
            yield handle
        finally:
            os.environ.clear()
            os.environ.update(saved)


UNFINISHED = ("created", "queued", "in_progress")


def stop_unfinished(run_id_file: Path, why: str = "interrupted (Ctrl-C)") -> list[str]:
    """Mark an interrupted run's controller and its unfinished steps stopped, so the server
    does not show them running forever; the IDs stopped. Best effort: the run is over anyway."""
    try:
        run_id = run_id_file.read_text().strip()
    except OSError:
        return []  # interrupted before the controller existed
    try:
        from clearml import Task
        steps = Task.get_tasks(task_filter={"parent": run_id})
        tasks = [Task.get_task(task_id=run_id), *steps,  # and the steps' trial tasks
                 *(t for s in steps
                   for t in Task.get_tasks(task_filter={"parent": s.id,
                                                        "status": list(UNFINISHED)}))]
        stopped = []
        for task in tasks:
            if str(task.status) in UNFINISHED:
                task.mark_stopped(force=True, status_message=why)
                stopped.append(task.id)
        return stopped
    except Exception as err:  # noqa: BLE001 - never hide the interrupt behind this
        log.warning("could not mark the interrupted run %s stopped: %s", run_id, err)
        return []


def _drive(cfg: PipelineConfig, verbose: bool = False, progress=None,
           server_gone=None) -> RunResult:
    """Run the controller script (pipelines.controller_main) with this config.

    A separate process, so the controller task records that script: a run can then be
    cloned, edited and enqueued from the web UI and an agent re-runs the same code.
    """
    import json
    import sys
    import tempfile

    from pipelines.controller_main import (CONFIG_ENV, REPORT_ENV, RESULT_ENV, RUN_ID_SUFFIX,
                                           RUN_INFO_ENV)
    result_file = Path(tempfile.mkdtemp(prefix="tabpipe-run-")) / "result.json"
    env = dict(os.environ, **{CONFIG_ENV: json.dumps(cfg.model_dump(mode="json")),
                              RUN_INFO_ENV: json.dumps(run_info(cfg)),
                              RESULT_ENV: str(result_file)})
    if cfg.execution.report and cfg.execution.mode != "remote":  # remote: nothing ran yet
        env[REPORT_ENV] = str(reports_root(cfg.execution))
    run_id_file = result_file.with_name(result_file.name + RUN_ID_SUFFIX)
    try:
        code = run_controller([sys.executable, "-m", "pipelines.controller_main"], env,
                              verbose, progress, server_gone)
    except KeyboardInterrupt:
        stop_unfinished(run_id_file)
        raise
    except ServerGone:  # nothing can be marked now: the next run on this data dir does it
        if run_id_file.is_file():
            later = _unfinished_dir(cfg.execution)
            later.mkdir(parents=True, exist_ok=True)
            run_id = run_id_file.read_text().strip()
            (later / run_id).write_text(run_id)
        raise
    if not result_file.is_file():
        raise RuntimeError(f"pipeline controller exited with code {code} "
                           "before reporting a result; see its output above")
    out = json.loads(result_file.read_text())
    return RunResult(cfg.execution.mode, out["pipeline_task_id"], out["steps"], out["decision"],
                     report=out.get("report"))


def _unfinished_dir(ex: ExecutionConfig) -> Path:
    return Path(ex.data_dir).resolve() / "unfinished"


def _stop_left_running(ex: ExecutionConfig) -> None:
    """Runs cut off by their server's end still show as running: mark them stopped."""
    for run_id_file in sorted(_unfinished_dir(ex).glob("*")):
        stopped = stop_unfinished(run_id_file, why="its embedded server stopped during the run")
        if stopped:
            log.info("marked %d task(s) of run %s stopped: its server stopped during the run",
                     len(stopped), run_id_file.read_text().strip())
        run_id_file.unlink(missing_ok=True)


def run_pipeline(cfg: PipelineConfig, verbose: bool = False, progress=None) -> RunResult:
    """``verbose``: show every line the controller and steps print (default: the pipeline's
    progress without ClearML's chatter; the server keeps every task's full log).
    ``progress``: where that output goes (default stdout; stderr keeps stdout for JSON)."""
    ex = cfg.execution
    if ex.mode == "embedded":
        with embedded_server(ex) as handle:
            _stop_left_running(ex)
            agents = None
            if ex.agents:
                from localserver.launch import start_agents
                agents = start_agents(handle, queues=[ex.queue], count=ex.agents,
                                      work_dir=Path(ex.data_dir).resolve() / "agents")
            try:
                _require_trial_workers(cfg)
                result = _drive(cfg, verbose, progress, server_gone=lambda: not handle.is_running())
            finally:
                if agents is not None:
                    agents.stop()
        # up after this run: started by `tabpipe server start`, or another run still uses it
        result.server = {"api": handle.api_url, "files": handle.files_url,
                         "config": str(handle.config_path), "stays_up": not handle.stopped,
                         "for_another_run": handle.auto_stop and not handle.stopped}
        return result
    require_server(f"execution.mode={ex.mode}")
    if ex.mode == "remote":
        from pipelines.queues import require_workers
        require_workers(sorted({ex.controller_queue, ex.queue, *ex.step_queues.values()}))
    _require_trial_workers(cfg)
    return _drive(cfg, verbose, progress)


def _require_trial_workers(cfg: PipelineConfig) -> None:
    """Trials enqueued where no agent listens would wait until train.timeout_s, then fail."""
    trials = cfg.train.trial_tasks
    if trials.families and trials.queue:
        from pipelines.queues import require_workers
        require_workers([trials.queue])
