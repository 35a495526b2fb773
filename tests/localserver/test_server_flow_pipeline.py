"""Flow 4: PipelineController with function steps + a base-task step, executed by real
clearml-agent daemons; values passed between steps; step cache on re-run; controller itself
enqueued with start(queue=...) and run by a second agent."""
import time

import pytest

from localserver.agents import start_agents

pytestmark = pytest.mark.slow

PIPELINE = """
import os, sys
from clearml import PipelineController, Task

BASE_SCRIPT = '''
from clearml import Task
task = Task.init(project_name="ls-tests/pipeline", task_name="scale")
params = task.connect({"factor": 1, "total": 0, "source": ""})
task.upload_artifact("scaled", artifact_object={"value": int(params["total"]) * int(params["factor"])},
                     wait_on_upload=True)
'''


def make_data(n):
    return [i * i for i in range(int(n))]


def total(values, offset):
    return sum(values) + int(offset)


def build():
    with open("scale_step.py", "w") as fh:
        fh.write(BASE_SCRIPT)
    existing = Task.get_tasks(project_name="ls-tests/pipeline", task_name="^scale-base$",
                              task_filter={"status": ["created"]})
    base = existing[0] if existing else Task.create(
        project_name="ls-tests/pipeline", task_name="scale-base", script="scale_step.py")
    pipe = PipelineController(name="ls-pipe", project="ls-tests/pipeline", version="1.0.0",
                              add_pipeline_tags=False, pool_frequency=1 / 60.0)  # poll steps every second
    pipe.add_parameter("n", 4)
    pipe.set_default_execution_queue("default")
    pipe.add_function_step(name="make_data", function=make_data, function_kwargs={"n": "${pipeline.n}"},
                           function_return=["values"], cache_executed_step=True)
    pipe.add_function_step(name="total", function=total, parents=["make_data"], cache_executed_step=True,
                           function_kwargs={"values": "${make_data.values}", "offset": 10},
                           function_return=["result"])
    pipe.add_step(name="scale", base_task_id=base.id, parents=["total"], cache_executed_step=False,
                  parameter_override={"General/factor": 3, "General/source": "${total.id}",
                                      "General/total": "${total.parameters.return/result}"})
    return pipe


pipe = build()
mode = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PIPE_MODE", "local")
if mode == "remote":
    result(controller=pipe._task.id if pipe._task else None)
    pipe.start(queue="services")
else:
    pipe.start_locally(run_pipeline_steps_locally=False)
    nodes = {name: node.executed for name, node in pipe._nodes.items()}
    total_task = Task.get_task(task_id=nodes["total"])
    result(controller=pipe._task.id, nodes=nodes, total=total_task.get_parameters()["return/result"],
           scaled=Task.get_task(task_id=nodes["scale"]).artifacts["scaled"].get(),
           values=Task.get_task(task_id=nodes["make_data"]).artifacts["values"].get(),
           statuses={k: Task.get_task(task_id=v).get_status() for k, v in nodes.items()})
"""


def test_pipeline_with_agents(localserver_handle, run_sdk, tmp_path):
    api = localserver_handle.api()
    pool = start_agents(localserver_handle, queues=["default"], count=1, work_dir=tmp_path / "agents-default")
    services = start_agents(localserver_handle, queues=["services"], count=1, work_dir=tmp_path / "agents-services")
    try:
        first = run_sdk(PIPELINE, env={"PIPE_MODE": "local"}, timeout=240)
        assert first["values"] == [0, 1, 4, 9]
        assert first["total"] == "24"                          # int return -> hyperparams return/result
        assert first["scaled"] == {"value": 72}                # base-task step got 24 and factor 3
        assert set(first["statuses"].values()) == {"completed"}
        scale = api.call("tasks.get_by_id", task=first["nodes"]["scale"])["task"]
        assert scale["hyperparams"]["General"]["source"]["value"] == first["nodes"]["total"]
        assert scale["parent"] == first["controller"]
        assert scale["last_worker"] in pool.worker_ids

        second = run_sdk(PIPELINE, env={"PIPE_MODE": "local"}, timeout=240)
        assert second["nodes"]["make_data"] == first["nodes"]["make_data"]      # cache hits
        assert second["nodes"]["total"] == first["nodes"]["total"]
        assert second["nodes"]["scale"] != first["nodes"]["scale"]              # not cached
        assert second["total"] == "24" and second["scaled"] == {"value": 72}

        remote = run_sdk(PIPELINE, env={"PIPE_MODE": "remote"}, timeout=120, check=False)
        controller = remote["controller"]
        deadline = time.time() + 180
        doc = {}
        while time.time() < deadline:
            doc = api.call("tasks.get_by_id", task=controller)["task"]
            if doc["status"] in ("completed", "failed", "stopped"):
                break
            time.sleep(1)
        assert doc.get("status") == "completed", (doc.get("status"), services.logs())
        assert doc["last_worker"] in services.worker_ids
        children = api.call("tasks.get_all", parent=controller, search_hidden=True,
                            only_fields=["id", "name", "status"])["tasks"]
        assert {c["name"] for c in children} >= {"scale"}
        assert all(c["status"] == "completed" for c in children)
    finally:
        pool.stop()
        services.stop()
