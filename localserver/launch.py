"""Start, find and stop a local server for a data directory.

    handle = start_server("~/.tabpipe/server")        # background subprocess, reused if running
    env = handle.client_env()                          # env vars for SDK/agent processes
    handle.stop()

``start_server`` is idempotent: when a healthy server for the data dir is already running
(pid file + answering ``auth.login``), it is reused and ``handle.owned`` is False;
``handle.stop()`` then leaves it running unless ``force=True``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .auth import Credentials
from .client import ApiClient
from .datadir import Layout, resolve_settings, urls
from .pids import alive as _alive


@dataclass
class ServerHandle:
    data_dir: Path
    api_url: str
    files_url: str
    web_url: str
    access_key: str
    secret_key: str
    config_path: Path
    pid: int | None = None
    owned: bool = False
    auto_stop: bool = False  # sharing.shared_server: stopped when its last user leaves
    stopped: bool = False  # sharing.shared_server: this handle's exit stopped it
    _inproc: object = field(default=None, repr=False)

    def client_env(self, home: str | os.PathLike | None = None) -> dict[str, str]:
        """Environment variables a client (SDK script or agent) needs to use this server."""
        env = {
            "CLEARML_CONFIG_FILE": str(self.config_path),
            "CLEARML_API_HOST": self.api_url,
            "CLEARML_WEB_HOST": self.web_url,
            "CLEARML_FILES_HOST": self.files_url,
            "CLEARML_API_ACCESS_KEY": self.access_key,
            "CLEARML_API_SECRET_KEY": self.secret_key,
            "CLEARML_NO_DEFAULT_SERVER": "1",
        }
        if home is not None:
            env["HOME"] = str(home)
        return env

    def api(self) -> ApiClient:
        return ApiClient(self.api_url, self.access_key, self.secret_key)

    def is_running(self) -> bool:
        """Its process still exists (an in-process server: always)."""
        return self.pid is None or self.pid == os.getpid() or _alive(self.pid)

    def is_healthy(self) -> bool:
        return _healthy(self.api_url, self.access_key, self.secret_key)

    def stop(self, force: bool = False, timeout: float = 15.0) -> None:
        """Stop the server if this handle started it (or always with ``force``)."""
        if not (self.owned or force):
            return
        if self._inproc is not None:
            self._inproc.stop()
            self._inproc = None
            return
        if self.pid:
            _shut_down(self.data_dir, self.pid, timeout)
            self.pid = None

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _healthy(api_url: str, access_key: str, secret_key: str) -> bool:
    try:
        ApiClient(api_url, access_key, secret_key, timeout=3).login()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return False


def _shut_down(data_dir, pid: int, timeout: float) -> None:
    """Stop the server process ``pid`` of ``data_dir``, and first the agents ``tabpipe
    agents`` left running for it: they would poll it forever, and without a server to
    answer they are slow to exit."""
    from .agents import stop_detached
    stop_detached(data_dir)
    _terminate(pid, timeout)


def _terminate(pid: int, timeout: float) -> None:
    if not _alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def running_server(data_dir) -> ServerHandle | None:
    """Handle of the healthy server currently serving ``data_dir``, if any."""
    layout = Layout(data_dir)
    try:
        info = json.loads(layout.pidfile.read_text())
    except (OSError, ValueError):
        return None
    if not _alive(int(info.get("pid", 0))):
        return None
    creds = Credentials.load_or_create(layout.root)
    if not _healthy(info["api_url"], creds.access_key, creds.secret_key):
        return None
    return ServerHandle(layout.root, info["api_url"], info["files_url"], info.get("web_url", info["api_url"]),
                        creds.access_key, creds.secret_key, layout.config, pid=int(info["pid"]), owned=False)


def start_server(data_dir, host: str = "127.0.0.1", api_port: int | None = None, files_port: int | None = None,
                 background: bool = True, timeout: float = 30.0, log_requests: bool = False) -> ServerHandle:
    """Start (or reuse) the server for ``data_dir`` and wait until it answers.

    ``background=True`` runs ``python -m localserver serve`` as a detached subprocess;
    ``background=False`` serves from threads of the current process (stopped with the handle).
    Ports are persisted in the data dir on first start and reused afterwards.
    """
    layout = Layout(data_dir).ensure()
    existing = running_server(layout.root)
    if existing is not None:
        wanted = {"api_port": api_port, "files_port": files_port}
        actual = {"api_port": int(existing.api_url.rsplit(":", 1)[1]),
                  "files_port": int(existing.files_url.rsplit(":", 1)[1])}
        clash = [k for k, v in wanted.items() if v and int(v) != actual[k]]
        if clash:
            raise RuntimeError(f"A server for {layout.root} already runs with {actual}; requested {wanted}")
        return existing
    creds = Credentials.load_or_create(layout.root)
    if not background:
        from .server import LocalServer
        server = LocalServer(layout.root, host, api_port, files_port, log_requests)
        info = server.start()
        return ServerHandle(layout.root, info["api_url"], info["files_url"], info["web_url"], creds.access_key,
                            creds.secret_key, layout.config, pid=os.getpid(), owned=True, _inproc=server)
    settings = resolve_settings(layout, host, api_port, files_port)
    cmd = [sys.executable, "-m", "localserver", "serve", "--data-dir", str(layout.root), "--host", settings["host"],
           "--api-port", str(settings["api_port"]), "--files-port", str(settings["files_port"])]
    if log_requests:
        cmd.append("--log-requests")
    log_path = layout.logs / "server.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=str(layout.root))
    info = urls(settings)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"localserver exited with code {proc.returncode}; log {log_path}:\n{tail}")
        if layout.pidfile.exists() and _healthy(info["api_url"], creds.access_key, creds.secret_key):
            return ServerHandle(layout.root, info["api_url"], info["files_url"], info["web_url"], creds.access_key,
                                creds.secret_key, layout.config, pid=proc.pid, owned=True)
        time.sleep(0.1)
    proc.terminate()
    raise TimeoutError(f"localserver did not answer within {timeout}s; see {log_path}")


def stop_server(data_dir, timeout: float = 15.0) -> bool:
    """Stop the server running for ``data_dir``; False when none was running."""
    layout = Layout(data_dir)
    try:
        pid = int(json.loads(layout.pidfile.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return False
    if not _alive(pid):
        layout.pidfile.unlink(missing_ok=True)
        return False
    _shut_down(data_dir, pid, timeout)
    return True


from .agents import AgentPool, start_agents  # noqa: E402,F401  (re-exported for convenience)
