"""Flow 5: HyperParameterOptimizer + OptimizerOptuna cloning a base task; trials run by a
real clearml-agent; the best parameters are read back (numeric order on last_metrics)."""
import hashlib

import pytest

from localserver.agents import start_agents

pytestmark = pytest.mark.slow

HPO = """
from clearml import Task
from clearml.automation import HyperParameterOptimizer, UniformParameterRange
from clearml.automation.optuna import OptimizerOptuna

TRIAL = '''
from clearml import Task
task = Task.init(project_name="ls-tests/hpo", task_name="trial")
params = task.connect({"x": 0.0, "y": 0.0})
x, y = float(params["x"]), float(params["y"])
for i in range(3):
    task.get_logger().report_scalar("objective", "loss", value=(x - 1) ** 2 + (y + 2) ** 2 + (2 - i), iteration=i)
'''
with open("trial.py", "w") as fh:
    fh.write(TRIAL)
base = Task.create(project_name="ls-tests/hpo", task_name="trial-base", script="trial.py")
opt_task = Task.init(project_name="ls-tests/hpo", task_name="optimizer", task_type=Task.TaskTypes.optimizer,
                     reuse_last_task_id=False)
opt = HyperParameterOptimizer(
    base_task_id=base.id,
    # continuous ranges: Optuna never proposes duplicates (a pruned duplicate stalls wait())
    hyper_parameters=[UniformParameterRange("General/x", min_value=-1.0, max_value=3.0),
                      UniformParameterRange("General/y", min_value=-4.0, max_value=1.0)],
    objective_metric_title="objective", objective_metric_series="loss", objective_metric_sign="min",
    optimizer_class=OptimizerOptuna, execution_queue="hpo", max_number_of_concurrent_tasks=1,
    total_max_jobs=3, pool_period_min=0.03, time_limit_per_job=3.0, max_iteration_per_job=10,
    min_iteration_per_job=0, optuna_sampler=None,
)
# stop() joins the progress reporter, which otherwise sleeps 5 minutes between reports
opt.set_report_period(0.05)
opt.start()
opt.wait()
top = opt.get_top_experiments_details(top_k=3)
best = opt.get_top_experiments(top_k=1)[0]
opt.stop()
result(optimizer=opt_task.id, base=base.id, best_id=best.id,
       best_params={k: v for k, v in best.get_parameters().items() if k.startswith("General/")},
       top=[{"id": t["task_id"], "params": t["hyper_parameters"]} for t in top])
opt_task.close()
"""


def h(s):
    return hashlib.md5(s.encode()).hexdigest()


def test_optuna_hpo_with_agent(localserver_handle, run_sdk, tmp_path):
    api = localserver_handle.api()
    pool = start_agents(localserver_handle, queues=["hpo"], count=1, work_dir=tmp_path / "agents")
    try:
        out = run_sdk(HPO, timeout=150)
    finally:
        pool.stop()
    trials = api.call("tasks.get_all", parent=out["optimizer"], search_hidden=True,
                      only_fields=["id", "status", "hyperparams", "last_metrics", "last_worker", "last_iteration"])
    trials = [t for t in trials["tasks"]]
    assert len(trials) == 3
    losses = {}
    for t in trials:
        assert t["status"] == "completed", t
        assert t["last_worker"] in pool.worker_ids
        assert t["last_iteration"] == 2
        entry = t["last_metrics"][h("objective")][h("loss")]
        x = float(t["hyperparams"]["General"]["x"]["value"])
        y = float(t["hyperparams"]["General"]["y"]["value"])
        assert entry["value"] == pytest.approx((x - 1) ** 2 + (y + 2) ** 2)      # last iteration's value
        losses[t["id"]] = entry["value"]
    best = min(losses, key=losses.get)
    assert out["best_id"] == best
    assert [t["id"] for t in out["top"]] == sorted(losses, key=losses.get)
    best_doc = next(t for t in trials if t["id"] == best)
    assert out["best_params"]["General/x"] == best_doc["hyperparams"]["General"]["x"]["value"]
    assert out["best_params"]["General/y"] == best_doc["hyperparams"]["General"]["y"]["value"]
    # the server sorts numerically on last_metrics values (what get_top_experiments relies on)
    ordered = api.call("tasks.get_all", parent=out["optimizer"],
                       order_by=[f"last_metrics.{h('objective')}.{h('loss')}.value"], only_fields=["id"])
    assert [t["id"] for t in ordered["tasks"]] == sorted(losses, key=losses.get)
