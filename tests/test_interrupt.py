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
