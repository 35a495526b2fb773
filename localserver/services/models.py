"""``models.*``: model registry documents. A published (``ready``) model is frozen: only its
tags/system tags may change (archiving); every other edit answers 400."""
from __future__ import annotations

import copy

from ..core import ApiError, as_list, endpoint, new_id, now
from .common import load, query, str_tags
from .tasks_status import set_status

FIELDS = ("uri", "name", "comment", "tags", "system_tags", "framework", "design", "labels", "ready", "project",
          "parent", "task", "iteration")
LOCKED_OK = {"tags", "system_tags"}


def _metadata(items) -> dict:
    out = {}
    if isinstance(items, dict):
        items = [dict(v, key=k) if isinstance(v, dict) else {"key": k, "value": v} for k, v in items.items()]
    for item in as_list(items):
        if isinstance(item, dict) and item.get("key") is not None:
            value = item.get("value")
            out[str(item["key"])] = {"key": str(item["key"]), "type": item.get("type"),
                                     "value": value if value is None or isinstance(value, str) else str(value)}
    return out


def _apply(doc: dict, body: dict) -> dict:
    fields = {}
    for key in FIELDS:
        if key not in body:
            continue
        value = body[key]
        if key in ("tags", "system_tags"):
            value = str_tags(value)
        elif key == "ready":
            value = bool(value)
        elif key in ("design", "labels"):
            value = value if isinstance(value, dict) else ({"design": value} if key == "design" and value else {})
        if key == "iteration":
            doc.setdefault("ui_cache", {})["iteration"] = value
            continue
        doc[key] = value
        fields[key] = value
    if "metadata" in body:
        doc["metadata"] = _metadata(body["metadata"])
        fields["metadata"] = doc["metadata"]
    return fields


def _check_unlocked(doc: dict, keys) -> None:
    extra = set(keys) - LOCKED_OK
    if doc.get("ready") and extra:
        raise ApiError(400, f"Model {doc['id']} is published and cannot be edited (fields: {sorted(extra)})", 203)


@endpoint("models.create")
def create(ctx, body):
    if not body.get("name") and not body.get("uri"):
        raise ApiError(400, "Missing required field: name")
    ts = now()
    doc = {"id": new_id(), "name": body.get("name") or "", "user": ctx.user, "company": ctx.company,
           "created": ts, "last_update": ts, "task": None, "project": None, "parent": None, "comment": "",
           "tags": [], "system_tags": [], "framework": None, "design": {}, "labels": {}, "uri": None,
           "ready": False, "metadata": {}}
    _apply(doc, body)
    with ctx.store.tx():
        ctx.store.put("models", doc)
    return {"id": doc["id"], "created": True}


@endpoint("models.get_by_id")
def get_by_id(ctx, body):
    return {"model": load(ctx.store, "models", body.get("model"), "model")}


@endpoint("models.get_by_task_id")
def get_by_task_id(ctx, body):
    task = load(ctx.store, "tasks", body.get("task"), "task")
    outputs = (task.get("models") or {}).get("output") or []
    if not outputs:
        raise ApiError(400, f"No output model for task {task['id']}", 201)
    return {"model": load(ctx.store, "models", outputs[-1]["model"], "model")}


@endpoint("models.get_all", "models.get_all_ex")
def get_all(ctx, body):
    docs, scroll = query(ctx.store, "models", body, regex_fields=("name", "comment"),
                         list_fields=("id", "user", "project", "task", "tags", "system_tags", "framework", "uri"),
                         bool_fields=("ready",))
    out = {"models": docs}
    if scroll is not None:
        out["scroll_id"] = scroll
    return out


def _changed(doc: dict, body: dict, requested: list) -> list:
    """Requested fields whose stored value would change. The SDK re-sends the whole model
    (uri, name, design...) when only tags change; unchanged values do not edit a published model."""
    trial = copy.deepcopy(doc)
    _apply(trial, {k: body[k] for k in requested})
    return [k for k in requested if trial.get(k) != doc.get(k)
            or (k == "iteration" and trial.get("ui_cache") != doc.get("ui_cache"))]


def _edit(ctx, body, keys=FIELDS + ("metadata",)):
    with ctx.store.tx():
        doc = load(ctx.store, "models", body.get("model"), "model")
        requested = [k for k in keys if k in body]
        _check_unlocked(doc, _changed(doc, body, requested))
        fields = _apply(doc, {k: body[k] for k in requested})
        doc["last_update"] = now()
        ctx.store.put("models", doc)
    return {"updated": 1, "fields": fields}


@endpoint("models.edit")
def edit(ctx, body):
    return _edit(ctx, body)


@endpoint("models.update")
def update(ctx, body):
    return _edit(ctx, body, ("name", "comment", "tags", "system_tags", "ready", "project", "task", "iteration"))


@endpoint("models.update_for_task")
def update_for_task(ctx, body):
    with ctx.store.tx():
        task = load(ctx.store, "tasks", body.get("task"), "task")
        model_id = body.get("override_model_id")
        created = False
        if not model_id:
            created = True
            model_id = create(ctx, {"name": body.get("name") or task.get("name"), "uri": body.get("uri"),
                                    "task": task["id"], "project": task.get("project")})["id"]
        out = _edit(ctx, {**{k: body[k] for k in ("uri", "name", "comment", "tags", "iteration") if k in body},
                          "model": model_id})
        outputs = task.setdefault("models", {}).setdefault("output", [])
        if not any(m.get("model") == model_id for m in outputs):
            outputs.append({"name": body.get("name") or "Output Model", "model": model_id})
            ctx.store.put("tasks", task)
    return {"id": model_id, "created": created, "updated": 1, "fields": out["fields"]}


def _publish(ctx, model_id: str, publish_task: bool, force_publish_task: bool) -> dict:
    with ctx.store.tx():
        doc = load(ctx.store, "models", model_id, "model")
        out = {"updated": 0 if doc.get("ready") else 1}
        doc["ready"] = True
        doc["last_update"] = now()
        ctx.store.put("models", doc)
        task = ctx.store.get("tasks", doc.get("task")) if doc.get("task") else None
        if publish_task and task and task.get("status") != "published":
            fields = set_status(ctx.store, task, "published", {"force": force_publish_task})
            out["published_task"] = {"id": task["id"], "data": {"updated": 1, "fields": fields}}
    out["updated"] = max(out["updated"], 1)
    return out


@endpoint("models.set_ready")
def set_ready(ctx, body):
    return _publish(ctx, body.get("model"), bool(body.get("publish_task", True)), bool(body.get("force_publish_task")))


def _many(ids, fn):
    ok, failed = [], []
    for mid in as_list(ids):
        try:
            ok.append({"id": mid, **(fn(mid) or {})})
        except ApiError as err:
            failed.append({"id": mid, "error": {"codes": [err.code, err.subcode], "msg": err.msg, "data": {}}})
    return {"succeeded": ok, "failed": failed}


@endpoint("models.publish_many")
def publish_many(ctx, body):
    return _many(body.get("ids"), lambda m: _publish(ctx, m, bool(body.get("publish_task", True)),
                                                    bool(body.get("force_publish_task"))))


def _delete(ctx, model_id: str, force: bool) -> dict:
    with ctx.store.tx():
        doc = load(ctx.store, "models", model_id, "model")
        if doc.get("ready") and not force:
            raise ApiError(400, f"Model {model_id} is published: delete requires force=true", 203)
        task = ctx.store.get("tasks", doc.get("task")) if doc.get("task") else None
        if task:
            models = task.get("models") or {}
            for kind in ("input", "output"):
                models[kind] = [m for m in models.get(kind) or [] if m.get("model") != model_id]
            ctx.store.put("tasks", task)
        ctx.store.delete("models", model_id)
        ctx.store.delete_events(model_id)
    return {"deleted": True, "url": doc.get("uri")}


@endpoint("models.delete")
def delete(ctx, body):
    return _delete(ctx, body.get("model"), bool(body.get("force")))


@endpoint("models.delete_many")
def delete_many(ctx, body):
    return _many(body.get("ids"), lambda m: _delete(ctx, m, bool(body.get("force"))))


def _archive(ctx, model_id: str, archived: bool) -> dict:
    with ctx.store.tx():
        doc = load(ctx.store, "models", model_id, "model")
        tags = [t for t in doc.get("system_tags") or [] if t != "archived"]
        doc["system_tags"] = tags + (["archived"] if archived else [])
        doc["last_update"] = now()
        ctx.store.put("models", doc)
    return {}


@endpoint("models.archive_many")
def archive_many(ctx, body):
    return _many(body.get("ids"), lambda m: _archive(ctx, m, True))


@endpoint("models.unarchive_many")
def unarchive_many(ctx, body):
    return _many(body.get("ids"), lambda m: _archive(ctx, m, False))


@endpoint("models.add_or_update_metadata")
def add_or_update_metadata(ctx, body):
    with ctx.store.tx():
        doc = load(ctx.store, "models", body.get("model"), "model")
        _check_unlocked(doc, ["metadata"])
        new = _metadata(body.get("metadata"))
        doc["metadata"] = new if body.get("replace_metadata") else {**(doc.get("metadata") or {}), **new}
        doc["last_update"] = now()
        ctx.store.put("models", doc)
    return {"updated": 1}


@endpoint("models.delete_metadata")
def delete_metadata(ctx, body):
    with ctx.store.tx():
        doc = load(ctx.store, "models", body.get("model"), "model")
        _check_unlocked(doc, ["metadata"])
        keys = set(as_list(body.get("keys")))
        doc["metadata"] = {k: v for k, v in (doc.get("metadata") or {}).items() if k not in keys}
        ctx.store.put("models", doc)
    return {"updated": 1}
