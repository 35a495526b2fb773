"""Layout of a server data directory and the client configuration written into it.

    <data_dir>/server.json        host and the persisted (stable) API/files ports
    <data_dir>/credentials.json   access/secret keys and the token-signing secret (0600)
    <data_dir>/clearml.db         SQLite store (WAL)
    <data_dir>/files/             file-server objects
    <data_dir>/clearml.conf       client config (SDK) pointing at this server
    <data_dir>/server.pid         pid + URLs of the running server
    <data_dir>/logs/              server logs

Ports are chosen once and persisted: artifact and model URIs stored in the database are
absolute URLs, so the server must come back on the same ports.
"""
from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path


class PortInUseError(RuntimeError):
    pass


@dataclass
class Layout:
    root: Path

    def __post_init__(self):
        self.root = Path(self.root).expanduser().resolve()

    settings = property(lambda self: self.root / "server.json")
    db = property(lambda self: self.root / "clearml.db")
    files = property(lambda self: self.root / "files")
    config = property(lambda self: self.root / "clearml.conf")
    pidfile = property(lambda self: self.root / "server.pid")
    leases = property(lambda self: self.root / "leases")  # localserver.sharing: one per user
    autostop = property(lambda self: self.root / "server.autostop")  # last user stops it
    agent_pids = property(lambda self: self.root / "agents.pids")  # `agents` left running
    logs = property(lambda self: self.root / "logs")

    def ensure(self) -> "Layout":
        for path in (self.root, self.files, self.logs):
            path.mkdir(parents=True, exist_ok=True)
        return self


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_available(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def resolve_settings(layout: Layout, host: str | None = None, api_port: int | None = None,
                     files_port: int | None = None) -> dict:
    """Load persisted host/ports; pick and persist free ports on first use.

    Explicit arguments override (and re-persist) the stored values.
    """
    stored = json.loads(layout.settings.read_text()) if layout.settings.exists() else {}
    host = host or stored.get("host") or "127.0.0.1"
    settings = {
        "host": host,
        "api_port": int(api_port or stored.get("api_port") or free_port(host)),
        "files_port": int(files_port or stored.get("files_port") or 0),
    }
    if not settings["files_port"]:
        port = free_port(host)
        while port == settings["api_port"]:
            port = free_port(host)
        settings["files_port"] = port
    if settings != stored:
        tmp = layout.settings.with_suffix(".tmp")
        tmp.write_text(json.dumps(settings, indent=2))
        os.replace(tmp, layout.settings)
    return settings


def urls(settings: dict) -> dict:
    host = settings["host"]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    api = f"http://{shown}:{settings['api_port']}"
    return {"api_url": api, "web_url": api, "files_url": f"http://{shown}:{settings['files_port']}"}


def client_config_text(api_url: str, web_url: str, files_url: str, access_key: str, secret_key: str,
                       agent: dict | None = None) -> str:
    """HOCON config for SDK (and optionally agent) processes talking to this server."""
    text = f"""# Written by localserver: client configuration for this local ClearML-compatible server.
api {{
    api_server: "{api_url}"
    web_server: "{web_url}"
    files_server: "{files_url}"
    credentials {{
        access_key: "{access_key}"
        secret_key: "{secret_key}"
    }}
}}
sdk {{
    development {{
        # close() would otherwise wait ~10 s for a forked reporter process
        report_use_subprocess: false
        # upload models/artifacts to the local file server by default
        default_output_uri: "{files_url}"
        # never silently re-use a previous task (the SDK's 72 h reuse window)
        task_reuse_time_window_in_hours: 0
        vcs_repo_detect_async: false
    }}
}}
"""
    if agent:
        text += "agent {\n" + "".join(f"    {k}: {json.dumps(v)}\n" for k, v in agent.items()) + "}\n"
    return text


def write_text_atomic(path: Path, text: str, mode: int = 0o600) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
