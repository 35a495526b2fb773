"""Run real ``clearml-agent daemon`` workers against a local server.

Each agent gets its own directory (config file, HOME, ``agent.venvs_dir``) and a unique
worker id, and runs tasks with the current interpreter: no virtualenv, no pip installs
(``CLEARML_AGENT_SKIP_PYTHON_ENV_INSTALL=1``, ``CLEARML_AGENT_SKIP_PIP_VENV_INSTALL``).
In that mode the agent writes a task's standalone script to ``<venvs_dir>/code`` and runs
it there, so packages must be importable from this interpreter (e.g. pip-installed).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .datadir import Layout, client_config_text
from .pids import identity, recorded_pid


@dataclass
class AgentProcess:
    worker_id: str
    queues: list[str]
    directory: Path
    config_path: Path
    log_path: Path
    proc: subprocess.Popen

    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class AgentPool:
    agents: list[AgentProcess] = field(default_factory=list)

    @property
    def worker_ids(self) -> list[str]:
        return [a.worker_id for a in self.agents]

    def alive(self) -> bool:
        return all(a.alive() for a in self.agents)

    def logs(self) -> dict[str, str]:
        return {a.worker_id: a.log_path.read_text(errors="replace") if a.log_path.exists() else ""
                for a in self.agents}

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate every agent and the task processes it spawned (its process group)."""
        for agent in self.agents:
            if agent.alive():
                try:
                    os.killpg(agent.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + timeout
        for agent in self.agents:
            try:
                agent.proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(agent.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                agent.proc.wait(5)

    def __enter__(self) -> "AgentPool":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def agent_env(handle, directory: Path, worker_id: str, poll_sec: float) -> dict[str, str]:
    env = dict(os.environ)
    for key in [k for k in env if k.startswith(("CLEARML_", "TRAINS_"))]:
        env.pop(key)
    env.update(handle.client_env(home=directory))
    env.update({
        "CLEARML_CONFIG_FILE": str(directory / "clearml.conf"),
        "CLEARML_WORKER_ID": worker_id,
        "CLEARML_WORKER_NAME": worker_id,
        "CLEARML_AGENT_SKIP_PYTHON_ENV_INSTALL": "1",
        "CLEARML_AGENT_SKIP_PIP_VENV_INSTALL": sys.executable,
        "CLEARML_AGENT_QUEUE_POLL_FREQ_SEC": str(poll_sec),
        "CLEARML_AGENT_TEMP_STDOUT_FILE_DIR": str(directory / "tmp"),
        "TMPDIR": str(directory / "tmp"),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def start_agents(handle, queues=("default",), count: int = 1, work_dir=None, poll_sec: float = 1.0,
                 wait: bool = True, timeout: float = 60.0, name: str = "localserver-agent") -> AgentPool:
    """Start ``count`` clearml-agent daemons serving ``queues`` (created if missing).

    ``work_dir`` holds one sub-directory per agent (default: a new temp dir). With ``wait``
    the call returns once every worker is registered with the server.
    """
    queues = [queues] if isinstance(queues, str) else list(queues)
    api = handle.api()
    for queue in queues:
        if not any(q["name"] == queue for q in api.call("queues.get_all", name=f"^{queue}$")["queues"]):
            api.call("queues.create", name=queue)
    root = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="localserver-agents-"))
    root.mkdir(parents=True, exist_ok=True)
    pool = AgentPool()
    tag = uuid.uuid4().hex[:6]
    for i in range(count):
        worker_id = f"{socket.gethostname()}:{name}-{tag}-{i}"
        directory = root / f"agent-{tag}-{i}"
        (directory / "tmp").mkdir(parents=True, exist_ok=True)
        agent_cfg = {"worker_id": worker_id, "worker_name": worker_id, "venvs_dir": str(directory / "venvs"),
                     "vcs_cache": {"enabled": False}, "pip_download_cache": {"enabled": False},
                     "venvs_cache": {"path": str(directory / "venvs-cache"), "max_entries": 0},
                     "package_manager": {"type": "pip", "system_site_packages": True},
                     "translate_ssh": False, "enable_git_ask_pass": False}
        config_path = directory / "clearml.conf"
        config_path.write_text(client_config_text(handle.api_url, handle.web_url, handle.files_url, handle.access_key,
                                                  handle.secret_key, agent=agent_cfg))
        log_path = directory / "agent.log"
        cmd = [sys.executable, "-m", "clearml_agent", "--config-file", str(config_path), "daemon",
               "--queue", *queues]
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=agent_env(handle, directory, worker_id, poll_sec), cwd=str(directory),
                                    start_new_session=True)
        pool.agents.append(AgentProcess(worker_id, queues, directory, config_path, log_path, proc))
    if wait:
        _wait_registered(api, pool, timeout)
    return pool


def _wait_registered(api, pool: AgentPool, timeout: float) -> None:
    deadline = time.time() + timeout
    wanted = set(pool.worker_ids)
    while time.time() < deadline:
        seen = {w["id"] for w in api.call("workers.get_all")["workers"]}
        if wanted <= seen:
            return
        dead = [a for a in pool.agents if not a.alive()]
        if dead:
            logs = dead[0].log_path.read_text(errors="replace")[-3000:]
            pool.stop()
            raise RuntimeError(f"agent {dead[0].worker_id} exited ({dead[0].proc.returncode}):\n{logs}")
        time.sleep(0.2)
    pool.stop()
    raise TimeoutError(f"agents did not register within {timeout}s: {sorted(wanted)}")


def remember_detached(data_dir, pool: AgentPool) -> None:
    """Agents left running by ``agents`` (not ``--foreground``): the server's stop stops them,
    instead of leaving them polling an address where nothing answers."""
    with open(Layout(data_dir).agent_pids, "a") as fh:
        fh.writelines(f"{identity(agent.proc.pid)}\n" for agent in pool.agents)


def stop_detached(data_dir, timeout: float = 15.0) -> int:
    """Stop the agents ``remember_detached`` recorded for ``data_dir`` (each with the task
    processes it runs); returns how many were still running. A recorded PID now used by
    another program is left alone."""
    import psutil
    path = Layout(data_dir).agent_pids
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return 0
    path.unlink(missing_ok=True)
    agents = []
    for pid in filter(None, (recorded_pid(line, legacy_ok=False) for line in lines)):
        try:
            proc = psutil.Process(pid)
            os.killpg(pid, signal.SIGTERM)
            agents.append(proc)
        except (psutil.Error, ProcessLookupError, PermissionError):
            continue
    _, alive = psutil.wait_procs(agents, timeout=timeout)
    for proc in alive:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(agents)
