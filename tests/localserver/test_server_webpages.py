"""The web-app links the SDK prints open read-only HTML pages: a task's parameters (IDs as
links), artifacts, models, last scalars, tables, images and console; a model's metadata; the newest
tasks at ``/`` for a browser. Text is escaped, unknown IDs are 404, API calls are untouched."""
import json
import urllib.error
import urllib.request

import pytest


@pytest.fixture(scope="module")
def stored(server):
    api = server.api()
    pid = api.call("projects.create", name="web/p")["id"]
    parent = api.call("tasks.create", name="pipeline", type="controller", project=pid)["id"]
    tid = api.call("tasks.create", name="train <b>hgb</b>", type="training", project=pid,
                   parent=parent,
                   hyperparams={"kwargs": {
                       "seed": {"section": "kwargs", "name": "seed", "value": "7"},
                       "upstream": {"section": "kwargs", "name": "upstream", "value": parent}}},
                   configuration={"train": {"name": "train", "value": '{"n_trials": 40}'}})["id"]
    api.call("tasks.started", task=tid)
    api.call("events.add_batch", requests=[
        {"type": "training_stats_scalar", "task": tid, "iter": 0, "metric": "cv", "variant": "macro_f1",
         "value": 0.8123},
        {"type": "log", "task": tid, "msg": "trial 3 finished <script>x</script>", "level": "info"},
        {"type": "training_debug_image", "task": tid, "iter": 0, "metric": "optuna", "variant": "history",
         "url": "http://files.example/history.png"},
        {"type": "plot", "task": tid, "iter": 0, "metric": "validation/leaderboard", "variant": "table",
         "plot_str": json.dumps({"data": [{"type": "table",
                                           "header": {"values": [["family"], ["macro_f1"], ["task"]]},
                                           "cells": {"values": [["hist_gb", "logreg"], [0.83251, 0.6],
                                                                [parent, "-"]]}}]})},
        {"type": "plot", "task": tid, "iter": 0, "metric": "curve", "variant": "v",
         "plot_str": json.dumps({"data": [{"type": "scatter", "x": [1], "y": [2]}]})}])
    api.call("tasks.add_or_update_artifacts", task=tid, artifacts=[
        {"key": "trials", "type": "pandas", "uri": "http://files.example/trials.csv.gz", "content_size": 99}])
    mid = api.call("models.create", name="hpc-classifier", uri="http://files.example/m.joblib", task=tid,
                   project=pid, labels={"VF": 0, "L": 1})["id"]
    api.call("tasks.add_or_update_model", task=tid, name="model", model=mid, type="output")
    api.call("models.add_or_update_metadata", model=mid,
             metadata=[{"key": "dataset_hash", "type": "str", "value": "abc123"}])
    return {"project": pid, "parent": parent, "task": tid, "model": mid}


def _get(server, path, accept="text/html"):
    req = urllib.request.Request(server.api_url + path, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers.get("Content-Type"), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type"), err.read().decode()


def test_the_sdk_results_link_opens_the_task_page(server, stored):
    tid = stored["task"]
    for path in (f"/projects/{stored['project']}/experiments/{tid}/output/log",  # results page
                 f"/pipelines/{stored['project']}/experiments/{tid}",
                 f"/datasets/simple/{stored['project']}/experiments/{tid}"):
        code, kind, page = _get(server, path, accept="*/*")
        assert (code, kind) == (200, "text/html; charset=utf-8"), path
    assert "<h1>train &lt;b&gt;hgb&lt;/b&gt;</h1>" in page  # escaped, never markup
    assert "web/p" in page and "in_progress" in page
    assert f"href='/tasks/{stored['parent']}'" in page  # the parent and an ID parameter link on
    assert page.count(f"href='/tasks/{stored['parent']}'") == 3  # and a table cell
    assert "<code>7</code>" in page and "{&quot;n_trials&quot;: 40}" in page
    assert "href='http://files.example/trials.csv.gz'" in page
    assert f"href='/models/{stored['model']}'" in page
    assert "macro_f1" in page and "0.8123" in page
    assert "<img src='http://files.example/history.png'" in page
    assert "trial 3 finished &lt;script&gt;" in page and "<script>" not in page
    tables = page[page.index("<h2>Tables</h2>"):page.index("<h2>Plots</h2>")]
    assert "<h3>validation/leaderboard / table</h3>" in tables and "curve" not in tables  # tables only
    assert "<td>hist_gb</td><td>0.8325</td><td><a href='/tasks/" in tables  # rounded; IDs link


def test_a_pipeline_page_lists_its_steps(server, stored):
    code, _, page = _get(server, f"/pipelines/{stored['project']}/experiments/{stored['parent']}")
    steps = page[page.index("<h2>Pipeline steps</h2>"):page.index("<h2>Parameters")]
    assert code == 200 and f"href='/tasks/{stored['task']}'" in steps and "in_progress" in steps
    _, _, step_page = _get(server, f"/tasks/{stored['task']}")
    assert "Pipeline steps" not in step_page  # a task without steps has no such section


def test_a_training_step_page_lists_its_trial_tasks(server, stored):
    api = server.api()
    step = api.call("tasks.create", name="train_svm", type="training", project=stored["project"])["id"]
    trial = api.call("tasks.create", name="svm trial: General/C=1.0", type="training",
                     project=stored["project"], parent=step)["id"]
    _, _, page = _get(server, f"/tasks/{step}")
    children = page[page.index("<h2>Child tasks</h2>"):page.index("<h2>Parameters")]
    assert f"<td>svm trial: General/C=1.0</td><td><a href='/tasks/{trial}'" in children
    assert "Pipeline steps" not in page


def test_scatter_and_parallel_coordinates_plots_are_drawn_and_other_kinds_named(server, stored):
    api = server.api()
    tid = api.call("tasks.create", name="train_svm", type="training", project=stored["project"])["id"]
    objective = {"data": [{"type": "scatter", "mode": "markers", "name": "job <i>",
                           "x": [0, 1, 2, None], "y": [0.61, 0.70, 0.66, 0.9]},
                          {"type": "scatter", "mode": "lines", "name": "best",
                           "x": ["a", "b", "c"], "y": [0.61, 0.70, float("nan")]}],
                 "layout": {"xaxis": {"title": "job"}, "yaxis": {"title": {"text": "macro_f1"}}}}
    # as ClearML's HyperParameterOptimizer reports it: a categorical dimension as tick texts
    parcoords = {"data": [{"type": "parcoords", "line": {"color": [0.61, 0.70, 0.66]},
                           "dimensions": [
                               {"label": "General/C", "values": [0.1, 10.0, 1.0]},
                               {"label": "General/weights", "values": [0, 1, 0],
                                "tickvals": [0, 1], "ticktext": ["uniform", "distance"]},
                               {"label": "macro_f1", "values": [0.61, 0.70, 0.66]}]}]}
    api.call("events.add_batch", requests=[
        {"type": "plot", "task": tid, "iter": 0, "metric": "Optimization Objective",
         "variant": "cv/macro_f1", "plot_str": json.dumps(objective)},
        {"type": "plot", "task": tid, "iter": 0, "metric": "Parallel Coordinates", "variant": "",
         "plot_str": json.dumps(parcoords)},
        {"type": "plot", "task": tid, "iter": 0, "metric": "Heat", "variant": "",
         "plot_str": json.dumps({"data": [{"type": "heatmap", "z": [[1]]}]})}])
    _, _, page = _get(server, f"/tasks/{tid}")
    plots = page[page.index("<h2>Plots</h2>"):page.index("<h2>Images</h2>")]
    drawn = plots[plots.index("<h3>Optimization Objective / cv/macro_f1</h3>"):
                  plots.index("<h3>Parallel Coordinates</h3>")]
    lines = plots[plots.index("<h3>Parallel Coordinates</h3>"):]
    assert lines.count("<polyline") == 3 and lines.count("<line ") == 3  # rows; axes
    assert all(f">{text}</text>" in lines for text in ("General/C", "General/weights",
                                                       "uniform", "distance", "0.1", "10"))
    polylines = lines.split("<polyline")[1:]  # the best row yellow, the worst dark purple
    assert "stroke='#fde725'" in polylines[1] and "stroke='#440154'" in polylines[0]
    assert drawn.count("<circle") == 3  # the point without an x is left out
    assert drawn.count("<polyline") == 1 and drawn.count("<polyline points='") == 1
    assert "job &lt;i&gt;" in drawn and "<i>" not in drawn  # names escaped
    assert ">macro_f1</text>" in drawn and ">0.61</text>" in drawn and ">0.7</text>" in drawn
    assert "(heatmap plot: not drawn here" in plots


def test_a_cached_pipeline_lists_the_steps_it_reused(server, stored):
    api = server.api()
    dag = {"train": {"executed": stored["task"], "parents": []}, "publish": {"executed": None}}
    rerun = api.call("tasks.create", name="pipeline again", type="controller", project=stored["project"],
                     configuration={"Pipeline": {"name": "Pipeline", "value": json.dumps(dag)}})["id"]
    _, _, page = _get(server, f"/tasks/{rerun}")
    steps = page[page.index("<h2>Pipeline steps</h2>"):page.index("<h2>Parameters")]
    assert f"<td>train</td><td><a href='/tasks/{stored['task']}'" in steps and "reused (cached)" in steps
    assert "<td>publish</td><td></td>" in steps  # not run (yet)


def test_the_model_page_shows_weights_labels_metadata_and_its_task(server, stored):
    code, _, page = _get(server, f"/projects/*/models/{stored['model']}")
    assert code == 200 and "<h1>hpc-classifier</h1>" in page
    assert "href='http://files.example/m.joblib'" in page and f"href='/tasks/{stored['task']}'" in page
    assert "dataset_hash" in page and "abc123" in page and "VF" in page


def test_unknown_ids_are_404_pages_and_the_index_lists_the_newest(server, stored):
    code, kind, page = _get(server, "/projects/p/experiments/" + "f" * 32)
    assert code == 404 and kind.startswith("text/html") and "No task" in page
    code, _, page = _get(server, "/models/" + "e" * 32)
    assert code == 404 and "No model" in page
    code, _, page = _get(server, "/")
    assert code == 200 and f"/tasks/{stored['task']}" in page and f"/models/{stored['model']}" in page
    runs, tasks = page.split("Newest tasks")
    assert "Pipeline runs" in runs and ">pipeline<" in runs and "train &lt;b&gt;" not in runs
    assert tasks.index("train &lt;b&gt;") < tasks.index(">pipeline<")  # newest first


def test_api_requests_are_not_pages(server, stored):
    code, kind, body = _get(server, "/", accept="application/json")  # not a browser: the API's 404
    assert code == 404 and kind == "application/json" and "Unsupported endpoint" in body
    task = server.api().call("tasks.get_by_id", task=stored["task"])["task"]
    assert task["name"] == "train <b>hgb</b>"


def test_run_report_pages_are_served_and_linked_from_the_index(server, stored):
    reports = server.data_dir / "reports" / stored["parent"]
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "index.html").write_text("<h1>run report</h1>")
    (reports / "figures").mkdir(exist_ok=True)
    (reports / "figures" / "cm.jpeg").write_bytes(b"\xff\xd8jpeg")
    code, kind, page = _get(server, "/")
    assert f'href="/reports/{stored["parent"]}/"' in page.split("Newest tasks")[0]
    code, kind, page = _get(server, f"/reports/{stored['parent']}/")
    assert code == 200 and kind.startswith("text/html") and "run report" in page
    req = urllib.request.Request(server.api_url + f"/reports/{stored['parent']}/figures/cm.jpeg")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers.get("Content-Type") == "image/jpeg" and resp.read() == b"\xff\xd8jpeg"
    (server.data_dir / "secret.txt").write_text("credentials")
    for outside in ("/reports/../secret.txt", "/reports/%2e%2e/secret.txt", "/reports/nope/"):
        code, _, body = _get(server, outside)
        assert code == 404 and "credentials" not in body
