"""``tasks.*`` documents: create, read, query, edit, clone, artifacts, models, parameters."""
from __future__ import annotations

import copy

from ..core import ApiError, as_list, endpoint, new_id, now, require
from .common import load, query, str_tags
from .projects import ensure_project
from .tasks_status import check_editable

EDIT_FIELDS = ("name", "tags", "system_tags", "type", "comment", "parent", "project", "input", "output_dest",
               "execution", "script", "hyperparams", "configuration", "models", "container", "runtime")
LIST_FIELDS = ("id", "user", "project", "parent", "status", "type", "tags", "system_tags")


def _norm_item(name: str, item, **defaults) -> dict:
    """A parameter or configuration item as the server stores it: a dict with its name
    (and section) and its value as text, as ClearML's server returns them."""
    item = dict(item) if isinstance(item, dict) else {"value": item}
    for key, value in {**defaults, "name": name}.items():
        item.setdefault(key, value)
    if item.get("value") is not None and not isinstance(item["value"], str):
        item["value"] = str(item["value"])
    return item


def _norm_params(hyperparams) -> dict:
    return {section: {name: _norm_item(name, item, section=section)
                      for name, item in (params or {}).items()}
            for section, params in (hyperparams or {}).items()}


def _norm_config(configuration) -> dict:
    return {name: _norm_item(name, item) for name, item in (configuration or {}).items()}


def _norm_container(container) -> dict:
    return {k: (None if v is None else str(v)) for k, v in (container or {}).items()}


def apply_fields(doc: dict, body: dict) -> dict:
    """Copy the known, supplied edit fields of ``body`` into ``doc``; returns what changed."""
    fields = {}
    for key in EDIT_FIELDS:
        if key not in body:
            continue
        value = body[key]
        if key in ("tags", "system_tags"):
            value = str_tags(value)
        elif key == "hyperparams":
            value = _norm_params(value)
        elif key == "configuration":
            value = _norm_config(value)
        elif key == "container":
            value = _norm_container(value)
        elif key == "execution":
            value = dict(value or {})
            value.setdefault("artifacts", (doc.get("execution") or {}).get("artifacts", []))
        elif key == "models":
            value = {"input": list((value or {}).get("input") or []), "output": list((value or {}).get("output") or [])}
        elif key == "output_dest":
            doc.setdefault("output", {})["destination"] = value
            fields["output.destination"] = value
            continue
        elif key in ("runtime", "script", "input"):
            value = dict(value or {})
        doc[key] = value
        fields[key] = value
    return fields


def new_task(ctx, body) -> dict:
    ts = now()
    doc = {
        "id": new_id(), "name": body.get("name") or "", "user": ctx.user, "company": ctx.company,
        "type": body.get("type") or "training", "status": "created", "status_reason": "", "status_message": "",
        "status_changed": ts, "comment": "", "created": ts, "last_update": ts, "last_change": ts,
        "parent": None, "project": None, "tags": [], "system_tags": [], "script": {},
        "execution": {"artifacts": [], "parameters": {}, "model_desc": {}, "model_labels": {}, "queue": None},
        "output": {"destination": None}, "models": {"input": [], "output": []}, "hyperparams": {},
        "configuration": {}, "container": {}, "runtime": {}, "last_iteration": 0, "last_metrics": {},
    }
    return doc


def clear_outputs(store, doc: dict, delete_models: bool = True, clear_all: bool = False) -> int:
    """Drop a task's outputs: artifacts, output models, metrics and events."""
    doc.setdefault("execution", {})["artifacts"] = []
    deleted = 0
    if delete_models:
        for item in (doc.get("models") or {}).get("output") or []:
            model = store.get("models", item.get("model"))
            if model and not model.get("ready") and model.get("task") == doc["id"]:
                store.delete("models", model["id"])
                deleted += 1
    doc.setdefault("models", {})["output"] = []
    doc["last_metrics"], doc["last_iteration"] = {}, 0
    doc["output"] = {"destination": (doc.get("output") or {}).get("destination")}
    if clear_all:
        doc["runtime"] = {}
    store.delete_events(doc["id"])
    return deleted


@endpoint("tasks.create")
def create(ctx, body):
    require(body, "name")
    doc = new_task(ctx, body)
    apply_fields(doc, body)
    doc.setdefault("runtime", {})
    with ctx.store.tx():
        if doc.get("project") and not ctx.store.get("projects", doc["project"]):
            raise ApiError(400, f"Invalid project id: {doc['project']}", 401)
        ctx.store.put("tasks", doc)
    return {"id": doc["id"]}


@endpoint("tasks.get_by_id")
def get_by_id(ctx, body):
    return {"task": load(ctx.store, "tasks", body.get("task"), "task")}


@endpoint("tasks.get_all", "tasks.get_all_ex")
def get_all(ctx, body):
    docs, scroll = query(ctx.store, "tasks", body, regex_fields=("name", "comment"), list_fields=LIST_FIELDS)
    out = {"tasks": docs}
    if scroll is not None:
        out["scroll_id"] = scroll
    return out


def _edit(ctx, body, keys):
    with ctx.store.tx():
        doc = load(ctx.store, "tasks", body.get("task"), "task")
        requested = [k for k in keys if k in body]
        reason = check_editable(doc, requested, bool(body.get("force")))
        if reason:
            raise ApiError(400, reason, 110)
        fields = apply_fields(doc, {k: body[k] for k in requested})
        if "project" in fields and fields["project"] and not ctx.store.get("projects", fields["project"]):
            raise ApiError(400, f"Invalid project id: {fields['project']}", 401)
        doc["last_update"] = doc["last_change"] = now()
        ctx.store.put("tasks", doc)
    return {"updated": 1, "fields": fields}


@endpoint("tasks.edit")
def edit(ctx, body):
    return _edit(ctx, body, EDIT_FIELDS)


@endpoint("tasks.update")
def update(ctx, body):
    out = _edit(ctx, {**body, "force": True}, ("name", "tags", "system_tags", "comment", "project"))
    return out


@endpoint("tasks.set_requirements")
def set_requirements(ctx, body):
    with ctx.store.tx():
        doc = load(ctx.store, "tasks", body.get("task"), "task")
        reason = check_editable(doc, ["script"], True)
        if reason:
            raise ApiError(400, reason, 110)
        doc.setdefault("script", {})["requirements"] = body.get("requirements") or {}
        doc["last_update"] = now()
        ctx.store.put("tasks", doc)
    return {"updated": 1, "fields": {"script.requirements": doc["script"]["requirements"]}}


@endpoint("tasks.clone")
def clone(ctx, body):
    src = load(ctx.store, "tasks", body.get("task"), "task")
    doc = new_task(ctx, body)
    for key in ("name", "comment", "type", "project", "tags", "system_tags", "script", "hyperparams",
                "configuration", "container", "output"):
        if key in src:
            doc[key] = copy.deepcopy(src[key])
    doc["system_tags"] = [t for t in doc.get("system_tags") or [] if t not in ("archived",)]
    execution = copy.deepcopy(src.get("execution") or {})
    execution.update({"artifacts": [], "queue": None})
    execution.update(body.get("execution_overrides") or {})
    doc["execution"] = execution
    doc["models"] = {"input": copy.deepcopy((src.get("models") or {}).get("input") or []), "output": []}
    doc["output"] = {"destination": (src.get("output") or {}).get("destination")}
    doc["parent"] = body.get("new_task_parent") or src["id"]
    doc["name"] = body.get("new_task_name") or f"Clone Of {src.get('name', '')}"
    for key in ("comment", "tags", "system_tags", "project", "hyperparams", "configuration", "container"):
        if body.get(f"new_task_{key}") is not None:
            doc[key] = body[f"new_task_{key}"]
    if body.get("new_task_input_models") is not None:
        doc["models"]["input"] = list(body["new_task_input_models"])
    apply_fields(doc, {k: doc[k] for k in ("tags", "system_tags", "hyperparams", "configuration", "container")})
    new_project = None
    with ctx.store.tx():
        if body.get("new_project_name"):
            proj = ensure_project(ctx.store, body["new_project_name"], user=ctx.user)
            doc["project"], new_project = proj["id"], {"id": proj["id"], "name": proj["name"]}
        ctx.store.put("tasks", doc)
    out = {"id": doc["id"]}
    if new_project:
        out["new_project"] = new_project
    return out


def _locked_edit(ctx, body, what: str, mutate):
    with ctx.store.tx():
        doc = load(ctx.store, "tasks", body.get("task"), "task")
        reason = check_editable(doc, [what], True)
        if reason:
            raise ApiError(400, reason, 110)
        result = mutate(doc)
        doc["last_update"] = doc["last_change"] = now()
        ctx.store.put("tasks", doc)
    return result


@endpoint("tasks.add_or_update_artifacts")
def add_or_update_artifacts(ctx, body):
    new = [a for a in as_list(body.get("artifacts")) if isinstance(a, dict) and a.get("key")]

    def mutate(doc):
        arts = doc.setdefault("execution", {}).setdefault("artifacts", [])
        for art in new:
            key = (art["key"], art.get("mode", "output"))
            arts[:] = [a for a in arts if (a.get("key"), a.get("mode", "output")) != key]
            arts.append(art)
        return {"updated": 1}
    return _locked_edit(ctx, body, "execution", mutate)


@endpoint("tasks.delete_artifacts")
def delete_artifacts(ctx, body):
    keys = {(a.get("key"), a.get("mode", "output")) for a in as_list(body.get("artifacts")) if isinstance(a, dict)}

    def mutate(doc):
        arts = doc.setdefault("execution", {}).setdefault("artifacts", [])
        kept = [a for a in arts if (a.get("key"), a.get("mode", "output")) not in keys]
        doc["execution"]["artifacts"] = kept
        return {"deleted": len(arts) - len(kept)}
    return _locked_edit(ctx, body, "execution", mutate)


@endpoint("tasks.add_or_update_model")
def add_or_update_model(ctx, body):
    kind = body.get("type") or "output"
    if kind not in ("input", "output"):
        raise ApiError(400, "type must be 'input' or 'output'")
    item = {"name": require(body, "name"), "model": require(body, "model")}

    def mutate(doc):
        items = doc.setdefault("models", {}).setdefault(kind, [])
        items[:] = [m for m in items if m.get("name") != item["name"]]
        items.append(item)
        return {"updated": 1}
    return _locked_edit(ctx, body, "models", mutate)


@endpoint("tasks.delete_models")
def delete_models(ctx, body):
    names = {(m.get("name"), m.get("type")) for m in as_list(body.get("models")) if isinstance(m, dict)}

    def mutate(doc):
        models = doc.setdefault("models", {"input": [], "output": []})
        for kind in ("input", "output"):
            models[kind] = [m for m in models.get(kind) or [] if (m.get("name"), kind) not in names]
        return {"updated": 1}
    return _locked_edit(ctx, body, "models", mutate)
