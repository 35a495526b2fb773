"""Benchmarks of the local ClearML-compatible server (localserver).

    python benchmarks/server_bench.py [--tasks 10000] [--calls 2000] [--batches 20] [--skip-pipeline]

Prints:
  * API round trip p50/p95 of tasks.get_by_id with N tasks stored (HTTP client: requests,
    new connection per call, as the SDK does against a Connection: close server);
  * events.add_batch throughput for json-lines batches of 1,000 scalar events;
  * wall time of a 2-step pipeline whose steps run on a real clearml-agent polling every second.
Targets: p50 <= 5 ms, >= 20,000 events/s, 2-step agent pipeline < 20 s.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from localserver import start_agents, start_server
from localserver.core import Context
from localserver.datadir import Layout
from localserver.store import Store
from localserver.testing import sdk_env

PIPELINE = """
import time
t0 = time.time()
from clearml import PipelineController


def make(n):
    return list(range(int(n)))


def add(values):
    return sum(values)


pipe = PipelineController(name="bench-pipe", project="bench/pipeline", version="1.0.0",
                          add_pipeline_tags=False, pool_frequency=1 / 60.0)
pipe.set_default_execution_queue("default")
pipe.add_function_step(name="make", function=make, function_kwargs={"n": 10}, function_return=["values"],
                       cache_executed_step=False)
pipe.add_function_step(name="add", function=add, function_kwargs={"values": "${make.values}"},
                       function_return=["total"], parents=["make"], cache_executed_step=False)
pipe.start_locally(run_pipeline_steps_locally=False)
print("STEPS", {k: n.executed for k, n in pipe._nodes.items()}, "IN-PROCESS", round(time.time() - t0, 2))
"""


def seed_tasks(data_dir: Path, count: int) -> list[str]:
    """Insert ``count`` tasks through the tasks.create endpoint code (in-process, one transaction)."""
    from localserver import services  # noqa: F401  (registers endpoints)
    from localserver.services.tasks import create
    layout = Layout(data_dir).ensure()
    store = Store(layout.db)
    ctx = Context(store=store)
    ids = []
    with store.tx():
        for i in range(count):
            body = {"name": f"bench-task-{i}", "type": "training", "tags": ["bench"],
                    "script": {"entry_point": "train.py", "diff": "print('hello')\n" * 20},
                    "hyperparams": {"Args": {f"p{j}": {"section": "Args", "name": f"p{j}", "value": str(j)}
                                             for j in range(10)}}}
            ids.append(create(ctx, body)["id"])
    store.close()
    return ids


def login(handle) -> str:
    r = requests.get(f"{handle.api_url}/auth.login", auth=(handle.access_key, handle.secret_key))
    r.raise_for_status()
    return r.json()["data"]["token"]


def bench_get_by_id(handle, ids: list[str], calls: int) -> dict:
    token = login(handle)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    url = f"{handle.api_url}/v2.23/tasks.get_by_id"
    samples = []
    for i in range(calls + 50):
        body = json.dumps({"task": random.choice(ids)})
        t0 = time.perf_counter()
        r = requests.post(url, data=body, headers=headers)
        data = r.json()
        dt = (time.perf_counter() - t0) * 1000.0
        assert data["meta"]["result_code"] == 200
        if i >= 50:  # warm-up
            samples.append(dt)
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p95_ms": samples[int(len(samples) * 0.95) - 1],
            "calls": len(samples)}


def bench_add_batch(handle, task_id: str, batches: int, size: int = 1000) -> dict:
    token = login(handle)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json-lines"}
    url = f"{handle.api_url}/events.add_batch"
    bodies = []
    ts = int(time.time() * 1000)
    for b in range(batches):
        lines = [json.dumps({"type": "training_stats_scalar", "task": task_id, "iter": b * size + i,
                             "metric": f"metric{i % 5}", "variant": f"series{i % 3}", "value": random.random(),
                             "timestamp": ts + i, "allow_locked": True, "model_event": False})
                 for i in range(size)]
        bodies.append("\n".join(lines))
    t0 = time.perf_counter()
    added = 0
    for body in bodies:
        r = requests.post(url, data=body, headers=headers)
        added += r.json()["data"]["added"]
    elapsed = time.perf_counter() - t0
    assert added == batches * size, added
    return {"events": added, "seconds": elapsed, "events_per_s": added / elapsed}


def bench_pipeline(handle, work: Path) -> dict:
    pool = start_agents(handle, queues=["default"], count=1, work_dir=work / "agents", poll_sec=1.0)
    try:
        script = work / "bench_pipeline.py"
        script.write_text(PIPELINE)
        (work / "home").mkdir(exist_ok=True)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script)], cwd=str(work), env=sdk_env(handle, work / "home"),
                              capture_output=True, text=True, timeout=300)
        wall = time.perf_counter() - t0
    finally:
        pool.stop()
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout[-3000:] + proc.stderr[-3000:])
    steps = json.loads(proc.stdout.split("STEPS", 1)[1].split("IN-PROCESS")[0].strip().replace("'", '"'))
    api = handle.api()
    statuses = {k: api.call("tasks.get_by_id", task=v)["task"]["status"] for k, v in steps.items()}
    assert set(statuses.values()) == {"completed"}, statuses
    return {"wall_s": wall, "steps": len(steps)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--work-dir", default=None)
    args = parser.parse_args(argv)
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="server-bench-"))
    data = work / "data"
    t0 = time.perf_counter()
    ids = seed_tasks(data, args.tasks)
    print(f"seeded {len(ids)} tasks in {time.perf_counter() - t0:.1f}s ({data})")
    handle = start_server(data)
    try:
        rt = bench_get_by_id(handle, ids, args.calls)
        print(f"tasks.get_by_id round trip ({args.tasks} tasks stored, {rt['calls']} calls): "
              f"p50 {rt['p50_ms']:.2f} ms  p95 {rt['p95_ms']:.2f} ms   [target p50 <= 5 ms]")
        ev = bench_add_batch(handle, ids[0], args.batches)
        print(f"events.add_batch: {ev['events']} scalar events in batches of 1000 -> "
              f"{ev['events_per_s']:,.0f} events/s   [target >= 20,000 events/s]")
        if not args.skip_pipeline:
            pp = bench_pipeline(handle, work)
            print(f"2-step pipeline on a clearml-agent (1 s queue poll): {pp['wall_s']:.1f} s wall   "
                  f"[target < 20 s]")
    finally:
        handle.stop()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
