"""Responses must be type-exact for the SDK's generated response classes (v2_23): a single
wrong type makes the SDK drop the whole response. Parse each answer with the SDK classes."""
import importlib


def parse(endpoint: str, data: dict):
    service, action = endpoint.split(".")
    module = importlib.import_module(f"clearml.backend_api.services.v2_23.{service}")
    cls = getattr(module, "".join(p.capitalize() for p in action.split("_")) + "Response")
    obj = cls(**data)
    obj.to_dict()  # round-trips every nested model
    return obj


def test_responses_parse_with_sdk_schema(api):
    pid = api.call("projects.create", name="contract/p")["id"]
    qid = api.call("queues.create", name="contract-q")["id"]
    tid = api.call("tasks.create", name="t", type="training", project=pid,
                   script={"entry_point": "x.py", "diff": "print(1)", "requirements": {"pip": "numpy"}},
                   hyperparams={"General": {"a": {"section": "General", "name": "a", "value": "1", "type": "int"}}},
                   configuration={"cfg": {"name": "cfg", "value": "{}", "type": "dictionary"}},
                   container={"image": "python:3.11"})["id"]
    api.call("tasks.started", task=tid)
    api.call("events.add_batch", requests=[
        {"type": "training_stats_scalar", "task": tid, "iter": 1, "metric": "m", "variant": "v", "value": 1.5},
        {"type": "training_stats_scalar", "task": tid, "iter": -2 ** 31, "metric": "Summary", "variant": "acc",
         "value": 0.9},
        {"type": "log", "task": tid, "msg": "hi", "level": "info"},
        {"type": "plot", "task": tid, "iter": 0, "metric": "p", "variant": "v", "plot_str": "{}"},
        {"type": "training_debug_image", "task": tid, "iter": 0, "metric": "img", "variant": "v", "url": "http://x"}])
    api.call("tasks.add_or_update_artifacts", task=tid, artifacts=[
        {"key": "a", "type": "custom", "uri": "http://x/a", "content_size": 3, "hash": "h", "timestamp": 1,
         "type_data": {"preview": "p", "content_type": "text/plain"}, "display_data": [["k", "v"]]}])
    mid = api.call("models.create", name="m", uri="http://x/m", task=tid, project=pid,
                   labels={"cat": 1}, design={"design": "net"})["id"]
    api.call("tasks.add_or_update_model", task=tid, name="m", model=mid, type="output")
    api.call("models.add_or_update_metadata", model=mid, metadata=[{"key": "k", "type": "str", "value": "v"}])
    api.call("workers.register", worker="w1", queues=[qid])
    api.call("workers.status_report", worker="w1", task=tid, queue=qid, queues=[qid], timestamp=1)
    calls = [
        ("projects.get_all", {"name": "contract"}), ("projects.get_by_id", {"project": pid}),
        ("tasks.get_by_id", {"task": tid}), ("tasks.get_all", {"id": [tid]}),
        ("tasks.get_all", {"id": [tid], "only_fields": ["last_metrics", "runtime.version", "status"]}),
        ("tasks.edit", {"task": tid, "force": True, "runtime": {"progress": "10"}}),
        ("tasks.get_hyper_params", {"tasks": [tid]}), ("tasks.get_configurations", {"tasks": [tid]}),
        ("tasks.edit_hyper_params", {"task": tid, "force": True,
                                     "hyperparams": [{"section": "S", "name": "n", "value": "2"}]}),
        ("tasks.clone", {"task": tid, "new_task_name": "c"}), ("tasks.ping", {"task": tid}),
        ("models.get_by_id", {"model": mid}), ("models.get_all", {"task": [tid]}),
        ("models.edit", {"model": mid, "comment": "c"}), ("models.set_ready", {"model": mid, "publish_task": False}),
        ("queues.get_all", {"name": "contract"}), ("queues.get_by_id", {"queue": qid}),
        ("queues.get_default", {}), ("queues.get_num_entries", {"queue": qid}),
        ("workers.get_all", {"last_seen": 600}),
        ("events.get_task_events", {"task": tid}), ("events.get_task_log", {"task": tid}),
        ("events.get_task_plots", {"task": tid}), ("events.get_task_single_value_metrics", {"tasks": [tid]}),
        ("events.debug_images", {"metrics": [{"task": tid, "metric": "img"}]}),
        ("events.get_scalar_metrics_and_variants", {"task": tid}),
        ("tasks.completed", {"task": tid}), ("tasks.publish", {"task": tid}),
    ]
    for endpoint, body in calls:
        data = api.call(endpoint, **body)
        parse(endpoint, data)
    clone = api.call("tasks.clone", task=tid)["id"]
    parse("tasks.enqueue", api.call("tasks.enqueue", task=clone, queue=qid, verify_watched_queue=True))
    entry = api.call("queues.get_next_task", queue=qid)
    parse("queues.get_next_task", entry)
    assert entry["entry"]["task"] == clone
    parse("tasks.stop", api.call("tasks.stop", task=clone))
    parse("tasks.reset", api.call("tasks.reset", task=clone))
    parse("tasks.delete", api.call("tasks.delete", task=clone))
    workers = parse("workers.get_all", api.call("workers.get_all"))
    assert workers.workers[0].queues[0].name == "contract-q"
    assert workers.workers[0].task.id == tid
    task = parse("tasks.get_by_id", api.call("tasks.get_by_id", task=tid)).task
    assert task.status.value == "published" and task.execution.artifacts[0].key == "a"
    assert task.models.output[0].model == mid
    model = parse("models.get_by_id", api.call("models.get_by_id", model=mid)).model
    assert model.ready is True and model.metadata["k"]["value"] == "v"
