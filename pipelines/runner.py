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

from pipelines.controller import build_controller, decision_of, step_outputs
from pipelines.dag import build_dag
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


@contextlib.contextmanager
def embedded_server(ex: ExecutionConfig):
    """Start (or reuse) the local server; stop it afterwards only if we started it."""
    from localserver.launch import start_server
    handle = start_server(Path(ex.data_dir).resolve())
    saved = dict(os.environ)
    os.environ.update(handle.client_env())
    log.info("embedded ClearML-compatible server at %s (files %s); config %s",
             handle.api_url, handle.files_url, handle.config_path)
    try:
        yield handle
    finally:
        os.environ.clear()
        os.environ.update(saved)
        handle.stop()


def _drive(cfg: PipelineConfig, local_steps: bool) -> RunResult:
    spec = build_dag(cfg, run_info=run_info(cfg))
    pipe = build_controller(spec, retries=cfg.execution.retries)
    pipe.start_locally(run_pipeline_steps_locally=local_steps)
    outputs = step_outputs(pipe)
    return RunResult(cfg.execution.mode, pipe.id, outputs, decision_of(outputs))


def run_pipeline(cfg: PipelineConfig) -> RunResult:
    ex = cfg.execution
    if ex.mode == "embedded":
        with embedded_server(ex) as handle:
            agents = None
            if ex.agents:
                from localserver.launch import start_agents
                agents = start_agents(handle, queues=[ex.queue], count=ex.agents,
                                      work_dir=Path(ex.data_dir).resolve() / "agents")
            try:
                result = _drive(cfg, local_steps=agents is None)
            finally:
                if agents is not None:
                    agents.stop()
            result.server = {"api": handle.api_url, "files": handle.files_url,
                             "config": str(handle.config_path)}
            return result
    if not _server_configured():
        raise RuntimeError(
            f"execution.mode={ex.mode} needs a ClearML server: set CLEARML_API_HOST and keys, or "
            "write ~/clearml.conf (see clearml.conf.example), or use mode=embedded")
    if ex.mode == "local":
        return _drive(cfg, local_steps=True)
    return _start_remote(cfg)


def _start_remote(cfg: PipelineConfig) -> RunResult:
    from pipelines.queues import require_workers
    ex = cfg.execution
    queues = {ex.controller_queue, ex.queue, *ex.step_queues.values()}
    require_workers(sorted(queues))
    spec = build_dag(cfg, run_info=run_info(cfg))
    pipe = build_controller(spec, retries=ex.retries)
    pipe.start(queue=ex.controller_queue, wait=False)
    return RunResult(ex.mode, pipe.id)
