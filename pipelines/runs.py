"""``tabpipe runs``: the pipeline runs on a server as a table, and two runs compared.

The embedded server has no web UI and so no compare view; this is that view on the command
line. The table comes from task parameters, fetched in parallel; a comparison also downloads
both runs' stored test predictions, to pair them on the same test rows.
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


def _row(run) -> tuple[dict, dict, dict]:
    """(table row, settings, validation) of one controller task; validation holds the
    validate step's task ID and its returned report."""
    dag = run.get_configuration_object_as_dict("Pipeline") or {}

    def task_of(step: str) -> str | None:
        node = dag.get(step) or {}
        return node.get("executed") or node.get("job_id")
    validate_id = task_of("validate")
    report = _json(_returns(validate_id).get("report"))
    decision = _json(_returns(task_of("publish")).get("decision"))
    meta = {"id": run.id, "created": run.data.created, "status": str(run.status)}
    return (run_row(meta, report, decision), run_config(run.get_parameters() or {}),
            {"task": validate_id, "report": report or {}})


def _rows(runs) -> list[tuple[dict, dict, dict]]:
    with ThreadPoolExecutor(max_workers=4) as pool:  # I/O-bound: a few requests per run
        return list(pool.map(_row, runs))


def list_runs(limit: int) -> list[dict]:
    """Table rows of the ``limit`` newest runs, newest first."""
    return [row for row, _, _ in _rows(_controllers(limit))]


def split_summary(limit: int) -> list[dict]:
    """The ``limit`` newest runs grouped by setting across test splits
    (``steps.split_summary.split_groups``)."""
    from steps.split_summary import split_groups
    return split_groups([(row, settings) for row, settings, _ in _rows(_controllers(limit))])


def compare(run_ids: list[str], bootstrap: int = 1000) -> dict:
    """Runs A and B (two IDs, or none: the two newest, older first): ``steps.runs.comparison``
    plus, on the same test split, B - A paired on its rows with ``bootstrap`` resamples
    (``steps.run_pairs``; 0: none)."""
    if len(run_ids) == 1:
        raise LookupError("--compare takes two run IDs, or none for the two newest runs")
    if run_ids:
        runs = [pipeline_run(r) for r in run_ids]
    else:
        runs = list(reversed(_controllers(2)))
        if len(runs) < 2:
            raise LookupError("comparing needs two pipeline runs; this server has "
                              f"{len(runs)}")
    (row_a, cfg_a, val_a), (row_b, cfg_b, val_b) = _rows(runs)
    compared = comparison(row_a, row_b, config_changes(cfg_a, cfg_b))
    compared["paired"], compared["paired_note"] = (
        _paired(val_a, val_b, bootstrap) if compared["same_test_split"] and bootstrap > 0
        else (None, None))
    return compared


def _predictions(validate_id: str | None):
    from clearml import Task
    import pandas as pd
    from steps.run_pairs import ARTIFACT
    artifact = Task.get_task(task_id=validate_id).artifacts.get(ARTIFACT) if validate_id else None
    path = artifact.get_local_copy() if artifact is not None else None
    return None if path is None else pd.read_parquet(path)  # None: absent or not downloadable


def _paired(val_a: dict, val_b: dict, n: int) -> tuple[dict | None, str | None]:
    """(``steps.run_pairs.paired_runs`` of the two validations, None) or (None, why not)."""
    from steps.run_pairs import paired_runs
    ra, rb = val_a["report"], val_b["report"]
    if not (ra and rb):
        return None, "a run has no validation result"
    if ra.get("metric") != rb.get("metric"):
        return None, f"the runs score different metrics ({ra.get('metric')}, {rb.get('metric')})"
    tables = [_predictions(v["task"]) for v in (val_a, val_b)]
    if any(t is None for t in tables):
        return None, ("a run has no stored test predictions (recorded before they were kept, "
                      "or its file could not be downloaded)")
    try:
        return paired_runs(*tables, ra["winner"], rb["winner"], rb["metric"], n=n,
                           beta=float(rb.get("beta") or 1.0), positive_label=rb.get("positive_label"),
                           costs=rb.get("costs") if rb.get("cost_decisions") else None), None
    except ValueError as err:
        return None, str(err)
