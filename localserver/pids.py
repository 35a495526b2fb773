"""Which process a recorded PID names: its PID plus its start time, so a PID the system has
since handed to a later process is not taken for the one recorded (a lease holder kept
alive, an agent stopped, by mistake)."""
from __future__ import annotations

import os


def identity(pid: int) -> str:
    """``"<pid> <start time>"`` of a running process; the bare PID when it cannot be read."""
    import psutil
    try:
        return f"{pid} {psutil.Process(pid).create_time():.3f}"
    except psutil.Error:
        return str(pid)


def recorded_pid(text: str, legacy_ok: bool = True) -> int | None:
    """The PID in ``identity`` text when that process still runs, else None. Text with a
    bare PID (written before start times were recorded) is trusted only with ``legacy_ok``."""
    parts = text.split()
    try:
        pid = int(parts[0])
    except (ValueError, IndexError):
        return None
    if len(parts) < 2:
        return pid if legacy_ok and alive(pid) else None
    return pid if identity(pid) == " ".join(parts[:2]) else None


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs. A process we may not signal counts as alive; a zombie
    child of ours counts as dead and is reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:  # not our child: it runs
        return True
