"""``tabpipe runs``: the pipeline runs on a server as a table, and two runs compared.

The embedded server has no web UI and so no compare view; this is that view on the command
line. Everything comes from task parameters (no artifact downloads), fetched in parallel.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from pipelines.report import pipeline_run
from steps.runs import comparison, config_changes, run_config, run_row


def _controllers(limit: int) -> list:
    from clearml import Task
    return Task.get_tasks(task_filter={"type": ["controller"], "order_by": ["-created"],
                                       "page": 0, "page_size": limit})


def _returns(task_id: str | None) -> dict[str, str]:
    from clearml import Task
    if not task_id:
        return {}
    params = Task.get_task(task_id=task_id).get_parameters() or {}
    return {k.split("/", 1)[1]: v for k, v in params.items() if k.startswith("return/")}


def _json(raw: str | None) -> dict | None:
    try:
        return json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return None


def _row(run) -> tuple[dict, dict]:
    """(table row, settings) of one controller task."""
    dag = run.get_configuration_object_as_dict("Pipeline") or {}

    def task_of(step: str) -> str | None:
        node = dag.get(step) or {}
        return node.get("executed") or node.get("job_id")
    report = _json(_returns(task_of("validate")).get("report"))
    decision = _json(_returns(task_of("publish")).get("decision"))
    meta = {"id": run.id, "created": run.data.created, "status": str(run.status)}
    return run_row(meta, report, decision), run_config(run.get_parameters() or {})


def _rows(runs) -> list[tuple[dict, dict]]:
    with ThreadPoolExecutor(max_workers=4) as pool:  # I/O-bound: a few requests per run
        return list(pool.map(_row, runs))


def list_runs(limit: int) -> list[dict]:
    """Table rows of the ``limit`` newest runs, newest first."""
    return [row for row, _ in _rows(_controllers(limit))]


def compare(run_ids: list[str]) -> dict:
    """Runs A and B (two IDs, or none: the two newest, older first): ``steps.runs.comparison``."""
    if len(run_ids) == 1:
        raise LookupError("--compare takes two run IDs, or none for the two newest runs")
    if run_ids:
        runs = [pipeline_run(r) for r in run_ids]
    else:
        runs = list(reversed(_controllers(2)))
        if len(runs) < 2:
            raise LookupError("comparing needs two pipeline runs; this server has "
                              f"{len(runs)}")
    (row_a, cfg_a), (row_b, cfg_b) = _rows(runs)
    return comparison(row_a, row_b, config_changes(cfg_a, cfg_b))
