"""Task status machine and the status-changing ``tasks.*`` endpoints.

Statuses: created, queued, in_progress, stopped, completed, failed, published, closed.
:func:`check_transition` is the single rule table (unit-tested); ``force`` allows any move
except out of ``published``, which is final. Endpoints answer counters >= 1 on success
because the SDK checks them.
"""
from __future__ import annotations

from ..core import ApiError, endpoint, now
from .common import load

STATUSES = ("created", "queued", "in_progress", "stopped", "completed", "failed", "published", "closed")

# new status -> statuses it may be entered from without force
ALLOWED_FROM = {
    "created": {"created", "queued", "stopped", "completed", "failed", "closed"},
    "queued": {"created", "stopped", "failed"},
    "in_progress": {"created", "queued", "in_progress", "stopped"},
    "stopped": {"created", "queued", "in_progress", "stopped"},
    "completed": {"created", "in_progress", "stopped", "completed"},
    "closed": {"created", "in_progress", "stopped", "completed", "closed"},
    "failed": {"created", "queued", "in_progress", "stopped", "failed"},
    "published": {"completed", "stopped", "closed"},
}


def check_transition(current: str, new: str, force: bool = False) -> str | None:
    """Return None when ``current -> new`` is allowed, else a human-readable reason."""
    if new not in ALLOWED_FROM:
        return f"Unknown task status: {new}"
    if current == "published":
        return "Task is published: a published task cannot be changed"
    if force or current in ALLOWED_FROM[new]:
        return None
    return f"Invalid task status transition: {current} -> {new} (use force=true to override)"


def _is_locked_dataset(doc: dict) -> bool:
    return doc.get("status") in ("completed", "closed") and "dataset" in (doc.get("system_tags") or [])


EDITABLE_WHEN_LOCKED = {"tags", "system_tags"}


def check_editable(doc: dict, fields, force: bool) -> str | None:
    """Return None when ``fields`` of task ``doc`` may be edited, else the reason."""
    fields = set(fields)
    if doc.get("status") == "published" and fields - EDITABLE_WHEN_LOCKED:
        return f"Task {doc['id']} is published and cannot be edited"
    if _is_locked_dataset(doc) and fields - EDITABLE_WHEN_LOCKED:
        return f"Dataset {doc['id']} is finalized (completed) and cannot be modified"
    if doc.get("status") != "created" and not force and fields - EDITABLE_WHEN_LOCKED:
        return f"Task {doc['id']} is {doc.get('status')}: only tasks in 'created' status can be edited without force"
    return None


def set_status(store, doc: dict, new: str, body: dict, worker: str = "") -> dict:
    """Apply a status change to ``doc`` (caller holds a transaction) and return changed fields."""
    ts = now()
    reason = check_transition(doc.get("status", "created"), new, bool(body.get("force")))
    if reason:
        raise ApiError(400, reason, 110)
    old = doc.get("status")
    if old == "queued" and new != "queued":
        remove_from_queue(store, doc)
    fields = {"status": new, "status_changed": ts, "last_update": ts, "last_change": ts,
              "status_reason": body.get("status_reason") or "", "status_message": body.get("status_message") or ""}
    if new == "in_progress":
        if not doc.get("started") or old in ("created", "queued"):
            fields["started"] = ts
        if worker:
            fields["last_worker"] = worker
            fields["last_worker_report"] = ts
    if new in ("completed", "failed", "stopped", "closed", "published"):
        if new != "published":
            fields["completed"] = ts
        if doc.get("started") and new != "published":
            from datetime import datetime
            try:
                delta = datetime.fromisoformat(ts) - datetime.fromisoformat(doc["started"])
                fields["active_duration"] = int(delta.total_seconds())
            except ValueError:
                pass
    if new == "published":
        fields["published"] = ts
    doc.update(fields)
    store.put("tasks", doc)
    return fields


def remove_from_queue(store, doc: dict) -> int:
    qid = (doc.get("execution") or {}).get("queue")
    removed = 0
    queues = [store.get("queues", qid)] if qid else store.scan("queues")
    for queue in queues:
        if not queue:
            continue
        entries = queue.get("entries") or []
        kept = [e for e in entries if e.get("task") != doc["id"]]
        if len(kept) != len(entries):
            removed += len(entries) - len(kept)
            queue["entries"] = kept
            queue["last_update"] = now()
            store.put("queues", queue)
    return removed


def _change(ctx, body, new: str, extra=None):
    with ctx.store.tx():
        doc = load(ctx.store, "tasks", body.get("task"), "task")
        fields = set_status(ctx.store, doc, new, body, ctx.worker)
        if extra:
            fields.update(extra(doc) or {})
    return {"updated": 1, "fields": fields}


@endpoint("tasks.started")
def started(ctx, body):
    out = _change(ctx, body, "in_progress")
    out["started"] = 1
    return out


@endpoint("tasks.completed")
def completed(ctx, body):
    def maybe_publish(doc):
        if body.get("publish"):
            return set_status(ctx.store, doc, "published", {"force": True})
    out = _change(ctx, body, "completed", maybe_publish)
    out["published"] = 1 if body.get("publish") else 0
    return out


@endpoint("tasks.failed")
def failed(ctx, body):
    return _change(ctx, body, "failed")


@endpoint("tasks.close")
def close(ctx, body):
    return _change(ctx, body, "closed")


@endpoint("tasks.stopped")
def stopped(ctx, body):
    return _change(ctx, body, "stopped")


@endpoint("tasks.publish")
def publish(ctx, body):
    with ctx.store.tx():
        doc = load(ctx.store, "tasks", body.get("task"), "task")
        fields = set_status(ctx.store, doc, "published", body, ctx.worker)
        if body.get("publish_model", True):
            for item in (doc.get("models") or {}).get("output") or []:
                model = ctx.store.get("models", item.get("model"))
                if model and not model.get("ready"):
                    model["ready"] = True
                    model["last_update"] = now()
                    ctx.store.put("models", model)
    return {"updated": 1, "fields": fields}


@endpoint("tasks.stop")
def stop(ctx, body):
    """Abort a task. A worker-run task that is in progress is only flagged ``stopping``: its
    agent/SDK watchdog sees the message and stops it. Anything else is stopped directly."""
    with ctx.store.tx():
        doc = load(ctx.store, "tasks", body.get("task"), "task")
        remote = "development" not in (doc.get("system_tags") or [])
        if doc.get("status") == "in_progress" and remote and not body.get("force"):
            ts = now()
            fields = {"status_message": "stopping", "status_reason": body.get("status_reason") or "stopped by user",
                      "last_update": ts, "last_change": ts}
            doc.update(fields)
            ctx.store.put("tasks", doc)
        else:
            fields = set_status(ctx.store, doc, "stopped", {**body, "force": True}
                                if doc.get("status") != "published" else body, ctx.worker)
    return {"updated": 1, "fields": fields}


@endpoint("tasks.reset")
def reset(ctx, body):
    from .tasks import clear_outputs
    with ctx.store.tx():
        doc = load(ctx.store, "tasks", body.get("task"), "task")
        if doc.get("status") == "in_progress" and not body.get("force"):
            raise ApiError(400, "Task is in progress: reset requires force=true", 110)
        dequeued = {"removed": remove_from_queue(ctx.store, doc)} if doc.get("status") == "queued" else {}
        fields = set_status(ctx.store, doc, "created", {**body, "force": True}
                            if doc.get("status") != "published" else body)
        deleted_models = clear_outputs(ctx.store, doc, bool(body.get("delete_output_models", True)),
                                       bool(body.get("clear_all")))
        for key in ("started", "completed", "published", "active_duration"):
            doc.pop(key, None)
        ctx.store.put("tasks", doc)
    return {"updated": 1, "fields": fields, "dequeued": dequeued, "deleted_models": deleted_models,
            "events": {}, "urls": {"model_urls": [], "event_urls": [], "artifact_urls": []}}


@endpoint("tasks.ping")
def ping(ctx, body):
    with ctx.store.tx():
        doc = load(ctx.store, "tasks", body.get("task"), "task")
        doc["last_worker_report"] = now()
        ctx.store.put("tasks", doc)
    return {}
