"""``workers.*``: agents register, report status and are listed (queues as ``{id, name}``)."""
from __future__ import annotations

import time

from ..core import as_list, endpoint, now
from .common import str_tags

DEFAULT_TIMEOUT = 600


def _queue_refs(ctx, queues) -> list[dict]:
    refs = []
    by_name = None
    for q in as_list(queues):
        doc = ctx.store.get("queues", q)
        if doc is None:
            by_name = by_name or {d["name"]: d for d in ctx.store.scan("queues")}
            doc = by_name.get(q)
        if doc:
            refs.append({"id": doc["id"], "name": doc["name"]})
    return refs


def public(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


@endpoint("workers.register")
def register(ctx, body):
    worker = body.get("worker") or ctx.worker
    if not worker:
        return {}
    ts = now()
    with ctx.store.tx():
        doc = ctx.store.get("workers", worker) or {"id": worker, "key": worker, "register_time": ts}
        doc.update({"last_activity_time": ts, "last_report_time": ts, "_last_seen": time.time(),
                    "_timeout": int(body.get("timeout") or DEFAULT_TIMEOUT),
                    "queues": _queue_refs(ctx, body.get("queues")), "tags": str_tags(body.get("tags")),
                    "system_tags": str_tags(body.get("system_tags")),
                    "user": {"id": ctx.user, "name": ctx.user}, "company": {"id": ctx.company, "name": ctx.company},
                    "task": None, "queue": None, "project": None})
        ctx.store.put("workers", doc)
    return {}


@endpoint("workers.unregister")
def unregister(ctx, body):
    ctx.store.delete("workers", body.get("worker") or ctx.worker)
    return {}


@endpoint("workers.status_report")
def status_report(ctx, body):
    worker = body.get("worker") or ctx.worker
    if not worker:
        return {}
    ts = now()
    with ctx.store.tx():
        doc = ctx.store.get("workers", worker) or {"id": worker, "key": worker, "register_time": ts,
                                                   "_timeout": DEFAULT_TIMEOUT}
        doc.update({"last_activity_time": ts, "last_report_time": ts, "_last_seen": time.time()})
        if "queues" in body:
            doc["queues"] = _queue_refs(ctx, body.get("queues"))
        task = ctx.store.get("tasks", body.get("task")) if body.get("task") else None
        doc["task"] = {"id": task["id"], "name": task.get("name"), "running_time": 0,
                       "last_iteration": task.get("last_iteration") or 0} if task else None
        queue = _queue_refs(ctx, [body["queue"]]) if body.get("queue") else []
        doc["queue"] = queue[0] if queue else None
        project = ctx.store.get("projects", task.get("project")) if task and task.get("project") else None
        doc["project"] = {"id": project["id"], "name": project["name"]} if project else None
        if "tags" in body:
            doc["tags"] = str_tags(body.get("tags"))
        ctx.store.put("workers", doc)
    return {}


def alive(doc: dict, last_seen: float | None = None) -> bool:
    age = time.time() - doc.get("_last_seen", 0)
    if age > doc.get("_timeout", DEFAULT_TIMEOUT):
        return False
    return last_seen is None or age <= last_seen


@endpoint("workers.get_all")
def get_all(ctx, body):
    last_seen = body.get("last_seen")
    last_seen = float(last_seen) if last_seen not in (None, "") else None
    return {"workers": [public(d) for d in ctx.store.scan("workers") if alive(d, last_seen)]}


@endpoint("workers.get_runtime_properties")
def get_runtime_properties(ctx, body):
    doc = ctx.store.get("workers", body.get("worker") or ctx.worker) or {}
    return {"runtime_properties": doc.get("_runtime_properties") or []}


@endpoint("workers.set_runtime_properties")
def set_runtime_properties(ctx, body):
    with ctx.store.tx():
        doc = ctx.store.get("workers", body.get("worker") or ctx.worker)
        if doc:
            doc["_runtime_properties"] = [p for p in as_list(body.get("runtime_properties")) if isinstance(p, dict)]
            ctx.store.put("workers", doc)
    return {}


@endpoint("workers.get_metric_keys")
def get_metric_keys(ctx, body):
    return {"categories": []}


@endpoint("workers.get_activity_report")
def get_activity_report(ctx, body):
    return {"total": [], "active": []}
