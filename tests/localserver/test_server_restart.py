"""Flow 6: persistence across restarts, stable ports, idempotent start, CLI start/status/show/stop."""
import json
import socket
import subprocess
import sys

import pytest

from localserver.launch import running_server, start_server, stop_server
from localserver.testing import run_sdk_code

pytestmark = pytest.mark.slow

WRITE = """
from clearml import Task
task = Task.init(project_name="ls-tests/restart", task_name="before-restart", reuse_last_task_id=False)
task.connect({"seed": 7})
for i in range(3):
    task.get_logger().report_scalar("acc", "val", value=0.5 + i / 10, iteration=i)
task.upload_artifact("table", artifact_object={"rows": 3}, wait_on_upload=True)
result(id=task.id, url=task.artifacts["table"].url)
task.close()
"""

READ = """
from clearml import Task
t = Task.get_task(task_id={task_id!r})
result(status=t.get_status(), seed=t.get_parameters()["General/seed"], table=t.artifacts["table"].get(),
       url=t.artifacts["table"].url, acc=t.get_reported_scalars()["acc"]["val"]["y"])
"""


def test_restart_keeps_everything(tmp_path):
    data = tmp_path / "data"
    first = start_server(data)
    try:
        again = start_server(data)
        assert again.owned is False and again.pid == first.pid and again.api_url == first.api_url
        made = run_sdk_code(first, WRITE, workdir=tmp_path / "w1")
    finally:
        first.stop()
    assert running_server(data) is None
    second = start_server(data)
    try:
        assert second.owned and second.pid != first.pid
        assert (second.api_url, second.files_url) == (first.api_url, first.files_url)
        assert (second.access_key, second.secret_key) == (first.access_key, first.secret_key)
        got = run_sdk_code(second, READ.format(task_id=made["id"]), workdir=tmp_path / "w2")
        assert got["status"] == "completed"
        assert got["seed"] == "7"
        assert got["table"] == {"rows": 3}
        assert got["url"] == made["url"]
        assert got["acc"] == pytest.approx([0.5, 0.6, 0.7])
    finally:
        second.stop()


def test_port_clash_is_a_clear_error(tmp_path):
    data = tmp_path / "data"
    handle = start_server(data)
    port = int(handle.api_url.rsplit(":", 1)[1])
    handle.stop()
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", port))
    blocker.listen(1)
    try:
        with pytest.raises(RuntimeError, match=f"{port}.*stable across restarts"):
            start_server(data, timeout=15)
    finally:
        blocker.close()


def _cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "localserver", *args], capture_output=True, text=True, timeout=60)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_cli_start_status_show_stop(tmp_path):
    data = str(tmp_path / "cli-data")
    assert "python -m localserver" in _cli("--help").stdout
    started = json.loads(_cli("start", "--data-dir", data, "--json").stdout)
    try:
        assert started["api_url"].startswith("http://127.0.0.1:") and started["reused"] is False
        conf = open(started["config_path"]).read()
        assert started["api_url"] in conf and "report_use_subprocess: false" in conf
        assert f'default_output_uri: "{started["files_url"]}"' in conf
        assert "running pid" in _cli("status", "--data-dir", data).stdout
        handle = running_server(data)
        api = handle.api()
        api.call("projects.create", name="cli/shown")
        api.call("tasks.create", name="shown-task", project=api.call("projects.get_all", name="^cli/shown$")
                 ["projects"][0]["id"])
        summary = json.loads(_cli("show", "--data-dir", data).stdout)
        assert summary["tasks"] == 1 and summary["projects"] == 2
        tasks = json.loads(_cli("show", "tasks", "--data-dir", data, "--json").stdout)
        assert tasks[0]["name"] == "shown-task" and tasks[0]["project"] == "cli/shown"
        assert "shown-task" in _cli("show", "tasks", "--data-dir", data).stdout
    finally:
        assert "stopped" in _cli("stop", "--data-dir", data).stdout
    assert _cli("status", "--data-dir", data, check=False).returncode == 1
    assert not stop_server(data)
