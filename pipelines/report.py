"""``tabpipe report``: one pipeline run as a local HTML page with every figure its steps
reported (the embedded server has no web UI; on a real server it is a shareable copy).

The run's steps come from the controller task's own DAG record (ClearML's ``Pipeline``
configuration object), so a cached step points at the task that actually computed it.
"""
from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from pipelines.tracking import is_clearml_id
from steps.report import Figure, render_report

log = logging.getLogger(__name__)
MODEL_CARD = "model_card.md"
PAGE = "index.html"


def latest_run_id() -> str:
    from clearml import Task
    runs = Task.get_tasks(task_filter={"type": ["controller"], "order_by": ["-last_update"],
                                       "page": 0, "page_size": 1})
    if not runs:
        raise LookupError("no pipeline run on this server yet; run `tabpipe run` first")
    return runs[0].id


def _full_run_id(run_id: str) -> str:
    """A run ID, or the one run whose ID starts with these 6 or more hex digits."""
    import re

    from clearml import Task
    if is_clearml_id(run_id) or not re.fullmatch(r"[0-9a-f]{6,31}", run_id or ""):
        return run_id
    hits = [t for t in Task.query_tasks(task_filter={"type": ["controller"]}) if t.startswith(run_id)]
    if len(hits) > 1:
        raise LookupError(f"{run_id!r} starts {len(hits)} run IDs; give more of it")
    return hits[0] if hits else run_id


def pipeline_run(run_id: str):
    """The controller task of run ``run_id`` (or of the one run whose ID starts with it);
    LookupError naming the fix otherwise."""
    from clearml import Task
    run_id = _full_run_id(run_id)
    try:
        found = Task.get_tasks(task_ids=[run_id]) if is_clearml_id(run_id) else []
    except ValueError:  # the SDK's "Task ID ... could not be found"
        found = []
    if not found:
        raise LookupError(f"no task {run_id!r} on this server; `tabpipe runs` lists the runs")
    if not found[0].get_configuration_object("Pipeline"):
        raise LookupError(f"task {run_id} ({found[0].name}) is not a pipeline run; pass the "
                          "controller task's ID (the summary's 'controller task')")
    return found[0]


def run_steps(run) -> list[dict]:
    """name, status and task id of each step, in DAG order."""
    from clearml import Task
    dag = run.get_configuration_object_as_dict("Pipeline") or {}
    steps = []
    for name, node in dag.items():
        task_id = node.get("executed") or node.get("job_id")
        status = "not run"
        if task_id:
            task = Task.get_task(task_id=task_id)
            # a step reused from the cache is a task an earlier run made
            status = "cached" if task.parent not in (None, run.id) else str(task.status)
        steps.append({"name": name, "status": status, "task_id": task_id or ""})
    return steps


def _image_events(task_id: str) -> list[dict]:
    """The newest image of each (title, series) a task reported."""
    from clearml.backend_api.session.client import APIClient
    client, latest, scroll = APIClient(), {}, None
    while True:
        page = client.events.get_task_events(task=task_id, event_type="training_debug_image",
                                             batch_size=500, scroll_id=scroll)
        if not page.events:
            break
        for ev in page.events:
            key = (ev["metric"], ev["variant"])
            if ev.get("url") and ev.get("iter", 0) >= latest.get(key, {}).get("iter", -1):
                latest[key] = ev
        if page.returned < 500:
            break
        scroll = page.scroll_id
    return sorted(latest.values(), key=lambda ev: (ev["metric"], ev["variant"]))


def _download_figures(step: str, task_id: str, out_dir: Path) -> list[Figure]:
    from clearml import StorageManager
    figures = []
    for ev in _image_events(task_id):
        local = StorageManager.get_local_copy(ev["url"], extract_archive=False)
        if local is None:
            log.warning("%s: could not download figure %s", step, ev["metric"])
            continue
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{ev['metric']}-{ev['variant']}")
        target = out_dir / "figures" / step / (name + Path(local).suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, target)
        figures.append(Figure(step, ev["metric"], str(target.relative_to(out_dir))))
    return figures


def _artifact(task_id: str, name: str) -> dict | None:
    from clearml import Task
    if not task_id:
        return None
    artifact = Task.get_task(task_id=task_id).artifacts.get(name)
    return artifact.get() if artifact is not None else None


def write_report(run_id: str, out_dir: Path, steps: list[dict] | None = None) -> Path:
    """Write ``out_dir/index.html`` (and its figures) for pipeline run ``run_id``; ``steps``
    (name, status, task_id), when the caller knows them, saves reading them back."""
    from concurrent.futures import ThreadPoolExecutor
    run = pipeline_run(run_id)
    steps = steps if steps is not None else run_steps(run)
    out_dir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=4) as pool:  # each step's figures: I/O-bound fetches
        per_step = pool.map(lambda s: _download_figures(s["name"], s["task_id"], out_dir),
                            [s for s in steps if s["task_id"]])
        figures = [fig for figs in per_step for fig in figs]
    ids = {s["name"]: s["task_id"] for s in steps}
    validation = _artifact(ids.get("validate", ""), "validation_report")
    decision = _artifact(ids.get("publish", ""), "decision")
    if validation:
        _write_model_card(out_dir, validation, decision)
    page = render_report(
        {"id": run.id, "name": run.name, "project": run.get_project_name(),
         "created": run.data.created}, steps, figures, validation, decision)
    path = out_dir / PAGE
    path.write_text(page, encoding="utf-8")
    return path


def _write_model_card(out_dir: Path, validation: dict, decision: dict | None) -> None:
    from steps.model_card import render_model_card, with_decision
    card = render_model_card(validation)
    if decision:
        card = with_decision(card, decision)
    (out_dir / MODEL_CARD).write_text(card, encoding="utf-8")
