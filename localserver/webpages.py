"""Read-only HTML pages at the web-app addresses the SDK prints.

The clearml SDK prints links such as ``<web_server>/projects/<p>/experiments/<task>/output/log``
("ClearML results page", "pipeline page", "dataset page"). With this server they point at
the API port, so each link opens a plain page of what the server holds for that task or
model: status, parameters, artifacts, models, last scalars, tables, images, console log.
``/`` lists the newest tasks and models. No web app, no JavaScript, nothing editable.
"""
from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from .reports import report_link

TASK_PATH = re.compile(r"/(?:experiments|tasks)/([0-9a-f]{32})(?:/|$)")
MODEL_PATH = re.compile(r"/models/([0-9a-f]{32})(?:/|$)")
ID = re.compile(r"[0-9a-f]{32}")
LOG_LINES = 300
TABLE_ROWS = 200
LIST_LIMIT = 100
STYLE = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}"
         "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;"
         "padding:3px 8px;text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:1em;"
         "overflow-x:auto;font-size:12px}img{max-width:560px;margin:4px;border:1px solid #ddd}"
         "code{font-size:12px}")


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _page(title: str, body: list[str]) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<style>{STYLE}</style></head><body><p><a href='/'>all tasks and models</a></p>"
            + "".join(body) + "</body></html>")


def _table(header: list[str], rows: list[list[str]]) -> str:
    """``rows`` hold ready-made HTML cells (escape text with ``_e`` first)."""
    if not rows:
        return "<p>(none)</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _link(url) -> str:
    url = str(url or "")
    return f"<a href='{_e(url)}'>{_e(url)}</a>" if url.startswith(("http://", "https://")) else _e(url)


def _task_link(task_id) -> str:
    return f"<a href='/tasks/{_e(task_id)}'>{_e(task_id)}</a>" if task_id else ""


def _model_link(model_id) -> str:
    return f"<a href='/models/{_e(model_id)}'>{_e(model_id)}</a>" if model_id else ""


def _when(ms) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%H:%M:%S") if ms else ""


def _facts(doc: dict, keys: list[str], store) -> str:
    """Field/value rows of ``doc``; the project by name, the parent task as a link."""
    projects = store.project_names()
    render = {"project": lambda p: _e(projects.get(p, p)), "parent": _task_link}
    rows = [[_e(k), render.get(k, _e)(doc.get(k))] for k in keys
            if doc.get(k) not in (None, "", [], {})]
    return _table(["field", "value"], rows)


def _value(store, value) -> str:
    """A parameter value; an ID of a task, dataset or model here becomes a link to its page."""
    text = str(value or "")
    if ID.fullmatch(text):
        if store.get("tasks", text) is not None:
            return _task_link(text)
        if store.get("models", text) is not None:
            return _model_link(text)
    return f"<code>{_e(text)}</code>"


def _parameters(store, doc: dict) -> list[str]:
    rows = [[_e(section), _e(name), _value(store, p.get("value"))]
            for section, params in sorted((doc.get("hyperparams") or {}).items())
            for name, p in sorted(params.items())]
    configs = [f"<details><summary>{_e(name)}</summary><pre>{_e(c.get('value'))}</pre></details>"
               for name, c in sorted((doc.get("configuration") or {}).items())]
    return ["<h2>Parameters</h2>", _table(["section", "name", "value"], rows),
            "<h2>Configuration objects</h2>", "".join(configs) or "<p>(none)</p>"]


def _steps(store, doc: dict) -> list[str]:
    """A pipeline's steps: from its ``Pipeline`` configuration (the task each step ran as, or
    reused from an earlier run when cached), else the tasks whose parent it is."""
    try:
        dag = json.loads(((doc.get("configuration") or {}).get("Pipeline") or {}).get("value") or "{}")
    except ValueError:
        dag = {}
    title, first = "Pipeline steps", "step"
    if isinstance(dag, dict) and dag:
        steps = [(name, (node or {}).get("executed") or (node or {}).get("job_id"))
                 for name, node in dag.items()]
    else:  # a controller's steps, or e.g. a training step's trial tasks (train.trial_tasks)
        steps = [(d.get("name"), d["id"]) for d in store.scan("tasks", parent=[doc["id"]])]
        if doc.get("type") != "controller":
            title, first = "Child tasks", "name"
    rows = []
    for name, task_id in steps:
        task = store.get("tasks", task_id) if task_id else None
        reused = task is not None and task.get("parent") not in (None, doc["id"])
        rows.append([_e(name), _task_link(task_id), _e((task or {}).get("status")),
                     "reused (cached)" if reused else ""])
    return [f"<h2>{title}</h2>", _table([first, "task", "status", ""], rows)] if rows else []


def _artifacts_and_models(doc: dict) -> list[str]:
    artifacts = [[_e(a.get("key")), _e(a.get("type")), _e(a.get("content_size")), _link(a.get("uri"))]
                 for a in (doc.get("execution") or {}).get("artifacts") or []]
    models = [[_e(kind), _e(m.get("name")), _model_link(m.get("model"))]
              for kind in ("input", "output") for m in (doc.get("models") or {}).get(kind) or []]
    return ["<h2>Artifacts</h2>", _table(["name", "type", "bytes", "file"], artifacts),
            "<h2>Models</h2>", _table(["", "name", "model"], models)]


def _scalars(doc: dict) -> list[str]:
    rows = sorted((v.get("metric"), v.get("variant"), v.get("value"))
                  for variants in (doc.get("last_metrics") or {}).values()
                  for v in variants.values())
    return ["<h2>Last scalar values</h2>",
            _table(["metric", "variant", "value"], [[_e(m), _e(v), _e(x)] for m, v, x in rows])]


def _cell(store, value) -> str:
    if isinstance(value, str) and ID.fullmatch(value):
        return _value(store, value)  # a model or task ID: a link to its page
    return _e(f"{value:.4f}" if isinstance(value, float) else value)


def _newest_plots(store, task_id: str) -> dict[tuple, dict]:
    """The task's plot reports (plotly JSON), the newest of each (metric, variant)."""
    newest = {}
    for _, doc in store.events(task_id, types=["plot"]):
        try:
            plot = json.loads(doc.get("plot_str") or "{}")
        except ValueError:
            continue
        if isinstance(plot, dict):
            newest[(doc.get("metric"), doc.get("variant"))] = plot
    return newest


def _kind(plot: dict) -> str:
    return ((plot.get("data") or [{}])[0] or {}).get("type", "scatter")


def _tables(store, newest: dict[tuple, dict]) -> list[str]:
    """The reported tables (plotly table plots, as ``Logger.report_table`` sends them), at
    most ``TABLE_ROWS`` rows each."""
    out = []
    for (metric, variant), plot in sorted(newest.items(), key=lambda kv: f"{kv[0][0]} / {kv[0][1]}"):
        if _kind(plot) != "table":
            continue
        data = plot["data"][0]
        header = [h[0] if isinstance(h, list) and h else h
                  for h in (data.get("header") or {}).get("values") or []]
        columns = (data.get("cells") or {}).get("values") or []
        rows = [list(r) for r in zip(*columns)]
        more = f"<p>({len(rows) - TABLE_ROWS} more rows)</p>" if len(rows) > TABLE_ROWS else ""
        out += [f"<h3>{_e(f'{metric} / {variant}')}</h3>",
                _table([str(h) for h in header], [[_cell(store, v) for v in r] for r in rows[:TABLE_ROWS]]),
                more]
    return ["<h2>Tables</h2>"] + (out or ["<p>(none)</p>"])


def _plots(newest: dict[tuple, dict]) -> list[str]:
    """The other plots: scatter, line and parallel-coordinates plots drawn
    (``localserver.svgplot``), other kinds named."""
    from .svgplot import draw
    titled = {" / ".join(filter(None, key)): plot for key, plot in newest.items()
              if _kind(plot) != "table"}
    out = []
    for title, plot in sorted(titled.items()):
        out.append(f"<h3>{_e(title)}</h3>")
        out.append(draw(plot) or
                   f"<p>({_e(_kind(plot))} plot: not drawn here; the ClearML web UI draws it)</p>")
    return ["<h2>Plots</h2>"] + out if out else []


def _images_and_log(store, task_id: str) -> list[str]:
    images = [doc for _, doc in store.events(task_id, types=["training_debug_image"])]
    tags = "".join(f"<a href='{_e(d.get('url'))}'><img src='{_e(d.get('url'))}' "
                   f"alt='{_e(d.get('metric'))}' title='{_e(d.get('metric'))}/{_e(d.get('variant'))}'></a>"
                   for d in images if str(d.get("url", "")).startswith(("http://", "https://")))
    lines = [f"{_when(doc.get('timestamp'))} {doc.get('msg', '')}".rstrip()
             for _, doc in reversed(store.events(task_id, types=["log"], limit=LOG_LINES, descending=True))]
    return ["<h2>Images</h2>", tags or "<p>(none)</p>",
            f"<h2>Console (last {LOG_LINES} reports)</h2>", f"<pre>{_e(chr(10).join(lines))}</pre>"]


def task_page(store, task_id: str) -> tuple[int, str]:
    doc = store.get("tasks", task_id)
    if doc is None:
        return 404, _page("not found", [f"<h1>No task {_e(task_id)} on this server</h1>"])
    body = [f"<h1>{_e(doc.get('name'))}</h1>",
            _facts(doc, ["id", "type", "status", "status_message", "project", "parent", "created",
                         "started", "completed", "tags", "system_tags", "comment"], store)]
    body += _steps(store, doc) + _parameters(store, doc) + _artifacts_and_models(doc) + _scalars(doc)
    plots = _newest_plots(store, task_id)
    body += _tables(store, plots) + _plots(plots) + _images_and_log(store, task_id)
    return 200, _page(doc.get("name") or task_id, body)


def model_page(store, model_id: str) -> tuple[int, str]:
    doc = store.get("models", model_id)
    if doc is None:
        return 404, _page("not found", [f"<h1>No model {_e(model_id)} on this server</h1>"])
    metadata = [[_e(m.get("key", k)), f"<code>{_e(m.get('value'))}</code>"]
                for k, m in sorted((doc.get("metadata") or {}).items())]
    body = [f"<h1>{_e(doc.get('name'))}</h1>",
            _facts(doc, ["id", "project", "framework", "ready", "tags", "system_tags", "created",
                         "comment"], store),
            f"<p>weights: {_link(doc.get('uri'))}</p><p>created by task {_task_link(doc.get('task'))}</p>",
            "<h2>Labels</h2>", _table(["label", "index"], [[_e(k), _e(v)] for k, v in
                                                          (doc.get("labels") or {}).items()]),
            "<h2>Metadata</h2>", _table(["key", "value"], metadata)]
    return 200, _page(doc.get("name") or model_id, body)


def _pipeline_runs(store, projects: dict, reports: Path | None) -> list[str]:
    """Pipeline controllers first: one row per run, linking to its page of steps (the flat
    task list below interleaves every run's steps) and to its report page when written."""
    runs = [d for d in store.scan("tasks") if d.get("type") == "controller"][-LIST_LIMIT:]
    if not runs:
        return []
    rows = []
    for d in reversed(runs):
        report = report_link(reports, d["id"]) if reports else None
        rows.append([_task_link(d["id"]), _e(d.get("name")), _e(d.get("status")),
                     _e(projects.get(d.get("project"))),
                     _e(str(d.get("started") or d.get("created") or "")[:19].replace("T", " ")),
                     f'<a href="{_e(report)}">report</a>' if report else ""])
    return [f"<h2>Pipeline runs (up to {LIST_LIMIT})</h2>",
            _table(["run", "name", "status", "project", "started", ""], rows)]


def index_page(store, reports: Path | None = None) -> tuple[int, str]:
    projects = store.project_names()
    tasks = [[_task_link(d["id"]), _e(d.get("name")), _e(d.get("type")), _e(d.get("status")),
              _e(projects.get(d.get("project"))), _e(d.get("last_update"))]
             for d in reversed(store.scan("tasks")[-LIST_LIMIT:])]
    models = [[_model_link(d["id"]), _e(d.get("name")), _e(d.get("ready")), _e(json.dumps(d.get("tags") or []))]
              for d in reversed(store.scan("models")[-LIST_LIMIT:])]
    return 200, _page("local ClearML-compatible server", [
        "<h1>Local ClearML-compatible server</h1>",
        *_pipeline_runs(store, projects, reports),
        f"<h2>Newest tasks (up to {LIST_LIMIT})</h2>",
        _table(["id", "name", "type", "status", "project", "last update"], tasks),
        f"<h2>Newest models (up to {LIST_LIMIT})</h2>",
        _table(["id", "name", "published", "tags"], models)])


def web_page(store, path: str, accept: str = "", reports: Path | None = None) -> tuple[int, str] | None:
    """(status, HTML) for a web-app address, or None for anything else (an API call).
    ``reports``: the folder of run report pages (``localserver.reports``) the index links to."""
    route = urlsplit(path).path
    if route.rstrip("/") == "":
        return index_page(store, reports) if "text/html" in accept else None
    found = TASK_PATH.search(route)
    if found and "." not in route.rsplit("/", 1)[-1]:
        return task_page(store, found.group(1))
    found = MODEL_PATH.search(route)
    if found:
        return model_page(store, found.group(1))
    return None
