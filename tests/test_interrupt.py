"""An interrupted run (Ctrl-C) leaves no task showing as running: the launcher marks the
controller, its unfinished steps and their trial tasks stopped, and leaves finished steps as they are."""
import pytest

from localserver.launch import start_server
from localserver.testing import run_sdk_code


@pytest.fixture
def server(tmp_path):
    handle = start_server(tmp_path / "server", background=False)
    yield handle
    handle.stop()


def _task(api, name, status, **extra):
    task = api.call("tasks.create", name=name, type="training", **extra)["id"]
    if status != "created":
        api.call("tasks.started", task=task)
    if status == "completed":
        api.call("tasks.completed", task=task)
    return task


def test_unfinished_tasks_of_the_interrupted_run_are_stopped(server, tmp_path):
    api = server.api()
    run = _task(api, "controller", "in_progress")
    running = _task(api, "train_hist_gb", "in_progress", parent=run)
    done = _task(api, "preprocess", "completed", parent=run)
    pending = _task(api, "validate", "created", parent=run)
    trial = _task(api, "svm trial: General/C=1.0", "in_progress", parent=running)  # trial_tasks
    trial_done = _task(api, "svm trial: General/C=2.0", "completed", parent=running)
    other = _task(api, "another run's step", "in_progress")
    marker = tmp_path / "result.json.run_id"
    marker.write_text(run)
    out = run_sdk_code(server, f"""
        from pathlib import Path
        from pipelines.runner import stop_unfinished
        result(stopped=stop_unfinished(Path({str(marker)!r})),
               before_start=stop_unfinished(Path({str(tmp_path / "absent")!r})))
        """, workdir=tmp_path / "sdk")
    assert sorted(out["stopped"]) == sorted([run, running, pending, trial])
    assert out["before_start"] == []  # interrupted before the controller existed: nothing to do

    def status(task):
        return api.call("tasks.get_by_id", task=task)["task"]["status"]
    assert [status(t) for t in (run, running, pending, trial)] == ["stopped"] * 4
    assert status(done) == "completed" and status(other) == "in_progress"
    assert status(trial_done) == "completed"
    assert "interrupted" in api.call("tasks.get_by_id", task=running)["task"]["status_message"]


@pytest.mark.slow
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_terminated_run_stops_every_process_it_started_and_marks_its_tasks(tmp_path, sig):
    """Ctrl-C, `kill`, a CI time limit or a closed terminal signals the command alone (the
    controller and its steps run in a process group of their own): its controller, steps
    and server end too, and no task is left showing as running."""
    import contextlib
    import signal
    import subprocess
    import sys
    import threading
    import time

    import psutil

    from localserver.datadir import Layout
    from localserver.store import Store
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines", "run", "--set", f"execution.data_dir={tmp_path}",
         "--set", "train.families=[logreg]", "--set", "train.timeout_s=120",
         "--set", "train.n_trials=1000", "--set", "execution.report=false"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # as from a terminal: a shell starts background jobs (a `... &` test run) with
        # SIGINT ignored, and the child would inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    deadline = time.monotonic() + 180
    while not any("train_logreg" in line and "running" in line for line in list(lines)):
        assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)[-3000:]
        time.sleep(0.2)
    time.sleep(3)  # inside the search
    started = psutil.Process(proc.pid).children(recursive=True)
    assert len(started) >= 3  # server, controller, the training step at least
    proc.send_signal(getattr(signal, sig))  # the command alone, as `kill <pid>` does
    try:
        try:
            code = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:  # say what it was still doing
            below = psutil.Process(proc.pid).children(recursive=True)
            pytest.fail("still running 120 s after the signal: "
                        f"{[p.cmdline()[-3:] for p in below]}\n" + "".join(lines)[-3000:])
        assert code == 130, "".join(lines)[-3000:]
        _, alive = psutil.wait_procs(started, timeout=30)
        assert alive == [], [p.cmdline() for p in alive]
    finally:  # a failure here must not leave them computing beside the other tests
        for p in [*started, psutil.Process(proc.pid)] if proc.poll() is None else started:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
    assert "interrupted" in "".join(lines) and "Traceback" not in "".join(lines)
    store = Store(Layout(tmp_path).db, readonly=True)
    try:
        tasks = store.scan("tasks")
    finally:
        store.close()
    statuses = {t["name"]: t["status"] for t in tasks if t.get("status") != "completed"}
    assert statuses and set(statuses.values()) == {"stopped"}, statuses
