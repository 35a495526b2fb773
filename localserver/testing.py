"""Test helpers: a started server in a temp dir and a way to run SDK code in subprocesses.

Use from any test module or conftest::

    from localserver.testing import localserver_handle, run_sdk  # in a conftest.py

    def test_something(localserver_handle, run_sdk):
        out = run_sdk("from clearml import Task\\n"
                      "t = Task.init(project_name='p', task_name='t')\\n"
                      "result(id=t.id)\\n"
                      "t.close()")
        assert out["id"]

Fixtures: ``localserver_handle`` (session-wide server), ``run_sdk`` (runs a code snippet in
a fresh interpreter with the server's client env and a throwaway HOME; the snippet calls
``result(**values)`` to hand JSON-able values back). ``sdk_env(handle, home)`` builds the env.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from contextlib import contextmanager
from pathlib import Path

from .launch import ServerHandle, start_server

RESULT_MARK = "@@LOCALSERVER-RESULT@@"
PRELUDE = f"""\
import json as _json, sys as _sys
def result(**values):
    print({RESULT_MARK!r} + _json.dumps(values, default=str), flush=True)
"""


def sdk_env(handle: ServerHandle, home: str | os.PathLike, extra: dict | None = None) -> dict[str, str]:
    """os.environ without any CLEARML_* settings, plus the server's client env and ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "TRAINS_"))}
    env.update(handle.client_env(home=home))
    env.update({"MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1", "CLEARML_LOG_LEVEL": "WARNING"})
    env.update(extra or {})
    return env


class SdkRunError(AssertionError):
    pass


def run_sdk_code(handle: ServerHandle, code: str, workdir: str | os.PathLike | None = None,
                 timeout: float = 180.0, env: dict | None = None, check: bool = True) -> dict:
    """Run ``code`` with this interpreter against ``handle``; return the merged ``result()`` values.

    The returned dict also carries ``_stdout`` and ``_returncode``.
    """
    workdir = Path(workdir or tempfile.mkdtemp(prefix="sdk-run-"))
    workdir.mkdir(parents=True, exist_ok=True)
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    script = workdir / f"snippet_{len(list(workdir.glob('snippet_*.py')))}.py"
    script.write_text(PRELUDE + textwrap.dedent(code))
    proc = subprocess.Popen([sys.executable, str(script)], cwd=str(workdir), env=sdk_env(handle, home, env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)   # the snippet and anything it spawned
        stdout, _ = proc.communicate()
        raise SdkRunError(f"SDK snippet timed out after {timeout}s:\n{stdout[-6000:]}") from None
    proc.stdout = stdout
    values: dict = {}
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            values.update(json.loads(line[len(RESULT_MARK):]))
    if check and proc.returncode != 0:
        raise SdkRunError(f"SDK snippet failed ({proc.returncode}):\n{proc.stdout[-6000:]}")
    values["_stdout"] = proc.stdout
    values["_returncode"] = proc.returncode
    return values


@contextmanager
def local_server(data_dir: str | os.PathLike, **kwargs):
    """Start a background server for ``data_dir`` and stop it afterwards."""
    handle = start_server(data_dir, **kwargs)
    try:
        yield handle
    finally:
        handle.stop(force=True)


try:
    import pytest
except ImportError:  # pragma: no cover - pytest is only needed for the fixtures
    pytest = None

if pytest is not None:
    @pytest.fixture(scope="session")
    def localserver_handle(tmp_path_factory):
        """A background server over a session temp dir, stopped at the end of the session."""
        with local_server(tmp_path_factory.mktemp("localserver-data")) as handle:
            yield handle

    @pytest.fixture
    def run_sdk(localserver_handle, tmp_path):
        """``run_sdk(code, **kw) -> dict``: run SDK code in a subprocess against the session server."""
        def _run(code: str, **kwargs):
            return run_sdk_code(localserver_handle, code, workdir=kwargs.pop("workdir", tmp_path), **kwargs)
        return _run
