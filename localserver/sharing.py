"""One background server shared by every command that uses a data directory at the same time.

Two runs in one folder share its server. The run that started it must not stop it while the
other still talks to it (the other then retried its calls for minutes and failed), and the
server should still go away once nobody needs it. So each user holds a lease (a file naming
its process) for as long as it uses the server; leaving, it stops the server only when the
server was started by a user like it (not by ``server start``, which keeps it up) and no
other live lease remains. Leases and the stop decision are taken under one file lock.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from pathlib import Path

from .datadir import Layout
from .launch import ServerHandle, start_server
from .pids import identity, recorded_pid

@contextlib.contextmanager
def _locked(layout: Layout):
    with open(layout.root / "leases.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def lease_holder(lease: Path) -> int | None:
    """The PID of the live process that holds ``lease``, else None."""
    try:
        return recorded_pid(lease.read_text())
    except OSError:
        return None


def live_leases(layout: Layout) -> list[Path]:
    """Leases of processes still alive; the lease of a holder that crashed (its PID gone, or
    now naming a later process) is removed."""
    alive = []
    for lease in sorted(layout.leases.glob("*")):
        if lease_holder(lease) is not None:
            alive.append(lease)
        else:
            lease.unlink(missing_ok=True)
    return alive


@contextlib.contextmanager
def shared_server(data_dir, **start_kw):
    """The data dir's server for the duration of the block: reused or started; on leaving,
    stopped if this or another lease holder started it and no one else holds a lease.
    ``handle.stopped`` says afterwards whether this exit stopped it."""
    layout = Layout(data_dir).ensure()
    layout.leases.mkdir(exist_ok=True)
    lease = layout.leases / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    with _locked(layout):
        lease.write_text(identity(os.getpid()))
        try:
            handle: ServerHandle = start_server(layout.root, **start_kw)
        except BaseException:
            lease.unlink(missing_ok=True)
            raise
        if handle.owned:
            layout.autostop.touch()
    handle.auto_stop = layout.autostop.exists()
    try:
        yield handle
    finally:
        with _locked(layout):
            lease.unlink(missing_ok=True)
            if layout.autostop.exists() and not live_leases(layout):
                layout.autostop.unlink(missing_ok=True)
                handle.stop(force=True)
                handle.stopped = True


def stop_when_unused(data_dir) -> None:
    """``server stop`` while commands use it: the last of them stops it."""
    Layout(data_dir).autostop.touch()


def keep_running(data_dir) -> None:
    """``server start`` on a server a run started: it now stays up after the runs end."""
    Layout(data_dir).autostop.unlink(missing_ok=True)
