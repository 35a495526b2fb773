"""Warm-started step processes behave like ``python <script>`` started by ClearML."""
import subprocess
import sys
import textwrap

import pytest

from pipelines import warm

SCRIPT = textwrap.dedent("""
    import atexit, json, os, sys
    out = os.environ["WARM_OUT"]
    def bye():
        with open(out + ".atexit", "w") as fh:
            fh.write("closed")
    atexit.register(bye)
    import clearml.config
    with open(out, "w") as fh:
        json.dump({"argv": sys.argv, "cwd": os.getcwd(), "task": clearml.config.get_remote_task_id(),
                   "name": __name__, "env": os.environ.get("ONLY_IN_JOB")}, fh)
    sys.exit(int(os.environ.get("WARM_EXIT", "0")))
""")


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "step.py"
    path.write_text(SCRIPT)
    return path


def _env(tmp_path, **extra):
    return {"PATH": "/usr/bin:/bin", "WARM_OUT": str(tmp_path / "out.json"),
            "CLEARML_TASK_ID": "task-123", "ONLY_IN_JOB": "yes", **extra}


def test_warm_child_runs_script_with_job_env_cwd_and_exit_hooks(script, tmp_path):
    import json
    workdir = tmp_path / "work"
    workdir.mkdir()
    proc = warm._warm_popen([sys.executable, str(script)], cwd=str(workdir), env=_env(tmp_path))
    assert isinstance(proc, warm.WarmProcess)
    assert proc.wait(timeout=120) == 0
    seen = json.loads((tmp_path / "out.json").read_text())
    assert seen == {"argv": [str(script)], "cwd": str(workdir), "task": "task-123",
                    "name": "__main__", "env": "yes"}
    assert (tmp_path / "out.json.atexit").read_text() == "closed"


def test_exit_code_and_timeout_follow_popen(script, tmp_path):
    proc = warm._warm_popen([sys.executable, str(script)], cwd=str(tmp_path),
                            env=_env(tmp_path, WARM_EXIT="3"))
    assert proc.wait(timeout=120) == 3
    slow = tmp_path / "slow.py"
    slow.write_text("import time; time.sleep(30)")
    proc = warm._warm_popen([sys.executable, str(slow)], cwd=str(tmp_path), env=_env(tmp_path))
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=0.2)
    proc.kill()
    assert proc.wait(timeout=30) != 0


def test_other_commands_use_a_real_subprocess(tmp_path):
    proc = warm._warm_popen(["true"], cwd=str(tmp_path), env=None)
    assert isinstance(proc, subprocess.Popen) and proc.wait(timeout=30) == 0


def test_switch_off_keeps_clearml_subprocesses(monkeypatch):
    monkeypatch.setenv(warm.ENV_SWITCH, "0")
    assert warm.install() is False
