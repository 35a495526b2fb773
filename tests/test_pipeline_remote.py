"""Remote mode against the embedded server with real clearml-agent workers:

the controller runs on a `services` agent and the steps (training fan-out included) on a
`default` agent; then the run is cloned, a parameter edited and the clone enqueued, exactly
as the web UI does it, and the edited value changes what the steps do. The data is a local
CSV file, deleted as soon as the run is enqueued: workers get it from the file server.
"""
import json
import time

import pytest

from localserver.agents import start_agents
from localserver.testing import local_server
from pipelines.runner import run_pipeline
from pipelines.step_tasks import DATASETS_DIR
from steps.config import DataConfig, parse_config
from steps.sources import load_table

pytestmark = pytest.mark.slow

TRAIN = {"families": ["logreg", "hist_gb"], "n_trials": 2, "timeout_s": 15, "cv_folds": 3}
DONE = {"completed", "failed", "stopped", "published", "closed"}


def _wait(api, task_id: str, timeout: float = 420.0) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = api.call("tasks.get_by_id", task=task_id)["task"]["status"]
        if status in DONE:
            return status
        time.sleep(2)
    raise AssertionError(f"task {task_id} still not done after {timeout}s")


def _steps(api, controller_id: str) -> dict[str, dict]:
    tasks = api.call("tasks.get_all", parent=controller_id, search_hidden=True)["tasks"]
    return {t["name"]: t for t in tasks}


@pytest.fixture()
def remote_env(tmp_path, monkeypatch):
    with local_server(tmp_path / "server") as handle:
        for key, value in handle.client_env(home=tmp_path / "home").items():
            monkeypatch.setenv(key, value)
        workers = start_agents(handle, queues=["default"], count=1, work_dir=tmp_path / "w1")
        services = start_agents(handle, queues=["services"], count=1, work_dir=tmp_path / "w2")
        try:
            yield handle, workers
        finally:
            workers.stop()
            services.stop()


def test_remote_run_and_web_ui_clone_and_edit(remote_env, tmp_path):
    handle, workers = remote_env
    api = handle.api()
    csv = tmp_path / "jobs.csv"
    load_table(DataConfig(source="hpc_data"), DATASETS_DIR).frame.to_csv(csv, index=False)
    cfg = parse_config({"project": {"name": "remote"}, "train": TRAIN,
                        "data": {"source": str(csv), "target": "class", "id_columns": ["rownames"]},
                        "evaluate": {"bootstrap": 100, "permutation_repeats": 1},
                        "execution": {"mode": "remote", "data_dir": str(tmp_path / "server")}})
    launched = run_pipeline(cfg)
    csv.unlink()  # a worker must not need this machine's path
    controller = launched.pipeline_task_id
    assert _wait(api, controller) == "completed"
    args = api.call("tasks.get_by_id", task=controller)["task"]["hyperparams"]["Args"]
    data = json.loads(args["data"]["value"])
    assert "/.tabpipe-uploads/" in data["source"] and data["dataset_name"] == "jobs"
    steps = _steps(api, controller)
    assert {"dataset", "preprocess", "train_logreg", "train_hist_gb", "validate",
            "publish"} <= set(steps)
    assert all(t["status"] == "completed" for t in steps.values()), {
        n: t["status"] for n, t in steps.items()}
    worker_ids = {a.worker_id for a in workers.agents}
    assert steps["train_hist_gb"]["last_worker"] in worker_ids

    # The web UI's clone-edit-enqueue: only the "train" parameter changes.
    clone = api.call("tasks.clone", task=controller, new_task_name="edited run")["id"]
    edited = dict(TRAIN, families=["logreg"])
    api.call("tasks.edit_hyper_params", task=clone, hyperparams=[
        {"section": "Args", "name": "train", "value": json.dumps(edited)}])
    queue = api.call("queues.get_all", name="^services$")["queues"][0]["id"]
    api.call("tasks.enqueue", task=clone, queue=queue)
    assert _wait(api, clone) == "completed"
    edited_steps = _steps(api, clone)  # cached steps stay children of the first run
    assert "train_hist_gb" not in edited_steps
    validate = edited_steps["validate"]
    report = json.loads(validate["hyperparams"]["return"]["report"]["value"])
    assert report["winner"] == "logreg"
