"""Flow 1: Task.init, connect, scalars, plots, table, artifacts, close; read back with Task.get_task."""
import pytest

pytestmark = pytest.mark.slow

REPORT = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from clearml import Task

task = Task.init(project_name="ls-tests/flow-task", task_name="report", reuse_last_task_id=False)
params = task.connect({"lr": 0.1, "layers": 3, "opt": {"name": "adam"}})
logger = task.get_logger()
for i in range(5):
    logger.report_scalar("loss", "train", value=1.0 / (i + 1), iteration=i)
    logger.report_scalar("loss", "val", value=2.0 / (i + 1), iteration=i)
fig = plt.figure()
plt.plot([1, 2, 3], [3, 1, 2])
logger.report_matplotlib_figure("curve", "series", figure=fig, iteration=0, report_image=False)
logger.report_table("table", "scores", table_plot=pd.DataFrame({"a": [1, 2], "b": [3, 4]}), iteration=0)
logger.report_single_value("accuracy", 0.93)
task.upload_artifact("blob", artifact_object={"x": [1, 2, 3]}, wait_on_upload=True)
with open("payload.bin", "wb") as fh:
    fh.write(bytes(range(256)) * 50)
task.upload_artifact("raw", artifact_object="payload.bin", wait_on_upload=True)
print("console line from the task")
result(id=task.id)
task.close()
"""

READ = """
from clearml import Task
t = Task.get_task(task_id={task_id!r})
raw_path = t.artifacts["raw"].get_local_copy()
result(
    status=t.get_status(),
    params=t.get_parameters(),
    scalars=t.get_reported_scalars(),
    artifacts=sorted(t.artifacts),
    blob=t.artifacts["blob"].get(),
    raw_ok=open(raw_path, "rb").read() == bytes(range(256)) * 50,
    raw_url=t.artifacts["raw"].url,
    plots=[p.get("metric") for p in t.get_reported_plots()],
    single=t.get_reported_single_values(),
    last=t.get_last_scalar_metrics(),
    console=t.get_reported_console_output(20),
    found=[x.id for x in Task.get_tasks(project_name="ls-tests/flow-task", task_name="report")],
)
"""


def test_task_report_and_read_back(run_sdk, localserver_handle):
    created = run_sdk(REPORT)
    task_id = created["id"]
    assert len(task_id) == 32
    out = run_sdk(READ.format(task_id=task_id))
    assert out["status"] == "completed"
    assert out["params"]["General/lr"] == "0.1"
    assert out["params"]["General/layers"] == "3"
    assert out["params"]["General/opt/name"] == "adam"
    loss = out["scalars"]["loss"]
    assert loss["train"]["x"] == [0, 1, 2, 3, 4]
    assert loss["train"]["y"] == pytest.approx([1.0, 0.5, 1 / 3, 0.25, 0.2])
    assert loss["val"]["y"][-1] == pytest.approx(0.4)
    assert out["artifacts"] == ["blob", "raw"]
    assert out["blob"] == {"x": [1, 2, 3]}
    assert out["raw_ok"] is True
    assert out["raw_url"].startswith(localserver_handle.files_url)
    assert {"curve", "table"} <= set(out["plots"])
    assert out["single"] == {"accuracy": pytest.approx(0.93)}
    assert out["last"]["loss"]["train"]["last"] == pytest.approx(0.2)
    assert out["last"]["loss"]["train"]["min"] == pytest.approx(0.2)
    assert out["last"]["loss"]["val"]["max"] == pytest.approx(2.0)
    assert any("console line from the task" in line for line in out["console"])
    assert out["found"] == [task_id]
