"""Warm start for steps that ClearML runs as local sub-processes.

With ``start_locally(run_pipeline_steps_locally=True)`` ClearML's ``LocalClearmlJob``
starts every step as ``python <step script>``; each fresh interpreter then spends
3-5 s importing clearml, pandas, scikit-learn and the step modules before the step
does any work. ``WarmLocalJob`` launches the same script, with the same environment
and working directory, in a child forked from a multiprocessing *forkserver* that
imported those modules once: what the first steps need before it serves a fork, the
rest in a background thread while they run (``pipelines.warm_boot``). ClearML still
creates, tracks, caches and completes every step task; only the interpreter start-up is
shared.

The forkserver imports modules only (no ClearML session, no task; its one extra thread
only imports and never outlives a fork), so a fork of it is as clean as a new
interpreter. Set ``TABPIPE_WARM_STEPS=0`` to fall back to ClearML's plain
sub-processes, or ``TABPIPE_WARM_BACKGROUND=0`` to skip the background imports (each
step then imports what it needs itself).
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import subprocess
import sys

log = logging.getLogger(__name__)
ENV_SWITCH = "TABPIPE_WARM_STEPS"
BACKGROUND_SWITCH = "TABPIPE_WARM_BACKGROUND"
# Imported before the forkserver takes its first request: what the first steps (dataset,
# preprocess) use. warm_boot goes last: it starts the background imports below.
PRELOAD = [
    "clearml", "clearml.automation", "numpy", "pandas", "pyarrow", "yaml",
    "steps.config", "steps.data", "pipelines.failures", "pipelines.tracking",
    "pipelines.datastore", "pipelines.step_tasks",
    "pipelines.warm_boot",
]
# Imported by a thread of the forkserver while the first steps already run; a fork waits
# for the module being imported, so a child never holds a half-imported module.
BACKGROUND = [
    "sklearn.model_selection", "matplotlib", "matplotlib.figure", "matplotlib.pyplot",
    "scipy.special", "joblib", "steps.ordinal", "sklearn.ensemble", "sklearn.linear_model",
    "sklearn.svm", "sklearn.neighbors",
    "imblearn", "optuna", "steps.recipe", "steps.tuning", "steps.budget", "steps.evaluation",
    "steps.ensemble", "steps.promotion", "pipelines.train_task", "pipelines.validate_task",
    "pipelines.publish_task",
]
_context = None


def switched_on(variable: str) -> bool:
    """An on-by-default switch: off when the variable is 0, false or no."""
    return os.environ.get(variable, "1") not in ("0", "false", "no")


def enabled() -> bool:
    return switched_on(ENV_SWITCH)


def _forkserver():
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


def _run_step_script(path: str, cwd: str, env: dict) -> None:
    """Child side: become ``python <path>`` run in ``cwd`` with ``env``."""
    import atexit
    import runpy

    import multiprocessing as mp
    # as in a new interpreter on Linux: a forkserver child inherits 'forkserver', under
    # which ClearML's semaphores outlive the child until the step's resource tracker ends
    mp.set_start_method("fork", force=True)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.argv = [path]
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p not in sys.path]
    sys.path[:0] = [os.path.dirname(os.path.abspath(path)), *extra]
    from clearml.config.remote import override_current_task_id
    override_current_task_id(env.get("CLEARML_TASK_ID"))  # clearml caches it at import
    _serialize_edit_lock_creation()
    code = 0
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:  # Ctrl-C: no traceback per step; the launcher reports it once
        code = 1
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 1
    finally:
        atexit._run_exitfuncs()  # clearml closes the task here, as at interpreter exit
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _serialize_edit_lock_creation() -> None:
    """Create each task's edit lock under a thread lock.

    ``Task._edit_lock`` is created lazily, unguarded, as a *file* lock for the process's own
    task. A warm child reaches its first dataset fetch at the same instant as the resource
    monitor thread's first property update; both then build a lock on the same file and
    each holds what the other waits for. A fresh interpreter is still importing at that
    moment, which is the only reason plain sub-processes do not hit the race.
    """
    import threading
    from clearml.backend_interface.task.task import Task

    unguarded = Task.__dict__["_edit_lock"]
    guard = threading.Lock()

    def getter(self):
        with guard:
            return unguarded.fget(self)

    Task._edit_lock = property(getter, unguarded.fset)


class WarmProcess:
    """The slice of ``subprocess.Popen`` that ``LocalClearmlJob`` uses, for a forked child."""

    def __init__(self, path: str, cwd: str, env: dict):
        self.args = [sys.executable, path]
        self._proc = _forkserver().Process(target=_run_step_script, args=(path, cwd, env),
                                           daemon=False)
        self._proc.start()
        self.pid = self._proc.pid

    def poll(self):
        return self._proc.exitcode

    def wait(self, timeout=None):
        self._proc.join(timeout)
        if self._proc.exitcode is None:
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self._proc.exitcode

    def kill(self):
        self._proc.kill()

    terminate = kill


def _warm_popen(args, cwd=None, env=None, **kwargs):
    """``subprocess.Popen`` for ``[python, script]`` launches; anything else is passed on."""
    if len(args) == 2 and args[0] == sys.executable and str(args[1]).endswith(".py") and not kwargs:
        return WarmProcess(str(args[1]), cwd or os.getcwd(), dict(env or os.environ))
    return subprocess.Popen(args, cwd=cwd, env=env, **kwargs)


def start_forkserver() -> bool:
    """Start the forkserver now (idempotent): its imports overlap with what follows."""
    if not enabled():
        return False
    _forkserver()
    from multiprocessing import forkserver
    forkserver.ensure_running()
    return True


def install() -> bool:
    """Make ClearML's local step jobs start from the warm forkserver (this process only)."""
    if not start_forkserver():
        return False
    from clearml.automation import job as clearml_job

    class _SubprocessShim:  # the job module's view of ``subprocess``: Popen goes warm
        def __getattr__(self, name):
            return _warm_popen if name == "Popen" else getattr(subprocess, name)

    clearml_job.subprocess = _SubprocessShim()
    log.info("steps start from a warm forkserver (set %s=0 to disable)", ENV_SWITCH)
    return True
