"""The server process: API and file server threads over one data directory.

Run it with ``python -m localserver serve`` (foreground) or through
:func:`localserver.launch.start_server` (background subprocess).
"""
from __future__ import annotations

import json
import logging
import os
import re
import signal
import threading
import time

from . import services  # noqa: F401  (registers endpoints)
from . import auth  # noqa: F401
from .auth import Credentials
from .datadir import Layout, PortInUseError, client_config_text, resolve_settings, urls, write_text_atomic
from .fileserver import make_file_server
from .store import Store
from .transport import make_api_server

log = logging.getLogger("localserver")


_TASK_DIR = re.compile(r"\.([0-9a-f]{32})(?:/|$)")


class App:
    """State shared by the request handlers of one server."""

    def locked_path(self, rel: str) -> str | None:
        """Reason why file-server object ``rel`` is read-only (it belongs to a frozen task)."""
        for task_id in _TASK_DIR.findall(rel):
            doc = self.store.get("tasks", task_id)
            if doc is None:
                continue
            if doc.get("status") == "published":
                return f"task {task_id} is published: its files are read-only"
            if doc.get("status") in ("completed", "closed") and "dataset" in (doc.get("system_tags") or []):
                return f"dataset {task_id} is finalized: its files are read-only"
        return None

    def __init__(self, layout: Layout, files_url: str, log_requests: bool = False):
        self.layout = layout
        self.store = Store(layout.db)
        self.credentials = Credentials.load_or_create(layout.root)
        self.files_url = files_url
        self.request_log = None
        if log_requests:
            lock = threading.Lock()
            fh = open(layout.logs / "requests.log", "a", buffering=1)

            def request_log(name, code, ms):
                with lock:
                    fh.write(f"{time.time():.3f} {code} {ms:7.2f}ms {name}\n")
            self.request_log = request_log


def _bind(factory, what: str, host: str, port: int, layout: Layout):
    try:
        return factory(host, port)
    except OSError as err:
        raise PortInUseError(
            f"Cannot bind the {what} port {host}:{port} ({err.strerror}). This data dir ({layout.root}) "
            f"stores absolute URLs using that port, so it is kept stable across restarts. Stop whatever "
            f"uses it, or deliberately move the server with --{what}-port (old URLs then break).") from err


class LocalServer:
    """API + file server threads over one data directory (in the current process)."""

    def __init__(self, data_dir, host: str | None = None, api_port: int | None = None,
                 files_port: int | None = None, log_requests: bool = False):
        self.layout = Layout(data_dir).ensure()
        self.settings = resolve_settings(self.layout, host, api_port, files_port)
        self.info = urls(self.settings)
        self.app = App(self.layout, self.info["files_url"],
                       log_requests or bool(os.environ.get("LOCALSERVER_LOG_REQUESTS")))
        host = self.settings["host"]
        self.api = _bind(lambda h, p: make_api_server(self.app, h, p), "api", host, self.settings["api_port"],
                         self.layout)
        try:
            self.files = _bind(lambda h, p: make_file_server(self.layout.files, h, p, self.app.locked_path), "files", host,
                               self.settings["files_port"], self.layout)
        except PortInUseError:
            self.api.server_close()
            raise
        self.threads: list[threading.Thread] = []

    def start(self, write_pidfile: bool = True) -> dict:
        creds = self.app.credentials
        write_text_atomic(self.layout.config, client_config_text(
            self.info["api_url"], self.info["web_url"], self.info["files_url"], creds.access_key, creds.secret_key))
        self.threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                                         name=f"localserver-{n}") for n, s in (("api", self.api), ("files", self.files))]
        for t in self.threads:
            t.start()
        pid_info = {"pid": os.getpid(), **self.info, "config_path": str(self.layout.config), "started": time.time()}
        if write_pidfile:
            write_text_atomic(self.layout.pidfile, json.dumps(pid_info), mode=0o644)
        return pid_info

    def stop(self) -> None:
        for s in (self.api, self.files):
            s.shutdown()
            s.server_close()
        self.app.store.close()
        try:
            if json.loads(self.layout.pidfile.read_text()).get("pid") == os.getpid():
                self.layout.pidfile.unlink()
        except (OSError, ValueError):
            pass


def serve(data_dir, host: str | None = None, api_port: int | None = None, files_port: int | None = None,
          log_requests: bool = False) -> None:
    """Run the API and file servers in the foreground until SIGINT/SIGTERM."""
    server = LocalServer(data_dir, host, api_port, files_port, log_requests)
    info = server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"localserver: API {info['api_url']}  files {info['files_url']}  config {info['config_path']}",
          flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
