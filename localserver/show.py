"""Read-only view of a data directory (works whether or not the server is running)."""
from __future__ import annotations

import json

from .datadir import Layout
from .store import Store

VIEWS = ("summary", "projects", "tasks", "models", "queues", "workers")


def collect(data_dir, what: str = "summary", project: str | None = None, limit: int = 50) -> dict | list:
    layout = Layout(data_dir)
    if not layout.db.exists():
        raise FileNotFoundError(f"no database in {layout.root}: no server has used this data dir "
                                "yet (`tabpipe run` from this folder creates it; or pass --data-dir)")
    store = Store(layout.db, readonly=True)
    try:
        projects = store.project_names()
        if what == "summary":
            return {"data_dir": str(layout.root), **{k: store.count(k) for k in
                                                    ("projects", "tasks", "models", "queues", "workers")}}
        if what == "projects":
            return [{"id": p["id"], "name": p["name"], "system_tags": p.get("system_tags", [])}
                    for p in store.scan("projects")][-limit:]
        if what in ("tasks", "models"):
            docs = store.scan(what)
            if project:
                docs = [d for d in docs if projects.get(d.get("project"), "").startswith(project)]
            rows = []
            for d in docs[-limit:]:
                row = {"id": d["id"], "name": d.get("name"), "project": projects.get(d.get("project"))}
                if what == "tasks":
                    row.update(type=d.get("type"), status=d.get("status"), last_update=d.get("last_update"))
                else:
                    row.update(ready=d.get("ready"), tags=d.get("tags"), uri=d.get("uri"))
                rows.append(row)
            return rows
        if what == "queues":
            return [{"id": q["id"], "name": q["name"], "entries": len(q.get("entries") or [])}
                    for q in store.scan("queues")]
        if what == "workers":
            return [{"id": w["id"], "queues": [q["name"] for q in w.get("queues") or []],
                     "task": (w.get("task") or {}).get("id"), "last_activity_time": w.get("last_activity_time")}
                    for w in store.scan("workers")]
        raise ValueError(f"unknown view {what!r}; choose from {VIEWS}")
    finally:
        store.close()


def render(data, as_json: bool, width: int = 40) -> str:
    """A text table; a cell longer than ``width`` is cut with an ellipsis, except in the last
    column (a model's URI), which is printed whole."""
    if as_json or isinstance(data, dict):
        return json.dumps(data, indent=2, default=str)
    if not data:
        return "(none)"
    cols = list(data[0].keys())
    widths = {c: min(width, max(len(c), *(len(str(r.get(c))) for r in data))) for c in cols[:-1]}
    widths[cols[-1]] = 0

    def cell(value, c):
        text = str(value)
        if widths[c] and len(text) > widths[c]:
            text = text[:widths[c] - 1] + "…"
        return text.ljust(widths[c])
    lines = ["  ".join(cell(c, c) for c in cols).rstrip()]
    lines += ["  ".join(cell(row.get(c), c) for c in cols).rstrip() for row in data]
    return "\n".join(lines)
