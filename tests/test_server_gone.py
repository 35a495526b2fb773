"""A run whose embedded server disappears stops its processes and says so, instead of every
step retrying its calls for many minutes."""
import subprocess
import sys

import psutil
import pytest

from pipelines import controller_process, runner

# a "controller" that starts a "step" child and both wait, as if retrying a dead server
TREE = ("import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); time.sleep(120)")


def test_a_vanished_server_stops_the_controller_and_its_steps(monkeypatch):
    monkeypatch.setattr(controller_process, "SERVER_CHECK_S", 0.2)
    proc = subprocess.Popen([sys.executable, "-c", TREE])
    checks = []

    def server_gone():  # alive at the first check, gone at the second
        checks.append(1)
        return len(checks) >= 2 and bool(psutil.Process(proc.pid).children())
    with pytest.raises(runner.ServerGone, match="embedded server stopped during the run"):
        controller_process.wait_for(proc, server_gone)
    assert proc.poll() is not None
    assert not any("time.sleep(120)" in " ".join(p.info["cmdline"] or [])
                   for p in psutil.process_iter(["cmdline"]))


def test_a_controller_that_ends_returns_its_code(monkeypatch):
    monkeypatch.setattr(controller_process, "SERVER_CHECK_S", 0.05)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5); raise SystemExit(3)"])
    assert controller_process.wait_for(proc, server_gone=lambda: False) == 3


def test_a_run_cut_off_by_its_server_is_marked_stopped_by_the_next_run(tmp_path, monkeypatch):
    from pipelines.controller_main import RESULT_ENV, RUN_ID_SUFFIX
    from steps.config import load_config
    cfg = load_config(None, [f"execution.data_dir={tmp_path / 'data'}", "execution.report=false"])

    def controller_then_server_dies(cmd, env, *args, **kwargs):
        with open(env[RESULT_ENV] + RUN_ID_SUFFIX, "w") as fh:
            fh.write("a" * 32)
        raise runner.ServerGone("gone")
    monkeypatch.setattr(runner, "run_controller", controller_then_server_dies)
    with pytest.raises(runner.ServerGone):
        runner._drive(cfg)
    assert (tmp_path / "data" / "unfinished" / ("a" * 32)).read_text() == "a" * 32

    marked = []
    monkeypatch.setattr(runner, "stop_unfinished",
                        lambda path, why: marked.append((path.read_text(), why)) or ["t1"])
    runner._stop_left_running(cfg.execution)
    assert marked == [("a" * 32, "its embedded server stopped during the run")]
    assert not any((tmp_path / "data" / "unfinished").iterdir())
