"""The pipeline controller as a child process of ``tabpipe run``, and how it ends.

The controller and every step it starts run in a process group of their own. Whatever
ends the run from outside (Ctrl-C, SIGTERM from ``kill`` or a CI time limit, SIGHUP from
a closed terminal) reaches that whole group as one SIGINT, so the controller marks its
task stopped and no step keeps computing after the command has returned. Before, a
SIGTERM left the controller and a step running for minutes after the command had died.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_CHECK_S = 2.0  # how often a run checks that its embedded server still exists
INTERRUPT_WAIT_S = 60.0  # for the interrupted controller to stop its steps and mark them


class ServerGone(RuntimeError):
    pass


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled as Ctrl-C is."""


def stop_like_ctrl_c() -> None:
    """SIGTERM and SIGHUP end this process as Ctrl-C does: cleanly, with the run's
    processes interrupted and its unfinished tasks marked stopped."""
    def interrupt(signum, _frame):
        raise Terminated(f"signal {signum}")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)


def wait_for(proc: subprocess.Popen, server_gone=None) -> int:
    """The controller's exit code; if the embedded server's process disappears first (killed,
    crashed), the controller and every step under it are stopped and ``ServerGone`` says so:
    otherwise each would retry its calls for many minutes."""
    while True:
        try:
            return proc.wait(timeout=SERVER_CHECK_S)
        except subprocess.TimeoutExpired:
            if server_gone is not None and server_gone():
                kill_tree(proc.pid)
                proc.wait()
                raise ServerGone(
                    "the embedded server stopped during the run (its process is gone), so the run "
                    "cannot finish; its processes were stopped. `tabpipe run` again continues from "
                    "the steps that completed (they are cached)") from None


def kill_tree(pid: int) -> None:
    import psutil
    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(procs, timeout=10)


def interrupt(proc: subprocess.Popen, wait_s: float = INTERRUPT_WAIT_S) -> None:
    """SIGINT to the controller's process group, as a terminal's Ctrl-C would send; what
    has not ended after ``wait_s`` is killed."""
    import psutil
    try:
        below = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        below = []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid)
    # a step still finishing after its controller has ended: not for long
    _, alive = psutil.wait_procs(below, timeout=max(1.0, wait_s / 6))
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


def run_controller(cmd: list[str], env: dict, verbose: bool, progress=None,
                   server_gone=None) -> int:
    """Run the controller in its own process group; unless ``verbose``, its output and its
    steps' (they inherit the pipe) reach ``progress`` (default stdout) through
    ``pipelines.console``'s filter. ``server_gone()``: True once the embedded server's
    process no longer exists."""
    import threading

    progress = progress or sys.stdout
    if verbose:
        proc = subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, stdout=progress, process_group=0)
        try:
            return wait_for(proc, server_gone)
        except KeyboardInterrupt:
            interrupt(proc)
            raise

    from pipelines.console import QUIET_ENV, pump
    env = dict(env, PYTHONUNBUFFERED="1", **QUIET_ENV)  # progress lines as they happen, not per 8 KiB
    proc = subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, process_group=0)
    interrupted = threading.Event()
    reader = threading.Thread(target=pump, args=(proc.stdout, progress, interrupted), daemon=True)
    reader.start()
    try:
        code = wait_for(proc, server_gone)
    except ServerGone:
        interrupted.set()  # the steps' connection errors say nothing the error does not
        reader.join(timeout=10)
        raise
    except KeyboardInterrupt:  # the controller is told as Ctrl-C would; it cleans up, then stops
        interrupted.set()
        interrupt(proc)
        reader.join(timeout=10)
        raise
    reader.join(timeout=10)  # a lingering grandchild may hold the pipe: do not wait on it
    return code
