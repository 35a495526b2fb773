"""``queues.*`` (FIFO task entries) and the queue side of ``tasks.enqueue`` / ``tasks.dequeue``."""
from __future__ import annotations

import time
from datetime import datetime

from ..core import ApiError, as_list, endpoint, new_id, now, require
from .common import load, query, str_tags
from .tasks_status import remove_from_queue, set_status

WATCH_WINDOW_SEC = 600


def new_queue(ctx, name: str, tags=None, system_tags=None) -> dict:
    ts = now()
    doc = {"id": new_id(), "name": name, "user": ctx.user, "company": ctx.company, "created": ts,
           "last_update": ts, "tags": str_tags(tags), "system_tags": str_tags(system_tags), "entries": [],
           "metadata": {}}
    ctx.store.put("queues", doc)
    return doc


def find_queue(ctx, name: str) -> dict | None:
    for doc in ctx.store.scan("queues"):
        if doc["name"] == name:
            return doc
    return None


def default_queue(ctx) -> dict:
    with ctx.store.tx():
        docs = ctx.store.scan("queues")
        for doc in docs:
            if "default" in (doc.get("system_tags") or []):
                return doc
        for doc in docs:
            if doc["name"] == "default":
                doc["system_tags"] = list(doc.get("system_tags") or []) + ["default"]
                ctx.store.put("queues", doc)
                return doc
        return new_queue(ctx, "default", system_tags=["default"])


def watched(ctx, queue_id: str) -> bool:
    cutoff = time.time() - WATCH_WINDOW_SEC
    for worker in ctx.store.scan("workers"):
        if worker.get("_last_seen", 0) >= cutoff and any(q.get("id") == queue_id for q in worker.get("queues") or []):
            return True
    return False


@endpoint("queues.create")
def create(ctx, body):
    name = require(body, "name")
    with ctx.store.tx():
        if find_queue(ctx, name):
            raise ApiError(400, f"Queue with this name already exists: {name}", 702)
        doc = new_queue(ctx, name, body.get("tags"), body.get("system_tags"))
    return {"id": doc["id"]}


@endpoint("queues.get_by_id")
def get_by_id(ctx, body):
    return {"queue": load(ctx.store, "queues", body.get("queue"), "queue")}


@endpoint("queues.get_all", "queues.get_all_ex")
def get_all(ctx, body):
    docs, scroll = query(ctx.store, "queues", body, list_fields=("id", "tags", "system_tags", "user"), indexed=())
    out = {"queues": docs}
    if scroll is not None:
        out["scroll_id"] = scroll
    return out


@endpoint("queues.get_default")
def get_default(ctx, body):
    doc = default_queue(ctx)
    return {"id": doc["id"], "name": doc["name"]}


@endpoint("queues.update")
def update(ctx, body):
    with ctx.store.tx():
        doc = load(ctx.store, "queues", body.get("queue"), "queue")
        fields = {}
        for key in ("name", "tags", "system_tags"):
            if key in body:
                fields[key] = str_tags(body[key]) if key != "name" else body[key]
        doc.update(fields)
        doc["last_update"] = now()
        ctx.store.put("queues", doc)
    return {"updated": 1, "fields": fields}


@endpoint("queues.delete")
def delete(ctx, body):
    with ctx.store.tx():
        doc = load(ctx.store, "queues", body.get("queue"), "queue")
        if doc.get("entries") and not body.get("force"):
            raise ApiError(400, f"Queue {doc['name']} is not empty: delete requires force=true", 703)
        for entry in doc.get("entries") or []:
            task = ctx.store.get("tasks", entry.get("task"))
            if task and task.get("status") == "queued":
                task.update({"status": "created", "status_changed": now()})
                ctx.store.put("tasks", task)
        ctx.store.delete("queues", doc["id"])
    return {"deleted": 1}


@endpoint("queues.get_num_entries")
def get_num_entries(ctx, body):
    return {"num": len(load(ctx.store, "queues", body.get("queue"), "queue").get("entries") or [])}


@endpoint("queues.get_next_task")
def get_next_task(ctx, body):
    """Pop the oldest entry whose task is still queued (stale entries are dropped)."""
    with ctx.store.tx():
        doc = load(ctx.store, "queues", body.get("queue"), "queue")
        entries = list(doc.get("entries") or [])
        found = None
        while entries and found is None:
            entry = entries.pop(0)
            task = ctx.store.get("tasks", entry.get("task"))
            if task and task.get("status") == "queued":
                found = (entry, task)
        if len(entries) != len(doc.get("entries") or []):
            doc["entries"] = entries
            doc["last_update"] = now()
            ctx.store.put("queues", doc)
    if not found:
        return {}
    out = {"entry": found[0]}
    if body.get("get_task_info"):
        out["task_info"] = {"company": ctx.company, "user": found[1].get("user")}
    return out


@endpoint("queues.add_task")
def add_task(ctx, body):
    with ctx.store.tx():
        doc = load(ctx.store, "queues", body.get("queue"), "queue")
        load(ctx.store, "tasks", body.get("task"), "task")
        doc.setdefault("entries", []).append({"task": body["task"], "added": now()})
        ctx.store.put("queues", doc)
    return {"added": 1}


@endpoint("queues.remove_task")
def remove_task(ctx, body):
    with ctx.store.tx():
        doc = load(ctx.store, "queues", body.get("queue"), "queue")
        before = len(doc.get("entries") or [])
        doc["entries"] = [e for e in doc.get("entries") or [] if e.get("task") != body.get("task")]
        ctx.store.put("queues", doc)
    return {"removed": before - len(doc["entries"])}


@endpoint("queues.get_queue_metrics")
def get_queue_metrics(ctx, body):
    return {"queues": []}


def _resolve_queue(ctx, body) -> dict:
    if body.get("queue"):
        doc = ctx.store.get("queues", body["queue"]) or find_queue(ctx, body["queue"])
        if not doc:
            raise ApiError(400, f"Invalid queue id: {body['queue']}", 701)
        return doc
    if body.get("queue_name"):
        return find_queue(ctx, body["queue_name"]) or new_queue(ctx, body["queue_name"])
    return default_queue(ctx)


def _enqueue(ctx, task_id: str, body: dict) -> dict:
    with ctx.store.tx():
        task = load(ctx.store, "tasks", task_id, "task")
        queue = _resolve_queue(ctx, body)
        fields = set_status(ctx.store, task, "queued", body)
        task.setdefault("execution", {})["queue"] = queue["id"]
        ctx.store.put("tasks", task)
        queue = ctx.store.get("queues", queue["id"])
        queue.setdefault("entries", []).append({"task": task_id, "added": now()})
        queue["last_update"] = now()
        ctx.store.put("queues", queue)
    fields["execution.queue"] = queue["id"]
    out = {"queued": 1, "updated": 1, "fields": fields}
    if body.get("verify_watched_queue"):
        out["queue_watched"] = watched(ctx, queue["id"])
    return out


@endpoint("tasks.enqueue")
def enqueue(ctx, body):
    return _enqueue(ctx, body.get("task"), body)


@endpoint("tasks.enqueue_many")
def enqueue_many(ctx, body):
    ok, failed = [], []
    for tid in as_list(body.get("ids")):
        try:
            ok.append({"id": tid, **_enqueue(ctx, tid, body)})
        except ApiError as err:
            failed.append({"id": tid, "error": {"codes": [err.code, err.subcode], "msg": err.msg, "data": {}}})
    return {"succeeded": ok, "failed": failed}


@endpoint("tasks.dequeue")
def dequeue(ctx, body):
    """Remove a queued task from its queue; a no-op (``updated: 0``) for tasks not queued."""
    with ctx.store.tx():
        task = load(ctx.store, "tasks", body.get("task"), "task")
        if task.get("status") != "queued":
            return {"dequeued": 0, "updated": 0, "fields": {}}
        removed = remove_from_queue(ctx.store, task)
        new_status = body.get("new_status") or "created"
        fields = set_status(ctx.store, task, new_status, {**body, "force": True}, ctx.worker)
    return {"dequeued": max(removed, 1), "updated": 1, "fields": fields}


def iso_to_epoch(value: str) -> float:
    try:
        return datetime.fromisoformat(value).timestamp()
    except (TypeError, ValueError):
        return 0.0
